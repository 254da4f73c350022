# A scan from the console updates a registered device that moved, through the engine's merge
# (the path --discover takes): the sim moves a device to another address; the scan lists it
# as "moved" with its old address, a commits it, and the registry holds the new address (an
# ip_changed event). A device with credentials whose identity the new address cannot confirm
# is held as a mac_conflict, as --discover holds it.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_discover_moved
tui_sim_start $N --models gen2/plus-1pm,gen2/plus-1pm
tui_discover_config 'set poll-interval-gen2 1h'
tui_add_plain 0 1
M0=$(dv 0 MAC | tr A-F a-f)
old=$(dv 0 ADDR)
ctl POST /devices/0/move >/dev/null
if wait_for 30 sh -c '[ "$(jq -r ".devices[0].addr" "$1")" != "$2" ]' sh "$SIM_MANIFEST" "$old"; then
	new=$(mf '.devices[0].addr')
else
	fail "$N: sim move" "$(mf '.devices[0]')"
	exit 1
fi
host_of() { "$SHELLY_TUI" --list --json 2>/dev/null | jq -r --arg m "$1" '.devices[] | select(.mac == $m) | .host'; }

# console_scan WHAT: starts the console and scans the sim's /24 from it (F2).
console_scan() {
	tui_start 150 30 "SHELLY_TUI_ALLOW_NETS=$SHELLY_TUI_ALLOW_NETS XDG_DATA_HOME=$XDG_DATA_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME LC_ALL=C.UTF-8 $SHELLY_TUI"
	tui_step 30 'fleet 2 ' "$1: start"
	tui_scan "$SIM_NET.0/24" 2 "$1"
}

console_scan http
if tui_wait_all 20 "^│ MOVED +$(dv 0 ID) .* $new:$SIM_PORT +from $old:$SIM_PORT" "^│ known +$(dv 1 ID) "; then
	pass "$N: the moved device is listed as MOVED with its old address, the other as known"
else
	fail "$N: moved row" "$(tui_why "MOVED $(dv 0 ID) $new from $old")"
fi
tui_keys Home a
if tui_wait 30 "UPDATED +$(dv 0 ID)" && wait_for 30 sh -c '[ "$1" = "$2" ]' sh "$(host_of "$M0")" "$new"; then
	pass "$N: a commits the move: the registry holds the new address"
else
	fail "$N: commit move" "host $(host_of "$M0") want $new $(tui_why "UPDATED")"
fi
tui_keys q
tui_step 30 'Devices' "back"
tui_keys F10
tui_step 20 'RESTORED rc=0' "quit"
tui_stop

# The same MAC over HTTPS with a password and a pinned key: the sim moves it and gives it a
# new key, which cannot prove it is the registered device. The console holds it, as
# --discover does: HELD, the registry keeps the address, the device is held.
sim_stop
if ! sim_start $N --models gen2/plus-1pm,gen2/plus-1pm --tls all --auth all --tls-dir "$T_TMP/tls"; then
	fail "$N: https sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
for k in 0 1; do
	secret_file "$T_TMP/pw" "$(dv $k PW)"
	"$SHELLY_TUI" --add "$(dv $k HP)" --https --timeout 20 --password-file "$T_TMP/pw" -q </dev/null >/dev/null 2>"$T_TMP/add.err" ||
		fail "$N: add https $k" "$(cat "$T_TMP/add.err")"
done
reg=$(host_of "$M0")
old=$(dv 0 ADDR)
ctl POST /devices/0/move >/dev/null
wait_for 30 sh -c '[ "$(jq -r ".devices[0].addr" "$1")" != "$2" ]' sh "$SIM_MANIFEST" "$old" || fail "$N: https move" "$(mf '.devices[0]')"
console_scan https
tui_keys Home a
if tui_wait 30 "HELD +$(dv 0 ID) .*mac_conflict" && [ "$(host_of "$M0")" = "$reg" ] && [ "$reg" = "$old" ]; then
	pass "$N: a device with a password at an address that cannot prove it is held; the registry keeps $old"
else
	fail "$N: held" "host $(host_of "$M0") registered $reg $(tui_why "HELD $(dv 0 ID)")"
fi
tui_keys F10
tui_step 20 'RESTORED rc=0' "quit again"
