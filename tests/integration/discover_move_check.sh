# A MAC is not proof, least of all over plain HTTP. A Gen1 device with a password (Basic: the
# password itself goes out) is registered; a stand-in server at another address of this test's
# net answers /shelly with its MAC. While the registered address still shows the MAC, --discover
# does not move the device there: mac_conflict, held, and --poll-once sends the stand-in no
# Authorization header. Once the registered address is silent (the genuine device is gone) the
# same claim is a move (ip_changed).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_stub.sh

N=discover_move_check
command -v sqlite3 >/dev/null 2>&1 || { skip "$N" "needs sqlite3"; exit 0; }
sim_up $N --models gen1/shelly-plug-s --count 1 --auth all
unset SHELLY_TUI_PASSWORD
DB=$T_TMP/db
M=$(dv 0 MAC | tr A-F a-f)
sql() { sqlite3 -cmd ".timeout 5000" "$DB" "$1"; }
secret_file "$T_TMP/pw" "$(dv 0 PW)"
"$SHELLY_TUI" --db "$DB" --add "$(dv 0 HP)" --password-file "$T_TMP/pw" </dev/null >"$T_TMP/o" 2>"$T_TMP/e" ||
	{ fail "$N: --add" "$(cat "$T_TMP/e")"; exit 1; }
row0=$(sql "SELECT host, port FROM devices WHERE mac = '$M'")

IMP=$SIM_NET.57
stub_start "$IMP" "[{\"path\": \"/shelly\", \"body\": \"{\\\"type\\\":\\\"SHPLG-S\\\",\\\"mac\\\":\\\"$(dv 0 MAC)\\\",\\\"auth\\\":true,\\\"fw\\\":\\\"20230913-113421/v1.14.0-gcb84623\\\"}\"},
	{\"status\": 401, \"headers\": {\"WWW-Authenticate\": \"Basic realm=\\\"x\\\"\"}}]" "$T_TMP/stub.log"
claim() {
	"$SHELLY_TUI" --db "$DB" --discover --scan-only "$IMP" --port "$STUB_PORT" --timeout 3 --json </dev/null \
		>"$T_TMP/d.json" 2>"$T_TMP/d.err"
}

claim; rc=$?
row1=$(sql "SELECT host, port FROM devices WHERE mac = '$M'")
ev=$(sql "SELECT kind || '|' || detail FROM events WHERE mac = '$M' ORDER BY id DESC LIMIT 1")
case $ev in
"mac_conflict|"*"still shows this MAC"*) ok=1 ;;
*) ok=0 ;;
esac
[ $rc -eq 0 ] && [ "$row1" = "$row0" ] && [ $ok = 1 ] && [ -n "$(sql "SELECT value FROM settings WHERE key = 'hold:$M'")" ] &&
	[ "$(jq -c '[.summary.mac_conflicts, .summary.ip_changed]' "$T_TMP/d.json")" = '[1,0]' ] &&
	pass "$N: the registered address still shows the MAC: no move, mac_conflict, held" ||
	fail "$N: claim while the device answers" "rc=$rc '$row0' -> '$row1' event '$ev' $(head -c 300 "$T_TMP/d.err")"

"$SHELLY_TUI" --db "$DB" --poll-once --json </dev/null >"$T_TMP/p.json" 2>"$T_TMP/p.err"
if grep -q "auth=Basic" "$T_TMP/stub.log"; then
	fail "$N: the password went to the stand-in" "$(grep -m 3 auth=Basic "$T_TMP/stub.log")"
else
	pass "$N: --poll-once sent the stand-in no credentials"
fi

# The genuine device is gone: its registered address is silent, the claim is a move.
sim_stop
claim; rc=$?
row2=$(sql "SELECT host, port FROM devices WHERE mac = '$M'")
[ $rc -eq 0 ] && [ "$row2" = "$IMP|$STUB_PORT" ] &&
	[ "$(sql "SELECT kind FROM events WHERE mac = '$M' ORDER BY id DESC LIMIT 1")" = ip_changed ] &&
	pass "$N: the registered address is silent: the claim is a move (ip_changed)" ||
	fail "$N: move after the device is gone" "rc=$rc '$row2' $(head -c 300 "$T_TMP/d.err")"
exit 0
