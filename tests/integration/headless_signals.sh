# --headless and process life: SIGTERM with slow polls in flight exits 0 at once and leaves a
# sound DB and a released lease; SIGHUP reloads the configuration (and keeps the old one when
# the new one is broken); kill -9 in the middle of a stream of writes leaves a DB that passes
# integrity_check and that --headless reopens; a DB from a newer version is refused.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_signals
# Even: Plus 1PM (gen2), odd: Plug S (gen1). 0-2 held (the sim answers them when the test lets
# go, however long a loaded machine takes to start the poller and look at /readyz), 3-7 healthy.
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm,gen1/shelly-plug-s --count 8 --load 100
hold() { for i in 0 1 2; do ctl POST /devices/$i/fault "{\"fault\":\"$1\"}" >/dev/null; done; }
DB=$T_TMP/shelly.db
CONF=$T_TMP/config
hl_config "$CONF" 'set request-timeout 40s'
hl_add_all "$DB" || { fail "$N: --add" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
hold hold

# --- readiness waits for the held devices; SIGTERM while they are in flight ---
hl_start a "$DB" "$CONF" || { fail "$N: --headless start" "$(cat "$(hl_err a)")"; exit 1; }
# One request for the code and the text, so both describe the same moment.
b=$(curl -s -m 5 -w ' %{http_code}' "http://127.0.0.1:$(hl_port a)/readyz") c=${b##* } b=${b% *}
[ "$c" = 503 ] && echo "$b" | grep -qE '^not ready: [0-7] of 8 devices attempted' &&
	pass "$N: /readyz 503 while held devices were not attempted yet ($b)" || fail "$N: /readyz before all attempted" "$c $b"
[ "$(hl_code a /healthz)" = 200 ] && pass "$N: /healthz 200 meanwhile" || fail "$N: /healthz" "$(hl_code a /healthz)"
hold none
wait_for 60 sh -c '[ "$(curl -s -m 2 -o /dev/null -w "%{http_code}" "$1")" = 200 ]' sh "http://127.0.0.1:$(hl_port a)/readyz" &&
	pass "$N: /readyz 200 once the held devices answered" || fail "$N: /readyz after slow" "$(hl_get a /readyz)"
hold hold
inflight() { v=$(hl_metric a shelly_http_requests_in_flight) && [ "${v:-0}" -ge 3 ]; }
wait_for 40 inflight && pass "$N: slow polls in flight ($(hl_metric a shelly_http_requests_in_flight))" ||
	fail "$N: slow polls in flight" "$(hl_metric a shelly_http_requests_in_flight)"
inflight_sim() { [ "$(ctl GET /devices | jq '[.devices[0:3][].counters.in_flight] | add')" -ge 3 ]; }
wait_for 20 inflight_sim || fail "$N: sim sees 3 requests in flight"
hl_stop a TERM 35
# Not waiting for the in-flight polls: they are held until their 40 s timeout.
[ "$HL_RC" = 0 ] && [ "$HL_MS" -lt 30000 ] && pass "$N: SIGTERM mid-cycle exits 0 in ${HL_MS} ms (polls held until their 40 s timeout)" ||
	fail "$N: SIGTERM mid-cycle" "rc=$HL_RC after $HL_MS ms: $(tail -n 5 "$(hl_err a)")"
grep -q 'stopping' "$(hl_err a)" && pass "$N: the log says it stops" || fail "$N: stop log" "$(tail -n 3 "$(hl_err a)")"
r=$(sq "$DB" 'PRAGMA integrity_check')
[ "$r" = ok ] && pass "$N: DB integrity_check ok after SIGTERM" || fail "$N: integrity after SIGTERM" "$r"
[ "$(sq "$DB" 'SELECT count(*) FROM status')" = 8 ] && pass "$N: every result written before exit (8 status rows)" ||
	fail "$N: status rows after SIGTERM" "$(sq "$DB" 'SELECT count(*) FROM status')"
# The lease was released: --poll-once runs at once, without --force.
hold none
"$SHELLY_TUI" --poll-once --db "$DB" --config "$CONF" >"$T_TMP/once.out" 2>&1; rc=$?
[ $rc = 0 ] && pass "$N: lease released on SIGTERM (--poll-once without --force runs)" || fail "$N: lease after SIGTERM" "rc=$rc $(cat "$T_TMP/once.out")"

# --- SIGHUP: reload the configuration ---
hl_start b "$DB" "$CONF" || { fail "$N: --headless restart" "$(cat "$(hl_err b)")"; exit 1; }
wait_for 10 sh -c '[ "$(curl -s -m 2 "$1" | sed -n "s/^shelly_poller_leader //p")" = 1 ]' sh "http://127.0.0.1:$(hl_port b)/metrics" ||
	fail "$N: second run leads"
# requests_during I J N: reset counters, wait until gen1 device J has N requests; print device I's.
requests_during() {
	ctl POST "/devices/$1/reset-counters" >/dev/null
	ctl POST "/devices/$2/reset-counters" >/dev/null
	wait_for 15 sh -c '[ "$(curl -s -m 2 "http://$1/devices/$2/state" | jq .counters.requests)" -ge "$3" ]' sh "$SIM_CTL" "$2" "$3" ||
		{ echo "gen1 device $2 not polled"; return; }
	sim_state "$1" .counters.requests
}
n=$(requests_during 4 3 8)
[ "$n" -ge 4 ] 2>/dev/null && pass "$N: gen2 device polled every 200 ms before SIGHUP ($n requests per 8 gen1 polls)" ||
	fail "$N: gen2 rate before SIGHUP" "$n"
hl_config "$CONF" 'set request-timeout 40s' 'set poll-interval-gen2 5s'
kill -HUP "$(hl_pid b)"
wait_for 5 grep -q 'reloaded' "$(hl_err b)" && pass "$N: SIGHUP: the log says reloaded" || fail "$N: SIGHUP log" "$(tail -n 3 "$(hl_err b)")"
# The timer armed before the reload may fire once more (within 220 ms); then every 5 s.
requests_during 4 3 3 >/dev/null
n=$(requests_during 4 3 8)
[ "$n" -le 2 ] 2>/dev/null && pass "$N: SIGHUP applies the new gen2 interval ($n gen2 requests per 8 gen1 polls)" ||
	fail "$N: new interval after SIGHUP" "$n gen2 requests per 8 gen1 polls"
# A broken file: an error with file:line, the old configuration stays, the daemon keeps going.
printf 'set poll-interval-gen2 200ms\nset poll-interval-gen1 banana\n' >"$CONF"
kill -HUP "$(hl_pid b)"
wait_for 5 grep -q 'not reloaded' "$(hl_err b)" &&
	grep 'not reloaded' "$(hl_err b)" | grep -qF "$CONF:2:" && pass "$N: SIGHUP with a broken file: error with file:line" ||
	fail "$N: broken config on SIGHUP" "$(tail -n 3 "$(hl_err b)")"
n=$(requests_during 4 3 8)
# 200 ms (the broken file's value) would give about 8; one poll may be a status and a
# settings read (2 requests).
hl_alive b && [ "$n" -le 2 ] 2>/dev/null && pass "$N: broken file: old configuration kept, still polling" ||
	fail "$N: after a broken reload" "alive=$(hl_alive b && echo yes || echo no), $n gen2 requests per 8 gen1 polls"
hl_stop b
[ "$HL_RC" = 0 ] && pass "$N: SIGTERM after reloads exits 0" || fail "$N: exit after reloads" "rc=$HL_RC"

# --- kill -9 in the middle of writes ---
sim_stop
SIM_NET=""
if ! sim_start ${N}_kill --fixtures tests/fixtures --models gen2/plus-1pm,gen1/shelly-plug-s,gen2/plus-plug-s \
	--count 60 --load 100; then
	fail "$N: sim start (60 devices)" "$(cat "$SIM_ERR")"
	exit 1
fi
KDB=$T_TMP/kill.db
KCONF=$T_TMP/kill.config
hl_config "$KCONF" 'set poll-interval-gen1 50ms' 'set poll-interval-gen2 50ms' 'set flush-interval 2ms' \
	'set history-raw-retention 2s' 'set history-bucket 1s'
hl_add_all "$KDB" || { fail "$N: --add 60" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
round=1
while [ $round -le 3 ]; do
	hl_start k$round "$KDB" "$KCONF" || { fail "$N: kill round $round: start" "$(cat "$(hl_err k$round)")"; break; }
	# After a kill -9 the dead holder (this host, process gone) is taken over at once.
	leads() { [ "$(hl_metric k$round shelly_poller_leader)" = 1 ]; }
	wait_for 10 leads || fail "$N: kill round $round: leads" "$(tail -n 3 "$(hl_err k$round)")"
	tr=$(now_ms)
	# History is pruned after 2 s: count what this run wrote.
	wait_for 20 sh -c '[ "$(sqlite3 -cmd ".timeout 5000" "$1" "SELECT count(*) FROM history WHERE ts > $2")" -ge 300 ]' sh "$KDB" "$tr" ||
		fail "$N: kill round $round: writes" "history does not grow"
	wal=$(stat -c %s "$KDB-wal" 2>/dev/null || echo 0)
	hl_kill9 k$round
	r0=$(sq "$KDB" "SELECT count(*) FROM history WHERE ts > $tr")
	ic=$(sq "$KDB" 'PRAGMA integrity_check')
	fk=$(sq "$KDB" 'PRAGMA foreign_key_check')
	[ "$ic" = ok ] && [ -z "$fk" ] && pass "$N: kill -9 round $round (WAL $wal bytes, $r0 rows written): integrity_check ok" ||
		fail "$N: kill -9 round $round: integrity" "$ic $fk"
	round=$((round + 1))
done
tr=$(now_ms)
hl_start k9 "$KDB" "$KCONF" || fail "$N: --headless reopens the DB after kill -9" "$(cat "$(hl_err k9)")"
ready() { [ "$(hl_code k9 /readyz)" = 200 ] && [ "$(hl_metric k9 shelly_poller_leader)" = 1 ]; }
# Every device has new history (raw samples live 2 s, a device is polled every 50 ms).
grows() { [ "$(sq "$KDB" "SELECT count(DISTINCT mac) FROM history WHERE ts > $tr")" = 60 ]; }
wait_for 15 ready && wait_for 10 grows && pass "$N: --headless reopens the DB after kill -9, ready and writing" ||
	fail "$N: reopen after kill -9" "$(hl_get k9 /readyz) $(tail -n 3 "$(hl_err k9)")"
buckets() { [ "$(sq "$KDB" 'SELECT count(*) FROM history_5m')" -ge 1 ]; }
wait_for 20 buckets && pass "$N: pruning bucketed history meanwhile" ||
	fail "$N: buckets" "$(sq "$KDB" 'SELECT count(*) FROM history_5m')"
hl_stop k9
[ "$HL_RC" = 0 ] && [ "$(sq "$KDB" 'PRAGMA integrity_check')" = ok ] && pass "$N: clean stop after the reopen, DB ok" ||
	fail "$N: stop after reopen" "rc=$HL_RC $(sq "$KDB" 'PRAGMA integrity_check')"

# --- a DB from a newer version is refused ---
hl_config "$CONF"
cp "$DB" "$T_TMP/newer.db"
sq "$T_TMP/newer.db" 'PRAGMA user_version = 999'
timeout 10 "$SHELLY_TUI" --headless --db "$T_TMP/newer.db" --listen 127.0.0.1:0 --config "$CONF" >"$T_TMP/newer.out" 2>"$T_TMP/newer.err"; rc=$?
[ $rc = 1 ] && grep -qi 'newer' "$T_TMP/newer.err" && grep -q 999 "$T_TMP/newer.err" &&
	pass "$N: --headless refuses a newer DB (exit 1: $(head -n 1 "$T_TMP/newer.err"))" ||
	fail "$N: newer DB" "rc=$rc $(cat "$T_TMP/newer.err")"
[ "$(sq "$T_TMP/newer.db" 'PRAGMA user_version')" = 999 ] && pass "$N: the newer DB is left untouched" ||
	fail "$N: newer DB changed" "$(sq "$T_TMP/newer.db" 'PRAGMA user_version')"
"$SHELLY_TUI" --poll-once --db "$T_TMP/newer.db" --config "$CONF" >/dev/null 2>"$T_TMP/newer2.err"; rc=$?
[ $rc = 1 ] && grep -qi 'newer' "$T_TMP/newer2.err" && pass "$N: --poll-once refuses it too" || fail "$N: --poll-once newer DB" "rc=$rc $(cat "$T_TMP/newer2.err")"
sim_stop
exit 0
