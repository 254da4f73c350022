# A MAC is not proof. A registered Gen3 HTTPS device with a pinned key and a password; a second
# sim at another address of this test's net answers /shelly with the same MAC, first over plain
# HTTP, then over HTTPS with another key. --discover takes neither claim: the registry keeps
# the address, scheme and pin, a mac_conflict event is stored, and the device is held: the
# next --poll-once sends it no credentials (auth_required, no status request reaches the
# impostor). --add confirms the device and polling with credentials resumes.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=discover_mac_conflict
command -v sqlite3 >/dev/null 2>&1 || { skip "$N" "needs sqlite3"; exit 0; }
TLS=$T_TMP/tls
mkdir -p "$TLS"
if ! sim_start $N --models gen3/1pm-gen3 --count 1 --tls all --auth all --tls-dir "$TLS"; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
unset SHELLY_TUI_PASSWORD
DB=$T_TMP/db
M=$(dv 0 MAC | tr A-F a-f)
sql() { sqlite3 -cmd ".timeout 5000" "$DB" "$1"; }
secret_file "$T_TMP/pw" "$(dv 0 PW)"
"$SHELLY_TUI" --db "$DB" --add "$(dv 0 HP)" --https --password-file "$T_TMP/pw" </dev/null >"$T_TMP/o" 2>"$T_TMP/e" ||
	{ fail "$N: --add" "$(cat "$T_TMP/e")"; exit 1; }
row0=$(sql "SELECT gen, host, port, scheme, tls_pin FROM devices WHERE mac = '$M'")

# The impostor: the same fixture and index give the same MAC, at .100.
IMP=$SIM_NET.100
IMP_PID=""
imp_stop() { [ -n "$IMP_PID" ] && kill -TERM "$IMP_PID" 2>/dev/null && wait "$IMP_PID" 2>/dev/null; IMP_PID=""; }
at_exit imp_stop
imp_start() {
	rm -f "$T_TMP/imp.json"
	"$SHELLY_SIM" --fixtures tests/fixtures --base "$IMP" --port "$SIM_PORT" --models gen3/1pm-gen3 --count 1 \
		--manifest "$T_TMP/imp.json" "$@" 2>"$T_TMP/imp.err" &
	IMP_PID=$!
	wait_for 20 test -s "$T_TMP/imp.json"
}
imp_status_requests() {
	curl -s -m 5 "http://$(jq -r .control "$T_TMP/imp.json")/devices/0/state" |
		jq '[.counters.by_path | to_entries[] | select(.key | startswith("/rpc/Shelly.GetStatus")) | .value] | add // 0'
}
claim() {
	"$SHELLY_TUI" --db "$DB" --discover --scan-only "$IMP" --port "$SIM_PORT" --timeout 3 --json </dev/null \
		>"$T_TMP/d.json" 2>"$T_TMP/d.err"
}

imp_start || { fail "$N: impostor start" "$(cat "$T_TMP/imp.err")"; exit 1; }
[ "$(jq -r '.devices[0].mac' "$T_TMP/imp.json" | tr A-F a-f)" = "$M" ] && [ "$(jq -r '.devices[0].scheme' "$T_TMP/imp.json")" = http ] &&
	pass "$N: an impostor at $IMP claims $M over plain HTTP" || fail "$N: impostor layout" "$(jq -c .devices "$T_TMP/imp.json")"
claim; rc=$?
row1=$(sql "SELECT gen, host, port, scheme, tls_pin FROM devices WHERE mac = '$M'")
ev=$(sql "SELECT kind FROM events WHERE mac = '$M' ORDER BY id DESC LIMIT 1")
[ $rc -eq 0 ] && [ "$row1" = "$row0" ] && [ "$ev" = mac_conflict ] && [ -n "$(sql "SELECT value FROM settings WHERE key = 'hold:$M'")" ] &&
	[ "$(jq -c '[.summary.mac_conflicts, .summary.ip_changed, .devices[0].mac_conflict]' "$T_TMP/d.json")" = '[1,0,true]' ] &&
	pass "$N: plain HTTP claim: registry unchanged (https, pin kept), mac_conflict event, device held" ||
	fail "$N: plain HTTP claim" "rc=$rc '$row0' -> '$row1' event '$ev' $(head -c 300 "$T_TMP/d.err")"

"$SHELLY_TUI" --db "$DB" --poll-once --json </dev/null >"$T_TMP/p.json" 2>"$T_TMP/p.err"
st=$(jq -r --arg m "$M" '.devices[] | select(.mac == $m) | "\(.state)|\(.error)"' "$T_TMP/p.json")
n=$(imp_status_requests)
case $st in
auth_required\|*--add*) [ "$n" = 0 ] &&
	pass "$N: held: --poll-once sends no credentials ($st), the impostor saw no status request" ||
	fail "$N: held poll" "impostor status requests $n" ;;
*) fail "$N: held poll" "$st; impostor status requests $n" ;;
esac

# Another key over HTTPS at the impostor's address: refused as well.
imp_stop
imp_start --tls all --tls-dir "$T_TMP/tls2" || { fail "$N: impostor (https) start" "$(cat "$T_TMP/imp.err")"; exit 1; }
claim; rc=$?
row2=$(sql "SELECT gen, host, port, scheme, tls_pin FROM devices WHERE mac = '$M'")
nev=$(sql "SELECT count(*) FROM events WHERE mac = '$M' AND kind = 'mac_conflict'")
[ $rc -eq 0 ] && [ "$row2" = "$row0" ] && [ "$nev" = 2 ] && grep -q "pinned" "$T_TMP/d.err" &&
	pass "$N: HTTPS claim with another key: registry unchanged, second mac_conflict" ||
	fail "$N: HTTPS claim" "rc=$rc '$row0' -> '$row2' events $nev $(head -c 300 "$T_TMP/d.err")"
imp_stop

# The operator confirms the genuine device: no longer held, polled with credentials.
"$SHELLY_TUI" --db "$DB" --add "$(dv 0 HP)" --https --password-file "$T_TMP/pw" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
"$SHELLY_TUI" --db "$DB" --poll-once --json </dev/null >"$T_TMP/p.json" 2>"$T_TMP/p.err"
st=$(jq -r --arg m "$M" '.devices[] | select(.mac == $m) | .state' "$T_TMP/p.json")
[ $rc -eq 0 ] && [ -z "$(sql "SELECT value FROM settings WHERE key = 'hold:$M'")" ] && [ "$st" = online ] &&
	pass "$N: --add confirms the device: released, online with credentials" ||
	fail "$N: confirm" "rc=$rc state $st $(cat "$T_TMP/e")"
exit 0
