# --headless and battery devices that stop answering (the sim's noanswer fault): they stay
# asleep (no offline event) but back off from their first missed poll, so a dead sleeper costs
# few requests; an answer brings the normal interval back at once.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_asleep_backoff
sim_up $N --fixtures tests/fixtures --models gen1/shelly-ht,gen2/plus-ht,gen1/shelly-1 \
	--count 3
# 1 s intervals, 500 ms request timeout, backoff up to 10 s (offline-after 2 from hl_config).
hl_fleet "set poll-interval-gen1 1s" "set poll-interval-gen2 1s" "set backoff-max 10s"
hl_start a "$DB" "$CONF" || { fail "$N: --headless start" "$(cat "$(hl_err a)")"; exit 1; }
M=$T_TMP/m
m_state() { hl_state a "$1" "$M"; }
all_online() { [ "$(hl_online a "$M")" = 3 ]; }
wait_for 20 all_online && pass "$N: all 3 devices online first" ||
	{ fail "$N: all online first" "$(grep '^shelly_device_state' "$M")"; exit 1; }

# The fault first, then the counters: a request answered before the fault is not counted.
T0=$(now_ms)
for i in 0 1 2; do ctl POST "/devices/$i/fault" '{"fault":"noanswer"}' >/dev/null; done
for i in 0 1 2; do ctl POST "/devices/$i/reset-counters" >/dev/null; done
asleep_both() { [ "$(m_state "$(mac_of 0)")" = asleep ] && [ "$(m_state "$(mac_of 1)")" = asleep ]; }
wait_for 10 asleep_both && pass "$N: both H&Ts asleep after a missed poll" ||
	fail "$N: sleepers asleep" "$(m_state "$(mac_of 0)") $(m_state "$(mac_of 1)")"
off1() { [ "$(m_state "$(mac_of 2)")" = offline ]; }
wait_for 10 off1 && pass "$N: the Shelly 1 goes offline" || fail "$N: mains offline" "$(m_state "$(mac_of 2)")"

# Count over about 12 s. After its k-th miss a sleeper waits at least 500 ms (the request
# timeout) + 0.9 x min(2^k s, 10 s), so its requests start no sooner than 0, 2.3, 6.4, 14.1,
# 23.6 s...: the bound for the window actually measured (load can only lower the count), plus
# one for a request already on its way when the counters were reset.
# Without the backoff: one request per 1.4 s at least, 8 or more in 12 s on an idle machine
# (the bound is 4).
while [ $(($(now_ms) - T0)) -lt 12000 ]; do sleep 0.2; done
n0=$(sim_state 0 .counters.requests) n1=$(sim_state 1 .counters.requests)
n2=$(sim_state 2 .counters.requests)
W=$(($(now_ms) - T0))
max=$(awk -v w="$W" 'BEGIN { s = 0; n = 0; d = 1
	while (s * 1000 <= w) { n++; d *= 2; s += 0.5 + 0.9 * (d < 10 ? d : 10) }
	print n + 1 }')
[ "$n0" -le "$max" ] && [ "$n1" -le "$max" ] &&
	pass "$N: sleepers back off ($n0, $n1 requests in $W ms, at most $max; Shelly 1: $n2)" ||
	fail "$N: sleepers polled too often" "$n0, $n1 requests in $W ms (at most $max), Shelly 1 $n2"
ev() { sq "$DB" "SELECT count(*) FROM events WHERE mac = '$1' AND kind = '$2' AND ts >= $T0"; }
[ "$(ev "$(mac_of 0)" offline)" = 0 ] && [ "$(ev "$(mac_of 1)" offline)" = 0 ] &&
	[ "$(m_state "$(mac_of 0)")" = asleep ] && [ "$(m_state "$(mac_of 1)")" = asleep ] &&
	pass "$N: backed-off sleepers stay asleep, no offline event" ||
	fail "$N: sleepers' state" "$(m_state "$(mac_of 0)") $(m_state "$(mac_of 1)"), offline events $(ev "$(mac_of 0)" offline) $(ev "$(mac_of 1)" offline)"

# An answer resets the backoff: awake again, the H&Ts are polled at their interval (1 s):
# four more requests come well before the backed-off schedule (10 s each) would allow.
for i in 0 1 2; do ctl POST "/devices/$i/fault" '{"fault":"none"}' >/dev/null; done
wait_for 30 all_online && pass "$N: an answer brings the sleepers online" ||
	fail "$N: recovery" "$(grep '^shelly_device_state' "$M")"
c0=$(sim_state 0 .counters.requests) c1=$(sim_state 1 .counters.requests)
more() { [ "$(sim_state 0 .counters.requests)" -ge $((c0 + 4)) ] && [ "$(sim_state 1 .counters.requests)" -ge $((c1 + 4)) ]; }
wait_for 25 more && pass "$N: the backoff is reset by the answer" ||
	fail "$N: backoff not reset" "$(sim_state 0 .counters.requests) $(sim_state 1 .counters.requests) from $c0 $c1"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: SIGTERM exits 0" || fail "$N: exit" "rc=$HL_RC"

# Silent for more than a day (its last answer two days ago): still asleep, and it says since
# when, in the stored row (--list --json error) as in the console.
ctl POST /devices/0/fault '{"fault":"noanswer"}' >/dev/null
old=$(( $(now_ms) - 2 * 86400000 ))
sq "$DB" "UPDATE devices SET last_seen = $old WHERE mac = '$(mac_of 0)'"
"$SHELLY_TUI" --db "$DB" --config "$CONF" --poll-once -q >/dev/null 2>"$T_TMP/once.err"
j=$("$SHELLY_TUI" --db "$DB" --list --json 2>&1)
echo "$j" | jq -e --arg m "$(mac_of 0)" '.devices[] | select(.mac == $m) |
	.state == "asleep" and (.error | startswith("asleep since "))' >/dev/null &&
	pass "$N: asleep for two days: still asleep, \"$(echo "$j" | jq -r --arg m "$(mac_of 0)" '.devices[] | select(.mac == $m) | .error')\"" ||
	fail "$N: long asleep" "$(echo "$j" | jq -c --arg m "$(mac_of 0)" '.devices[] | select(.mac == $m) | {state, error}') $(cat "$T_TMP/once.err")"
sim_stop
exit 0
