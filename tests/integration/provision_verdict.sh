#!/bin/sh
# The manager's verdict stays: a configured task the verifier does not see within
# verify-timeout gets the stage not_seen, and the agent's next "waiting" report neither
# replaces it nor hides it (the reply carries it, so the agent fails the task at once instead
# of waiting out --verify-wait). An agent cannot report a stage of its own invention ("done",
# "verified"): 400, nothing changes. The agent is played with curl on loopback.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_agentapi.sh
N=provision_verdict

aa_start $N "set agent-lease 1h" "set verify-timeout 1s" "set verify-interval 100ms"
aa_waiting "$N" 0a0b0c0d0e31
not_seen() { [ "$(aa_field "$ID" stage)" = not_seen ]; }
wait_for 30 not_seen || fail "$N: the verifier gives up (not_seen)" "$(tui --tasks --json)"
reply=$(post progress "{\"task\":$ID,\"stage\":\"waiting\"}" "$TOKEN" | jq -c .)
[ "$reply" = '{"state":"verifying","stage":"not_seen"}' ] && not_seen &&
	pass "$N: a waiting report after the verdict keeps it and the reply carries it" ||
	fail "$N: a waiting report after the verdict keeps it and the reply carries it" \
		"$reply $(aa_field "$ID" stage)"
for st in done verified; do
	code=$(curl -s -o "$T_TMP/r" -w '%{http_code}' -m 5 -X POST "$AA_URL/api/v1/progress" \
		-H "Authorization: Bearer $TOKEN" -d "{\"task\":$ID,\"stage\":\"$st\"}")
	[ "$code" = 400 ] && grep -q 'unknown stage' "$T_TMP/r" && not_seen &&
		[ "$(aa_field "$ID" state)" = verifying ] &&
		pass "$N: an agent cannot report the stage $st" ||
		fail "$N: an agent cannot report the stage $st" "$code $(cat "$T_TMP/r") $(aa_field "$ID" stage)"
done
hl_stop a
