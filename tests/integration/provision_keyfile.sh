#!/bin/sh
# A task whose WiFi key file the manager can no longer read (removed after --provision): the
# agent's claim gets a clear error (409 naming the task and the WiFi key file, not a 500 store
# error), the task fails with that reason, and the manager's log speaks of the WiFi key file.
# The agent is played with curl against the agent API on loopback.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_agentapi.sh
N=provision_keyfile

aa_start $N "set agent-lease 1h"
printf 'home-key-4711\n' >"$T_TMP/key"
chmod 600 "$T_TMP/key"
tui --provision shelly1-0A0B21 --network home --wifi-key-file "$T_TMP/key" >/dev/null ||
	{ fail "$N: --provision"; exit 1; }
ID=$(tui --tasks --json | jq -r '.tasks[0].id')
rm "$T_TMP/key"
aa_seen shelly1-0A0B21
code=$(curl -s -o "$T_TMP/claim" -w '%{http_code}' -m 5 -X POST "$AA_URL/api/v1/claim" \
	-H "Authorization: Bearer $TOKEN" -d '{}')
err=$(jq -r .error "$T_TMP/claim")
want="failed: the manager cannot read the WiFi key file $T_TMP/key: No such file or directory"
[ "$code" = 409 ] && [ "$err" = "task $ID $want" ] &&
	pass "$N: the agent's claim gets a clear error naming the WiFi key file" ||
	fail "$N: the agent's claim gets a clear error naming the WiFi key file" "$code $(cat "$T_TMP/claim")"
[ "$(aa_field "$ID" state)" = failed ] && [ "$(aa_field "$ID" reason)" = "$want" ] &&
	pass "$N: the task fails with that reason" || fail "$N: the task fails with that reason" "$(tui --tasks)"
grep -q "task $ID: failed: the manager cannot read the WiFi key file" "$(hl_err a)" &&
	! grep -q 'store error\|cannot read password file' "$(hl_err a)" &&
	pass "$N: the manager's log speaks of the WiFi key file" ||
	fail "$N: the manager's log speaks of the WiFi key file" "$(cat "$(hl_err a)")"
hl_stop a
