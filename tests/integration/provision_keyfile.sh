#!/bin/sh
# A task whose WiFi key file the manager can no longer read (removed after --provision): the
# agent's claim gets a clear error (409 naming the task and the WiFi key file, not a 500 store
# error), the task fails with that reason, and the manager's log speaks of the WiFi key file.
# A key that is the WPA pre-shared key itself (64 hex digits) is queued and handed to the agent;
# 64 characters that are not hex, and 65 hex digits, are refused. A key file's warnings and
# errors call it the WiFi key file. The agent is played with curl against the agent API on
# loopback.
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

PSK=0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef
printf '%s\n' "$PSK" >"$T_TMP/psk"
printf '%sx\n' "$(printf '%s' "$PSK" | cut -c2-)" >"$T_TMP/psk64x"
printf '%s0\n' "$PSK" >"$T_TMP/psk65"
chmod 600 "$T_TMP/psk" "$T_TMP/psk64x" "$T_TMP/psk65"
refused=0
for f in psk64x psk65; do
	tui --provision shelly1-0A0B22 --network home --wifi-key-file "$T_TMP/$f" >/dev/null 2>"$T_TMP/$f.err"
	[ $? = 2 ] && grep -q 'or 64 hex digits' "$T_TMP/$f.err" && refused=$((refused + 1))
done
[ "$refused" = 2 ] && pass "$N: a 64-character key that is not hex, and 65 hex digits, are refused" ||
	fail "$N: a 64-character key that is not hex, and 65 hex digits, are refused" "$(cat "$T_TMP"/psk6*.err)"
if tui --provision shelly1-0A0B22 --network home --wifi-key-file "$T_TMP/psk" >/dev/null 2>"$T_TMP/psk.err"; then
	aa_seen shelly1-0A0B22
	key=$(post claim '{}' "$TOKEN" | jq -r .task.key)
	[ "$key" = "$PSK" ] && pass "$N: a 64-hex-digit pre-shared key is queued and handed to the agent" ||
		fail "$N: a 64-hex-digit pre-shared key is queued and handed to the agent" "claimed key length ${#key}"
else
	fail "$N: a 64-hex-digit pre-shared key is queued and handed to the agent" "$(cat "$T_TMP/psk.err")"
fi
# A key file others can read, and an empty one: the warning and the error name the WiFi key file.
printf 'home-key-4711\n' >"$T_TMP/openkey"
chmod 644 "$T_TMP/openkey"
: >"$T_TMP/emptykey"
tui --provision shelly1-0A0B23 --network home --wifi-key-file "$T_TMP/openkey" >/dev/null 2>"$T_TMP/open.err"
tui --provision shelly1-0A0B24 --network home --wifi-key-file "$T_TMP/emptykey" >/dev/null 2>"$T_TMP/empty.err"
grep -q "WiFi key file $T_TMP/openkey can be read or changed by others" "$T_TMP/open.err" &&
	grep -q "WiFi key file $T_TMP/emptykey is empty" "$T_TMP/empty.err" &&
	! grep -q 'password file' "$T_TMP/open.err" "$T_TMP/empty.err" &&
	pass "$N: a key file's warning and error say WiFi key file, not password file" ||
	fail "$N: a key file's warning and error say WiFi key file, not password file" \
		"$(cat "$T_TMP/open.err" "$T_TMP/empty.err")"
hl_stop a
