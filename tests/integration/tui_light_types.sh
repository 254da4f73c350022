# The detail view of a device with two lights of one number (Pro RGBWW PM: cct:0 and rgb:0):
# both rows are shown by their component type, and each acts on its own light: o on the
# selected cct:0 turns only cct:0 on, the brightness prompt of rgb:0 sets only rgb:0, and a
# failed action on cct:0 retried from its results (L, r) goes to cct:0 again.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_light_types
tui_sim_start $N --fixtures tests/fixtures --models gen2/pro-rgbww-pm --count 1 --auth none
tui_config
tui_add 0 rgbww
lt() { dev_state 0 ".lights[] | select(.type == \"$1\" and .id == 0) | $2"; }
tui_console 100 30 'fleet 1 +online 1'
tui_keys Enter
if tui_wait 20 'cct:0 ' && tui_wait 20 'rgb:0 '; then pass "$N: the detail shows cct:0 and rgb:0"
else fail "$N: detail rows" "$(tui_why 'rgb:0')"; fi
# The first light (cct:0, in the reply's order) is selected: o turns it, and only it, on.
tui_keys o
cct_on() { [ "$(lt cct .on)" = true ]; }
if wait_for 60 cct_on && [ "$(lt rgb .on)" = false ]; then pass "$N: o on cct:0 turns cct:0 on, rgb:0 stays off"
else fail "$N: o on cct:0" "$(dev_state 0 '.lights | tojson'); $(tui_screen)"; fi
tui_keys Down v
tui_wait 10 'Brightness of rgb:0' || fail "$N: brightness prompt of rgb:0" "$(tui_why 'Brightness of rgb:0')"
tui_type 40
tui_keys Enter
rgb40() { [ "$(lt rgb .brightness)" = 40 ]; }
if wait_for 60 rgb40 && [ "$(lt cct .brightness)" = 3 ]; then pass "$N: v 40 on rgb:0 sets rgb:0, cct:0 keeps its level"
else fail "$N: rgb:0 brightness" "$(dev_state 0 '.lights | tojson'); $(tui_screen)"; fi
# cct:0 (on) off while the device answers HTTP 500: failed. Its results (L, after the detail
# closes) retried with r, now that it answers: the retry addresses cct:0 again, not the light
# the device's profile names (rgb:0, which is off and stays off).
tui_keys o
rgb_on() { [ "$(lt rgb .on)" = true ]; }
wait_for 60 rgb_on || fail "$N: o on rgb:0" "$(dev_state 0 '.lights | tojson')"
tui_keys f
rgb_off() { [ "$(lt rgb .on)" = false ]; }
wait_for 60 rgb_off || fail "$N: f on rgb:0" "$(dev_state 0 '.lights | tojson')"
tui_keys Up
set_fault 0 http500
tui_keys f
tui_wait 60 'failed' || fail "$N: off refused" "$(tui_why failed)"
set_fault 0 none
tui_keys q L
tui_wait 20 'done: 0 ok, 1 failed' || fail "$N: L shows the failed off" "$(tui_why 'done: 0 ok, 1 failed')"
tui_keys r
cct_off() { [ "$(lt cct .on)" = false ]; }
if tui_wait 60 'Retry: .*' && tui_wait 60 'done: 1 ok, 0 failed' && wait_for 30 cct_off &&
	[ "$(lt rgb .on)" = false ]; then
	pass "$N: r retries the off on cct:0 itself"
else
	fail "$N: retry on cct:0" "$(dev_state 0 '.lights | tojson'); $(tui_screen)"
fi
tui_keys q q
if tui_wait 20 'RESTORED rc=0'; then pass "$N: q exits 0"; else fail "$N: quit" "$(tui_why RESTORED)"; fi
