#!/bin/sh
# The password prompt on the terminal (--add with neither --password-file nor
# SHELLY_TUI_PASSWORD) turns echo off; a signal while it waits (Ctrl-C is SIGINT) still ends
# the program by that signal, and the terminal has its echo back.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=cli_prompt_tty
tui_sim_start $N --models gen2/plus-1pm --auth all
# the program's own pid, so that only it is signalled
cat >"$T_TMP/prompt.sh" <<SH
echo \$\$ >"$T_TMP/prompt.pid"
exec env $(tui_env) $SHELLY_TUI --add $(dv 0 HP)
SH
for sig in INT TERM; do
	rm -f "$T_TMP/prompt.pid"
	tui_start 100 20 "sh $T_TMP/prompt.sh"
	tui_step 60 'Password:' "$sig: the prompt"
	pid=$(cat "$T_TMP/prompt.pid" 2>/dev/null)
	if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "--add"; then
		kill -"$sig" "$pid"
	fi
	[ "$sig" = INT ] && rc=130 || rc=143
	tui_expect 30 "RESTORED rc=$rc" "$sig at the prompt" \
		"SIG$sig at the password prompt ends the program by it, the terminal echoes again"
	tui_stop
done
exit 0
