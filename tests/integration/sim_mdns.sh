# shelly-sim --mdns: every device published through a private avahi-daemon (own network, mount
# and PID namespaces; loopback only), found by avahi-browse with its id and address; a moved
# device is re-published at its new address.
. tests/lib.sh
. tests/integration/netns.sh
netns_reexec sim_mdns "$0" "$@"
. tests/sim/simlib.sh

N=sim_mdns
command -v avahi-browse >/dev/null 2>&1 || { skip "$N" "needs avahi-browse"; exit 0; }
if ! sim_start $N --models gen1/shelly-1,gen2/plus-1pm --count 4 --mdns; then
	fail "$N: start" "$(cat "$SIM_ERR")"
	exit 1
fi
wait_for 10 sh -c 'jq -e ".mdns_ready == true" "$1" >/dev/null' sh "$SIM_MANIFEST" &&
	pass "$N: manifest says mdns_ready" || fail "$N: mdns_ready" "$(cat "$SIM_ERR")"

# browse TYPE: "name address port" lines of resolved services.
browse() {
	timeout 10 avahi-browse -rtp "$1" 2>/dev/null | awk -F';' '$1 == "=" && $3 == "IPv4" { print $4, $8, $9 }' | sort -u
}
browse _shelly._tcp >"$T_TMP/shelly"
browse _http._tcp >"$T_TMP/http"
ok=1
for i in 1 3; do
	grep -qx "$(mf ".devices[$i].id") $(mf ".devices[$i].addr") $SIM_PORT" "$T_TMP/shelly" || ok=0
done
[ $ok = 1 ] && pass "$N: Gen2 devices on _shelly._tcp with their address" || fail "$N: _shelly._tcp" "$(cat "$T_TMP/shelly")"
ok=1
for i in 0 1 2 3; do
	grep -qx "$(mf ".devices[$i].id") $(mf ".devices[$i].addr") $SIM_PORT" "$T_TMP/http" || ok=0
done
[ $ok = 1 ] && pass "$N: every device on _http._tcp" || fail "$N: _http._tcp" "$(cat "$T_TMP/http")"

new=$(ctl POST /devices/1/move '{}' | jq -r .addr)
id1=$(mf '.devices[1].id')
wait_for 10 sh -c 'timeout 5 avahi-browse -rtp _shelly._tcp 2>/dev/null | grep -q "^=;.*;IPv4;$1;.*;$2;$3;"' sh "$id1" "$new" "$SIM_PORT" &&
	pass "$N: moved device re-published at $new" || fail "$N: move" "$(browse _shelly._tcp)"

sim_stop
rc=$?
[ $rc -eq 0 ] && pass "$N: clean exit" || fail "$N: exit" "$rc $(tail -n 20 "$SIM_ERR")"
exit 0
