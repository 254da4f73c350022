# The console as an operator at 80x24 uses it on a small fleet of covers and a switch:
# uncalibrated covers show their state in OUT (not "-"), a calibrated one its position, and
# the model column and who polls stay visible at 80 columns; has=cover finds every cover
# whatever its name; a bulk open (each result's outcome in view) turns the uncalibrated ones
# to "opening"; in the event log Esc clears the filter before it closes the log; the drift
# view says when no device has a desired configuration instead of "matches"; the detail
# header puts state and address first and an uncalibrated cover gets no position prompt; a
# name changed on a device follows into the table, with its event; a toggle's outcome names
# the device as the table does; a discovery refused before it starts is not titled scanning.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_operator
# Covers at 1 % per second: a cover moving keeps moving for the whole test.
tui_sim_start $N --cover-speed 1 \
	--models gen2/plus-2pm/cover-mode,gen2/pro-dual-cover-pm,gen3/shutter-gen3,gen2/plus-1
cat >"$XDG_CONFIG_HOME/shelly-tui/config" <<CFG
set poll-interval-gen2 500ms
set connect-timeout 5s
set request-timeout 10s
CFG
k=0
for n in blinds dualcover shutter; do
	"$SHELLY_TUI" --add "$(dv $k HP)" --name "$n" -q >/dev/null 2>"$T_TMP/add.err" ||
		fail "$N: add $n" "$(cat "$T_TMP/add.err")"
	k=$((k + 1))
done
# The switch is registered under the name it gives itself: a rename on the device is followed.
"$SHELLY_TUI" --add "$(dv 3 HP)" -q >/dev/null 2>"$T_TMP/add.err" || fail "$N: add switch" "$(cat "$T_TMP/add.err")"

tui_start 80 24 "env $(tui_env) $SHELLY_TUI"
if tui_wait 60 'online 4 ' && tui_wait 20 '^│  dualcover .* online +- st/st ' &&
	tui_wait 20 '^│  shutter .* online +- stopped ' && tui_wait 20 '^│  blinds .* online +- [0-9]+%'; then
	pass "$N: uncalibrated covers show their state (both of a dual cover: st/st), a calibrated one its position"
else
	fail "$N: cover OUT" "$(tui_why 'dualcover ... st/st')"
fi
if tui_wait_all 20 '│  NAME +MODEL +IP ' 'poller: this console'; then
	pass "$N: at 80 columns the model column and who polls are shown"
else
	fail "$N: 80 columns" "$(tui_why 'NAME MODEL IP, poller: this console')"
fi

tui_keys :
tui_type 'filter has=cover'
tui_keys Enter
if tui_wait_all 20 ' 3 of 4 ' '│  blinds' '│  dualcover' '│  shutter'; then
	pass "$N: has=cover keeps the three covers"
else
	fail "$N: has=cover" "$(tui_why '3 of 4')"
fi

tui_keys a b
tui_wait 20 'O  open +Open cover 0 of 3' || fail "$N: bulk menu" "$(tui_why 'O  open')"
tui_keys O
tui_wait 20 'Open cover 0 of 3 devices\? \[y/N\]' || fail "$N: confirmation" "$(tui_why 'Open cover 0 of 3')"
tui_keys y
tui_wait 60 'done: 3 ok, 0 failed' || fail "$N: bulk open" "$(tui_why 'done: 3 ok')"
if tui_wait_all 20 "OK +blinds +$(dv 0 ID) +ok: cover:0 open"; then
	pass "$N: at 80 columns each result shows name, id and outcome"
else
	fail "$N: result line" "$(tui_why "OK +blinds +$(dv 0 ID) +ok: cover:0 open")"
fi
tui_keys q A
if tui_wait 30 '^│  dualcover .* ↑/st ' && tui_wait 30 '^│  shutter .* opening '; then
	pass "$N: after a bulk open the uncalibrated covers show opening (cover 0 of the dual cover: ↑/st)"
else
	fail "$N: opening" "$(tui_why 'dualcover ... ↑/st')"
fi
tui_keys Escape

# The event log: Esc clears its filter first, and closes it only then.
tui_keys e
tui_wait 20 'Events - [0-9]+' || fail "$N: events" "$(tui_why 'Events')"
tui_keys /
tui_type 'first seen'
tui_keys Enter
tui_wait 20 'Events - filter: first seen' || fail "$N: events filter" "$(tui_why 'filter: first seen')"
tui_keys Escape
if tui_wait_all 20 'filter cleared' 'Events - [0-9]+'; then
	pass "$N: Esc in the event log clears its filter and stays"
else
	fail "$N: events Esc" "$(tui_why 'filter cleared, Events')"
fi
tui_keys Escape
tui_wait 20 'Devices - ' && pass "$N: Esc again closes the log" || fail "$N: events close" "$(tui_why 'Devices')"

tui_keys d
if tui_wait 30 'no desired configuration for these devices'; then
	pass "$N: the drift view says no device has a desired configuration"
else
	fail "$N: drift without desired" "$(tui_why 'no desired configuration')"
fi
tui_keys q

# The detail of an uncalibrated cover: state and address first in an 80-column header; a
# position is refused before it is sent, with what works instead.
tui_keys /
tui_type dualcover
tui_keys Enter Enter
if tui_wait 20 "^ dualcover  -  online  -  $(dv 1 ADDR)  -  " && tui_wait 20 'cover:1'; then
	pass "$N: the detail header shows state and address first"
else
	fail "$N: detail header" "$(tui_why 'dualcover  -  online  -  ADDR')"
fi
tui_keys v
if tui_wait 20 'cover:0 is not calibrated: no position' && ! grep -q 'Position of cover' "$T_TMP/screen"; then
	pass "$N: no position prompt for an uncalibrated cover"
else
	fail "$N: uncalibrated position" "$(tui_why 'cover:0 is not calibrated')"
fi
tui_keys q Escape

# Renamed on the device: the table follows (its name was the device's own), with an event.
ctl POST /devices/3/config '{"patch":{"sys":{"device":{"name":"Porch lamp"}}}}' >/dev/null
tui_wait 30 '^│  Porch lamp ' || fail "$N: device rename" "$(tui_why 'Porch lamp')"
# A toggle from the table reports the device by the name the table shows.
tui_keys /
tui_type Porch
tui_keys Enter t
if tui_wait 30 'Porch lamp: ok: switch:0 o(n|ff)'; then
	pass "$N: a toggle's outcome names the device as the table does"
else
	fail "$N: toggle message" "$(tui_why 'Porch lamp: ok: switch:0')"
fi
tui_keys Escape
tui_resize 120 24 # the event's detail is wider than 80 columns
tui_keys e
if tui_wait 20 "device_name_changed '.*' -> 'Porch lamp', registry follows"; then
	pass "$N: a rename on the device shows in the table and the events"
else
	fail "$N: rename event" "$(tui_why "device_name_changed ... 'Porch lamp'")"
fi
tui_keys q

# A discovery target refused before anything is sent: the title does not say "scanning".
tui_keys F2
tui_type "$(dv 0 ADDR)-9:1"
tui_keys Enter
if tui_wait_all 20 'a port is not allowed in a scan target \(discover-port sets it\)' \
	"Discovery: $(dv 0 ADDR)-9:1 " '!Discovery: scanning'; then
	pass "$N: a refused discovery is not titled 'scanning'"
else
	fail "$N: discovery title" "$(tui_why 'Discovery: TARGET, a port is not allowed')"
fi
tui_keys q q
tui_wait 20 'RESTORED rc=0' || fail "$N: quit" "$(tui_why 'RESTORED rc=0')"
exit $T_FAILED
