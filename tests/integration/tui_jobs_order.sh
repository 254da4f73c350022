# Two actions whose views were closed: the first (its identification, /shelly, held by the sim
# until the test lets it go, once both actions run) ends while the second (a relay that never
# answers) still runs. The status line reports the first's end and says L shows its results; L
# then shows that action's results, not the one still running.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_jobs_order
tui_sim_start $N --models gen2/plus-1pm --count 2 --auth none
cat >"$XDG_CONFIG_HOME/shelly-tui/config" <<CFG
set poll-interval-gen2 60s
set connect-timeout 5s
set request-timeout 120s
CFG
tui_add 0 alpha
tui_add 1 bravo
tui_console 140 30 'fleet 2 +online 2' || exit 1
set_fault 0 hold /shelly
set_fault 1 noanswer

# toggle_closed ROW: the bulk toggle of the table's ROWth device (0: the first), its results
# view closed (q) while it runs.
toggle_closed() {
	tui_keys A g
	[ "$1" -gt 0 ] && tui_keys j
	tui_keys Space b
	tui_step 20 't  toggle' "bulk menu $1"
	tui_keys t
	tui_step 20 'Toggle output 0 of 1 device\? \[y/N\]' "confirmation $1"
	tui_keys y
	tui_step 20 'running .* 0/1' "running $1"
	tui_keys q
	tui_step 20 'Devices' "back to the table $1"
}
shelly0=$(dev_state 0 '.counters.by_path["/shelly"] // 0')
toggle_closed 0
toggle_closed 1
# The first action runs (the sim holds its identification) while the second one starts: a
# loaded machine cannot end it early. It ends now, with the second still running.
held() { [ "$(dev_state 0 '.counters.by_path["/shelly"] // 0')" -gt "$shelly0" ]; }
wait_for 20 held || fail "$N: first action held" "the sim saw no /shelly of alpha"
set_fault 0 none
tui_expect 60 'Toggle output 0 of 1 device: 1 ok, 0 failed \(L shows the results\)' \
	"first end" "the status line reports the end of the first action"
tui_keys L
tui_expect 20 'done: 1 ok, 0 failed' "L" "L shows the results the status line announced" 'OK +alpha '
tui_keys q
tui_step 20 'Devices' back
tui_keys F10
tui_step 20 '1 action still running: quit and cancel it\? \[y/N\]' 'quit asks'
tui_keys y
tui_expect 20 'RESTORED rc=0' quit 'y quits, the terminal restored'
exit $T_FAILED
