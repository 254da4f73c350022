# Every list key scrolls the text of the help view and of a device's raw reply (J): g then
# PageDown shows later lines the first time, PageUp back; in the raw reply g then j x6
# scrolls down, G then k x6 up (they used to move an invisible cursor first).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_scroll
tui_sim_start $N --fixtures tests/fixtures --models gen2/plus-1pm --auth none
tui_config
tui_add 0 alpha
# The pane without its header (the poll age there moves with the clock).
body() { tui_screen | sed 1d; }
same() { [ "$(body)" = "$(cat "$T_TMP/$1")" ]; }
differs() { ! same "$1"; }
# scrolls NAME KEYS...: from the pane saved as NAME, KEYS change what the pane shows.
scrolls() {
	_what=$1
	shift
	tui_keys "$@"
	if wait_for 5 differs "$_what"; then pass "$N: $* scrolls the $_what"
	else fail "$N: $* in the $_what" "unchanged: $(body)"; fi
}

tui_console_detail 100 16 'fleet 1 +online 1' 'switch:0' || exit 1
tui_keys Escape
tui_step 10 'NAME' table
tui_keys F1
tui_step 10 'Help' help
tui_keys g
# (the help opens at its top: the pane is the top page whether g was read yet or not)
body >"$T_TMP/help"
scrolls help PageDown
tui_keys PageUp
wait_for 5 same help && pass "$N: PageUp scrolls the help back" || fail "$N: PageUp" "$(body)"
tui_keys Escape Enter
tui_step 10 'switch:0' detail
tui_keys J
tui_step 10 'Raw reply' raw
tui_keys g
body >"$T_TMP/raw-top" # (opens at its top too)
scrolls raw-top j j j j j j
tui_keys G
wait_for 5 differs raw-top || fail "$N: G" "$(body)"
body >"$T_TMP/raw-end"
scrolls raw-end k k k k k k
tui_keys q q q
tui_expect 20 'RESTORED rc=0' quit 'q exits 0'
exit $T_FAILED
