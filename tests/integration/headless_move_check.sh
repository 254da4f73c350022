# Scheduled discovery (--headless, discover-range) takes the same care as --discover: a Gen1
# device with a password is registered; a stand-in at another address answers /shelly with its
# MAC over plain HTTP. While the genuine device still answers at its registered address the
# claim is a mac_conflict, the registry keeps the address, and the stand-in never sees the
# password (HTTP Basic).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_stub.sh

N=headless_move_check
command -v sqlite3 >/dev/null 2>&1 || { skip "$N" "needs sqlite3"; exit 0; }
sim_up $N --models gen1/shelly-plug-s --count 1 --auth all
unset SHELLY_TUI_PASSWORD
DB=$T_TMP/db
M=$(dv 0 MAC | tr A-F a-f)
secret_file "$T_TMP/pw" "$(dv 0 PW)"
"$SHELLY_TUI" --db "$DB" --add "$(dv 0 HP)" --password-file "$T_TMP/pw" </dev/null >"$T_TMP/o" 2>"$T_TMP/e" ||
	{ fail "$N: --add" "$(cat "$T_TMP/e")"; exit 1; }
row0=$(sq "$DB" "SELECT host, port FROM devices WHERE mac = '$M'")

IMP=$SIM_NET.57
stub_start "$IMP" "[{\"path\": \"/shelly\", \"body\": \"{\\\"type\\\":\\\"SHPLG-S\\\",\\\"mac\\\":\\\"$(dv 0 MAC)\\\",\\\"auth\\\":true,\\\"fw\\\":\\\"20230913-113421/v1.14.0-gcb84623\\\"}\"},
	{\"status\": 401, \"headers\": {\"WWW-Authenticate\": \"Basic realm=\\\"x\\\"\"}}]" "$T_TMP/stub.log"

CONF=$T_TMP/config
hl_config "$CONF" "discover-range $IMP" "set discover-interval 1s" "set discover-port $STUB_PORT" \
	"set discover-timeout 2s"
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
conflict() { [ "$(sq "$DB" "SELECT count(*) FROM events WHERE mac = '$M' AND kind = 'mac_conflict'")" -ge 1 ]; }
if wait_for 30 conflict; then
	pass "$N: scheduled discovery records the claim as a mac_conflict"
else
	fail "$N: no mac_conflict" "$(sq "$DB" "SELECT kind, detail FROM events") $(tail -5 "$(hl_err a)")"
fi
# A second run (the claim goes on) must not move it either.
two() { [ "$(sq "$DB" "SELECT count(*) FROM events WHERE mac = '$M' AND kind = 'mac_conflict'")" -ge 2 ]; }
wait_for 30 two || fail "$N: second run" "$(sq "$DB" "SELECT kind, detail FROM events")"
hl_stop a
row1=$(sq "$DB" "SELECT host, port FROM devices WHERE mac = '$M'")
[ "$row1" = "$row0" ] && [ "$(sq "$DB" "SELECT count(*) FROM events WHERE mac = '$M' AND kind = 'ip_changed'")" = 0 ] &&
	pass "$N: the registry keeps the genuine address" || fail "$N: moved" "'$row0' -> '$row1'"
if grep -q "auth=Basic" "$T_TMP/stub.log"; then
	fail "$N: the password went to the stand-in" "$(grep -m 3 auth=Basic "$T_TMP/stub.log")"
else
	pass "$N: the stand-in never saw the password"
fi
exit 0
