# The OPNsense writer's lease is renewed while a sync runs: a sync that takes longer than the
# lease (1 s here, SHELLY_TUI_TEST_OPNSENSE_LEASE_MS; 15 minutes otherwise) keeps it, so an
# --opnsense-sync started meanwhile is refused however late it comes, and writes nothing; and
# a sync whose renewals fail (the database locked) stops writing before another process may
# take the lease over, leaving its saved changes pending. The fake firewall takes seconds per
# reservation write.
. tests/lib.sh
. tests/integration/lib_opnsense.sh

N=opnsense_lease
op_init $N
export SHELLY_TUI_TEST_OPNSENSE_LEASE_MS=1000
op_kea_empty "$T_TMP/kea.json"
DEVS="000000000001|Kitchen|192.168.20.31 000000000002|Hall|192.168.20.32 000000000003|Porch|192.168.20.33"

# adds TAG: how many reservation writes fake TAG has received (counted on arrival).
adds() { op_get "$1" /__fake/counts | jq '[.paths[] | select(test("addReservation"))] | length'; }
writing() { [ "$(adds "$1")" -ge 1 ]; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# start_hl TAG DB CONF: --headless in the background; its pid in HL.
start_hl() {
	"$SHELLY_TUI" --headless --config "$3" --db "$2" --listen 127.0.0.1:0 >"$T_TMP/$1.out" 2>"$T_TMP/$1.err" &
	HL=$!
	at_exit "kill_ours $HL"
	wait_for 30 grep -q "^metrics: " "$T_TMP/$1.out" || { fail "$N: --headless $1 starts" "$(cat "$T_TMP/$1.err")"; exit 1; }
}

# --- a long sync keeps the lease: another sync started after the lease's time is refused ---
DB=$T_TMP/db
# shellcheck disable=SC2086 # one word per device
op_db "$DB" $DEVS
op_fake k "$T_TMP/kea.json" --slow addReservation --slow-seconds 4
op_conf k "$T_TMP/c" "set opnsense-interval 1h" "set lease-heartbeat 200ms" "set lease-timeout 60s"
start_hl a "$DB" "$T_TMP/c"
A=$HL
wait_for 60 writing k || { fail "$N: the sync writes" "$(tail -n 5 "$T_TMP/a.err")"; exit 1; }
t0=$(now_ms)
late=0 refused=0 other=""
# The first attempt comes past twice the lease's time (a lease not renewed would have run out
# by then): on a loaded machine one attempt of the sanitizer build can take seconds, so the
# attempts must not all start early. The sync runs 12 s or more (three writes of 4 s).
while [ $(( $(now_ms) - t0 )) -lt 2100 ]; do sleep 0.1; done
while ! grep -q "opnsense: synced\|opnsense: sync failed" "$T_TMP/a.err" && [ $(( $(now_ms) - t0 )) -lt 60000 ]; do
	sleep 0.1 # a pace for the attempts, not a wait for an outcome
	t=$(now_ms)
	op_run "$T_TMP/cli" "$T_TMP/c" "$DB"
	if [ "$OP_RC" = 1 ] && grep -q "another sync (opnsense:[^ ]*:$A:[^ ]*) is writing to the firewall" "$T_TMP/cli.err"; then
		refused=$((refused + 1))
		[ $((t - t0)) -ge 2000 ] && late=$((late + 1))
	elif ! grep -q "opnsense: synced\|opnsense: sync failed" "$T_TMP/a.err"; then
		other="rc $OP_RC at $((t - t0)) ms: $(cat "$T_TMP/cli.err" "$T_TMP/cli")"
		break
	fi
done
if [ -z "$other" ] && [ $late -ge 1 ] && grep -q "opnsense: synced: 4 added" "$T_TMP/a.err"; then
	pass "$N: while the sync runs every other sync is refused ($refused, $late of them 2 s or more into it, twice the lease)"
else
	fail "$N: a second sync during a long one" "refused $refused (late $late); $other; $(grep opnsense "$T_TMP/a.err" | tail -n 3)"
fi
[ "$(adds k)" = 3 ] && [ "$(op_count k '.reconfigure.kea')" = 1 ] &&
	pass "$N: only the first sync wrote (3 reservations, one reconfigure)" ||
	fail "$N: writes of one sync only" "$(op_get k /__fake/counts | jq -c '.paths, .reconfigure')"
kill_ours $A; wait $A 2>/dev/null
op_stop k

# --- renewals that fail stop the writes before the lease may be taken over ---
DB=$T_TMP/db2
# shellcheck disable=SC2086
op_db "$DB" $DEVS
op_fake s "$T_TMP/kea.json" --slow addReservation --slow-seconds 5
op_conf s "$T_TMP/c2" "set opnsense-interval 2s" "set lease-heartbeat 200ms" "set lease-timeout 60s"
. tests/integration/lib_dblock.sh
start_hl b "$DB" "$T_TMP/c2"
B=$HL
wait_for 60 writing s || { fail "$N: the second sync writes" "$(tail -n 5 "$T_TMP/b.err")"; exit 1; }
lock || { fail "$N: lock" "$(cat "$T_TMP/lock.err")"; exit 1; }
if wait_for 30 grep -q "no renewal of the writer's lease succeeded for" "$T_TMP/b.err"; then
	pass "$N: renewals failing for the lease's time less one heartbeat: the sync stops ($(grep -o "no renewal[^;]*" "$T_TMP/b.err" | head -n 1))"
else
	fail "$N: renewals failing" "$(grep opnsense "$T_TMP/b.err" | tail -n 5)"
fi
# The sync ends while the database is still locked: what it saved cannot be marked pending
# yet; it is, once the lock is gone, before the next sync (2 s later), which reconfigures.
wait_for 60 grep -q "opnsense: sync failed" "$T_TMP/b.err" ||
	fail "$N: the stopped sync ends failed" "$(grep opnsense "$T_TMP/b.err" | tail -n 3)"
n=$(adds s)
[ "$n" -lt 3 ] && [ "$(op_count s '.reconfigure.kea // 0')" = 0 ] &&
	pass "$N: it sent $n of 3 reservation writes and no reconfigure" ||
	fail "$N: writes after the lease was lost" "$(op_get s /__fake/counts | jq -c '.paths, .reconfigure')"
unlock
if wait_for 60 grep -q "the last sync's pending reconfigure is remembered now" "$T_TMP/b.err"; then
	pass "$N: the saved reservation's reconfigure is marked pending once the database can be written"
else
	fail "$N: pending after the stop" "$(sqlite3 "$DB" 'select * from settings' 2>&1) $(grep opnsense "$T_TMP/b.err" | tail -n 3)"
fi
synced() { grep -q "opnsense: synced" "$T_TMP/b.err" && [ "$(op_count s '.reconfigure.kea // 0')" = 1 ]; }
wait_for 60 synced && pass "$N: the next sync writes the rest and reconfigures" ||
	fail "$N: the next sync" "$(op_get s /__fake/counts | jq -c '.reconfigure') $(grep opnsense "$T_TMP/b.err" | tail -n 3)"
kill_ours $B; wait $B 2>/dev/null
op_stop s
exit $T_FAILED
