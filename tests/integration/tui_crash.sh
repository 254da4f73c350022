# The console dies of a fatal signal (SIGSEGV, SIGABRT as xmalloc's abort raises it, SIGBUS,
# SIGFPE): the fatal cleanup hook leaves the terminal usable (out of the alternate screen, the
# cursor shown, echo and canonical input back) and the process still dies of the signal.
. tests/lib.sh
. tests/integration/lib_tui.sh

N=tui_crash
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
DB=$T_TMP/fleet.db
pane() { tmux_ display -p "$1"; }

for sig in SEGV:11 ABRT:6 BUS:7 FPE:8; do
	num=${sig#*:} sig=${sig%:*}
	tui_start 100 30 "ulimit -c 0; env $(tui_env) $SHELLY_TUI --db $DB"
	if ! tui_wait 30 'Welcome to shelly-tui'; then
		fail "$N: $sig: start" "$(tui_why Welcome)"
		tui_stop
		continue
	fi
	# While it runs the console is in the alternate screen with the cursor hidden.
	running="$(pane '#{alternate_on} #{cursor_flag}')"
	pane_pid=$(pane '#{pane_pid}')
	pid=$(pgrep -P "$pane_pid" shelly-tui)
	kill -"$sig" "$pid"
	if tui_wait 20 "RESTORED rc=$((128 + num))"; then
		after="$(pane '#{alternate_on} #{cursor_flag}')"
		if [ "$running" = "1 0" ] && [ "$after" = "0 1" ]; then
			pass "$N: SIG$sig: the terminal is restored (echo, icanon, main screen, cursor) and the console dies of SIG$sig"
		else
			fail "$N: SIG$sig: screen and cursor" "running '$running' (want '1 0'), after '$after' (want '0 1')"
		fi
	else
		fail "$N: SIG$sig" "$(tui_why "RESTORED rc=$((128 + num))")"
	fi
	tui_stop
done
