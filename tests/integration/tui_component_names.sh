# The names an operator gave a device's outputs on the device (switch:0 "Kitchen light") show
# in the console's detail view, read from the stored configuration snapshot (no request of
# their own), and name the component in what the view says it runs. A name changed on the
# device shows once the poller has kept the new settings. A hostile name (OSC title, BEL,
# CSI colour, U+202E) shows only its printable rest: none of those bytes reach the pane.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_component_names
tui_sim_start $N --models gen2/pro-2pm
tui_config
tui_add 0 pro
ctl POST /devices/0/config '{"patch":{"switch:0":{"name":"Kitchen light"},
	"switch:1":{"name":"\u001b]0;pwned\u0007\u001b[31mEVIL\u202eNAME"}}}' >/dev/null
[ "$(curl -s -m 5 "http://$(dv 0 HP)/rpc/Switch.GetConfig?id=0" | jq -r .name)" = "Kitchen light" ] ||
	fail "$N: the sim serves the switch's name" "$(curl -s -m 5 "http://$(dv 0 HP)/rpc/Switch.GetConfig?id=0")"

tui_console_detail 130 36 'fleet 1 +online 1' 'switch:1'
if tui_wait 60 'switch:0 +Kitchen light +(on|off)'; then
	pass "$N: the detail view shows switch:0's name from the device's settings"
else
	fail "$N: switch name" "$(tui_why 'switch:0 +Kitchen light')"
fi
if tui_wait 30 'switch:1 +EVILNAME '; then
	pass "$N: a hostile name shows its printable rest"
else
	fail "$N: hostile name" "$(tui_why 'switch:1 .*EVIL')"
fi
if tui_hostile_bytes EVIL >"$T_TMP/dump"; then
	fail "$N: hostile bytes" "$(cat "$T_TMP/dump")"
else
	pass "$N: no OSC title, BEL or U+202E from a component name reaches the terminal"
fi

# The selected switch (switch:0) toggled: the message names it.
tui_keys t
if tui_wait 30 'switch_toggle switch:0 "Kitchen light"'; then
	pass "$N: the toggle's message names the switch"
else
	fail "$N: toggle message" "$(tui_why 'switch_toggle switch:0')"
fi

# Renamed on the device: the console keeps the new settings and the view shows the new name.
ctl POST /devices/0/config '{"patch":{"switch:0":{"name":"Pantry"}}}' >/dev/null
if tui_wait 60 'switch:0 +Pantry +(on|off)'; then
	pass "$N: a name changed on the device shows once its settings are kept again"
else
	fail "$N: rename" "$(tui_why 'switch:0 +Pantry')"
fi
tui_keys q q
tui_wait 15 'RESTORED rc=0' || fail "$N: quit" "$(tui_why RESTORED)"
sim_stop
exit 0
