# The console beside a --headless poller, on a vt100 without colour: the header names the
# poller that holds the lease, the table shows what that poller writes to the database as it
# writes it (an output switched outside the console appears), frames are drawn with the
# terminal's line characters, NO_COLOR leaves no colour in the pane, and SIGTERM and SIGHUP
# end the console with the terminal restored. Then the console alone: it takes the lease,
# polls, and gives the lease back when it ends.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_tui.sh

N=tui_modes
sim_up $N --models gen2/plus-1pm,gen1/shelly-1
DB=$T_TMP/fleet.db
CONF=$T_TMP/config
hl_config "$CONF" 'set connect-timeout 10s' 'set request-timeout 15s'
hl_add_all "$DB" || fail "$N: add" "$(cat "$T_TMP"/*.err 2>/dev/null)"
hl_start hl "$DB" "$CONF" || fail "$N: headless start" "$(cat "$(hl_err hl)")"
holding() { [ -n "$(sq "$DB" "select holder from lease where holder like 'headless:%'")" ]; }
wait_for 30 holding || fail "$N: the headless poller holds the lease"

tui_start 80 24 "env $(tui_env) TERM=vt100 NO_COLOR=1 LC_ALL=C $SHELLY_TUI --db $DB --config $CONF"
if tui_wait 30 'poller: headless on ' && tui_wait 30 'online 2'; then
	pass "$N: beside a --headless poller the header names it and the table shows its results"
else
	fail "$N: headless results" "$(tui_why 'poller: headless')"
fi
if tui_wait_all 20 'poller: headless on ' '^(┌|\+|l)'; then
	pass "$N: TERM=vt100: frames are drawn with the terminal's line characters"
else
	fail "$N: vt100 frames" "$(cat "$T_TMP/screen")"
fi
# Colour in the pane: an SGR with a foreground or background colour (capture-pane -e).
colour() {
	tmux_ capture-pane -p -e >"$T_TMP/esc" &&
		grep -Eq "$(printf '\033')\\[([0-9;]*;)?(3[0-7]|4[0-7]|38;5|48;5|9[0-7]|10[0-7])[;m]" "$T_TMP/esc"
}
if ! colour; then pass "$N: a monochrome terminal (vt100) gets no colour"; else fail "$N: vt100 colour" "$(od -c "$T_TMP/esc" | head)"; fi

# An output switched outside the console: the poller writes it, the console shows it.
on0=$(sim_state 0 '.switches[0].on')
[ "$on0" = true ] && want=off || want=on
"$SHELLY_TUI" --db "$DB" --config "$CONF" --action switch_toggle "$(mac_of 0)" -q >/dev/null 2>&1 ||
	fail "$N: --action outside the console"
name0=$(sq "$DB" "select coalesce(name, id) from devices where mac = '$(mac_of 0)'")
if tui_wait 30 "$name0 .* $want "; then
	pass "$N: the console shows the poller's new result ($want) without polling itself"
else
	fail "$N: follows the database" "$(tui_why "$name0 .* $want")"
fi
polls=$(sq "$DB" "select count(*) from lease where holder like 'console:%'")
if [ "$polls" = 0 ]; then pass "$N: the console did not take the lease"; else fail "$N: lease" "console holds it"; fi

# SIGTERM: the terminal is restored, exit 0.
pane_pid=$(tmux_ display -p '#{pane_pid}')
tui_pid() { pgrep -P "$pane_pid" shelly-tui; }
pid=$(tui_pid)
kill -TERM "$pid"
if tui_wait 20 'RESTORED rc=0'; then pass "$N: SIGTERM ends the console with the terminal restored"; else fail "$N: SIGTERM" "$(tui_why RESTORED)"; fi
tui_stop

# SIGHUP (a dropped SSH session), on a colour terminal with NO_COLOR.
tui_start 100 30 "env $(tui_env) NO_COLOR=1 $SHELLY_TUI --db $DB --config $CONF"
tui_wait 30 'poller: headless' || fail "$N: second start" "$(tui_why 'poller: headless')"
if ! colour; then pass "$N: NO_COLOR: no colour on a colour terminal"; else fail "$N: NO_COLOR" "$(od -c "$T_TMP/esc" | head)"; fi
pane_pid=$(tmux_ display -p '#{pane_pid}')
kill -HUP "$(tui_pid)"
if tui_wait 20 'RESTORED rc=0'; then pass "$N: SIGHUP ends the console with the terminal restored"; else fail "$N: SIGHUP" "$(tui_why RESTORED)"; fi
tui_stop

# Alone: the console polls and gives the lease back when it ends.
hl_stop hl TERM
tui_start 100 30 "env $(tui_env) $SHELLY_TUI --db $DB --config $CONF"
if tui_wait 30 'poller: this console' && tui_wait 30 'online 2'; then
	pass "$N: alone, the console takes the lease and polls"
	if colour; then pass "$N: without NO_COLOR the same terminal gets colour"; else fail "$N: colour" "no colour SGR in the pane"; fi
else
	fail "$N: console polls" "$(tui_why 'poller: this console')"
fi
tui_keys F10
tui_wait 20 'RESTORED rc=0' || fail "$N: F10" "$(tui_why RESTORED)"
left=$(sq "$DB" "select count(*) from lease where holder like 'console:%'")
if [ "$left" = 0 ]; then pass "$N: F10 gives the lease back"; else fail "$N: lease kept" "$(sq "$DB" 'select * from lease')"; fi
