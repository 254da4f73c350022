#!/bin/sh
# --import and credentials: a file must not send another device's stored password, or a local
# file's contents, to a host it names. A fake Gen1 device (python, on this test's own loopback
# address) claims the file's MAC, wants Basic auth and logs every Authorization header it gets.
# host and scheme are checked as --add checks them; a stored password must be the device's own;
# a password file ("file:PATH") is held back unless --import-credentials; and a row that names
# another device's stored password (an older import) still sends nothing.
. tests/lib.sh
. tests/integration/lib_stub.sh

N=exchange_import_creds
DB=$T_TMP/fleet.db
ADDR=$(test_net $N).1
VICTIM_PW=victim-pw-441793
FILE_PW=file-secret-7f3a
printf '%s\n' "$FILE_PW" >"$T_TMP/victim.txt"
chmod 600 "$T_TMP/victim.txt"
sq() { sqlite3 "$DB" "$1"; }

"$SHELLY_TUI" --db "$DB" --list >/dev/null 2>&1 || { fail "$N: database" "cannot create"; exit 0; }
sq "INSERT INTO devices (mac, id, gen, host, port, scheme, username, cred_ref) VALUES
 ('441793000001', 'shellyplus1-441793000001', 2, '127.0.0.9', 80, 'http', 'admin',
  'store:secret:441793000001');
INSERT INTO settings (key, value) VALUES ('secret:441793000001', '$VICTIM_PW');"

# /shelly answers as a Gen1 Shelly 1 with auth on; everything else wants a password.
stub_start "$ADDR" "$(jq -cn '[
	{method: "GET", path: "/shelly", prefix: true, status: 200,
	 body: ({type: "SHSW-1", mac: "AABBCCDDEEF1", auth: true, fw: "20230913-112003/v1.14.0-gcb84623",
		num_outputs: 1} | tojson)},
	{method: "GET", status: 401, headers: {"WWW-Authenticate": "Basic realm=\"shelly1-AABBCCDDEEF1\""}}]')" \
	"$T_TMP/auth.log"
PORT=$STUB_PORT

# backup FILE HOST SCHEME CREDENTIALS: a one-device backup of the fake device
backup() {
	printf '{"format":"shelly-tui-backup","format_version":3,"settings":{},"groups":{},"templates":{},"configs":{},\n"devices":[{"mac":"aabbccddeef1","id":"shelly1-AABBCCDDEEF1","gen":1,"model":"SHSW-1",\n"host":"%s","port":%s,"scheme":"%s","user":"admin","credentials":"%s"}]}\n' \
		"$2" "$PORT" "$3" "$4" >"$1"
}
snapshot() { sq 'SELECT * FROM devices ORDER BY mac; SELECT * FROM settings ORDER BY key;'; }
b64() { printf '%s' "$1" | base64; }
# poll: one --poll-once; passes when the fake device was asked during it
poll() {
	: >"$T_TMP/auth.log"
	"$SHELLY_TUI" --db "$DB" --poll-once --json </dev/null >"$T_TMP/p.json" 2>"$T_TMP/p.err"
	[ -s "$T_TMP/auth.log" ]
}
leaked() { grep -q -e "$(b64 "admin:$VICTIM_PW")" -e "$(b64 "admin:$FILE_PW")" "$T_TMP/auth.log"; }

# Refused files: exit 1, file, line, field and reason named, nothing written.
before=$(snapshot)
backup "$T_TMP/other.json" "$ADDR" http store:secret:441793000001
backup "$T_TMP/shell.json" '127.0.0.1; rm -rf /' http ""
backup "$T_TMP/gopher.json" "$ADDR" gopher ""
backup "$T_TMP/env.json" "$ADDR" http env:HOME
for case in "other.json:devices[0].credentials: a stored password must be this device's own" \
	"shell.json:devices[0].host: expected an IPv4 address" "gopher.json:devices[0].scheme: expected http or https" \
	"env.json:devices[0].credentials: expected store:secret:aabbccddeef1 or file:PATH"; do
	file=${case%%:*} want=${case#*:}
	"$SHELLY_TUI" --db "$DB" --import "$T_TMP/$file" --merge >"$T_TMP/out" 2>&1
	rc=$?
	if [ $rc = 1 ] && grep -qF "$T_TMP/$file: line 3: $want" "$T_TMP/out" && [ "$(snapshot)" = "$before" ]; then
		pass "$N: $file refused with file, line, field and reason; nothing changed"
	else
		fail "$N: $file" "rc=$rc $(cat "$T_TMP/out")"
	fi
done

# A password file is held back: imported with a warning, the device has no credentials and
# the poll sends nothing.
backup "$T_TMP/file.json" "$ADDR" http "file:$T_TMP/victim.txt"
if "$SHELLY_TUI" --db "$DB" --import "$T_TMP/file.json" --merge >"$T_TMP/out" 2>"$T_TMP/err" &&
	grep -q 'warning: 1 device(s), first aabbccddeef1, name a password file' "$T_TMP/err" &&
	grep -q -- '--import-credentials' "$T_TMP/err" &&
	[ -z "$(sq "SELECT coalesce(cred_ref, '') FROM devices WHERE mac='aabbccddeef1'")" ]; then
	pass "$N: a password file reference is held back, with a warning naming the device"
else
	fail "$N: held back" "$(cat "$T_TMP/out" "$T_TMP/err")"
fi
if poll && ! leaked && ! grep -q 'auth=Basic' "$T_TMP/auth.log"; then
	pass "$N: the poll asked the device and sent it no password"
else
	fail "$N: poll after a held-back file" "$(cat "$T_TMP/auth.log" "$T_TMP/p.err")"
fi

# Defence in depth: a row that names another device's stored password (written before these
# checks existed) sends nothing either.
sq "UPDATE devices SET username='admin', cred_ref='store:secret:441793000001' WHERE mac='aabbccddeef1'"
if poll && ! leaked && ! grep -q 'auth=Basic' "$T_TMP/auth.log"; then
	pass "$N: another device's stored password is never sent"
else
	fail "$N: foreign stored password" "$(cat "$T_TMP/auth.log" "$T_TMP/p.err")"
fi

# The operator trusts the file: --import-credentials keeps the reference, and the poll uses it
# (the same check that saw nothing above sees the password now).
if "$SHELLY_TUI" --db "$DB" --import "$T_TMP/file.json" --merge --import-credentials >"$T_TMP/out" 2>"$T_TMP/err" &&
	! grep -q warning "$T_TMP/err" &&
	[ "$(sq "SELECT cred_ref FROM devices WHERE mac='aabbccddeef1'")" = "file:$T_TMP/victim.txt" ] &&
	poll && grep -q "auth=Basic $(b64 "admin:$FILE_PW")" "$T_TMP/auth.log"; then
	pass "$N: --import-credentials takes the password file, the device gets its password"
else
	fail "$N: --import-credentials" "$(cat "$T_TMP/out" "$T_TMP/err" "$T_TMP/auth.log")"
fi
exit 0
