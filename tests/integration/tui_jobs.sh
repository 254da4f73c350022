# An action that was sent belongs to the console, not to its view: with four slow relays
# (bodies trickle over seconds), a bulk toggle whose results view is closed while it runs
# still switches every relay, the status line reports its end, and L shows its results
# again. Quitting (q in the table, F10) while an action runs asks first; n keeps it running,
# y quits and the terminal is restored.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_jobs
tui_sim_start $N --models gen2/plus-1pm,gen2/plus-1pm,gen2/plus-1pm,gen2/plus-1pm --drip-ms 8000
cat >"$XDG_CONFIG_HOME/shelly-tui/config" <<CFG
set poll-interval-gen2 60s
set connect-timeout 5s
set request-timeout 120s
CFG
for k in 0 1 2 3; do tui_add $k "relay$k"; done

tui_start 160 40 "SHELLY_TUI_ALLOW_NETS=$SHELLY_TUI_ALLOW_NETS XDG_DATA_HOME=$XDG_DATA_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME LC_ALL=C.UTF-8 $SHELLY_TUI"
tui_wait 60 'fleet 4 +online 4' || { fail "$N: fleet online" "$(tui_why 'online 4')"; exit 1; }
for k in 0 1 2 3; do set_fault $k slow >/dev/null; done

# states: the four relays' outputs, one word each
states() { for k in 0 1 2 3; do printf '%s ' "$(dev_state $k '.switches[0].on')"; done; }
all_flipped() { _now=$(states); for k in 1 2 3 4; do [ "$(echo "$_now" | cut -d' ' -f$k)" != "$(echo "$1" | cut -d' ' -f$k)" ] || return 1; done; }

# toggle_closed: a bulk toggle of the marked relays, its results view closed (q) while it runs.
toggle_closed() {
	tui_keys b
	tui_step 20 't  toggle' "bulk menu"
	tui_keys t
	tui_step 20 'Toggle output 0 of 4 devices\? \[y/N\]' "confirmation"
	tui_keys y
	tui_step 20 'running .* 0/4' "running"
	tui_keys q
	tui_step 20 'Devices' "back to the table"
}

before=$(states)
tui_keys a
toggle_closed
if wait_for 60 all_flipped "$before"; then
	pass "$N: closing the results view while the toggle runs leaves it running: all 4 relays switched"
else
	fail "$N: the closed view's action" "before: $before after: $(states)"
fi
tui_expect 60 'Toggle output 0 of 4 devices: 4 ok, 0 failed \(L shows the results\)' \
	"end reported" "the status line reports the end of the action whose view was closed"
tui_keys L
tui_expect 20 'done: 4 ok, 0 failed' "L" "L shows the closed action's results again" 'OK +relay0 '
tui_keys q
tui_step 20 'Devices' "back"

# A second toggle, its view closed: q in the table asks, n keeps it, F10 asks, y quits. The
# relays now never answer (within the 120 s request timeout), so the actions are still running
# however long a loaded machine takes over these keys.
for k in 0 1 2 3; do set_fault $k noanswer >/dev/null; done
toggle_closed
tui_keys q
tui_expect 20 '4 actions still running: quit and cancel them\? \[y/N\]' \
	"q asks" "q with actions running asks before quitting"
tui_keys n
tui_expect 20 'not quit: the actions run on' "n" "n keeps the console and the actions" 'Devices'
tui_keys F10
tui_step 20 'still running: quit and cancel' "F10 asks"
tui_keys y
tui_expect 30 'RESTORED rc=0' "y quits" "y quits and restores the terminal"
