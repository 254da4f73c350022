# The console's bulk menu and wide layout against the simulated fleet: at 210 columns the
# voltage, uptime and MAC columns appear (and go at 120); a marked selection of a switch, a
# light and a cover offers only the actions all three support and dims the rest with why;
# on/off/toggle turn the switch with a switch action and the dimmer with a light action (the
# sim's state of both changes); an offline device in the selection is skipped and the
# confirmation says so; the results name each device as the table does, then its id.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_bulk
tui_sim_start $N --models gen2/plus-1pm,gen2/pro-dimmer-1pm,gen2/plus-2pm/cover-mode,gen2/plus-1
cat >"$XDG_CONFIG_HOME/shelly-tui/config" <<CFG
set poll-interval-gen2 1s
set connect-timeout 5s
set request-timeout 10s
set offline-after 1
CFG
k=0
for n in aswitch bdimmer ccover dgone; do
	"$SHELLY_TUI" --add "$(dv $k HP)" --name "$n" -q >/dev/null 2>"$T_TMP/add.err" ||
		fail "$N: add $n" "$(cat "$T_TMP/add.err")"
	k=$((k + 1))
done

tui_start 210 40 "env $(tui_env) $SHELLY_TUI"
mac0=$(dv 0 MAC | tr 'A-F' 'a-f' | sed 's/://g; s/\(..\)/\1:/g; s/:$//')
if tui_wait 60 'fleet 4 +online 4' && tui_wait 20 " VOLT +UPTIME +MAC" && tui_wait 20 "aswitch .* [0-9]+\\.[0-9]V +[0-9]+[smhd] +$mac0"; then
	pass "$N: at 210 columns the voltage, uptime and MAC columns show the sim's values"
else
	fail "$N: wide columns" "$(tui_why "VOLT UPTIME MAC $mac0")"
fi
tui_resize 120 40
if tui_wait_not 20 ' VOLT ' && tui_wait 20 'aswitch'; then pass "$N: at 120 columns they are gone"; else fail "$N: narrow" "$(tui_why 'no VOLT')"; fi

# The fourth device goes away: offline after its polls fail.
set_fault 3 closed
if tui_wait 60 '^│  dgone .* offline'; then :; else fail "$N: dgone offline" "$(tui_why 'dgone .* offline')"; fi

# Switch, dimmer, cover and the offline one marked: the cover has no output, the others no
# cover: only reboot is offered.
tui_keys a b
if tui_wait 20 'Bulk action' && tui_wait_all 5 '-  on +1 marked device has no output' \
	'-  open +2 marked devices have no cover' 'r  reboot +Reboot 3' '4 marked: which action\? \(r;'; then
	pass "$N: the menu offers what every marked device supports, the rest dimmed with why"
else
	fail "$N: bulk menu" "$(tui_why 'Bulk action')"
fi
tui_keys Escape
# Unmark the cover (sorted by name: aswitch bdimmer ccover dgone).
tui_keys Home j j Space
tui_keys b
if tui_wait 20 'o  on +Turn ON output 0 of 2'; then pass "$N: switch and dimmer: on/off/toggle offered"; else fail "$N: switch+dimmer menu" "$(tui_why 'o  on')"; fi
tui_keys t
if tui_wait 20 'Toggle output 0 of 2 devices \(1 offline will be skipped\)\? \[y/N\]'; then
	pass "$N: the confirmation counts the devices and the offline one skipped"
else
	fail "$N: confirmation" "$(tui_why 'Toggle output 0 of 2 devices (1 offline')"
fi
s0=$(dev_state 0 '.switches[0].on') l1=$(dev_state 1 '.lights[0].on')
ctl POST /reset-counters >/dev/null
tui_keys y
if tui_wait 60 'done: 2 ok, 0 failed'; then
	s0b=$(dev_state 0 '.switches[0].on') l1b=$(dev_state 1 '.lights[0].on')
	sw=$(dev_state 0 '.counters.by_path["/rpc/Switch.Toggle"] // 0')
	li=$(dev_state 1 '.counters.by_path["/rpc/Light.Toggle"] // 0')
	if [ "$s0b" != "$s0" ] && [ "$l1b" != "$l1" ] && [ "$sw" -ge 1 ] && [ "$li" -ge 1 ]; then
		pass "$N: one bulk toggle: Switch.Toggle to the switch, Light.Toggle to the dimmer, both changed"
	else
		fail "$N: per-kind toggle" "switch $s0->$s0b ($sw Switch.Toggle), light $l1->$l1b ($li Light.Toggle)"
	fi
	# Each result line names the device as the table does, then its id.
	if tui_wait_all 20 "OK +aswitch +$(dv 0 ID) +ok" "OK +bdimmer +$(dv 1 ID) +ok"; then
		pass "$N: each result line names the device and its id"
	else
		fail "$N: result names" "$(tui_why "OK +aswitch +$(dv 0 ID)")"
	fi
else
	fail "$N: bulk toggle" "$(tui_why 'done: 2 ok')"
fi
tui_keys q
tui_wait 20 'Devices' || fail "$N: back" "$(tui_why Devices)"
tui_keys q
tui_wait 20 'RESTORED rc=0' || fail "$N: q" "$(tui_why RESTORED)"
