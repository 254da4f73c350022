# A device that stops answering after a good poll keeps its last reply: the stored values and
# raw reply survive the failed polls (state, error and time change), --list --json marks them
# as last known with the time they were read, /metrics exports no reading of it (up 0), and the
# console shows them dimmed in the table and as "last known, ... ago" in the detail. When the
# device answers again its values are current again.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_tui.sh

N=headless_last_known
# 0 Plus 1PM (switched on: power moves), 1 Plug S (gen1), 2 Plus 1PM that stays healthy.
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm,gen1/shelly-plug-s,gen2/plus-1pm \
	--count 3
hl_fleet
curl -s -m 3 "$(hl_url 0)/rpc/Switch.Set?id=0&on=true" >/dev/null
hl_start a "$DB" "$CONF" || { fail "$N: --headless start" "$(cat "$(hl_err a)")"; exit 1; }
M=$T_TMP/m
M0=$(mac_of 0) M1=$(mac_of 1) M2=$(mac_of 2)

row() { sq "$DB" "SELECT $2 FROM status WHERE mac = '$1'"; }
polled() {
	[ "$(sq "$DB" "SELECT count(*) FROM status WHERE state = 'online' AND json IS NOT NULL AND power_w IS NOT NULL")" = 3 ] &&
		[ "$(row "$M0" 'ifnull(power_w, 0) > 0')" = 1 ]
}
wait_for 15 polled && pass "$N: all devices polled with values first" ||
	{ fail "$N: first polls" "$(sq "$DB" "SELECT mac, state, power_w FROM status")"; exit 1; }

# --- device 0 goes silent, device 1 answers HTTP 500, after good polls ---
T0=$(now_ms)
set_fault 0 silent
set_fault 1 http500
failed() { [ "$(row "$M0" state)" = offline ] && [ "$(row "$M1" state)" = error ]; }
wait_for 15 failed && pass "$N: silent -> offline, http500 -> error" ||
	fail "$N: failures seen" "$(sq "$DB" "SELECT mac, state, error FROM status")"
# What the last good poll stored, read once the failure is stored (it no longer changes). Its
# time may be a little after T0: a poll under way when the fault was set is answered normally.
for m in "$M0" "$M1"; do
	r=$(row "$m" "power_w IS NOT NULL AND json IS NOT NULL AND reply_ts IS NOT NULL AND ts > reply_ts AND error IS NOT NULL")
	[ "$r" = 1 ] && pass "$N: $m keeps its last reply and values after failed polls ($(row "$m" "state || ', ' || power_w || ' W'"))" ||
		fail "$N: $m last reply kept" "$(sq "$DB" "SELECT state, error, ts, reply_ts, power_w, json IS NOT NULL FROM status WHERE mac = '$m'") T0 $T0"
done
P0=$(row "$M0" power_w) RT0=$(row "$M0" reply_ts)

# --list --json: the values are there, marked as the last known, with the time they were read.
"$SHELLY_TUI" --db "$DB" --list --json >"$T_TMP/list.json" 2>"$T_TMP/list.err" ||
	fail "$N: --list --json" "$(cat "$T_TMP/list.err")"
dj() { jq -r --arg m "$1" ".devices[] | select(.mac == \$m) | $2" "$T_TMP/list.json"; }
[ "$(dj "$M0" .status_stale)" = true ] && [ "$(dj "$M0" .state)" = offline ] &&
	[ "$(dj "$M0" .status_time)" = $((RT0 / 1000)) ] &&
	fnear "$(dj "$M0" '.components.switch[0].power_w')" "$P0" 0.001 &&
	pass "$N: --list --json: offline device's power $P0 W is status_stale with its status_time" ||
	fail "$N: --list --json stale" "$(dj "$M0" '{state, status_stale, status_time, p: .components.switch[0].power_w}') want time $((RT0 / 1000)) power $P0"
[ "$(dj "$M1" .status_stale)" = true ] && [ "$(dj "$M1" '.components.switch | length')" -ge 1 ] &&
	pass "$N: --list --json: the error device's last outputs are status_stale" ||
	fail "$N: --list --json error device" "$(dj "$M1" '{state, status_stale, status_time}')"
[ "$(dj "$M2" .status_stale)" = false ] && [ "$(dj "$M2" .state)" = online ] &&
	pass "$N: --list --json: a healthy device's values are not stale" ||
	fail "$N: --list --json healthy" "$(dj "$M2" '{state, status_stale}')"

# /metrics: no reading of the dead devices (up 0 is the signal), the healthy one keeps its own.
hl_metrics a "$M" || fail "$N: /metrics read"
[ "$(mval "$M" "shelly_device_up{mac=\"$M0\"}")" = 0 ] && [ "$(mval "$M" "shelly_device_up{mac=\"$M1\"}")" = 0 ] &&
	! grep -E "^shelly_(power_watts|output|energy_joules_total|wifi_rssi_dbm|temperature_celsius)\{mac=\"($M0|$M1)\"" "$M" >/dev/null &&
	grep -q "^shelly_power_watts{mac=\"$M2\"" "$M" &&
	pass "$N: /metrics: up 0 and no stale readings for failed devices" ||
	fail "$N: /metrics stale" "$(grep -E "$M0|$M1" "$M" | head -20)"

# --- the console (standing by: the headless poller holds the lease) ---
tui_start 140 30 "SHELLY_TUI_ALLOW_NETS=$SHELLY_TUI_ALLOW_NETS LC_ALL=C.UTF-8 $SHELLY_TUI --db $DB --config $CONF"
# Device 0's row (by its address) is offline and still shows its power (a W value, not "-").
NAME0=$(id_of 0)
A0=$(dev_addr 0)
stale_row() { tui_screen >"$T_TMP/screen" && grep -F " $A0 " "$T_TMP/screen" | grep -E " offline " | grep -Eq " [0-9.]+ ?k?W "; }
wait_for 30 stale_row && pass "$N: console: the offline row shows its last known power" ||
	fail "$N: console row" "$(tui_why 'offline ... W')"
tui_keys /
tui_type "$NAME0"
tui_keys Enter Enter
tui_wait 20 'last known, [0-9]+[smhd]' && pass "$N: console detail: 'last known, ... ago'" ||
	fail "$N: console detail" "$(tui_why 'last known, N ago')"
tui_wait 5 'switch:0' && pass "$N: console detail lists the last known switch" ||
	fail "$N: console detail switch" "$(tui_why 'switch:0')"
tui_stop

# --- the device answers again: current values, not stale ---
set_fault 0 none
set_fault 1 none
back() { [ "$(row "$M0" "state = 'online' AND reply_ts > $RT0")" = 1 ] && [ "$(row "$M1" state)" = online ]; }
wait_for 15 back && pass "$N: answering again: online with a new reply time" ||
	fail "$N: back online" "$(sq "$DB" "SELECT mac, state, reply_ts FROM status")"
"$SHELLY_TUI" --db "$DB" --list --json >"$T_TMP/list.json" 2>/dev/null
[ "$(dj "$M0" .status_stale)" = false ] && pass "$N: --list --json: current again" ||
	fail "$N: current again" "$(dj "$M0" '{state, status_stale}')"
hl_stop a
sim_stop
exit 0
