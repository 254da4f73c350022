# --headless with a fleet large enough to fill the store queue long before the flush interval
# (10 min here) is up: results are written in batches as the queue grows, so memory stays
# bounded, instead of piling up in memory until the timer fires.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_flush_batch
NDEV=240
if ! sim_start $N --fixtures tests/fixtures --count $NDEV; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
DB=$T_TMP/shelly.db
CONF=$T_TMP/config
hl_config "$CONF" "set flush-interval 10m" "set poll-interval-gen1 1s" \
	"set poll-interval-gen2 1s" "set request-timeout 5s" "set connect-timeout 3s"

# The registry in one transaction (adding 240 devices one by one would take long).
"$SHELLY_TUI" --poll-once --db "$DB" >/dev/null 2>"$T_TMP/list.err" ||
	{ fail "$N: create the database" "$(cat "$T_TMP/list.err")"; exit 1; }
{
	echo "BEGIN;"
	jq -r '.devices[] | "INSERT INTO devices(mac, id, gen, model, app, host, port, scheme,
		discovered_via, first_seen, last_seen) VALUES (\(.mac | ascii_downcase | @json),
		\(.id | @json), \(.gen), \(.model | @json), \(.app // "" | @json),
		\(.addr | @json), \(.port), \(.scheme | @json), '"'manual'"', 1, 1);"' "$SIM_MANIFEST" |
		tr '"' "'"
	echo "COMMIT;"
} >"$T_TMP/fill.sql"
sq "$DB" ".read $T_TMP/fill.sql" 2>"$T_TMP/fill.err" &&
	[ "$(sq "$DB" 'SELECT count(*) FROM devices')" = $NDEV ] ||
	{ fail "$N: register $NDEV devices" "$(head -c 300 "$T_TMP/fill.err")"; exit 1; }

if ! hl_start a "$DB" "$CONF"; then
	fail "$N: --headless starts" "$(cat "$(hl_err a)")"
	exit 1
fi
t0=$(now_ms)
# Every device's status reaches the database while the flush timer is still minutes away.
if wait_for 60 sh -c '[ "$(sqlite3 -cmd ".timeout 5000" "$1" "SELECT count(*) FROM status")" -ge "$2" ]' \
	sh "$DB" $NDEV; then
	pass "$N: statuses written in batches before the flush interval"
else
	fail "$N: statuses written in batches before the flush interval" \
		"$(sq "$DB" 'SELECT count(*) FROM status') of $NDEV rows after $(( $(now_ms) - t0 )) ms"
fi
hl_alive a && pass "$N: --headless still running" ||
	fail "$N: --headless still running" "$(tail -n 5 "$(hl_err a)")"
hl_stop a && pass "$N: --headless stops cleanly" ||
	fail "$N: --headless stops cleanly" "$(tail -n 5 "$(hl_err a)")"
sim_stop
exit 0
