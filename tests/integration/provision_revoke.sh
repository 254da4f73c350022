#!/bin/sh
# --agent-revoke: a lost agent host must stop receiving WiFi keys and device passwords. After
# the revocation its bearer token is refused (401) at once by the running --headless, the task
# it held with attempts left goes back to the queue (the attempt counted), the one without
# fails with "agent revoked", --agents no longer lists it and the audit log keeps a line. An
# agent that registered and was never seen can be revoked too; an unknown id is an error.
# The agents are played with curl against the agent API on loopback.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_agentapi.sh
N=provision_revoke

DB=$T_TMP/db
CONF=$T_TMP/config
hl_config "$CONF" "set discover-mdns off" "set agent-lease 1h" "set verify-timeout 1h"
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
aa_init "$DB" "$CONF" "http://127.0.0.1:$(hl_port a)" || { fail "$N: register" "no token"; exit 1; }
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST "$AA_URL/api/v1/$1" \
	-H "Authorization: Bearer $2" -d '{}'; }
# A second agent that registers and is never heard from again ("never seen").
_s=$(tui --agent-enrol 2>/dev/null)
post register "{\"secret\":\"$_s\",\"name\":\"orphan\"}" >"$T_TMP/orphan.json"
ORPHAN=$(jq -r .agent "$T_TMP/orphan.json")
OTOKEN=$(jq -r .token "$T_TMP/orphan.json")
AGENT=$(tui --agents --json | jq -r '.agents[] | select(.name == "curl") | .id')
[ -n "$AGENT" ] && [ -n "$ORPHAN" ] && [ "$ORPHAN" != null ] || { fail "$N: agent ids" "$AGENT $ORPHAN"; exit 1; }

tui --provision 0a0b0c0d0e01 --network home --attempts 2 >/dev/null &&
	tui --provision 0a0b0c0d0e02 --network home --attempts 1 >/dev/null || { fail "$N: --provision"; exit 1; }
aa_seen 0a0b0c0d0e01 0a0b0c0d0e02
T1=$(post claim '{}' "$TOKEN" | jq -r .task.id)
T2=$(post claim '{}' "$TOKEN" | jq -r .task.id)
[ "$(aa_field "$T1" state)" = claimed ] && [ "$(aa_field "$T2" state)" = claimed ] &&
	[ "$(code heartbeat "$TOKEN")" = 200 ] ||
	{ fail "$N: the agent holds both tasks" "$(tui --tasks)"; exit 1; }

tui --agent-revoke "$AGENT" >"$T_TMP/revoke.out" 2>&1 &&
	pass "$N: --agent-revoke succeeds" || fail "$N: --agent-revoke succeeds" "$(cat "$T_TMP/revoke.out")"
for p in heartbeat claim; do
	c=$(code $p "$TOKEN")
	[ "$c" = 401 ] && pass "$N: the revoked token is refused at once ($p)" ||
		fail "$N: the revoked token is refused at once ($p)" "HTTP $c"
done
[ "$(aa_field "$T1" state)" = queued ] && [ "$(aa_field "$T1" attempts)" = 1 ] &&
	[ "$(aa_field "$T1" agent)" = null ] && [ "$(aa_field "$T1" reason)" = "agent revoked: requeued" ] &&
	pass "$N: the held task with attempts left is requeued, the attempt counted" ||
	fail "$N: the held task with attempts left is requeued, the attempt counted" "$(tui --tasks --json)"
[ "$(aa_field "$T2" state)" = failed ] && [ "$(aa_field "$T2" reason)" = "agent revoked" ] &&
	pass "$N: the held task without attempts left fails with 'agent revoked'" ||
	fail "$N: the held task without attempts left fails with 'agent revoked'" "$(tui --tasks --json)"
n=$(tui --agents --json | jq --arg a "$AGENT" '[.agents[] | select(.id == $a)] | length')
[ "$n" = 0 ] && pass "$N: --agents no longer lists it" || fail "$N: --agents no longer lists it" "$n"
a=$(sq "$DB" "SELECT count(*) FROM audit WHERE action = 'agent-revoke' AND detail = '$AGENT'")
[ "$a" = 1 ] && pass "$N: the audit log keeps the revocation" || fail "$N: the audit log keeps the revocation" "$a"

tui --agents | grep "^$ORPHAN" | grep -q "never seen" || fail "$N: the orphan is never seen" "$(tui --agents)"
tui --agent-revoke "$ORPHAN" >/dev/null 2>&1 && [ "$(code heartbeat "$OTOKEN")" = 401 ] &&
	pass "$N: an agent never seen can be revoked" || fail "$N: an agent never seen can be revoked" "$(tui --agents)"
tui --agent-revoke "$AGENT" >/dev/null 2>"$T_TMP/again.err"
rc=$?
[ "$rc" = 1 ] && grep -q "no such agent" "$T_TMP/again.err" &&
	pass "$N: revoking an unknown agent is an error" ||
	fail "$N: revoking an unknown agent is an error" "rc $rc $(cat "$T_TMP/again.err")"
hl_stop a
