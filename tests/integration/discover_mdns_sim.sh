#!/bin/sh
# mDNS end to end with the simulator's own announcements (root; a private avahi-daemon on lo in
# namespaces of the test's own): shelly-sim --mdns publishes Gen1 and Gen2+ devices (Gen2+ also
# under their friendly name) and a printer is published beside them; `--discover --mdns-only`
# finds every device with the right generation and address and ignores the printer. Then
# --headless browses all the time: avahi-daemon is restarted under it, a device moves, and the
# poller's registry follows the device to its new address (ip_changed).
. tests/lib.sh
. tests/integration/netns.sh
netns_reexec discover_mdns_sim "$0" "$@"
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=discover_mdns_sim
# Only lo exists in here, so mDNS (224.0.0.251) may go out: it stays on lo.
export SHELLY_TUI_ALLOW_NETS=127.0.0.0/8,224.0.0.251

if ! sim_start $N --models gen1/shelly-1,gen2/plus-1pm,gen3/1pm-gen3,gen4/1-gen4 --count 4 --mdns; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
if ! wait_for 15 sh -c 'jq -e ".mdns_ready == true" "$1" >/dev/null' sh "$SIM_MANIFEST"; then
	fail "$N: sim published" "$(cat "$SIM_ERR")"
	exit 1
fi
avahi-publish -s "Office Printer" _http._tcp 631 "ty=HP LaserJet" >/dev/null 2>&1 &
pub=$!
at_exit "kill_ours $pub"

DB=$T_TMP/db
want=$(jq -r '.devices[] | "\(.mac|ascii_downcase) \(.gen) \(.addr)"' "$SIM_MANIFEST" | sort)
"$SHELLY_TUI" --db "$DB" --discover --mdns-only --timeout 3 --json >"$T_TMP/d.json" 2>"$T_TMP/d.err"
rc=$?
got=$(jq -r '.devices[] | "\(.mac) \(.gen) \(.host)"' "$T_TMP/d.json" 2>/dev/null | sort)
[ $rc -eq 0 ] && [ "$got" = "$want" ] && pass "$N: --mdns-only finds every sim device with gen and address" ||
	fail "$N: --mdns-only" "rc=$rc got [$got] want [$want] $(head -c 300 "$T_TMP/d.err")"
jq -e '[.devices[].discovered_via] | all(. == "mdns")' "$T_TMP/d.json" >/dev/null &&
	pass "$N: discovered_via mdns" || fail "$N: discovered_via" "$(jq -c '[.devices[].discovered_via]' "$T_TMP/d.json")"
# The printer was seen by the browser and dropped before any probe: no device for it, and the
# Gen2+ friendly-name instances did not make duplicates.
[ "$(jq '.devices | length' "$T_TMP/d.json")" = 4 ] && [ "$(jq -r .summary.not_confirmed "$T_TMP/d.json")" = 0 ] &&
	pass "$N: printer ignored, friendly names are no duplicates" ||
	fail "$N: printer/duplicates" "$(jq -c .summary "$T_TMP/d.json")"

# --headless browses all the time (a new session every discover-interval); the registry is full
# already, so it only polls.
CONF=$T_TMP/config
hl_config "$CONF" "set log-level debug" "set discover-interval 3s"
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
online() { [ "$(sq "$DB" "SELECT count(*) FROM status WHERE state='online'")" = 4 ]; }
wait_for 15 online && pass "$N: headless polls the discovered devices" || fail "$N: headless online" "$(sq "$DB" 'SELECT mac,state FROM status')"
wait_for 10 grep -q 'mDNS browsing _shelly._tcp' "$(hl_err a)" && pass "$N: headless browses mDNS" || fail "$N: headless mDNS" "$(tail -3 "$(hl_err a)")"

# The daemon goes away and comes back: the browser notices, recreates its client, browses again.
netns_avahi_stop
wait_for 10 grep -q 'mDNS unavailable' "$(hl_err a)" && pass "$N: daemon gone: reported" || fail "$N: daemon gone" "$(tail -3 "$(hl_err a)")"
netns_avahi_start
# A browsing line after the last "unavailable" one: the client was recreated.
browsing_again() { awk '/mDNS unavailable/ { seen = 0 } /mDNS browsing _shelly._tcp/ { seen = 1 } END { exit !seen }' "$(hl_err a)"; }
wait_for 60 browsing_again && pass "$N: daemon back: browsing again" || fail "$N: daemon back" "$(tail -5 "$(hl_err a)")"
wait_for 15 sh -c 'jq -e ".mdns_ready == true" "$1" >/dev/null' sh "$SIM_MANIFEST" || true

# A device moves; the sim re-announces it; the browser sees an unknown address, confirms it and
# the registry follows the MAC there.
old=$(dev_addr 1)
new=$(ctl POST /devices/1/move '{}' | jq -r .addr)
moved() { [ "$(sq "$DB" "SELECT host FROM devices WHERE mac='$(mac_of 1)'")" = "$new" ]; }
if [ -n "$new" ] && [ "$new" != "$old" ] && wait_for 30 moved; then
	pass "$N: a moved device is followed through mDNS ($old -> $new)"
else
	fail "$N: moved" "old=$old new=$new db=$(sq "$DB" "SELECT host FROM devices WHERE mac='$(mac_of 1)'") $(grep -E 'mDNS|discovery' "$(hl_err a)" | tail -8) BROWSE: $(timeout 5 avahi-browse -rtp _shelly._tcp 2>&1 | grep '^=' | cut -d';' -f4,8,9 | tr '\n' ' ') SIMERR: $(tail -5 "$SIM_ERR")"
fi
[ "$(sq "$DB" 'SELECT count(*) FROM devices')" = 4 ] && pass "$N: no duplicate" || fail "$N: duplicate" "$(sq "$DB" 'SELECT mac,host FROM devices')"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$HL_RC"

# Two devices swap addresses while nothing runs (a static address set on each, one through a
# free one): each is announced at an address the registry gives the other. The announcement
# names another device than the one registered there, so it is confirmed and both are followed.
A2=$(dev_addr 2) A3=$(dev_addr 3) SPARE=$SIM_NET.60
PORT=$(jq -r '.devices[2].port' "$SIM_MANIFEST")
static_to() { # static_to I NEW: device I (at its manifest address) takes NEW
	_at=$(dev_addr "$1")
	curl -s -m 5 -X POST "http://$_at:$PORT/rpc" -d "{\"id\":1,\"method\":\"WiFi.SetConfig\",\"params\":{\"config\":{\"sta\":{\"ipv4mode\":\"static\",\"ip\":\"$2\",\"netmask\":\"255.255.255.0\"}}}}" >/dev/null
	wait_for 10 sh -c "[ \"\$(jq -r '.devices[$1].addr' '$SIM_MANIFEST')\" = '$2' ]"
}
if static_to 2 "$SPARE" && static_to 3 "$A2" && static_to 2 "$A3"; then
	hl_start b "$DB" "$CONF" || { fail "$N: headless start (swap)" "$(cat "$(hl_err b)")"; exit 1; }
	swapped() { [ "$(sq "$DB" "SELECT host FROM devices WHERE mac='$(mac_of 2)'")" = "$A3" ] &&
		[ "$(sq "$DB" "SELECT host FROM devices WHERE mac='$(mac_of 3)'")" = "$A2" ]; }
	wait_for 30 swapped && pass "$N: two devices that swapped addresses are both followed through mDNS" ||
		fail "$N: swap" "$(sq "$DB" 'SELECT mac, host FROM devices') $(grep -E 'mDNS|discover' "$(hl_err b)" | tail -6)"
	hl_stop b
else
	fail "$N: swap in the sim" "$(dev_addr 2) $(dev_addr 3) $(tail -3 "$SIM_ERR")"
fi

# libavahi-client is loaded only by a process that browses (src/discovery/avahi_lib.c): a run
# that never browses does not map it, and one that cannot load it says why and does not fail
# on anything but mDNS. The library is hidden by a bind mount in a mount namespace of its own,
# inside this test's private namespaces (the daemon above is still running).
LD_DEBUG=files "$SHELLY_TUI" --version 2>"$T_TMP/ld.log" >/dev/null
[ "$(grep -c 'libavahi' "$T_TMP/ld.log")" = 0 ] && grep -q 'libcurl' "$T_TMP/ld.log" &&
	pass "$N: a run that does not browse does not load libavahi-client" ||
	fail "$N: libavahi loaded at start" "$(grep libavahi "$T_TMP/ld.log" | head -3)"
lib=$(ldconfig -p | sed -n 's/.*libavahi-client\.so\.3 .*=> //p' | head -n 1)
if [ -n "$lib" ] && [ -f "$lib" ]; then
	unshare --mount --propagation private sh -c 'mount --bind /dev/null "$1" && shift && exec "$@"' \
		sh "$lib" "$SHELLY_TUI" --db "$T_TMP/db2" --discover --mdns-only --timeout 3 \
		>"$T_TMP/nolib.out" 2>"$T_TMP/nolib.err"
	rc=$?
	[ $rc -ne 0 ] && grep -q 'mDNS unavailable: cannot load libavahi-client.so.3 (package libavahi-client3)' "$T_TMP/nolib.err" &&
		[ "$(sq "$T_TMP/db2" 'SELECT count(*) FROM devices' 2>/dev/null || echo 0)" = 0 ] &&
		pass "$N: without libavahi-client mDNS says why" ||
		fail "$N: no libavahi-client" "rc=$rc $(head -c 400 "$T_TMP/nolib.err")"
else
	fail "$N: no libavahi-client" "ldconfig does not list libavahi-client.so.3"
fi
