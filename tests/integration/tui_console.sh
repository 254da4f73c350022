# The console end to end in a private tmux server against the simulated fleet: the table shows
# every device with the sim's values, filter, sort, detail, an output toggled from the detail
# view changes the sim's state and the table follows, a bulk toggle over a selection with one
# faulty device reports it as failed (r retries it once it answers), a scan from the console shows its progress and the device it finds, which i ignores and a adds, theme
# switch, resize to 80x24 and back, a hostile device name neither retitles nor repaints the
# terminal, the password a device wants is asked for in the console (masked), used, and stored
# with P, and q exits 0 with the terminal restored.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_console
tui_sim_start $N --models gen1/shelly-1,gen2/plus-1pm,gen3/1pm-gen3,gen4/1pm-mini-gen4,gen2/plus-2pm \
	--auth 4 --password 'S3cret-pw'
cat >"$XDG_CONFIG_HOME/shelly-tui/config" <<CFG
set poll-interval-gen1 1s
set poll-interval-gen2 1s
set connect-timeout 10s
set request-timeout 15s
set discover-port $SIM_PORT
set discover-timeout 10s
set discover-mdns off
CFG
NAMES="alpha bravo charlie"
k=0
for n in $NAMES; do
	"$SHELLY_TUI" --add "$(dv $k HP)" --name "$n" -q >/dev/null 2>"$T_TMP/add.err" ||
		fail "$N: add $n" "$(cat "$T_TMP/add.err")"
	k=$((k + 1))
done
# The fourth device is named with escape sequences that would retitle and clear a terminal
# (put in the registry directly: --add --name refuses them, a device or an old file need not).
"$SHELLY_TUI" --add "$(dv 3 HP)" --name delta -q >/dev/null 2>"$T_TMP/add.err" &&
	sqlite3 "$XDG_DATA_HOME/shelly-tui/shelly.db" "UPDATE devices SET name = 'delta' ||
		char(27) || ']0;pwned' || char(7) || char(27) || '[2J' || char(27) || '[31mred'
		WHERE name = 'delta'; SELECT changes()" 2>>"$T_TMP/add.err" | grep -qx 1 ||
	fail "$N: add delta" "$(cat "$T_TMP/add.err")"

tui_start 100 30 "env $(tui_env) $SHELLY_TUI"

# Every device, online, with its address and the sim's output state (the rows of one capture:
# the header of a frame can show before its rows on a loaded machine).
rows_ok() {
	ok=1 why=""
	k=0
	_tui_match 'fleet 4 +online 4' || ok=0
	for n in $NAMES delta; do
		on=$(dev_state $k '.switches[0].on')
		[ "$on" = true ] && want=on || want=off
		line=$(grep -E "^.  $n[a-z]* " "$T_TMP/screen")
		case $line in
		*"$(dv $k ADDR) "*online*" $want "*) ;;
		*) ok=0 why="$why [$n: want $(dv $k ADDR) online $want: '$line']" ;;
		esac
		k=$((k + 1))
	done
	[ $ok = 1 ]
}
if tui_wait 60 'fleet 4 +online 4'; then
	if wait_for 20 rows_ok; then pass "$N: the table shows every device with the sim's address, state and output"; else fail "$N: the table shows the sim's values" "$why"; fi
else
	fail "$N: the table shows the fleet" "$(tui_why 'fleet 4 +online 4')"
fi

# A hostile name: no retitle, no repaint; its printable part is shown.
title=$(tmux_ display -p '#{pane_title}')
if ! grep -q pwned "$T_TMP/screen" && [ "${title#*pwned}" = "$title" ] && grep -q '^.  delta' "$T_TMP/screen"; then
	pass "$N: a name with escape sequences neither retitles nor repaints (title '$title')"
else
	fail "$N: hostile name" "title '$title'; $(cat "$T_TMP/screen")"
fi

# Incremental filter: each key narrows the table at once.
tui_keys /
tui_type bra
if tui_wait_all 20 'filter: bra .* 1 of 4' '^.  bravo' '!^.  alpha'; then
	pass "$N: / filters as you type (1 of 4)"
else
	fail "$N: filter" "$(tui_why 'filter: bra')"
fi
tui_keys Enter

# Detail, then toggle switch:0 there: the sim's output changes, then the table follows.
before=$(dev_state 1 '.switches[0].on')
tui_keys Enter
if tui_wait 20 'switch:0'; then pass "$N: Enter opens the detail view with the device's outputs"; else fail "$N: detail" "$(tui_why 'switch:0')"; fi
tui_keys t
flipped() { [ "$(dev_state 1 '.switches[0].on')" != "$before" ]; }
if wait_for 60 flipped; then pass "$N: t in the detail view toggles the sim's output"; else fail "$N: toggle" "sim output still $before; $(tui_screen)"; fi
[ "$before" = true ] && want=off || want=on
tui_keys q
if tui_wait 60 "^.  bravo .* $want "; then pass "$N: the table follows the device ($want)"; else fail "$N: the table follows" "$(tui_why "bravo .* $want")"; fi

# Clear the filter, sort by IP (the command line), then bulk-toggle all four with charlie faulty.
tui_keys /
tui_keys C-u Enter
tui_keys :
tui_type 'sort ip'
tui_keys Enter
if tui_wait 20 'sort: ip .* 4 of 4'; then pass "$N: :sort ip"; else fail "$N: sort" "$(tui_why 'sort: ip')"; fi
set_fault 2 http500
a0=$(dev_state 0 '.switches[0].on')
tui_keys a b
if tui_wait 20 '4 marked: which action\? \(oft'; then :; else fail "$N: bulk menu" "$(tui_why '4 marked')"; fi
tui_keys t
if tui_wait 20 'Toggle output 0 of 4 devices\? \[y/N\]'; then pass "$N: the bulk confirmation names the count"; else fail "$N: bulk confirmation" "$(tui_why 'Toggle output 0 of 4')"; fi
tui_keys y
cid=$(dv 2 ID)
if tui_wait_all 90 'done: 3 ok, 1 failed' "[Ff][Aa][Ii][Ll][Ee][Dd] .*$cid"; then
	pass "$N: bulk toggle: 3 ok, the faulty device reported failed"
else
	fail "$N: bulk toggle results" "$(tui_why "FAILED .*$cid")"
fi
if [ "$(dev_state 0 '.switches[0].on')" != "$a0" ]; then pass "$N: the bulk toggle reached the sim"; else fail "$N: bulk reached the sim" "alpha still $a0"; fi
# r runs the action again on the failed device only, now that it answers.
set_fault 2 none
c0=$(dev_state 2 '.switches[0].on')
tui_keys r
cflip() { [ "$(dev_state 2 '.switches[0].on')" != "$c0" ]; }
if tui_wait_all 90 'done: 1 ok, 0 failed' 'Retry:' && cflip; then
	pass "$N: r retries the failed device alone, which now succeeds"
else
	fail "$N: retry" "$(tui_why 'done: 1 ok, 0 failed')"
fi
tui_keys q
if tui_wait 20 'Devices - sort: ip'; then pass "$N: q dismisses the results"; else fail "$N: dismiss" "$(tui_why Devices)"; fi
tui_keys A

# Discovery from the console: the operator types the range; the fifth device is found and added.
tui_keys F2
tui_wait 10 'Scan \(' || fail "$N: scan prompt" "$(tui_why 'Scan')"
tui_type "$SIM_NET.1-$SIM_NET.5"
tui_keys Enter
nid=$(dv 4 ID)
scanned() {
	_tui_match_all 'done: 5 probed / 5 addresses, 5 found' "^│ *NEW +$nid " &&
		[ "$(grep -c '^│ *known ' "$T_TMP/screen")" = 4 ]
}
if tui_wait 90 'done: 5 probed / 5 addresses, 5 found' && wait_for 20 scanned &&
	[ "$("$SHELLY_TUI" --list --json 2>/dev/null | jq .summary.devices)" = 4 ]; then
	pass "$N: a scan from the console shows probed/total/found, the new device first, and adds nothing by itself"
else
	fail "$N: scan" "$(tui_why "NEW +$nid")"
fi
# i ignores it (listed last; A adds no ignored device); i again, then a adds it.
tui_keys i
ignored_last() {
	_tui_match "ignored +$nid" &&
		grep -E '^│ *(NEW|known|ignored) ' "$T_TMP/screen" | tail -1 | grep -Eq "ignored +$nid"
}
if wait_for 10 ignored_last; then
	pass "$N: i ignores the found device for the session (listed last)"
else
	fail "$N: ignore" "$(tui_why "ignored +$nid")"
fi
tui_keys A
tui_wait 10 'adding 0 new devices' || fail "$N: A skips the ignored device" "$(tui_why 'adding 0')"
tui_keys G i Home a
if tui_wait 60 "ADDED +$nid"; then pass "$N: a adds the found device to the registry"; else fail "$N: add" "$(tui_why "ADDED +$nid")"; fi
tui_keys q
if tui_wait 60 'fleet 5 '; then pass "$N: the table shows the added device"; else fail "$N: table after scan" "$(tui_why 'fleet 5')"; fi

# mDNS from the console obeys the network guard: 224.0.0.251 is not allowed here, so nothing
# is sent and the discovery view says why.
tui_keys :
tui_type 'scan mdns'
tui_keys Enter
if tui_wait 20 '224\.0\.0\.251'; then pass "$N: :scan mdns under a guard without 224.0.0.251 says why and sends nothing"; else fail "$N: mdns guard" "$(tui_why 224.0.0.251)"; fi
tui_keys q

# The scanned device wants a password nobody stored: toggling it asks in the console, masked.
tui_keys /
tui_type "$(dv 4 ID)"
tui_keys Enter t
if tui_wait 30 'password for admin'; then pass "$N: a device that wants a password asks for it in the console"; else fail "$N: password prompt" "$(tui_why 'password for admin')"; fi
b4=$(dev_state 4 '.switches[0].on')
tui_type 'S3cret-pw'
if tui_wait 10 'password for admin.*\*{9}' && ! grep -q 'S3cret' "$T_TMP/screen"; then pass "$N: the password is masked"; else fail "$N: masked" "$(cat "$T_TMP/screen")"; fi
tui_keys Enter
flipped4() { [ "$(dev_state 4 '.switches[0].on')" != "$b4" ]; }
if wait_for 60 flipped4 && tui_wait 30 ': ok'; then pass "$N: the password given in the console switches the device"; else fail "$N: toggle with password" "$(tui_why ': ok')"; fi
# P in its detail view stores the password that works: the fleet then polls it (online).
tui_keys Enter
tui_wait 20 'auth' || fail "$N: detail of the device with a password" "$(tui_why auth)"
tui_keys P
if tui_wait 60 'credentials: ok: the password works and is stored' && tui_keys q &&
    tui_wait 60 "$(dv 4 ADDR) +online"; then
	pass "$N: P stores the password; the device is polled online"
else
	fail "$N: credentials" "$(tui_why 'password works')"
fi
tui_keys /
tui_keys C-u Enter

# Theme switch.
tui_keys :
tui_type 'theme light'
tui_keys Enter
if tui_wait 20 'theme light'; then pass "$N: :theme light"; else fail "$N: theme" "$(tui_why 'theme light')"; fi

# Resize to 80x24 and back: the frame is redrawn to the new width (its corner is the last
# character of the line), columns drop and come back.
tui_resize 80 24
narrow() {
	tui_screen >"$T_TMP/screen" && grep -q 'F1 Hel.* F11 OPN' "$T_TMP/screen" &&
		sed -n 2p "$T_TMP/screen" | grep -q '┐$' &&
		! grep -q ' FW ' "$T_TMP/screen" && grep -q 'POWER' "$T_TMP/screen" &&
		[ "$(wc -l <"$T_TMP/screen")" -le 24 ]
}
if wait_for 20 narrow; then
	pass "$N: at 80x24 the table fits (FW dropped, POWER kept)"
else
	fail "$N: resize to 80x24" "$(cat "$T_TMP/screen")"
fi
tui_resize 100 30
if tui_wait 20 ' FW '; then pass "$N: back at 100x30 the FW column returns"; else fail "$N: resize back" "$(tui_why ' FW ')"; fi

# q leaves with status 0 and the terminal restored.
tui_keys q
if tui_wait 20 'RESTORED rc=0'; then pass "$N: q exits 0 with the terminal restored"; else fail "$N: quit" "$(tui_why 'RESTORED rc=0')"; fi
