#!/bin/sh
# A provisioning task's device name and network name are checked once, the same way where a
# task is queued (--provision, --provision-csv), where the manager hands it out (a task queued
# by an older version) and where an agent reads it: UTF-8 text ("Küche", "Café Wohnung") is
# taken, control and bidirectional-formatting characters and over-long text (in bytes) are
# refused at queue time and nothing is queued. An agent that cannot read a claim reply reports
# that task failed with the reason (played here by a stand-in manager), and --once exits 1.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_agentapi.sh
. tests/integration/lib_stub.sh
N=provision_names
AGENT=${SHELLY_PROVISIONER:-$BUILD/shelly-provisioner}
NET=$(test_net $N)
DB=$T_TMP/db
CONF=$T_TMP/config
secret_file "$T_TMP/key" home-key-4711
KUECHE=$(printf 'K\303\274che')
CAFE=$(printf 'Caf\303\251 Wohnung')
BIDI=$(printf 'evil\342\200\256txt')

hl_config "$CONF" "set discover-mdns off" "set agent-lease 1h"
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
aa_init "$DB" "$CONF" "http://127.0.0.1:$(hl_port a)" || { fail "$N: register" "no token"; exit 1; }

tui --provision shellyplus1-AABBCCDDEEFF --network "$CAFE" --name "$KUECHE" \
	--wifi-key-file "$T_TMP/key" >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
[ $rc -eq 0 ] && [ "$(tui --tasks --json | jq -r '.tasks[0].name')" = "$KUECHE" ] &&
	[ "$(tui --tasks --json | jq -r '.tasks[0].network')" = "$CAFE" ] &&
	pass "$N: a UTF-8 device name and network name are queued" ||
	fail "$N: a UTF-8 device name and network name are queued" "rc=$rc $(cat "$T_TMP/err")"
aa_seen shellyplus1-AABBCCDDEEFF shelly1-AABBCC
reply=$(post claim '{}' "$TOKEN")
[ "$(printf '%s' "$reply" | jq -r .task.name)" = "$KUECHE" ] &&
	pass "$N: the manager hands the UTF-8 task out" || fail "$N: the manager hands the UTF-8 task out" "$reply"

refused() { # NAME ERRTEXT args...
	_n=$1 _e=$2; shift 2
	_before=$(tui --tasks --json | jq '.tasks | length')
	tui "$@" >/dev/null 2>"$T_TMP/err"; _rc=$?
	_after=$(tui --tasks --json | jq '.tasks | length')
	[ $_rc -eq 2 ] && grep -q "$_e" "$T_TMP/err" && [ "$_before" = "$_after" ] &&
		pass "$N: $_n is refused at queue time, nothing queued" ||
		fail "$N: $_n is refused at queue time, nothing queued" "rc=$_rc $_before->$_after $(cat "$T_TMP/err")"
}
refused "a bidi override in --name" "device name must be UTF-8 text without control" \
	--provision shelly1-AABBCC --network home --name "$BIDI"
refused "a control character in --name" "device name must be UTF-8 text without control" \
	--provision shelly1-AABBCC --network home --name "$(printf 'a\tb')"
refused "invalid UTF-8 in --name" "device name must be UTF-8" \
	--provision shelly1-AABBCC --network home --name "$(printf 'bad\303')"
refused "a 33-byte network name (32 characters)" "network name is 33 bytes, at most 32" \
	--provision shelly1-AABBCC --network "0123456789012345678901234567890$(printf '\303\274')"
printf 'target,name\nshelly1-AABBCC,%s\nshelly1-DDEEFF,%s\n' "$KUECHE" "$BIDI" >"$T_TMP/b.csv"
refused "a CSV batch with one bidi name" "b.csv:3: device name must be UTF-8" \
	--provision-csv "$T_TMP/b.csv" --network home

# A task queued before the check (written straight into the store) fails when it is claimed,
# with the reason, and its WiFi key never leaves the manager.
tui --provision shelly1-AABBCC --network home --name ok --wifi-key-file "$T_TMP/key" >/dev/null
OLD=$(tui --tasks --json | jq '.tasks[-1].id')
sq "$DB" "UPDATE tasks SET name = 'esc' || char(27) || '[2J' WHERE id = $OLD"
# the agent sees the AP again now: a claim considers only APs seen in the last minute, and the
# steps above may take longer than that on a loaded machine
aa_seen shelly1-AABBCC
code=$(curl -s -o "$T_TMP/claim" -w '%{http_code}' -m 5 -X POST "$AA_URL/api/v1/claim" \
	-H "Authorization: Bearer $TOKEN" -d '{}')
[ "$code" = 204 ] && ! grep -q home-key "$T_TMP/claim" && [ "$(aa_field "$OLD" state)" = failed ] &&
	aa_field "$OLD" reason | grep -q 'device name must be UTF-8' &&
	pass "$N: a stored task no agent could read fails at claim time, its key not sent" ||
	fail "$N: a stored task no agent could read fails at claim time, its key not sent" \
		"$code $(cat "$T_TMP/claim") $(tui --tasks)"
hl_stop a

# ---- an agent that cannot read the claim reply -------------------------------------------
# A stand-in manager answers the claim with a task whose name has a bidi override and records
# what the agent posts to /api/v1/result.
stub_start "$NET.1" "$(jq -cn --arg result "$T_TMP/result" '[
	{method: "POST", path: "/api/v1/claim", body: "{\"task\":{\"id\":5,\"target\":\"shelly1-AABBCC\",\"network\":\"home\",\"key\":\"home-key-4711\",\"name\":\"evil\\u202etxt\"}}"},
	{method: "POST", path: "/api/v1/result", save: $result, body: "{\"state\":\"failed\"}"},
	{method: "POST", body: "{}"}]')"
mkdir -p "$T_TMP/w/aps"
printf '%064d\n' 7 >"$T_TMP/token"; chmod 600 "$T_TMP/token"
SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 "$AGENT" --manager "http://$NET.1:$STUB_PORT" \
	--wifi "test:$T_TMP/w" --token-file "$T_TMP/token" --name n --once -v >"$T_TMP/agent.log" 2>&1
rc=$?
[ $rc -ne 0 ] && [ "$(jq -r .task "$T_TMP/result" 2>/dev/null)" = 5 ] &&
	[ "$(jq -r .retry "$T_TMP/result")" = false ] &&
	jq -r .reason "$T_TMP/result" | grep -q 'agent cannot read the task: .*device name' &&
	grep -q 'the claimed task could not be read' "$T_TMP/agent.log" &&
	pass "$N: an unreadable claim reply is reported failed with its reason, --once exits non-zero" ||
	fail "$N: an unreadable claim reply is reported failed with its reason, --once exits non-zero" \
		"rc=$rc result=$(cat "$T_TMP/result" 2>/dev/null) $(cat "$T_TMP/agent.log")"
