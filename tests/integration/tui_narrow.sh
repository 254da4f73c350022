# The console at 80x24 keeps what matters in view: every function key on the bar (labels cut
# to fit), a found device's whole address in the discovery view, and a failed action's whole
# reason (the selected result, wrapped under the list).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_narrow
tui_sim_start $N --models gen2/plus-1pm,gen2/plus-1pm
tui_discover_config 'set poll-interval-gen2 1h' 'set connect-timeout 5s' 'set request-timeout 5s'
tui_add 0 relay

tui_start 80 24 "SHELLY_TUI_ALLOW_NETS=$SHELLY_TUI_ALLOW_NETS XDG_DATA_HOME=$XDG_DATA_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME LC_ALL=C.UTF-8 $SHELLY_TUI"
tui_wait 60 'fleet 1 ' && tui_wait 20 ' relay ' || fail "$N: start" "$(tui_why 'fleet 1, relay')"
if tui_wait_all 20 ' relay ' 'F9 [A-Za-z]+ +F10 [A-Za-z]+ +F11 [A-Za-z]+'; then
	pass "$N: at 80 columns the bar shows F9, F10 and F11"
else
	fail "$N: F-key bar" "$(tail -n 1 "$T_TMP/screen")"
fi

tui_scan "$SIM_NET.0/24" 2
if tui_wait_all 20 " $(dv 1 ADDR):$SIM_PORT" " $(dv 0 ADDR):$SIM_PORT"; then
	pass "$N: the discovery view shows each found device's whole address"
else
	fail "$N: address" "$(tui_why "$(dv 1 ADDR):$SIM_PORT")"
fi
tui_keys q

# The relay stops answering after its poll: the bulk toggle fails with a reason longer than
# the line leaves; the selected result shows it whole.
set_fault 0 closed >/dev/null
tui_keys a b
tui_step 20 't  toggle' "bulk menu"
tui_keys t
tui_step 20 '\[y/N\]' "confirmation"
tui_keys y
if tui_wait_all 60 'done: 0 ok, 1 failed' '│ relay: failed: refused: ' "connect to server"; then
	pass "$N: the failed result's whole reason shows under the list, wrapped"
else
	fail "$N: reason" "$(tui_why 'relay: failed: refused: ... connect to server')"
fi
tui_keys F10
tui_step 20 'RESTORED rc=0' "quit"
