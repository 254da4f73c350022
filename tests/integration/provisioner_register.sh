#!/bin/sh
# shelly-provisioner spends its one-time enrolment secret only when it can keep the token the
# registration returns: with a token file it cannot create, it does not register (the secret
# stays unused in the manager's database, and a later run with a usable token file registers
# with it). A refused registration says the manager's own reason. A revoked agent is told its
# token was refused (not "not answering") and, given a fresh secret, registers again.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=provisioner_register
AGENT=${SHELLY_PROVISIONER:-$BUILD/shelly-provisioner}
DB=$T_TMP/db
CONF=$T_TMP/config
mkdir -p "$T_TMP/w/aps"
hl_config "$CONF" "set discover-mdns off"
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
"$SHELLY_TUI" --db "$DB" --config "$CONF" --agent-enrol >"$T_TMP/secret" 2>/dev/null
agent() {
	SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 "$AGENT" --manager "http://127.0.0.1:$(hl_port a)" --once \
		--wifi "test:$T_TMP/w" --enrol-secret-file "$T_TMP/secret" --token-file "$1" --name reg \
		>/dev/null 2>"$T_TMP/err"
}
unused() { [ "$(sq "$DB" 'SELECT count(*) FROM enrolments WHERE used IS NULL')" = 1 ]; }

agent "$T_TMP/no-such-dir/token"
rc=$?
[ "$rc" = 1 ] && grep -q "cannot save a token, not registering: $T_TMP/no-such-dir/token.tmp" "$T_TMP/err" &&
	unused && [ "$(sq "$DB" 'SELECT count(*) FROM agents')" = 0 ] &&
	pass "$N: a token file it cannot create keeps the secret unused" ||
	fail "$N: a token file it cannot create keeps the secret unused" "rc $rc $(cat "$T_TMP/err") $(sq "$DB" 'SELECT * FROM enrolments')"
agent "$T_TMP/token"
rc=$?
[ "$rc" = 0 ] && [ -s "$T_TMP/token" ] && [ ! -e "$T_TMP/token.tmp" ] &&
	[ "$(stat -c %a "$T_TMP/token")" = 600 ] && [ "$(sq "$DB" 'SELECT count(*) FROM agents')" = 1 ] &&
	pass "$N: the same secret then registers, the token saved (mode 0600)" ||
	fail "$N: the same secret then registers" "rc $rc $(cat "$T_TMP/err")"
agent "$T_TMP/token2"
rc=$?
[ "$rc" = 1 ] && grep -q "HTTP 401: enrolment secret unknown, used or expired" "$T_TMP/err" &&
	[ ! -e "$T_TMP/token2" ] && [ ! -e "$T_TMP/token2.tmp" ] &&
	pass "$N: a used secret is refused with the manager's reason, no token file left" ||
	fail "$N: a used secret is refused with the manager's reason" "rc $rc $(cat "$T_TMP/err")"
# a token file that is a symbolic link to an empty file elsewhere: the token goes into the
# target, the link stays
"$SHELLY_TUI" --db "$DB" --config "$CONF" --agent-enrol >"$T_TMP/secret" 2>/dev/null
mkdir -p "$T_TMP/kept" && : >"$T_TMP/kept/token" && ln -s kept/token "$T_TMP/token3"
agent "$T_TMP/token3"
rc=$?
[ "$rc" = 0 ] && [ -L "$T_TMP/token3" ] && [ -s "$T_TMP/kept/token" ] &&
	[ ! -e "$T_TMP/kept/token.tmp" ] && [ ! -e "$T_TMP/token3.tmp" ] &&
	[ "$(sq "$DB" 'SELECT count(*) FROM agents')" = 2 ] &&
	pass "$N: a token file that is a symbolic link gets the token in its target, the link kept" ||
	fail "$N: token file link" "rc $rc $(ls -la "$T_TMP" "$T_TMP/kept"; cat "$T_TMP/err")"
# Revoked: the token is refused. Without a secret --once says so once and exits 1; with a
# fresh secret the agent registers again and replaces its token file.
for id in $(sq "$DB" 'SELECT id FROM agents'); do
	"$SHELLY_TUI" --db "$DB" --config "$CONF" --agent-revoke "$id" >/dev/null 2>&1
done
old=$(cat "$T_TMP/token")
SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 "$AGENT" --manager "http://127.0.0.1:$(hl_port a)" --once \
	--wifi "test:$T_TMP/w" --token-file "$T_TMP/token" --name reg >/dev/null 2>"$T_TMP/err"
rc=$?
[ "$rc" = 1 ] && [ "$(grep -c 'token refused: agent revoked or unknown; enrol again' "$T_TMP/err")" = 2 ] &&
	! grep -q 'not answering' "$T_TMP/err" &&
	pass "$N: a revoked agent without a secret says its token was refused, --once exits 1" ||
	fail "$N: a revoked agent without a secret says its token was refused" "rc $rc $(cat "$T_TMP/err")"
"$SHELLY_TUI" --db "$DB" --config "$CONF" --agent-enrol >"$T_TMP/secret" 2>/dev/null
agent "$T_TMP/token"
rc=$?
[ "$rc" = 0 ] && [ -s "$T_TMP/token" ] && [ "$(cat "$T_TMP/token")" != "$old" ] &&
	[ "$(sq "$DB" 'SELECT count(*) FROM agents')" = 1 ] && grep -q 'registering again' "$T_TMP/err" &&
	pass "$N: with a fresh enrolment secret a revoked agent registers again, its token replaced" ||
	fail "$N: with a fresh enrolment secret a revoked agent registers again" "rc $rc $(cat "$T_TMP/err")"
hl_stop a
