# --headless against a mixed simulated fleet for several cycles: DB contents, /metrics values
# equal to the sim's state (promtool clean), health endpoints, output changes as events, and
# metrics hygiene (escaped label values, removed devices dropped after SIGHUP).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
command -v promtool >/dev/null 2>&1 || { skip headless_poll "needs promtool"; exit 0; }

N=headless_poll
# 0 Plug S (gen1, on), 1 Plus 1PM, 2 1PM Gen3, 3 1PM Mini Gen4, 4 Shelly 1, 5 Plus Plug S,
# 6 H&T (gen1), 7 Plus H&T, 8 Plug S (no name), 9 Plus 2PM cover, 10 Dimmer 2 (added later).
MODELS=gen1/shelly-plug-s,gen2/plus-1pm,gen3/1pm-gen3,gen4/1pm-mini-gen4,gen1/shelly-1,gen2/plus-plug-s
MODELS=$MODELS,gen1/shelly-ht,gen2/plus-ht,gen1/shelly-plug-s,gen2/plus-2pm/cover-mode,gen1/shelly-dimmer-2
if ! sim_start $N --fixtures tests/fixtures --models "$MODELS" --count 11 --load 100; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
NDEV=10
DB=$T_TMP/shelly.db
CONF=$T_TMP/config
hl_config "$CONF" "set request-timeout 5s" "set connect-timeout 3s" # healthy devices: no timeouts from load
i=0
while [ $i -lt $NDEV ]; do
	hl_add "$DB" $i || { fail "$N: --add device $i" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
	i=$((i + 1))
done
# Outputs on so that power and energy move: the Gen3 switch and the dimmer's light.
curl -s -m 3 "$(hl_url 2)/rpc/Switch.Set?id=0&on=true" >/dev/null

if ! hl_start a "$DB" "$CONF"; then
	fail "$N: --headless starts and prints its metrics URL" "$(cat "$(hl_err a)")"
	exit 1
fi
pass "$N: --headless prints its metrics URL"

# --- readiness, then several cycles ---
wait_for 10 sh -c '[ "$(curl -s -m 2 -o /dev/null -w "%{http_code}" "$1")" = 200 ]' sh \
	"http://127.0.0.1:$(hl_port a)/readyz" &&
	hl_get a /readyz | grep -q "^ready: $NDEV devices" &&
	pass "$N: /readyz 200 once every device was attempted" ||
	fail "$N: /readyz" "$(hl_code a /readyz) $(hl_get a /readyz)"

# Several cycles: at least 5 history samples for every device.
h_enough() { [ "$(sq "$DB" "SELECT count(*) FROM (SELECT mac FROM history GROUP BY mac HAVING count(*) >= $1)")" = "$NDEV" ]; }
wait_for 20 h_enough 5 && pass "$N: history has >= 5 samples for all $NDEV devices" ||
	fail "$N: history samples" "$(sq "$DB" 'SELECT mac, count(*) FROM history GROUP BY mac')"
h1=$(sq "$DB" 'SELECT count(*) FROM history')
wait_for 10 sh -c '[ "$(sqlite3 -cmd ".timeout 5000" "$1" "SELECT count(*) FROM history")" -ge "$2" ]' sh "$DB" $((h1 + 2 * NDEV)) &&
	pass "$N: history keeps growing ($h1 -> $(sq "$DB" 'SELECT count(*) FROM history') rows)" ||
	fail "$N: history grows" "$h1 -> $(sq "$DB" 'SELECT count(*) FROM history')"

# Status rows: one per device, all online, keyed by the manifest's MACs.
want=$(jq -r "[.devices[:$NDEV][].mac | ascii_downcase] | sort | join(\" \")" "$SIM_MANIFEST")
got=$(sq "$DB" "SELECT group_concat(mac, ' ') FROM (SELECT mac FROM status WHERE state = 'online' ORDER BY mac)")
[ "$got" = "$want" ] && pass "$N: status rows online for all $NDEV devices" || fail "$N: status rows" "want '$want' got '$got'"
# The status row and history sum the components by their field table: the Plus 2PM in cover
# mode reports no temperature of its own, so both carry its cover's (from the device's reply).
M9=$(mac_of 9)
want=$(curl -s -m 3 "$(hl_url 9)/rpc/Shelly.GetStatus" | jq '."cover:0".temperature.tC')
got=$(sq "$DB" "SELECT temperature_c FROM status WHERE mac = '$M9'")
hgot=$(sq "$DB" "SELECT count(*) FROM history WHERE mac = '$M9' AND temperature_c = $want")
[ -n "$want" ] && [ "$want" != null ] && [ "$got" = "$want" ] && [ "$hgot" -ge 1 ] &&
	pass "$N: cover device: status and history temperature = its cover's ($want C)" ||
	fail "$N: cover device temperature" "device $want, status '$got', history rows with it: $hgot"
[ "$(sq "$DB" "SELECT count(*) FROM events WHERE kind = 'online'")" -ge $NDEV ] &&
	pass "$N: online events recorded" || fail "$N: online events" "$(sq "$DB" 'SELECT kind, count(*) FROM events GROUP BY kind')"

# --- /metrics: format, headers ---
ct=$(curl -s -m 5 -o "$T_TMP/m1" -D - "http://127.0.0.1:$(hl_port a)/metrics" | tr -d '\r' | sed -n 's/^[Cc]ontent-[Tt]ype: //p')
case $ct in
"text/plain; version=0.0.4"*) pass "$N: /metrics Content-Type $ct" ;;
*) fail "$N: /metrics Content-Type" "'$ct'" ;;
esac
if out=$(promtool check metrics <"$T_TMP/m1" 2>&1); then pass "$N: promtool check metrics"; else fail "$N: promtool check metrics" "$out"; fi
# --list-metrics (and so the man page, tests/integration/docs.sh) names every family served.
served=$(sed -n 's/^# TYPE \([a-z_]*\) \([a-z]*\)$/\1 \2/p' "$T_TMP/m1")
listed=$("$SHELLY_TUI" --list-metrics | awk '{print $1, $2}')
[ -n "$served" ] && [ "$served" = "$listed" ] && pass "$N: --list-metrics lists every family /metrics serves, in order" ||
	fail "$N: --list-metrics = /metrics families" "$(printf '%s\n' "$listed" >"$T_TMP/listed"; printf '%s\n' "$served" | diff "$T_TMP/listed" - | head -8)"
[ "$(hl_code a /healthz)" = 200 ] && pass "$N: /healthz 200" || fail "$N: /healthz" "$(hl_code a /healthz)"
[ "$(hl_code a /nope)" = 404 ] && [ "$(hl_code a /metricsx)" = 404 ] && [ "$(hl_code a /)" = 404 ] &&
	pass "$N: unknown paths 404" || fail "$N: unknown path" "$(hl_code a /nope) $(hl_code a /)"

# --- /metrics values = the sim's state (read right after the metrics) ---
# Each device's expected series as "SERIES<TAB>VALUE<TAB>TOLERANCE". Energy: joules = Wh * 3600,
# moving by power_w per second (Gen1 counts whole watt-minutes: 60 J): up to 10 s between the
# poll behind the scrape and the snapshot on a loaded machine.
EXPECT='def ser(n; c; ch): "\(n){mac=\"\($id)\",component=\"\(c)\",channel=\"\(ch)\"}";
	(.switches[] | ([ser("shelly_output"; "switch"; .id), (if .on then 1 else 0 end), 0],
		(select(.power_w != null) | [ser("shelly_power_watts"; "switch"; .id), .power_w, 2 + .power_w * 0.05]),
		(select(.energy_wh != null) | [ser("shelly_energy_joules_total"; "switch"; .id), .energy_wh * 3600,
			61 + ((.power_w // 0) + 1) * 10]))),
	(.covers[] | [ser("shelly_cover_position_ratio"; "cover"; .id), .pos / 100, 0.011]),
	(.lights[] | ([ser("shelly_output"; "light"; .id), (if .on then 1 else 0 end), 0],
		[ser("shelly_light_brightness_ratio"; "light"; .id), .brightness / 100, 0.001])),
	["shelly_device_uptime_seconds{mac=\"\($id)\"}", .uptime_s, 10],
	["shelly_device_up{mac=\"\($id)\"}", 1, 0]
	| @tsv'
TAB=$(printf '\t')
compare_metrics() { # METRICS_FILE LABEL: every expected series of every device
	_bad="" _n=0
	# One snapshot of every device, taken right after the scrape.
	ctl GET /devices | jq -r ".devices[:$NDEV][] | (.mac | ascii_downcase) as \$id | $EXPECT" >"$T_TMP/expect"
	while IFS=$TAB read -r series want tol; do
		v=$(mval "$1" "$series")
		_n=$((_n + 1))
		fnear "$v" "$want" "$tol" || _bad="$_bad [$series = '$v', sim $want +- $tol]"
	done <"$T_TMP/expect"
	[ -z "$_bad" ] && [ $_n -ge 40 ] && pass "$N: $2: $_n series equal the sim's state" ||
		fail "$N: $2: metrics = sim state" "$_n series;$_bad"
}
hl_metrics a "$T_TMP/m2"
compare_metrics "$T_TMP/m2" "metrics"

# Energy moves: the Plug S counter (on, 100 W) grows between two scrapes.
E0=$(mval "$T_TMP/m2" "shelly_energy_joules_total{mac=\"$(mac_of 0)\",component=\"switch\",channel=\"0\"}")
wait_for 10 sh -c '[ "$(curl -s -m 2 "$1" | grep -F "$2" | awk "{print (\$2 > $3)}")" = 1 ]' sh \
	"http://127.0.0.1:$(hl_port a)/metrics" "shelly_energy_joules_total{mac=\"$(mac_of 0)\"," "${E0:-0}" &&
	pass "$N: energy counter grows (from $E0 J)" || fail "$N: energy counter grows" "$E0"

# RSSI, as each device reports it, for every device; temperature, humidity and battery of the H&Ts.
bad=""
i=0
while [ $i -lt $NDEV ]; do
	if [ "$(mf ".devices[$i].gen")" = 1 ]; then r=$(curl -s -m 3 "$(hl_url $i)/status" | jq -r .wifi_sta.rssi)
	else r=$(curl -s -m 3 "$(hl_url $i)/rpc/Wifi.GetStatus" | jq -r .rssi); fi
	v=$(mval "$T_TMP/m2" "shelly_wifi_rssi_dbm{mac=\"$(mac_of $i)\"}")
	fnear "$v" "$r" 0 || bad="$bad $(id_of $i)=$v(device $r)"
	i=$((i + 1))
done
[ -z "$bad" ] && pass "$N: RSSI of every device as the device reports it" || fail "$N: RSSI" "$bad"
s=$(curl -s -m 3 "$(hl_url 6)/status")
bad=""
for pair in "shelly_temperature_celsius{mac=\"$(mac_of 6)\",component=\"temperature\",channel=\"0\"} $(echo "$s" | jq .tmp.tC)" \
	"shelly_humidity_ratio{mac=\"$(mac_of 6)\",component=\"humidity\",channel=\"0\"} $(echo "$s" | jq '.hum.value / 100')" \
	"shelly_battery_ratio{mac=\"$(mac_of 6)\"} $(echo "$s" | jq '.bat.value / 100')" \
	"shelly_temperature_celsius{mac=\"$(mac_of 7)\",component=\"temperature\",channel=\"0\"} $(curl -s -m 3 "$(hl_url 7)/rpc/Temperature.GetStatus?id=0" | jq .tC)" \
	"shelly_humidity_ratio{mac=\"$(mac_of 7)\",component=\"humidity\",channel=\"0\"} $(curl -s -m 3 "$(hl_url 7)/rpc/Humidity.GetStatus?id=0" | jq '.rh / 100')" \
	"shelly_battery_ratio{mac=\"$(mac_of 7)\"} $(curl -s -m 3 "$(hl_url 7)/rpc/DevicePower.GetStatus?id=0" | jq '.battery.percent / 100')"; do
	series=${pair% *} want=${pair##* }
	v=$(mval "$T_TMP/m2" "$series")
	fnear "$v" "$want" 0.0001 || bad="$bad [$series = '$v', device $want]"
done
[ -z "$bad" ] && pass "$N: H&T temperature, humidity, battery as the devices report them" ||
	fail "$N: H&T sensors" "$bad; the file has: $(grep -E 'shelly_(temperature|humidity)' "$T_TMP/m2" | grep -F -e "$(id_of 6)" -e "$(id_of 7)" | tr '\n' ' ')"

# shelly_device_info carries identity; value series carry only id (+ component/channel).
bad=""
i=0
while [ $i -lt $NDEV ]; do
	grep -q "^shelly_device_info{mac=\"$(mac_of $i)\",id=\"$(id_of $i)\",.*model=\"$(mf ".devices[$i].model")\",gen=\"$(mf ".devices[$i].gen")\",.*ip=\"$(mf ".devices[$i].addr")\"} 1$" "$T_TMP/m2" ||
		bad="$bad $(id_of $i)"
	i=$((i + 1))
done
[ -z "$bad" ] && pass "$N: shelly_device_info for every device (mac, model, gen, ip)" || fail "$N: device_info" "$bad"
grep -v '^#' "$T_TMP/m2" | grep -v '^shelly_device_info{' | grep -q -E 'model=|fw=|ip=|name=' &&
	fail "$N: identity labels only on shelly_device_info" "$(grep -v '^#' "$T_TMP/m2" | grep -v '^shelly_device_info' | grep -E 'model=|ip=' | head -2)" ||
	pass "$N: identity labels only on shelly_device_info"

# --- output changes: sim switch -> output_changed event and metric ---
t0=$(now_ms)
M1=$(mac_of 1)
curl -s -m 3 -X POST -d '{"id":0,"on":true}' "$(hl_url 1)/rpc/Switch.Set" >/dev/null
[ "$(sim_state 1 '.switches[0].on')" = true ] || fail "$N: sim switched device 1 on"
wait_for 10 sh -c '[ "$(sqlite3 -cmd ".timeout 5000" "$1" "SELECT count(*) FROM events WHERE mac = '"'"'$2'"'"' AND kind = '"'"'output_changed'"'"' AND ts >= $3")" -ge 1 ]' sh "$DB" "$M1" "$t0" &&
	pass "$N: gen2 Switch.Set on -> output_changed event" ||
	fail "$N: gen2 output_changed event" "$(sq "$DB" "SELECT ts, kind, detail FROM events WHERE mac = '$M1'")"
SER="shelly_output{mac=\"$(mac_of 1)\",component=\"switch\",channel=\"0\"}"
wait_for 10 sh -c '[ "$(curl -s -m 2 "$1" | grep -F "$2 " | cut -d" " -f2)" = 1 ]' sh "http://127.0.0.1:$(hl_port a)/metrics" "$SER" &&
	pass "$N: gen2 switch on -> shelly_output 1" || fail "$N: gen2 shelly_output" "$(hl_metric a "$SER")"
PSER="shelly_power_watts{mac=\"$(mac_of 1)\",component=\"switch\",channel=\"0\"}"
wait_for 10 sh -c 'p=$(curl -s -m 2 "$1" | grep -F "$2 " | cut -d" " -f2); [ -n "$p" ] && awk -v p="$p" -v w="$3" "BEGIN { d = p - w; exit !(d < 5 && d > -5) }"' sh \
	"http://127.0.0.1:$(hl_port a)/metrics" "$PSER" "$(sim_state 1 '.switches[0].power_w')" &&
	pass "$N: gen2 switch on -> power = sim's ($(sim_state 1 '.switches[0].power_w') W)" ||
	fail "$N: gen2 power after switch" "metric $(hl_metric a "$PSER"), sim $(sim_state 1 '.switches[0].power_w')"
t0=$(now_ms)
M0=$(mac_of 0)
curl -s -m 3 "$(hl_url 0)/relay/0?turn=off" >/dev/null
wait_for 10 sh -c '[ "$(sqlite3 -cmd ".timeout 5000" "$1" "SELECT count(*) FROM events WHERE mac = '"'"'$2'"'"' AND kind = '"'"'output_changed'"'"' AND ts >= $3")" -ge 1 ]' sh "$DB" "$M0" "$t0" &&
	pass "$N: gen1 relay off -> output_changed event" ||
	fail "$N: gen1 output_changed event" "$(sq "$DB" "SELECT ts, kind, detail FROM events WHERE mac = '$M0'")"
SER="shelly_output{mac=\"$(mac_of 0)\",component=\"switch\",channel=\"0\"}"
wait_for 10 sh -c '[ "$(curl -s -m 2 "$1" | grep -F "$2 " | cut -d" " -f2)" = 0 ]' sh "http://127.0.0.1:$(hl_port a)/metrics" "$SER" &&
	pass "$N: gen1 relay off -> shelly_output 0" || fail "$N: gen1 shelly_output" "$(hl_metric a "$SER")"
# The status row follows: outputs_on of the Plus 1PM is 1.
wait_for 10 sh -c '[ "$(sqlite3 -cmd ".timeout 5000" "$1" "SELECT outputs_on FROM status WHERE mac = '"'"'$2'"'"'")" = 1 ]' sh "$DB" "$M1" &&
	pass "$N: status row outputs_on follows the switch" || fail "$N: status outputs_on" "$(sq "$DB" "SELECT outputs_on FROM status WHERE mac = '$M1'")"

# A second full comparison after the changes.
hl_metrics a "$T_TMP/m3"
compare_metrics "$T_TMP/m3" "metrics after switching"

# --- hygiene: escaped label values, removed devices dropped ---
# Device 10 added with a name holding a quote and a backslash; device 8 (no name) renames
# itself with a quote, a newline and a backslash; device 9 is removed. SIGHUP reloads.
if hl_add "$DB" 10 --name 'a"b\c'; then pass "$N: --add --name with quote and backslash"; else fail "$N: --add --name" "$(tail -n 3 "$T_TMP/add.err")"; fi
c0=$(curl -s -m 3 "$(hl_url 8)/status" | jq -r .cfg_changed_cnt)
curl -s -m 3 "$(hl_url 8)/settings?name=q%22x%0Ay%5Cz%1B%5B31m%E2%80%AEw%0D" >/dev/null
[ "$(curl -s -m 3 "$(hl_url 8)/settings" | jq -r .name)" = "$(printf 'q"x\ny\\z\033[31m\342\200\256w\r')" ] || fail "$N: sim renamed device 8" "$(curl -s -m 3 "$(hl_url 8)/settings" | jq .name)"
ID9=$(id_of 9)
"$SHELLY_TUI" --db "$DB" --remove "$ID9" >"$T_TMP/rm.out" 2>&1 && pass "$N: --remove while --headless runs" || fail "$N: --remove" "$(cat "$T_TMP/rm.out")"
kill -HUP "$(hl_pid a)"
wait_for 5 grep -q 'reloaded' "$(hl_err a)" && pass "$N: SIGHUP logs the reload" || fail "$N: SIGHUP log" "$(tail -n 5 "$(hl_err a)")"
gone() { hl_metrics a "$T_TMP/m4" && ! grep -q "id=\"$ID9\"" "$T_TMP/m4"; }
wait_for 5 gone && pass "$N: removed device gone from /metrics after SIGHUP" ||
	fail "$N: removed device in /metrics" "$(grep "id=\"$ID9\"" "$T_TMP/m4" | head -3)"
# And it is not polled any more, while the others are.
ctl POST /devices/9/reset-counters >/dev/null
ctl POST /devices/1/reset-counters >/dev/null
wait_for 10 sh -c '[ "$(curl -s -m 2 "http://$1/devices/1/state" | jq .counters.requests)" -ge 5 ]' sh "$SIM_CTL" &&
	[ "$(sim_state 9 .counters.requests)" = 0 ] && pass "$N: removed device no longer polled" ||
	fail "$N: removed device polled" "device 9: $(sim_state 9 .counters.requests) requests, device 1: $(sim_state 1 .counters.requests)"
ID10=$(id_of 10)
named() { hl_metrics a "$T_TMP/m5" && grep -q "^shelly_device_info{mac=\"$(mac_of 10)\",id=\"$ID10\"" "$T_TMP/m5"; }
wait_for 10 named && grep -F "shelly_device_info{mac=\"$(mac_of 10)\",id=\"$ID10\"," "$T_TMP/m5" | grep -qF 'name="a\"b\\c"' &&
	pass "$N: name label escaped (a\\\"b\\\\c)" || fail "$N: name label escaping" "$(grep -F "id=\"$ID10\"" "$T_TMP/m5" | head -1)"
# The device's own new name loses ESC, CR, LF and U+202E (a terminal reading /metrics would
# obey them); quote and backslash are escaped.
renamed() { hl_metrics a "$T_TMP/m6" && grep -F "shelly_device_info{mac=\"$(mac_of 8)\"," "$T_TMP/m6" | grep -qF 'name="q\"xy\\zw"'; }
wait_for 10 renamed && pass "$N: device-reported name: quote, backslash escaped; escape sequences, CR, LF, U+202E removed whole" ||
	fail "$N: device name escaping" "$(grep -F "mac=\"$(mac_of 8)\"" "$T_TMP/m6" | head -1 | od -c | head -5)"
hl_metrics a "$T_TMP/m7"
if out=$(promtool check metrics <"$T_TMP/m7" 2>&1); then pass "$N: promtool still passes with escaped labels"; else fail "$N: promtool with escaped labels" "$out"; fi
# Every sample line is one line: name{labels} value.
bad=$(grep -v '^#' "$T_TMP/m7" | grep -vE '^[a-z_]+(\{.*\})? [-+0-9.eE]+$|^[a-z_]+(\{.*\})? [-+]?Inf$|^[a-z_]+(\{.*\})? NaN$' | head -3)
[ -z "$bad" ] && pass "$N: every sample is one well-formed line" || fail "$N: malformed lines" "$bad"

hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: SIGTERM exits 0 (${HL_MS} ms)" || fail "$N: SIGTERM exit" "rc=$HL_RC: $(tail -n 5 "$(hl_err a)")"
r=$(sq "$DB" 'PRAGMA integrity_check')
[ "$r" = ok ] && pass "$N: DB integrity_check ok" || fail "$N: integrity_check" "$r"
sim_stop
exit 0
