# A database another process holds write-locked (sqlite3 in BEGIN EXCLUSIVE) does not stall
# --headless: its writes wait only briefly for the lock and are tried again at the next tick,
# so /healthz, /metrics and --health-check keep answering on both pollers (leader and
# standby), /readyz says 503 naming the lock, the results polled meanwhile stay queued and are
# written once the lock ends, and SIGTERM during a lock exits within its bound (the last
# flush waits FLEET_STOP_FLUSH_MS, 5 s), saying how many results were not written.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_db_locked
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm --count 2
# A long lease: the leader keeps polling, and queueing results, through the lock.
hl_fleet 'set lease-timeout 60s'

. tests/integration/lib_dblock.sh

hl_start a "$DB" "$CONF" || { fail "$N: a start" "$(cat "$(hl_err a)")"; exit 1; }
leads() { [ "$(hl_metric a shelly_poller_leader)" = 1 ] && [ "$(hl_code a /readyz)" = 200 ]; }
wait_for 20 leads || { fail "$N: a leads" "$(hl_get a /readyz)"; exit 1; }
hl_start b "$DB" "$CONF" || { fail "$N: b start" "$(cat "$(hl_err b)")"; exit 1; }
wait_for 20 sh -c '[ "$(curl -s -m 2 -o /dev/null -w "%{http_code}" "$1")" = 200 ]' sh \
	"http://127.0.0.1:$(hl_port b)/readyz" || fail "$N: b standing by" "$(hl_get b /readyz)"

lock || { fail "$N: lock" "$(cat "$T_TMP/lock.err")"; exit 1; }
T_LOCK=$(now_ms)
locked() { [ "$(hl_code "$1" /readyz)" = 503 ] && hl_get "$1" /readyz | grep -q 'database: .*locked'; }
for t in a b; do
	if wait_for 30 locked $t; then
		pass "$N: $t: /readyz 503 naming the lock ($(hl_get $t /readyz))"
	else
		fail "$N: $t: /readyz during the lock" "$(hl_code $t /readyz) $(hl_get $t /readyz)"
	fi
done
# For a few seconds of the lock (several flushes and heartbeats), every probe answers within
# 3 s: a loop that waited 5 s for each write could not.
p0=$(hl_metric a shelly_polls_total)
# A server that waited on the lock would miss every probe (the lock outlasts them all); a
# loaded machine may make one miss now and then: at most a quarter may.
slow="" nslow=0 nprobe=0
i=0
while [ $i -lt 8 ]; do
	for t in a b; do
		c=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(hl_port $t)/healthz")
		[ "$c" = 200 ] || { slow="$slow $t:/healthz:$c"; nslow=$((nslow + 1)); }
		curl -s -m 3 -f -o /dev/null "http://127.0.0.1:$(hl_port $t)/metrics" ||
			{ slow="$slow $t:/metrics"; nslow=$((nslow + 1)); }
		nprobe=$((nprobe + 2))
	done
	sleep 0.5
	i=$((i + 1))
done
[ $((nslow * 4)) -lt $nprobe ] &&
	pass "$N: /healthz and /metrics answer within 3 s during the lock ($((nprobe - nslow)) of $nprobe)" ||
	fail "$N: probes during the lock" "$nslow of $nprobe missed:$slow"
"$SHELLY_TUI" --health-check "127.0.0.1:$(hl_port a)" >/dev/null 2>"$T_TMP/hc.err" &&
	pass "$N: --health-check passes during the lock" || fail "$N: --health-check" "$(cat "$T_TMP/hc.err")"
[ "$(hl_metric a shelly_store_healthy)" = 0 ] && [ "$(hl_metric a shelly_store_queue_items)" -gt 0 ] &&
	[ "$(hl_metric a shelly_polls_total)" -gt "$p0" ] &&
	pass "$N: polling goes on, results queued ($(hl_metric a shelly_store_queue_items))" ||
	fail "$N: queued during the lock" "healthy $(hl_metric a shelly_store_healthy) queue $(hl_metric a shelly_store_queue_items) polls $p0 -> $(hl_metric a shelly_polls_total)"
T_UNLOCK=$(now_ms)
unlock

# Samples taken during the lock could only be written after it: the kept queue.
during() { [ "$(sq "$DB" "SELECT count(*) FROM history WHERE ts > $T_LOCK AND ts < $T_UNLOCK")" -gt 0 ]; }
wait_for 20 during && pass "$N: results polled during the lock are written after it ($(sq "$DB" "SELECT count(*) FROM history WHERE ts > $T_LOCK AND ts < $T_UNLOCK"))" ||
	fail "$N: results after the lock" "$(sq "$DB" "SELECT count(*), max(ts) FROM history") lock $T_LOCK..$T_UNLOCK"
ready() { [ "$(hl_code a /readyz)" = 200 ]; }
wait_for 20 ready && pass "$N: ready again after the lock" || fail "$N: ready after" "$(hl_get a /readyz)"

# SIGTERM during a lock: the last flush waits 5 s at most, then says what it could not write.
# A loaded machine may have let the lease pass to b during the first lock: stop the leader.
leader() {
	for t in a b; do
		[ "$(hl_metric $t shelly_poller_leader)" = 1 ] && { L=$t; return 0; }
	done
	return 1
}
L=""
wait_for 30 leader || { fail "$N: a leader after the lock" "a $(hl_get a /readyz) b $(hl_get b /readyz)"; exit 1; }
O=b
[ "$L" = b ] && O=a
lock || { fail "$N: lock again" "$(cat "$T_TMP/lock.err")"; exit 1; }
queued() { [ "$(hl_metric $L shelly_store_queue_items)" -gt 0 ] && locked $L; }
wait_for 40 queued || fail "$N: queued before SIGTERM" "$L: $(hl_metric $L shelly_store_queue_items)"
hl_stop $L TERM 20
# Under systemd's TimeoutStopSec=15 (deploy/systemd): the last flush gives up after 5 s. The
# bound is read from the poller's own log, from the signal to the flush giving up; the whole
# stop's wall time also holds process start-up of the signal and exit (a sanitizer build's leak
# check), which a loaded machine stretches, so that is only bounded by hl_stop's 20 s.
log_ms() { date -d "$(grep -m 1 "$1" "$(hl_err $L)" | cut -d' ' -f1)" +%s%3N 2>/dev/null; }
t_sig=$(log_ms "signal 15: stopping") t_gave=$(log_ms "queued results not written within")
if [ "$HL_RC" = 0 ] && [ -n "$t_sig" ] && [ -n "$t_gave" ] &&
	[ $((t_gave - t_sig)) -ge 4500 ] && [ $((t_gave - t_sig)) -lt 10000 ]; then
	pass "$N: SIGTERM during the lock: the last flush gives up $((t_gave - t_sig)) ms after the signal (exit after $HL_MS ms)"
else
	fail "$N: SIGTERM during the lock" "rc=$HL_RC after $HL_MS ms; signal $t_sig, gave up $t_gave"
fi
grep -q 'stopping: [1-9][0-9]* queued results not written within 5 s: .*locked' "$(hl_err $L)" &&
	pass "$N: the stop says how many results were not written" ||
	fail "$N: stop message" "$(tail -n 5 "$(hl_err $L)")"
unlock
hl_stop $O TERM 60
[ "$HL_RC" = 0 ] && pass "$N: $O exits 0" || fail "$N: $O exit" "rc=$HL_RC $(tail -n 5 "$(hl_err $O)")"
sim_stop
exit $T_FAILED
