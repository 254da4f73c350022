#!/bin/sh
# shelly-provisioner keeps heartbeating while nmcli joins a device's access point: a stand-in
# nmcli first in PATH takes several agent leases to "join", and the manager must not take the
# task back meanwhile. With the agent stuck in the join (no heartbeats) the lease would expire
# and the task would go back to the queue; here it stays the agent's and ends with the agent's
# own result (no device answers at the --device address on loopback).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=provision_heartbeat
AGENT=${SHELLY_PROVISIONER:-$BUILD/shelly-provisioner}
NET=$(test_net $N)

BIN=$T_TMP/bin
hl_nmcli "$BIN" ": >\"$T_TMP/join.start\"; sleep 12; : >\"$T_TMP/join.end\""

# a 3 s lease (four of them during the 12 s join): a heartbeat late by a loaded machine's
# second still lands within it
HL_AGENT_LEASE=3s hl_provision_one $N 1
PATH="$BIN:$PATH" SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 "$AGENT" --manager "http://127.0.0.1:$(hl_port a)" \
	--wifi nm --enrol-secret-file "$T_TMP/secret" --token-file "$T_TMP/token" --name slow \
	--device "$NET.9" --poll 0.2 --timeout 10 --once >"$T_TMP/agent.log" 2>&1 &
AG=$!
at_exit "kill_ours $AG"
field() { tui --tasks --json | jq -r ".tasks[0].$1"; }
final() { [ "$(field state)" = failed ]; }
wait_for 90 final || fail "$N: the task ends" "$(tui --tasks) $(cat "$T_TMP/agent.log")"
wait "$AG"
rc=$?
[ -e "$T_TMP/join.start" ] && [ -e "$T_TMP/join.end" ] &&
	pass "$N: the stand-in nmcli joined, taking four agent leases" ||
	fail "$N: the stand-in nmcli joined, taking four agent leases" "$(cat "$T_TMP/agent.log")"
reason=$(field reason)
case "$reason" in
"failed: no device at $NET.9"*)
	[ "$(field attempts)" = 1 ] && [ "$rc" = 0 ] &&
		pass "$N: heartbeats during the join kept the task the agent's (its own result recorded)" ||
		fail "$N: heartbeats during the join kept the task the agent's" "attempts $(field attempts) rc $rc" ;;
*) fail "$N: heartbeats during the join kept the task the agent's (its own result recorded)" \
	"$reason $(cat "$T_TMP/agent.log")" ;;
esac
grep -q "result not accepted" "$T_TMP/agent.log" &&
	fail "$N: the manager accepted the agent's result" "$(cat "$T_TMP/agent.log")" ||
	pass "$N: the manager accepted the agent's result"
hl_stop a
