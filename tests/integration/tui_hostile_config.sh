# A device's own configuration strings reach the console's editor unsanitised by the
# configuration reader (it keeps the value to edit and send back): the drawing layer must still
# keep escape sequences, BEL and bidi overrides/isolates off the terminal. The sim's device
# name is set (behind the tool's back) to an OSC title sequence, a CSI colour, BEL, U+202E and
# U+2066; the editor shows the printable rest (each control or bidi character as ?) and none of
# those reach the pane.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_hostile_config
tui_sim_start $N --models gen2/plus-1
tui_add 0 plus
ctl POST /devices/0/config \
	'{"patch":{"sys":{"device":{"name":"\u001b]0;pwned\u0007\u001b[31mEVIL\u202eNAME\u2066END"}}}}' >/dev/null
[ "$(curl -s -m 5 "http://$(dv 0 HP)/rpc/Sys.GetConfig" | jq -r '.device.name | test("\u202e")')" = true ] ||
	fail "$N: the sim serves the hostile name" "$(curl -s -m 5 "http://$(dv 0 HP)/rpc/Sys.GetConfig" | head -c 300)"

tui_console_detail 130 36 'fleet 1 +online 1' 'switch:0'
tui_keys c
if tui_wait 30 'sys.name +string.*EVIL[?]NAME[?]END'; then
	pass "$N: the editor shows the device's name, printable parts kept, each control or bidi character as ?"
else
	fail "$N: editor read" "$(tui_why 'sys.name .*EVIL')"
fi
if tui_hostile_bytes EVIL >"$T_TMP/dump"; then
	fail "$N: hostile bytes" "the pane holds the title, BEL or a bidi character: $(cat "$T_TMP/dump")"
else
	pass "$N: no OSC title, BEL, U+202E or U+2066 reaches the terminal"
fi
tui_keys q q q
tui_wait 15 'RESTORED rc=0' || fail "$N: quit" "$(tui_why RESTORED)"
sim_stop
