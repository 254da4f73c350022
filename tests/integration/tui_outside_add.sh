# The empty console suggests `shelly-tui --add HOST` (in another terminal): a device added that
# way while the console runs the fleet is polled by the console, not only listed as "new" until
# the console restarts; one removed that way leaves the table. The welcome names the
# configuration file its `device NAME HOST` lines go in.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_outside_add
tui_sim_start $N --models gen2/plus-1 --count 2
tui_config
tui_console 120 30 'The database has no device yet' || exit 0
tui_wait 60 'poller: this console' || fail "$N: the console runs the fleet" "$(tui_why 'poller: this console')"
tui_wait 5 " {30,}$XDG_CONFIG_HOME/shelly-tui/config " &&
	pass "$N: the welcome names the configuration file" ||
	fail "$N: the welcome names the configuration file" "$(tui_why "$XDG_CONFIG_HOME/shelly-tui/config")"

tui_add 0 outside-a
if tui_wait 60 'outside-a .* online '; then
	pass "$N: a device --add'ed by another process is polled by the console"
else
	fail "$N: a device --add'ed by another process is polled" "$(tui_why 'outside-a .* online ')"
fi

# A second one, once the table has rows: the same, and the first stays polled.
tui_add 1 outside-b
tui_wait 60 'outside-b .* online ' && tui_wait 5 'outside-a .* online ' &&
	pass "$N: a second device added from outside is polled too" ||
	fail "$N: a second device added from outside" "$(tui_why 'outside-b .* online ')"

"$SHELLY_TUI" --remove "$(dv 0 MAC)" >/dev/null 2>"$T_TMP/rm.err" || fail "$N: remove" "$(cat "$T_TMP/rm.err")"
tui_wait_not 60 'outside-a' && pass "$N: a device removed from outside leaves the table" ||
	fail "$N: a device removed from outside" "$(tui_why 'outside-a')"
exit 0
