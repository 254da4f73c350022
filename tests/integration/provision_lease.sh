#!/bin/sh
# Task leases and the verifier (agents played with curl against the agent API on loopback):
# a configured (verifying) task is the verifier's, so a lease that runs out does not requeue
# it, while a claimed one goes back to the queue (a late "configured" report from its agent
# then puts it into verifying); a heartbeat naming a task the agent no
# longer holds (cancelled) lists it as "lost"; and a manager restarted after being down longer
# than agent-lease gives held tasks one lease of grace, so the agent's next heartbeat keeps it.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_agentapi.sh
N=provision_lease

aa_start $N "set agent-lease 5s" "set verify-timeout 1h" "set verify-interval 100ms"
# claim_ap SSID: queues a task for SSID, reports SSID seen and claims; the task id on stdout.
claim_ap() {
	tui --provision "$1" --network home --attempts 3 >/dev/null || return 1
	post aps "{\"aps\":[{\"ssid\":\"$1\"}]}" "$TOKEN" >/dev/null
	post claim '{}' "$TOKEN" | jq -r .task.id
}
state_is() { [ "$(aa_field "$1" state)" = "$2" ]; }

T1=$(claim_ap shelly1-A1B2C1)
post progress "{\"task\":$T1,\"stage\":\"running\"}" "$TOKEN" >/dev/null
st=$(post progress "{\"task\":$T1,\"stage\":\"configured\",\"mac\":\"A1B2C3A1B2C1\"}" "$TOKEN" | jq -r .state)
[ "$st" = verifying ] || { fail "$N: the configured task waits (verifying)" "$st"; exit 1; }

# A heartbeat naming a task it holds lists nothing lost; after a cancel it names it lost.
T2=$(claim_ap shelly1-A1B2C2)
lost=$(post heartbeat "{\"tasks\":[$T2]}" "$TOKEN" | jq -c '.lost // []')
tui --task-cancel "$T2" >/dev/null
lost2=$(post heartbeat "{\"tasks\":[$T2]}" "$TOKEN" | jq -c '.lost // []')
[ "$lost" = "[]" ] && [ "$lost2" = "[$T2]" ] &&
	pass "$N: a heartbeat naming a task the agent no longer holds lists it as lost" ||
	fail "$N: a heartbeat naming a task the agent no longer holds lists it as lost" "$lost $lost2"

# T3 is claimed after T1's last renewal: once its lease has run out (requeued), T1's has too.
T3=$(claim_ap shelly1-A1B2C3)
T4=$(claim_ap shelly1-A1B2C4)
wait_for 30 state_is "$T3" queued || fail "$N: a silent agent's claimed task is requeued" "$(tui --tasks)"
state_is "$T1" verifying && [ "$(aa_field "$T1" attempts)" = 1 ] &&
	pass "$N: a verifying task outlives its agent's lease (the verifier decides it)" ||
	fail "$N: a verifying task outlives its agent's lease (the verifier decides it)" "$(tui --tasks)"

# The agent configured T4's device after its lease ran out (requeued, nobody claimed it since):
# its late "configured" report is kept, and the task waits for the verifier, not for an AP.
# (still claimed, the report would be an ordinary one: the requeue is part of what is checked)
requeued=no
wait_for 30 state_is "$T4" queued && requeued=yes
st=$(post progress "{\"task\":$T4,\"stage\":\"configured\",\"mac\":\"A1B2C3A1B2C4\"}" "$TOKEN" | jq -r .state)
[ "$requeued" = yes ] && [ "$st" = verifying ] && state_is "$T4" verifying &&
	[ "$(aa_field "$T4" mac)" = a1b2c3a1b2c4 ] &&
	pass "$N: a late configured report from the agent whose lease ran out is kept (verifying)" ||
	fail "$N: a late configured report from the agent whose lease ran out is kept (verifying)" \
		"requeued first: $requeued; $st $(tui --tasks)"

# Down longer than agent-lease: the restarted manager keeps the lease for the agent's heartbeat.
# The task must still be held when the manager stops: a loaded machine may let its lease run
# out between the claim and the stop, and then the claim is made again.
stopped_holding() {
	post aps '{"aps":[{"ssid":"shelly1-A1B2C3"}]}' "$TOKEN" >/dev/null
	T3=$(post claim '{}' "$TOKEN" | jq -r .task.id)
	post heartbeat "{\"tasks\":[$T3]}" "$TOKEN" >/dev/null
	hl_stop a
	[ "$(sq "$DB" "SELECT state FROM tasks WHERE id = $T3")" = claimed ] && return 0
	hl_start a "$DB" "$CONF" && AA_URL="http://127.0.0.1:$(hl_port a)"
	return 1
}
i=0
until stopped_holding; do
	i=$((i + 1))
	[ $i -lt 5 ] || { fail "$N: a claimed task held at the manager's stop" "$(tui --tasks)"; exit 1; }
done
lease=$(sq "$DB" "SELECT lease FROM tasks WHERE id = $T3")
past() { [ "$(now_ms)" -gt $((lease + 200)) ]; }
wait_for 30 past
# The restarted manager's lease is 30 s: its grace is one lease from its start, and a loaded
# machine may take longer than the short lease above between that start and the heartbeat.
hl_config "$CONF" "set discover-mdns off" "set agent-lease 30s" "set verify-timeout 1h" \
	"set verify-interval 100ms"
hl_start a "$DB" "$CONF" || { fail "$N: headless restart" "$(cat "$(hl_err a)")"; exit 1; }
AA_URL="http://127.0.0.1:$(hl_port a)"
lost=$(post heartbeat "{\"tasks\":[$T3]}" "$TOKEN" | jq -c '.lost // []')
state_is "$T3" claimed && [ "$lost" = "[]" ] &&
	pass "$N: after a restart the agent's heartbeat keeps its task (one lease of grace)" ||
	fail "$N: after a restart the agent's heartbeat keeps its task (one lease of grace)" \
		"lost $lost $(tui --tasks)"
hl_stop a
