#!/bin/sh
# Messages and tables name what is really there: --health-check of an IPv6 address prints a
# bracketed URL; an unknown --theme names the themes directory under XDG_CONFIG_HOME when that
# is set; --tasks rows line up with the header's columns.
. tests/lib.sh
N=cli_messages

# Nothing listens on the port (it is free on ::1 now): the check fails, and says where it asked.
port=$(python3 -c 'import socket
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))
print(s.getsockname()[1])')
"$SHELLY_TUI" --health-check "[::1]:$port" --timeout 5 >/dev/null 2>"$T_TMP/err"; rc=$?
if [ $rc -eq 1 ] && grep -qF "http://[::1]:$port/healthz" "$T_TMP/err"; then
	pass "$N: --health-check [::1]:PORT prints http://[::1]:PORT/healthz"
else
	fail "$N: --health-check IPv6 URL" "rc=$rc $(cat "$T_TMP/err")"
fi

XDG_CONFIG_HOME=$T_TMP/xdg "$SHELLY_TUI" --db "$T_TMP/db" --theme nosuch </dev/null >/dev/null 2>"$T_TMP/err"; rc=$?
if [ $rc -eq 2 ] && grep -qF "$T_TMP/xdg/shelly-tui/themes" "$T_TMP/err" && ! grep -q '~/.config' "$T_TMP/err"; then
	pass "$N: an unknown theme names \$XDG_CONFIG_HOME/shelly-tui/themes"
else
	fail "$N: theme directory in the message" "rc=$rc $(cat "$T_TMP/err")"
fi

# --tasks: each field starts where its heading does, with networks and targets of other lengths
tui() { "$SHELLY_TUI" --db "$T_TMP/db" "$@" </dev/null; }
tui --poll-once >/dev/null 2>&1
tui --provision aabbccddee01 --network "x" >/dev/null 2>"$T_TMP/err" &&
	tui --provision shellyplus1pm-a1b2c3d4e5f6 --network "a longer network" >/dev/null 2>>"$T_TMP/err" ||
	fail "$N: queue tasks" "$(cat "$T_TMP/err")"
tui --tasks >"$T_TMP/tasks"
if awk 'NR == 1 { n = index($0, "NETWORK"); a = index($0, "AGENT"); t = index($0, "ATTEMPTS"); next }
	{ rows++ }
	substr($0, n - 1, 1) != " " || substr($0, n, 1) == " " || substr($0, a, 1) != "-" ||
	    substr($0, t) !~ /^0\/[0-9]+ / { bad = 1 }
	END { exit !(rows == 2 && n > 0 && !bad) }' "$T_TMP/tasks"; then
	pass "$N: --tasks rows line up with the header"
else
	fail "$N: --tasks columns" "$(cat "$T_TMP/tasks")"
fi

# Output that could not be written (a full disk under a cron job's redirection) is a failure:
# exit 1 and the reason, never 0 with an empty or cut inventory
if [ -w /dev/full ]; then
	for m in "--list" "--list --json" "--list-metrics" "--tasks" "--list-options"; do
		tui $m >/dev/full 2>"$T_TMP/err"; rc=$?
		[ $rc -eq 1 ] && grep -q 'No space left' "$T_TMP/err" &&
			pass "$N: $m to a full disk exits 1" || fail "$N: $m to a full disk" "rc=$rc $(cat "$T_TMP/err")"
	done
	# --export says it once, not once more at exit
	tui --export json >/dev/full 2>"$T_TMP/err"; rc=$?
	[ $rc -eq 1 ] && [ "$(grep -c 'No space left' "$T_TMP/err")" = 1 ] && [ "$(wc -l <"$T_TMP/err")" -eq 1 ] &&
		pass "$N: --export to a full disk exits 1 with one message" ||
		fail "$N: --export to a full disk" "rc=$rc $(cat "$T_TMP/err")"
else
	fail "$N: output to a full disk" "no writable /dev/full"
fi

# A reader that stops early (grep -q, head) has what it wanted: under 'set -o pipefail' the
# pipeline stays a success, as it was before stdout was checked; --export to stdout as well.
# The reader closes its end first, so the writes meet a closed pipe whatever the machine's load.
for m in "--list" "--list-options" "--export json"; do
	rm -f "$T_TMP/closed" "$T_TMP/rc"
	{ i=0; while [ ! -e "$T_TMP/closed" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
	  tui $m 2>"$T_TMP/err"; echo $? >"$T_TMP/rc"; } | { exec 0<&-; : >"$T_TMP/closed"; }
	rc=$(cat "$T_TMP/rc" 2>/dev/null)
	[ "$rc" = 0 ] && [ ! -s "$T_TMP/err" ] &&
		pass "$N: $m to a reader gone early exits 0, quietly" ||
		fail "$N: $m to a reader gone early" "rc=$rc $(cat "$T_TMP/err")"
done
# A TARGET that names no registered device is taken as a host name: a mistyped device name (or
# --apply's template name) says first that no device has it, not only what the guard refuses.
for m in "--action switch_on kitchn" "--config-get kitchn" "--drift kitchn" "--apply kitchn 127.0.0.1:1 --dry-run"; do
	tui $m >"$T_TMP/out" 2>&1; rc=$?
	[ $rc -eq 1 ] && grep -qF "no registered device is named 'kitchn' (--list shows them)" "$T_TMP/out" &&
		pass "$N: ${m%% *} of an unknown name says no device has it" ||
		fail "$N: ${m%% *} of an unknown name" "rc=$rc $(cat "$T_TMP/out")"
done
tui --config-get 127.0.0.1:1 >"$T_TMP/out" 2>&1
grep -q "no registered device" "$T_TMP/out" &&
	fail "$N: an address is not called a name" "$(cat "$T_TMP/out")" ||
	pass "$N: an unreachable address is not called an unknown name"
exit 0
