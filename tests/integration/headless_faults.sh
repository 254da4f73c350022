# --headless and the sim's faults: every fault shows as a device state (metrics and DB) and an
# event while the healthy devices keep being polled at their rate; sleeping battery devices that
# stop answering are asleep (no offline event, last report kept); removing the faults brings
# every device back online with an "online" event.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_faults
P=gen2/plus-1pm S=gen1/shelly-plug-s
#       0  1  2  3  4  5  6  7  8  9               10            11 12 13 14 15 16 17
MODELS=$P,$S,$P,$S,$P,$S,$P,$S,$P,gen1/shelly-ht,gen2/plus-ht,$P,$S,$P,$S,$P,$P,$P
sim_up $N --fixtures tests/fixtures --models "$MODELS" --count 18 --load 100 \
	--reboot-ms 700 --drip-ms 3000 --oversize 2200000 --deep 5000
NDEV=18
hl_fleet
hl_start a "$DB" "$CONF" || { fail "$N: --headless start" "$(cat "$(hl_err a)")"; exit 1; }
M=$T_TMP/m

# m_state MAC: the state the metrics give the device.
m_state() { hl_state a "$1" "$M"; }
db_state() { sq "$DB" "SELECT state FROM status WHERE mac = '$1'"; }
ev_count() { sq "$DB" "SELECT count(*) FROM events WHERE mac = '$1' AND kind = '$2' AND ts >= $3"; }
all_online() {
	[ "$(hl_online a "$M")" = "$NDEV" ] &&
		[ "$(sq "$DB" "SELECT count(*) FROM status WHERE state = 'online'")" = "$NDEV" ]
}
wait_for 15 all_online && pass "$N: all $NDEV devices online first" ||
	{ fail "$N: all online first" "$(grep '^shelly_device_state' "$M" | grep -v 'online')"; exit 1; }
# The sleepers' last report, to compare later.
HT1_TEMP=$(sq "$DB" "SELECT temperature_c FROM status WHERE mac = '$(mac_of 9)'")
HT2_TEMP=$(sq "$DB" "SELECT temperature_c FROM status WHERE mac = '$(mac_of 10)'")

# A reboot shows as uptime going back: let the poller see device 6 up for a few seconds first
# (a fast start could otherwise fault it at uptime 1 s, and 1 s -> 0 s is within the tolerance).
up6() { [ "$(sq "$DB" "SELECT ifnull(uptime_s, 0) >= 3 FROM status WHERE mac = '$(mac_of 6)'")" = 1 ]; }
wait_for 15 up6 || fail "$N: device 6 up for 3 s before its reboot" "$(sq "$DB" "SELECT uptime_s FROM status WHERE mac = '$(mac_of 6)'")"

# --- inject: one fault per device, all at once ---
T0=$(now_ms)
fault() { ctl POST "/devices/$1/fault" "{\"fault\":\"$2\"}" | jq -e ".fault == \"$2\" or \"$2\" == \"auth\" or \"$2\" == \"reboot\"" >/dev/null ||
	fail "$N: sim takes fault $2 on device $1"; }
ctl POST /devices/7/reset-counters >/dev/null
ctl POST /devices/8/reset-counters >/dev/null
R0=$(now_ms)
fault 0 silent; fault 1 closed; fault 2 noanswer; fault 3 http500; fault 4 malformed
fault 5 auth; fault 6 reboot; fault 9 silent; fault 10 closed; fault 11 reset
fault 12 truncated; fault 13 oversized; fault 14 slow; fault 15 deep; fault 17 auth

# expect I KIND STATE [EVENT]: the device reaches STATE in metrics and DB, with an EVENT event.
expect() {
	_i=$1 _kind=$2 _st=$3 _ev=${4:-$3}
	_mac=$(mac_of "$_i")
	_ok() { [ "$(m_state "$_mac")" = "$_st" ] && [ "$(db_state "$_mac")" = "$_st" ] && [ "$(ev_count "$_mac" "$_ev" "$T0")" -ge 1 ]; }
	if wait_for 15 _ok; then
		pass "$N: $_kind -> $_st with a \"$_ev\" event"
	else
		fail "$N: $_kind -> $_st" "metrics '$(m_state "$_id")', db '$(db_state "$_mac")', events: $(sq "$DB" "SELECT kind || ' ' || ifnull(detail, '') FROM events WHERE mac = '$_mac' AND ts >= $T0" | tr '\n' ';')"
	fi
}
expect 0 silent offline
expect 1 closed offline
expect 2 noanswer offline
expect 11 reset offline
expect 14 "slow (drip longer than request-timeout)" offline
expect 3 http500 error
expect 4 malformed error
expect 12 truncated error
expect 13 oversized error
expect 15 "deep JSON" error
expect 5 "auth on (gen1)" auth_required
expect 17 "auth on (gen2)" auth_required

# The offline event comes only after offline-after (2) failed polls: the poll-error counter says so.
e=$(sq "$DB" "SELECT detail FROM events WHERE mac = '$(mac_of 1)' AND kind = 'offline' AND ts >= $T0 LIMIT 1")
[ -n "$e" ] && pass "$N: offline event says why ($e)" || fail "$N: offline event detail" "'$e'"

# Reboot: uptime went back -> "rebooted" event; the device is online again.
MR=$(mac_of 6)
rb() { [ "$(ev_count "$MR" rebooted "$T0")" -ge 1 ] && [ "$(m_state "$(mac_of 6)")" = online ]; }
wait_for 15 rb && pass "$N: reboot -> \"rebooted\" event, online again ($(sq "$DB" "SELECT detail FROM events WHERE mac = '$MR' AND kind = 'rebooted' LIMIT 1"))" ||
	fail "$N: reboot" "$(sq "$DB" "SELECT kind || ' ' || ifnull(detail, '') FROM events WHERE mac = '$MR' AND ts >= $T0" | tr '\n' ';') sim reboots $(sim_state 6 .reboots)"

# wrongtypes (numbers as strings, objects for booleans): a lying device is data: no crash, and
# no invented values: its output (on) is unknown now, not "off", so no output_changed event.
curl -s -m 3 "$(hl_url 16)/rpc/Switch.Set?id=0&on=true" >/dev/null
on16() { [ "$(mval "$M" "shelly_output{mac=\"$(mac_of 16)\",component=\"switch\",channel=\"0\"}")" = 1 ] || { hl_metrics a "$M"; false; }; }
wait_for 10 on16 || fail "$N: device 16 switched on first"
T16=$(now_ms)
fault 16 wrongtypes
wt() { s=$(m_state "$(mac_of 16)"); [ -n "$s" ] && [ "$(sq "$DB" "SELECT count(*) FROM status WHERE mac = '$(mac_of 16)' AND ts >= $T16 + 500")" -ge 1 ]; }
wait_for 10 wt && hl_alive a && pass "$N: wrongtypes: poller survives, device is '$(m_state "$(mac_of 16)")'" ||
	fail "$N: wrongtypes" "state '$(m_state "$(mac_of 16)")'"
o=$(mval "$M" "shelly_output{mac=\"$(mac_of 16)\",component=\"switch\",channel=\"0\"}")
[ "$o" != 0 ] && [ "$(ev_count "$(mac_of 16)" output_changed "$T16")" = 0 ] &&
	pass "$N: wrongtypes: output not invented as off (metric '${o:-absent}', no output_changed event)" ||
	fail "$N: wrongtypes invents an output" "metric '$o', events: $(sq "$DB" "SELECT kind || ' ' || detail FROM events WHERE mac = '$(mac_of 16)' AND ts >= $T16" | tr '\n' ';')"

# --- sleepers: asleep, no offline event, last report kept ---
for i in 9 10; do
	id=$(id_of $i) mac=$(mac_of $i)
	asl() { [ "$(m_state "$mac")" = asleep ]; }
	wait_for 15 asl && pass "$N: $(mf ".devices[$i].model") unreachable -> asleep in metrics" || fail "$N: sleeper $i asleep" "metrics '$(m_state "$mac")'"
done
# Give the sleepers time for more polls than offline-after (a sleeper's wait is its interval):
# several seconds of polling, counted by the poller itself.
p0=$(hl_metric a shelly_polls_total)
wait_for 15 sh -c '[ "$(curl -s -m 2 "$1" | sed -n "s/^shelly_polls_total //p")" -ge "$2" ]' sh \
	"http://127.0.0.1:$(hl_port a)/metrics" $((p0 + 5 * NDEV))
for i in 9 10; do
	id=$(id_of $i) mac=$(mac_of $i)
	[ "$(ev_count "$mac" asleep "$T0")" -ge 1 ] && pass "$N: sleeper $i: an \"asleep\" event" ||
		fail "$N: sleeper $i asleep event" "$(sq "$DB" "SELECT kind || ' ' || ifnull(detail, '') FROM events WHERE mac = '$mac' AND ts >= $T0" | tr '\n' ';')"
	[ "$(ev_count "$mac" offline "$T0")" = 0 ] && pass "$N: sleeper $i: no offline event" ||
		fail "$N: sleeper $i offline event" "$(sq "$DB" "SELECT kind || ' ' || ifnull(detail, '') FROM events WHERE mac = '$mac' AND ts >= $T0" | tr '\n' ';')"
	st=$(db_state "$mac")
	[ "$st" = asleep ] && pass "$N: sleeper $i: status row says asleep" || fail "$N: sleeper $i: DB state" "'$st' (metrics '$(m_state "$mac")')"
	[ "$(m_state "$mac")" = asleep ] && pass "$N: sleeper $i: still asleep after further polls" || fail "$N: sleeper $i still asleep" "$(m_state "$mac")"
done
t=$(sq "$DB" "SELECT temperature_c FROM status WHERE mac = '$(mac_of 9)'")
[ -n "$HT1_TEMP" ] && [ "$t" = "$HT1_TEMP" ] && pass "$N: gen1 H&T: last temperature kept in the DB ($t)" || fail "$N: gen1 H&T last report" "'$HT1_TEMP' -> '$t'"
t=$(sq "$DB" "SELECT temperature_c FROM status WHERE mac = '$(mac_of 10)'")
[ -n "$HT2_TEMP" ] && [ "$t" = "$HT2_TEMP" ] && pass "$N: Plus H&T: last temperature kept in the DB ($t)" || fail "$N: Plus H&T last report" "'$HT2_TEMP' -> '$t'"
# The kept report keeps the time it was read (before the device fell asleep), not the row's.
r=$(sq "$DB" "SELECT count(*) FROM status s WHERE mac IN ('$(mac_of 9)', '$(mac_of 10)') AND s.ts > s.reply_ts AND s.reply_ts <= (SELECT max(e.ts) FROM events e WHERE e.mac = s.mac AND e.kind = 'asleep' AND e.ts >= $T0)")
[ "$r" = 2 ] && pass "$N: sleepers' last reports keep their read time" || fail "$N: sleepers' reply_ts" "$(sq "$DB" "SELECT mac, ts, reply_ts, (SELECT max(e.ts) FROM events e WHERE e.mac = s.mac AND e.kind = 'asleep' AND e.ts >= $T0) FROM status s WHERE mac IN ('$(mac_of 9)', '$(mac_of 10)')" | tr '\n' ';') T0 $T0"
j=$("$SHELLY_TUI" --db "$DB" --list --json 2>&1)
echo "$j" | jq -e --arg m "$(mac_of 9)" '.devices[] | select(.mac == $m) | .state == "asleep" and .components != null' >/dev/null &&
	pass "$N: --list --json: gen1 H&T asleep with its last components" ||
	fail "$N: --list asleep" "$(echo "$j" | jq -c --arg m "$(mac_of 9)" '.devices[] | select(.mac == $m) | {state, error, components: (.components != null)}')"
mv=$(mval "$M" "shelly_temperature_celsius{mac=\"$(mac_of 10)\",component=\"temperature\",channel=\"0\"}")
[ -z "$mv" ] && mv=$(grep -F "shelly_temperature_celsius{mac=\"$(mac_of 10)\"," "$M" | awk '{print $2}')
[ -n "$mv" ] && fnear "$mv" "$HT2_TEMP" 0.001 && pass "$N: asleep Plus H&T keeps its temperature in /metrics" || fail "$N: asleep metrics" "'$mv'"

# --- the healthy devices were polled at their rate the whole time ---
R1=$(now_ms)
n7=$(sim_state 7 .counters.requests) n8=$(sim_state 8 .counters.requests)
want=$(( (R1 - R0) / 200 / 2 ))
[ "$n7" -ge "$want" ] && [ "$n8" -ge "$want" ] &&
	pass "$N: healthy devices polled at rate during the faults ($n7, $n8 requests in $((R1 - R0)) ms)" ||
	fail "$N: healthy devices starved" "$n7, $n8 requests in $((R1 - R0)) ms, want >= $want"
L7=$(sq "$DB" "SELECT last_seen FROM devices WHERE mac = '$(mac_of 7)'")
L8=$(sq "$DB" "SELECT last_seen FROM devices WHERE mac = '$(mac_of 8)'")
[ "$L7" -ge "$T0" ] && [ "$L8" -ge "$T0" ] && [ "$(db_state "$(mac_of 7)")" = online ] && [ "$(db_state "$(mac_of 8)")" = online ] &&
	pass "$N: healthy devices' last_seen advanced past the faults" || fail "$N: healthy last_seen" "$L7 $L8 < $T0"
adv() { [ "$(sq "$DB" "SELECT last_seen FROM devices WHERE mac = '$(mac_of 8)'")" -gt "$L8" ]; }
wait_for 5 adv && pass "$N: last_seen keeps advancing" || fail "$N: last_seen advancing" "$L8"
[ "$(hl_code a /healthz)" = 200 ] && pass "$N: /healthz 200 with faulty devices" || fail "$N: /healthz" "$(hl_code a /healthz)"
[ "$(hl_code a /readyz)" = 200 ] && pass "$N: /readyz 200 with faulty devices (all attempted)" || fail "$N: /readyz" "$(hl_get a /readyz)"
if out=$(promtool check metrics <"$M" 2>&1); then pass "$N: promtool with faulty devices"; else fail "$N: promtool" "$out"; fi
grep -q '^shelly_poll_errors_total{reason="[a-z_]*"} [1-9]' "$M" && pass "$N: shelly_poll_errors_total counts by reason" ||
	fail "$N: poll errors metric" "$(grep shelly_poll_errors_total "$M")"
grep -q '^shelly_devices{state="offline"} [1-9]' "$M" && grep -q '^shelly_devices{state="error"} [1-9]' "$M" &&
	pass "$N: shelly_devices by state" || fail "$N: shelly_devices" "$(grep '^shelly_devices' "$M" | tr '\n' ' ')"

# --- remove the faults: everything online again, with an "online" event ---
T1=$(now_ms)
for i in 0 1 2 3 4 9 10 11 12 13 14 15 16; do ctl POST "/devices/$i/fault" '{"fault":"none"}' >/dev/null; done
ctl POST /devices/5/auth '{"enable":false}' >/dev/null
ctl POST /devices/17/auth '{"enable":false}' >/dev/null
wait_for 20 all_online && pass "$N: every device online again after the faults are removed" ||
	fail "$N: recovery" "$(grep '^shelly_device_state' "$M" | grep -v 'online')"
bad=""
for i in 0 1 2 3 4 5 11 12 13 14 15 17; do
	[ "$(ev_count "$(mac_of $i)" online "$T1")" -ge 1 ] || bad="$bad $i"
done
[ -z "$bad" ] && pass "$N: an \"online\" event for each recovered device" || fail "$N: online events missing for" "$bad"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: SIGTERM exits 0" || fail "$N: exit" "rc=$HL_RC $(tail -n 5 "$(hl_err a)")"
sim_stop
exit 0
