# A restarted poller reports each device in the state the last run stored until its own polls
# change it: a device that was online is not offline (no false "down" alert) before it failed
# offline-after polls in a row, one stored offline stays offline, and one no run has polled is
# "unknown" (counted as such, no shelly_device_up series). Every device answers nothing and
# request-timeout is 10 minutes, so no poll of this run can have completed when /metrics is
# read, however slow the machine.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_restart_state
# Even: Plus 1PM (gen2), odd: Plug S (gen1).
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm,gen1/shelly-plug-s --count 6
DB=$T_TMP/shelly.db
CONF=$T_TMP/config
hl_config "$CONF"
for i in 0 1 2 3 4; do hl_add "$DB" $i || { fail "$N: --add $i" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }; done
# The earlier run: 0-3 online, 4 refuses connections (offline).
ctl POST /devices/4/fault '{"fault":"closed"}' >/dev/null
"$SHELLY_TUI" --poll-once --db "$DB" --config "$CONF" >"$T_TMP/once.out" 2>&1
grep -q 'online 4 offline 1' "$T_TMP/once.out" && pass "$N: the earlier run stored 4 online, 1 offline" ||
	fail "$N: --poll-once" "$(cat "$T_TMP/once.out")"
# Device 5 is registered but no run polls it before the restart.
hl_add "$DB" 5 || fail "$N: --add 5" "$(tail -n 3 "$T_TMP/add.err")"
for i in 0 1 2 3 4 5; do ctl POST /devices/$i/fault '{"fault":"noanswer"}' >/dev/null; done

hl_config "$CONF" 'set request-timeout 10m'
hl_start a "$DB" "$CONF" || { fail "$N: --headless start" "$(cat "$(hl_err a)")"; exit 1; }
M=$T_TMP/m
hl_metrics a "$M" || fail "$N: /metrics" "$(tail -n 3 "$(hl_err a)")"
[ "$(mval "$M" 'shelly_polls_total')" = 0 ] && pass "$N: no poll of this run has completed (read in time)" ||
	fail "$N: polls completed before /metrics was read" "$(mval "$M" 'shelly_polls_total')"
c=$(grep '^shelly_devices{' "$M" | tr '\n' ' ')
[ "$(mval "$M" 'shelly_devices{state="online"}')" = 4 ] && [ "$(mval "$M" 'shelly_devices{state="offline"}')" = 1 ] &&
	[ "$(mval "$M" 'shelly_devices{state="unknown"}')" = 1 ] &&
	pass "$N: at start: the stored states, the never-polled device unknown ($c)" || fail "$N: shelly_devices at start" "$c"
ok=1
for i in 0 1 2 3; do [ "$(mval "$M" "shelly_device_up{mac=\"$(mac_of $i)\"}")" = 1 ] || ok=0; done
[ $ok = 1 ] && pass "$N: the devices stored online are up (no false down alert)" ||
	fail "$N: shelly_device_up of stored-online devices" "$(grep '^shelly_device_up' "$M" | tr '\n' ' ')"
[ "$(mval "$M" "shelly_device_up{mac=\"$(mac_of 4)\"}")" = 0 ] &&
	[ "$(mval "$M" "shelly_device_state{mac=\"$(mac_of 4)\",state=\"offline\"}")" = 1 ] &&
	pass "$N: the device stored offline is down" || fail "$N: stored offline" "$(grep "$(mac_of 4)" "$M" | head -n 3)"
M5=$(mac_of 5)
! grep -q "^shelly_device_up{mac=\"$M5\"}" "$M" &&
	[ "$(mval "$M" "shelly_device_state{mac=\"$M5\",state=\"unknown\"}")" = 1 ] &&
	pass "$N: the never-polled device: state unknown, no shelly_device_up" ||
	fail "$N: never-polled device" "$(grep "$M5" "$M" | grep -v info | tr '\n' ' ')"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: exits 0 with polls in flight" || fail "$N: exit" "rc=$HL_RC"

# Failed polls still take a stored-online device offline (offline-after 2), and the
# never-polled one becomes known.
ctl POST /devices/0/fault '{"fault":"closed"}' >/dev/null
for i in 1 2 3 4 5; do ctl POST /devices/$i/fault '{"fault":"none"}' >/dev/null; done
hl_config "$CONF"
hl_start b "$DB" "$CONF" || { fail "$N: --headless restart" "$(cat "$(hl_err b)")"; exit 1; }
settled() {
	hl_metrics b "$M" && [ "$(mval "$M" "shelly_device_up{mac=\"$(mac_of 0)\"}")" = 0 ] &&
		[ "$(mval "$M" 'shelly_devices{state="online"}')" = 5 ] && [ "$(mval "$M" 'shelly_devices{state="unknown"}')" = 0 ]
}
wait_for 20 settled && pass "$N: a refusing device goes offline by its own failed polls, the rest online" ||
	fail "$N: after polls" "$(grep '^shelly_devices{\|^shelly_device_up' "$M" | tr '\n' ' ')"
e=$(mval "$M" 'shelly_poll_errors_total{reason="refused"}')
[ "${e:-0}" -ge 2 ] && pass "$N: after at least offline-after (2) failed polls ($e)" || fail "$N: failed polls before offline" "$e"
hl_stop b
sim_stop
exit 0
