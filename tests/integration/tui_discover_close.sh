# Closing the discovery view does not throw the scan away (a wide range takes minutes): with one
# device of the sim answering the probe slowly, the view is closed while the scan still runs;
# the status line says the scan goes on, and so does the scan prompt; quitting then asks first
# (n keeps the console and the scan); the status line reports the scan's end with what it
# found, and L opens the view again on the finished scan, whose devices can be added as usual.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_discover_close
tui_sim_start $N --models gen2/plus-1pm,gen2/plus-1pm --fault 1:slow --drip-ms 40000
printf '%s\n' 'set poll-interval-gen2 1h' "set discover-port $SIM_PORT" 'set discover-timeout 90s' \
	'set discover-mdns off' >"$XDG_CONFIG_HOME/shelly-tui/config"
registered() { "$SHELLY_TUI" --list --json 2>/dev/null | jq -r '.devices[].id'; }

tui_console 130 30 'fleet 0 ' || exit 1
tui_keys F2
tui_step 30 'Scan \(' 'scan prompt'
tui_type "$SIM_NET.0/24"
tui_keys Enter
# The quick device is found while the slow one still trickles its reply.
tui_step 60 "scanning: .*, 1 found" 'scan runs'
tui_keys q
tui_expect 10 "Discovery: $SIM_NET.0/24: the scan goes on \\(L shows it\\)" 'closed' \
	'closing the view while the scan runs says the scan goes on'
tui_keys F2
tui_expect 20 'Scan \(a scan still runs, L shows it; ' 'scan prompt' \
	'the scan prompt says a scan still runs and where to see it'
tui_keys Escape
tui_keys F10
tui_expect 20 'a scan is still running: quit and cancel it\?' 'quit question' \
	'quitting while the closed scan runs asks first'
tui_keys n
tui_expect 120 "Discovery: $SIM_NET.0/24: 2 found \\(L shows them\\)" 'end' \
	'the closed scan runs to its end and the status line reports what it found'
tui_keys L
tui_expect 20 'done: 254 probed / 254 addresses, 2 found' 'reopen' \
	'L opens the finished scan again, both devices listed' "NEW +$(dv 1 ID) "
tui_keys a
if tui_wait 60 'ADDED ' && wait_for 20 sh -c "[ \"\$(\"$SHELLY_TUI\" --list --json 2>/dev/null | jq '.devices | length')\" = 1 ]"; then
	pass "$N: a device of the reopened scan is added"
else
	fail "$N: add" "registered: $(registered | tr '\n' ' ') $(tui_why ADDED)"
fi
tui_keys q q
tui_step 20 'RESTORED rc=0' 'quit'
sim_stop
exit $T_FAILED
