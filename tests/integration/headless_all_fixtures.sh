# --headless over one simulated device of every fixture folder (gen1..gen4): /metrics has no
# series twice (same name and labels), no family with a total beside per-phase series, one
# temperature series per sensor, and HELP/TYPE once per family, whatever the devices report; a device with two lights of one id (Pro RGBWW PM: rgb:0 and cct:0) keeps both apart
# by their component type, in /metrics and in --probe. A device whose WiFi is not connected
# (Pros on Ethernet report rssi 0) has no RSSI series, and --probe prints none.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_all_fixtures
sim_up $N --fixtures tests/fixtures --auth none
NDEV=$(mf '.devices | length')
hl_fleet "set request-timeout 5s" "set connect-timeout 3s"
# Every device folder is served: the sim skips only folders without a status reply.
skipped=$(grep 'skipped fixture' "$SIM_ERR" | grep -v ': no \(Shelly\.GetStatus\|status\)\.json$')
[ "$NDEV" -ge 40 ] && [ -z "$skipped" ] && pass "$N: $NDEV fixture devices added" ||
	fail "$N: fixture devices" "$NDEV; skipped: $skipped"

if ! hl_start a "$DB" "$CONF"; then
	fail "$N: --headless starts" "$(cat "$(hl_err a)")"
	exit 1
fi
wait_for 30 sh -c '[ "$(curl -s -m 2 -o /dev/null -w "%{http_code}" "$1")" = 200 ]' sh \
	"http://127.0.0.1:$(hl_port a)/readyz" &&
	pass "$N: /readyz once every device was attempted" || fail "$N: /readyz" "$(hl_get a /readyz)"
# Every device online (bounded): its readings are then in /metrics.
online() { [ "$(sq "$DB" "SELECT count(*) FROM status WHERE state IN ('online', 'asleep')")" = "$NDEV" ]; }
wait_for 30 online && pass "$N: every device polled" ||
	fail "$N: devices polled" "$(sq "$DB" "SELECT mac, state FROM status WHERE state NOT IN ('online', 'asleep')")"

M=$T_TMP/metrics
hl_metrics a "$M" || { fail "$N: /metrics" "fetch failed"; exit 1; }
dups=$(grep -v '^#' "$M" | sed 's/ [^ ]*$//' | sort | uniq -d)
[ -z "$dups" ] && pass "$N: no series twice ($(grep -vc '^#' "$M") series)" ||
	fail "$N: duplicate series" "$(printf '%s\n' "$dups" | head -8)"
if command -v promtool >/dev/null 2>&1; then
	out=$(promtool check metrics <"$M" 2>&1) && pass "$N: promtool check metrics" || fail "$N: promtool" "$out"
fi
# A family holds totals or per-phase readings, never both: sum() would count a meter twice.
mixed=$(grep -v '^#' "$M" | awk '{ n = $1; sub(/[{].*/, "", n); if ($1 ~ /phase="/) p[n] = 1; else t[n] = 1 }
	END { for (n in p) if (n in t) print n }')
[ -z "$mixed" ] && pass "$N: no family has a total beside per-phase series" ||
	fail "$N: totals and phases in one family" "$mixed"
for k in HELP TYPE; do
	d=$(grep "^# $k " "$M" | awk '{print $3}' | sort | uniq -d)
	[ -z "$d" ] && pass "$N: # $k once per family" || fail "$N: # $k twice" "$d"
done

# The Pro RGBWW PM: rgb:0 and cct:0 are two series of each reading, by component type.
mf_load
I=$(dev_by_fixture gen2/pro-rgbww-pm)
MAC=$(mac_of "$I")
for c in rgb cct; do
	grep -q "^shelly_output{mac=\"$MAC\",component=\"$c\",channel=\"0\"} " "$M" &&
		pass "$N: RGBWW PM $c:0 output series" ||
		fail "$N: RGBWW PM $c:0 output" "$(grep "mac=\"$MAC\"" "$M" | grep shelly_output)"
done
"$SHELLY_TUI" --probe "$(dev_hp "$I")" >"$T_TMP/probe" 2>&1
grep -q '^  rgb:0 ' "$T_TMP/probe" && grep -q '^  cct:0 ' "$T_TMP/probe" &&
	! grep -q '^  light:0 ' "$T_TMP/probe" &&
	pass "$N: --probe prints rgb:0 and cct:0" || fail "$N: --probe lights" "$(cat "$T_TMP/probe")"
! grep -q ' rssi ' "$T_TMP/probe" && pass "$N: --probe of the RGBWW PM on Ethernet prints no RSSI" ||
	fail "$N: --probe RSSI" "$(grep rssi "$T_TMP/probe")"
# Every device whose WiFi is not connected: no shelly_wifi_rssi_dbm series.
bad=""
for k in $(jq -r '.devices[] | select(.fixture == "gen2/pro-rgbww-pm" or (.fixture | endswith("aioshelly-fw-1.1.0"))) | .index' "$SIM_MANIFEST"); do
	[ "$(curl -s -m 3 "$(hl_url "$k")/rpc/Shelly.GetStatus" | jq -r .wifi.status)" = "got ip" ] && continue
	grep -q "^shelly_wifi_rssi_dbm{mac=\"$(mac_of "$k")\"" "$M" && bad="$bad $(dv "$k" FX)"
	n=$((n + 1))
done
[ -z "$bad" ] && [ "${n:-0}" -ge 3 ] && pass "$N: no RSSI series for the $n devices with WiFi not connected" ||
	fail "$N: RSSI of disconnected WiFi" "served for:$bad (checked ${n:-0})"
# Three-phase meters (Gen1 3EM, Pro 3EM, 3EM-63 Gen3): the meter's total power, its phases'
# in their own family, and the phases add up to the total the device reports.
for fx in gen1/shelly-3em gen2/pro-3em gen3/3em-63-gen3; do
	I=$(dev_by_fixture $fx)
	MAC=$(mac_of "$I")
	tot=$(grep "^shelly_power_watts{mac=\"$MAC\"" "$M" | grep -c . )
	sum=$(grep "^shelly_phase_power_watts{mac=\"$MAC\",.*phase=\"[abc]\"}" "$M" | awk '{ s += $2; n++ } END { if (n == 3) print s }')
	v=$(grep "^shelly_power_watts{mac=\"$MAC\"" "$M" | awk '{ print $2 }')
	[ "$tot" = 1 ] && [ -n "$sum" ] && fnear "$v" "$sum" 1 &&
		pass "$N: $fx: total power $v, phases a/b/c in shelly_phase_power_watts (sum $sum)" ||
		fail "$N: $fx: phase series" "$(grep "mac=\"$MAC\"" "$M" | grep power_watts)"
done
# One temperature series per sensor: a Gen2+ device's internal temperature is its outputs'
# (switch:N, cover:N, light:N), not again as component="device"; a Gen1 device's has that.
twice=$(grep '^shelly_temperature_celsius{' "$M" | sed -n 's/^[^{]*{mac="\([0-9a-f]*\)",component="\([a-z]*\)".*/\1 \2/p' |
	awk '$2 == "device" { d[$1] = 1 } $2 ~ /^(switch|cover|light|rgb|rgbw|cct|rgbcct)$/ { o[$1] = 1 }
	END { for (m in d) if (m in o) print m }')
[ -z "$twice" ] && pass "$N: no device temperature beside its outputs' temperatures" ||
	fail "$N: device temperature twice" "$twice"
MAC=$(mac_of "$(dev_by_fixture gen4/2pm-gen4)")
got=$(grep "^shelly_temperature_celsius{mac=\"$MAC\"" "$M" | sed 's/^[^{]*{mac="[0-9a-f]*",//; s/ .*//' | tr '\n' ' ')
[ -n "$MAC" ] && [ "$got" = 'component="switch",channel="0"} component="switch",channel="1"} ' ] &&
	pass "$N: 2PM Gen4: temperature per switch only ($got)" || fail "$N: 2PM Gen4 temperature" "$got"
MAC=$(mac_of "$(dev_by_fixture gen1/shelly-1l)")
v=$(curl -s -m 3 "$(hl_url "$(dev_by_fixture gen1/shelly-1l)")/status" | jq -r .tmp.tC)
[ -n "$MAC" ] && fnear "$(mval "$M" "shelly_temperature_celsius{mac=\"$MAC\",component=\"device\"}")" "$v" 1 &&
	pass "$N: Gen1 1L: the device's temperature ($v)" ||
	fail "$N: Gen1 1L temperature" "$v; $(grep "mac=\"$MAC\"" "$M" | grep temperature)"
# The Shelly 1L's meter says is_valid false: neither power nor its energy total are served.
I=$(dev_by_fixture gen1/shelly-1l)
v=$(curl -s -m 3 "$(hl_url "$I")/status" | jq -r '.meters[0].is_valid')
MAC=$(mac_of "$I")
[ "$v" = false ] && grep -q "^shelly_output{mac=\"$MAC\",component=\"switch\",channel=\"0\"} " "$M" &&
	! grep -qE "^shelly_(power_watts|energy_joules_total)\{mac=\"$MAC\"" "$M" &&
	pass "$N: Shelly 1L with an invalid meter: no power, no energy series" ||
	fail "$N: Shelly 1L invalid meter" "is_valid=$v $(grep "mac=\"$MAC\"" "$M")"
# The Shelly 1 measures nothing: its meters entry {"power": 0, "is_valid": true} is a
# placeholder, so its switch has an output series and no power series.
I=$(dev_by_fixture gen1/shelly-1)
MAC=$(mac_of "$I")
grep -q "^shelly_output{mac=\"$MAC\",component=\"switch\",channel=\"0\"} " "$M" &&
	! grep -qE "^shelly_(power_watts|energy_joules_total)\{mac=\"$MAC\"" "$M" &&
	pass "$N: Shelly 1 (no metering): no power series" ||
	fail "$N: Shelly 1 power" "$(grep "mac=\"$MAC\"" "$M")"
# Readings beyond outputs: the Gen1 TRV's and the Wall Display's thermostat (target, current
# temperature, the TRV's valve) and the Plus Uni's count input, in /metrics and --probe.
I=$(dev_by_fixture gen1/shelly-trv)
MAC=$(mac_of "$I")
s=$(curl -s -m 3 "$(hl_url "$I")/status" | jq -c '.thermostats[0] | [.target_t.value, .tmp.value, .pos]')
L="mac=\"$MAC\",component=\"thermostat\",channel=\"0\""
got=$(printf '[%s,%s,%s]' "$(mval "$M" "shelly_thermostat_target_celsius{$L}")" \
	"$(mval "$M" "shelly_temperature_celsius{$L}")" "$(mval "$M" "shelly_valve_position_ratio{$L}")")
[ "$(printf '%s' "$s" | jq -c '[.[0], .[1], .[2] / 100]')" = "$(printf '%s' "$got" | jq -c .)" ] &&
	pass "$N: TRV thermostat target, current and valve in /metrics ($got)" ||
	fail "$N: TRV thermostat metrics" "device $s, metrics $got"
"$SHELLY_TUI" --probe "$(dev_hp "$I")" >"$T_TMP/probe" 2>&1
grep -qE '^  thermostat:0 .* target [0-9.]+ C current [0-9.]+ C valve [0-9]+ %' "$T_TMP/probe" &&
	pass "$N: --probe prints the TRV's thermostat" || fail "$N: --probe TRV" "$(cat "$T_TMP/probe")"
I=$(dev_by_fixture gen2/wall-display)
grep -q "^shelly_thermostat_target_celsius{mac=\"$(mac_of "$I")\",component=\"thermostat\",channel=\"0\"} " "$M" &&
	pass "$N: the Wall Display's thermostat target in /metrics" ||
	fail "$N: Wall Display thermostat" "$(grep "mac=\"$(mac_of "$I")\"" "$M" | head -20)"
I=$(dev_by_fixture gen2/plus-uni)
MAC=$(mac_of "$I")
v=$(mval "$M" "shelly_input_count_total{mac=\"$MAC\",component=\"input\",channel=\"2\"}")
[ -n "$v" ] && fle 0 "$v" && grep -q '^# TYPE shelly_input_count_total counter$' "$M" &&
	pass "$N: the Plus Uni's count input is a counter ($v)" ||
	fail "$N: Plus Uni count input" "$(grep "mac=\"$MAC\"" "$M" | grep input)"
"$SHELLY_TUI" --probe "$(dev_hp "$I")" >"$T_TMP/probe" 2>&1
grep -qE '^  input:2 count +total [0-9]+ frequency [0-9.]+ Hz' "$T_TMP/probe" &&
	pass "$N: --probe prints the count input's total and frequency" || fail "$N: --probe count input" "$(cat "$T_TMP/probe")"
# The Gen1 UNI's analog input (adcs) is a voltmeter: its voltage in /metrics and --probe.
I=$(dev_by_fixture gen1/shelly-uni)
MAC=$(mac_of "$I")
v=$(curl -s -m 3 "$(hl_url "$I")/status" | jq -r '.adcs[0].voltage')
got=$(mval "$M" "shelly_voltage_volts{mac=\"$MAC\",component=\"voltmeter\",channel=\"0\"}")
[ -n "$got" ] && fnear "$got" "$v" 0.001 &&
	pass "$N: the UNI's analog input as a voltmeter ($got V)" ||
	fail "$N: UNI voltmeter" "device $v; $(grep "mac=\"$MAC\"" "$M" | grep voltage)"
"$SHELLY_TUI" --probe "$(dev_hp "$I")" >"$T_TMP/probe" 2>&1
grep -qE '^  voltmeter:0 [0-9.]+ V$' "$T_TMP/probe" &&
	pass "$N: --probe prints the UNI's voltmeter" || fail "$N: --probe UNI voltmeter" "$(cat "$T_TMP/probe")"
# Sensor devices' readings beyond battery: the Motion 2's motion and illuminance, the Gas's
# alarm and concentration, the Wall Display's illuminance, each as the device reports it.
# two_sensors FIXTURE WHAT JQ SERIES1 SERIES2 [LABELS1]: the pair JQ reads from the Gen1
# device's /status equals the values of the two series in /metrics.
two_sensors() {
	_i=$(dev_by_fixture "$1")
	_m=$(mac_of "$_i")
	_s=$(curl -s -m 3 "$(hl_url "$_i")/status" | jq -c "$3")
	_g=$(printf '[%s,%s]' "$(mval "$M" "$4{mac=\"$_m\"${6:-}}")" "$(mval "$M" "$5{mac=\"$_m\"}")")
	[ "$_s" = "$(printf '%s' "$_g" | jq -c . 2>/dev/null)" ] &&
		pass "$N: $2 in /metrics ($_g)" || fail "$N: $2" "device $_s, metrics $_g"
}
two_sensors gen1/shelly-motion-2 "Motion 2: motion and illuminance" \
	'[(if .sensor.motion then 1 else 0 end), .lux.value]' shelly_motion_detected shelly_illuminance_lux
I=$(dev_by_fixture gen1/shelly-gas)
"$SHELLY_TUI" --probe "$(dev_hp "$I")" >"$T_TMP/probe" 2>&1
grep -qE '^  gas alarm none sensor normal concentration 0 ppm valve not_connected$' "$T_TMP/probe" &&
	pass "$N: --probe prints the Gas's alarm, sensor, concentration and valve" ||
	fail "$N: --probe Gas" "$(cat "$T_TMP/probe")"
two_sensors gen1/shelly-gas "Gas: alarm and concentration" \
	'[(if .gas_sensor.alarm_state == "none" then 0 else 1 end), .concentration.ppm]' \
	shelly_sensor_alarm shelly_gas_concentration_ppm ',component="gas"'
I=$(dev_by_fixture gen2/wall-display)
MAC=$(mac_of "$I")
v=$(curl -s -m 3 "$(hl_url "$I")/rpc/Shelly.GetStatus" | jq -r '."illuminance:0".lux')
got=$(mval "$M" "shelly_illuminance_lux{mac=\"$MAC\"}")
[ -n "$got" ] && fnear "$got" "$v" 0.001 && pass "$N: the Wall Display's illuminance ($got lux)" ||
	fail "$N: Wall Display illuminance" "device $v, metrics '$got'"
