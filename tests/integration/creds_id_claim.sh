# Credentials keyed by a device's id or name go only to the registered device that carries it.
# A Gen2 device with a password is configured by id ("credentials ID admin file:PW") and added;
# a stand-in server claims that id with another MAC: it is refused at identification (not a
# genuine Shelly: a Gen2+ id ends in its MAC), is not registered, and sees no digest response
# (an offline dictionary attack on the password). A stand-in with its own MAC that calls itself
# by the registered device's name gets nothing either.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_stub.sh

N=creds_id_claim
sim_up $N --models gen2/plus-1pm --count 1 --auth all
DB=$T_TMP/db
secret_file "$T_TMP/pw" "$(dv 0 PW)"
cli_private "credentials $(dv 0 ID) admin file:$T_TMP/pw" "credentials Kitchen admin file:$T_TMP/pw"
"$SHELLY_TUI" --db "$DB" --add "$(dv 0 HP)" --name Kitchen </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && grep -q "with credentials" "$T_TMP/o" &&
	pass "$N: the genuine device is added with the credentials configured for its id" ||
	fail "$N: --add" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e")"

IMP=$SIM_NET.57
CHAL='Digest qop=\"auth\", realm=\"x\", nonce=\"1\", algorithm=SHA-256'
stub() {
	stub_start "$IMP" "[{\"path\": \"/shelly\", \"body\": \"$1\"},
		{\"status\": 401, \"headers\": {\"WWW-Authenticate\": \"$CHAL\"}}]" "$T_TMP/stub.log"
}
shelly_json() { # ID MAC NAME
	printf '{\\"name\\":\\"%s\\",\\"id\\":\\"%s\\",\\"mac\\":\\"%s\\",\\"model\\":\\"SNSW-001P16EU\\",\\"gen\\":2,\\"fw_id\\":\\"20241011-114455/1.4.4-g6d2a586\\",\\"ver\\":\\"1.4.4\\",\\"app\\":\\"Plus1PM\\",\\"auth_en\\":true,\\"auth_domain\\":\\"x\\"}' "$3" "$1" "$2"
}

stub "$(shelly_json "$(dv 0 ID)" DEADBEEF0001 Other)"
"$SHELLY_TUI" --db "$DB" --add "$IMP:$STUB_PORT" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
"$SHELLY_TUI" --db "$DB" --probe "$IMP:$STUB_PORT" </dev/null >>"$T_TMP/o" 2>>"$T_TMP/e"; rc2=$?
n=$("$SHELLY_TUI" --db "$DB" --list --json 2>/dev/null | jq ".devices | length")
[ $rc -ne 0 ] && [ $rc2 -ne 0 ] && grep -q "not a genuine Shelly" "$T_TMP/e" && [ "$n" = 1 ] &&
	pass "$N: a device claiming another's id with its own MAC is refused and not registered" ||
	fail "$N: id claim" "rc=$rc/$rc2 devices $n $(cat "$T_TMP/o" "$T_TMP/e")"
grep -q "auth=Digest" "$T_TMP/stub.log" && fail "$N: a digest response went to the id claimant" "$(cat "$T_TMP/stub.log")" ||
	pass "$N: the id claimant saw no digest response"
stub_stop
: >"$T_TMP/stub.log"

stub "$(shelly_json shellyplus1pm-deadbeef0002 DEADBEEF0002 Kitchen)"
"$SHELLY_TUI" --db "$DB" --probe "$IMP:$STUB_PORT" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
if grep -q "auth=Digest" "$T_TMP/stub.log"; then
	fail "$N: a digest response went to the name claimant" "$(cat "$T_TMP/stub.log")"
else
	[ -s "$T_TMP/stub.log" ] && pass "$N: a device calling itself by the registered name gets no credentials (rc=$rc)" ||
		fail "$N: name claimant not asked" "$(cat "$T_TMP/e")"
fi
exit 0
