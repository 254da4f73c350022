# A pinned HTTPS device is found by its key, with or without credentials. A Gen3 device over
# HTTPS (key pinned, no password) is registered; a second sim at another address answers with
# the same MAC over HTTPS with another key. --discover of that address alone is a mac_conflict,
# not a move. With the registry pointed at the impostor's address, a scan of both addresses
# takes the device back to the address that shows the pinned key.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=discover_pin_move
command -v sqlite3 >/dev/null 2>&1 || { skip "$N" "needs sqlite3"; exit 0; }
sim_up $N --models gen3/1pm-gen3 --count 1 --tls all --tls-dir "$T_TMP/tls"
unset SHELLY_TUI_PASSWORD
DB=$T_TMP/db
M=$(dv 0 MAC | tr A-F a-f)
sql() { sqlite3 -cmd ".timeout 5000" "$DB" "$1"; }
"$SHELLY_TUI" --db "$DB" --add "$(dv 0 HP)" --https </dev/null >"$T_TMP/o" 2>"$T_TMP/e" ||
	{ fail "$N: --add" "$(cat "$T_TMP/e")"; exit 1; }
row0=$(sql "SELECT host, port, scheme, tls_pin FROM devices WHERE mac = '$M'")
[ -n "$(sql "SELECT tls_pin FROM devices WHERE mac = '$M'")" ] || fail "$N: no pin after --add" "$row0"

IMP=$SIM_NET.100
IMP_PID=""
imp_stop() { [ -n "$IMP_PID" ] && kill_ours "$IMP_PID" && wait "$IMP_PID" 2>/dev/null; IMP_PID=""; }
at_exit imp_stop
"$SHELLY_SIM" --fixtures tests/fixtures --base "$IMP" --port "$SIM_PORT" --models gen3/1pm-gen3 --count 1 \
	--tls all --tls-dir "$T_TMP/tls2" --manifest "$T_TMP/imp.json" 2>"$T_TMP/imp.err" &
IMP_PID=$!
wait_for 20 test -s "$T_TMP/imp.json" || { fail "$N: impostor start" "$(cat "$T_TMP/imp.err")"; exit 1; }
[ "$(jq -r '.devices[0].mac' "$T_TMP/imp.json" | tr A-F a-f)" = "$M" ] || fail "$N: impostor layout" "$(jq -c .devices "$T_TMP/imp.json")"

scan() {
	"$SHELLY_TUI" --db "$DB" --discover --scan-only "$@" --port "$SIM_PORT" --timeout 3 --json </dev/null \
		>"$T_TMP/d.json" 2>"$T_TMP/d.err"
}
scan "$IMP"; rc=$?
row1=$(sql "SELECT host, port, scheme, tls_pin FROM devices WHERE mac = '$M'")
[ $rc -eq 0 ] && [ "$row1" = "$row0" ] &&
	[ "$(sql "SELECT kind FROM events WHERE mac = '$M' ORDER BY id DESC LIMIT 1")" = mac_conflict ] &&
	[ "$(jq -c '[.summary.mac_conflicts, .summary.ip_changed]' "$T_TMP/d.json")" = '[1,0]' ] &&
	pass "$N: another key at another address, no credentials: mac_conflict, not a move" ||
	fail "$N: claim with another key" "rc=$rc '$row0' -> '$row1' $(head -c 300 "$T_TMP/d.err")"

sql "UPDATE devices SET host = '$IMP' WHERE mac = '$M'"
scan "$IMP" "$(dv 0 ADDR)"; rc=$?
row2=$(sql "SELECT host, port, scheme, tls_pin FROM devices WHERE mac = '$M'")
[ $rc -eq 0 ] && [ "$row2" = "$row0" ] &&
	pass "$N: both addresses scanned: the one with the pinned key wins" ||
	fail "$N: back to the genuine address" "rc=$rc '$row0' -> '$row2' $(head -c 300 "$T_TMP/d.err")"
exit 0
