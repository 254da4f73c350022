# r in a bulk action's results retries the failed devices, but never a toggle that may have
# reached its device: alpha carries out the toggle and its reply is cut (truncated), bravo
# answers HTTP 500 (nothing done), charlie resets the connection of its identification
# (/shelly), so its toggle is never sent. All are reported failed; with the faults gone, r
# toggles bravo and charlie: alpha keeps the state its first toggle gave it (a second toggle
# would undo the operator's), and the status line says why it was not retried.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_bulk_retry
tui_sim_start $N --models gen2/plus-1pm --count 3 --auth none
tui_config
tui_add 0 alpha
tui_add 1 bravo
tui_add 2 charlie
tui_console 120 30 'fleet 3 +online 3' || exit 1

a0=$(dev_state 0 '.switches[0].on') b0=$(dev_state 1 '.switches[0].on')
c0=$(dev_state 2 '.switches[0].on')
set_fault 0 truncated /rpc/Switch.Toggle
set_fault 1 http500
set_fault 2 reset /shelly
tui_keys a b
tui_step 20 't  toggle +Toggle output 0 of 3' 'bulk menu'
tui_keys t
tui_step 20 'Toggle output 0 of 3 devices\? \[y/N\]' confirmation
tui_keys y
tui_step 90 'done: 0 ok, 3 failed' 'first run'
a1=$(dev_state 0 '.switches[0].on')
if [ "$a1" != "$a0" ] && [ "$(dev_state 1 '.switches[0].on')" = "$b0" ] &&
	[ "$(dev_state 2 '.switches[0].on')" = "$c0" ]; then
	pass "$N: the cut reply's toggle was carried out, the refused and unsent ones not"
else
	fail "$N: first run" "alpha $a0 -> $a1, bravo $b0 -> $(dev_state 1 '.switches[0].on'), charlie $c0 -> $(dev_state 2 '.switches[0].on')"
fi
set_fault 0 none
set_fault 1 none
set_fault 2 none
ctl POST /reset-counters >/dev/null
tui_keys r
tui_step 90 'done: 2 ok, 0 failed' 'retry result'
# the retry's end (which stays on the status line) still says what it left out, and why
tui_expect 30 'Retry: .*: 2 ok, 0 failed, 1 not retried \(a lost reply: look, then use on or off' \
	retry 'r retries the failed devices; its end says one toggle was not retried'
bflip() { [ "$(dev_state 1 '.switches[0].on')" != "$b0" ]; }
if wait_for 30 bflip; then pass "$N: the retry toggled bravo"; else fail "$N: bravo retried" "bravo still $b0"; fi
# charlie's first toggle never went out (its identification failed): r must send it
cflip() { [ "$(dev_state 2 '.switches[0].on')" != "$c0" ]; }
if wait_for 30 cflip; then
	pass "$N: the retry toggled charlie, whose first toggle was never sent"
else
	fail "$N: charlie retried" "charlie still $c0 (a toggle never sent was left out of r)"
fi
sent=$(dev_state 0 '.counters.by_path["/rpc/Switch.Toggle"] // 0')
if [ "$(dev_state 0 '.switches[0].on')" = "$a1" ] && [ "$sent" = 0 ]; then
	pass "$N: alpha's toggle was not sent again (its first one stands)"
else
	fail "$N: alpha toggled twice" "alpha $a1 -> $(dev_state 0 '.switches[0].on'), $sent Switch.Toggle"
fi
tui_keys q q
tui_expect 20 'RESTORED rc=0' quit 'q exits 0'
exit $T_FAILED
