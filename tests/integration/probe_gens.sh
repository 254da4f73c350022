# shelly-tui --probe against shelly-sim, one device of each kind and generation: Gen1 relay
# (Plug S), Gen1 roller (Shelly 2.5, a fixture written here: tests/fixtures has no Gen1 roller
# capture), Gen1 dimmer and RGBW, Gen1 H&T, Gen2 Plus 1PM, Pro 3EM (phases), Plus 2PM in cover
# mode, Gen3 and Gen4 switches and covers. The readable summary names the model and state
# online; --json carries the manifest's identity and the values the sim reports for its live
# state (control API) or serves (device API). Then every device fixture of tests/fixtures is
# probed once (identity only).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=probe_gens
FX=$T_TMP/fx
mkdir -p "$FX/gen1"
cp -R tests/fixtures/gen1/shelly-plug-s tests/fixtures/gen1/shelly-dimmer-2 tests/fixtures/gen1/shelly-rgbw2 \
	tests/fixtures/gen1/shelly-ht "$FX/gen1/"
cp -R tests/fixtures/gen2 tests/fixtures/gen3 tests/fixtures/gen4 "$FX/"
chmod -R u+w "$FX"

# A Shelly 2.5 in roller mode, in the shape of /shelly, /status and /settings of Gen1 firmware
# 1.14 (keys as documented for roller mode; values chosen here, the sim makes them live).
R=$FX/gen1/shelly-25-roller
mkdir -p "$R"
cat >"$R/shelly.json" <<'EOF'
{"type":"SHSW-25","mac":"C45BBE6A1B2C","auth":false,"fw":"20230913-112234/v1.14.0-gcb84623","discoverable":false,"longid":1,"num_outputs":2,"num_meters":2,"num_rollers":1,"mode":"roller"}
EOF
cat >"$R/status.json" <<'EOF'
{"wifi_sta":{"connected":true,"ssid":"","ip":"10.101.2.90","rssi":-61},"cloud":{"enabled":false,"connected":false},"mqtt":{"connected":false},"time":"11:40","unixtime":1741254000,"serial":512,"has_update":false,"mac":"C45BBE6A1B2C","cfg_changed_cnt":2,"actions_stats":{"skipped":0},
 "relays":[{"ison":false,"has_timer":false,"timer_started":0,"timer_duration":0,"timer_remaining":0,"overpower":false,"is_valid":true,"source":"input"},{"ison":false,"has_timer":false,"timer_started":0,"timer_duration":0,"timer_remaining":0,"overpower":false,"is_valid":true,"source":"input"}],
 "rollers":[{"state":"stop","source":"input","power":0.00,"is_valid":true,"safety_switch":false,"overtemperature":false,"stop_reason":"normal","last_direction":"open","current_pos":100,"calibrating":false,"positioning":true}],
 "meters":[{"power":0.00,"overpower":0.00,"is_valid":true,"timestamp":1741254000,"counters":[0.000,0.000,0.000],"total":1234},{"power":0.00,"overpower":0.00,"is_valid":true,"timestamp":1741254000,"counters":[0.000,0.000,0.000],"total":567}],
 "inputs":[{"input":0,"event":"","event_cnt":0},{"input":1,"event":"","event_cnt":0}],
 "temperature":48.3,"overtemperature":false,"tmp":{"tC":48.3,"tF":118.94,"is_valid":true},"temperature_status":"Normal","voltage":231.4,
 "update":{"status":"idle","has_update":false,"new_version":"20230913-112234/v1.14.0-gcb84623","old_version":"20230913-112234/v1.14.0-gcb84623","beta_version":"20231107-162609/v1.14.1-rc1-g0617c15"},
 "ram_total":50704,"ram_free":36920,"fs_size":233681,"fs_free":150092,"uptime":86400}
EOF
cat >"$R/settings.json" <<'EOF'
{"device":{"type":"SHSW-25","mac":"C45BBE6A1B2C","hostname":"shellyswitch25-C45BBE6A1B2C","num_outputs":2,"num_meters":2,"num_rollers":1,"mode":"roller"},
 "wifi_sta":{"enabled":true,"ssid":"","ipv4_method":"dhcp","ip":null,"gw":null,"mask":null,"dns":null},
 "mqtt":{"enable":false},"sntp":{"server":"time.google.com","enabled":true},"login":{"enabled":false,"unprotected":false,"username":"admin"},
 "name":"Living Room Blinds","fw":"20230913-112234/v1.14.0-gcb84623","mode":"roller","cloud":{"enabled":false,"connected":false},
 "timezone":null,"lat":null,"lng":null,"tzautodetect":true,
 "relays":[{"name":null,"ison":false,"default_state":"off"},{"name":null,"ison":false,"default_state":"off"}],
 "rollers":[{"maxtime":20.00,"maxtime_open":20.00,"maxtime_close":20.00,"default_state":"stop","swap":false,"swap_inputs":false,"input_mode":"openclose","button_type":"toggle","btn_reverse":0,"state":"stop","power":0.00,"is_valid":true,"safety_switch":false,"roller_pos_auto_correct":true,"positioning":true}]}
EOF

MODELS=gen1/shelly-plug-s,gen1/shelly-25-roller,gen1/shelly-dimmer-2,gen1/shelly-rgbw2,gen1/shelly-ht
MODELS=$MODELS,gen2/plus-1pm,gen2/pro-3em,gen2/plus-2pm/cover-mode,gen3/1pm-gen3,gen3/2pm-gen3/cover-mode
MODELS=$MODELS,gen4/1pm-mini-gen4,gen4/2pm-gen4
LOAD=100
if ! sim_start $N --fixtures "$FX" --models "$MODELS" --load $LOAD --cover-speed 100; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi

mf_load
idx() { dev_by_fixture "$1"; }
url() { echo "http://$(dv "$1" HP)$2"; }
get() { curl -s -m 5 "$(url "$1" "$2")"; }

# probe I: runs --probe and --probe --json of device I into $T_TMP/p.txt, $T_TMP/p.json;
# checks the readable summary and the JSON identity (PASS/FAIL lines).
probe() {
	_i=$1 _f=$(dv "$1" FX) _hp=$(dv "$1" HP) _model=$(dv "$1" MODEL)
	"$SHELLY_TUI" --probe "$_hp" >"$T_TMP/p.txt" 2>"$T_TMP/p.err"; _rc=$?
	"$SHELLY_TUI" --probe "$_hp" --json >"$T_TMP/p.json" 2>>"$T_TMP/p.err"; _rcj=$?
	_r=$(jq -r --slurpfile mm "$SIM_MANIFEST" --argjson i "$_i" '$mm[0].devices[$i] as $m |
		"\((.id | ascii_downcase) == ($m.id | ascii_downcase) and .mac == ($m.mac | ascii_downcase)
		and .gen == $m.gen and .model == $m.model and .host == $m.addr and .port == $m.port
		and .state == "online" and .error == null) \(.model_name)"' "$T_TMP/p.json" 2>/dev/null)
	_ok=${_r%% *} _mname=${_r#* }
	if [ $_rc -eq 0 ] && grep -qE '^state +online$' "$T_TMP/p.txt" &&
		grep -qF "[$_model]" "$T_TMP/p.txt" && [ -n "$_mname" ] && [ "$_mname" != null ] &&
		grep -qF "$_mname" "$T_TMP/p.txt"; then
		pass "$N: $_f: readable summary names $_mname [$_model], state online"
	else
		fail "$N: $_f: readable summary" "rc=$_rc model=$_model name=$_mname: $(head -c 400 "$T_TMP/p.txt") $(head -c 300 "$T_TMP/p.err")"
	fi
	if [ $_rcj -eq 0 ] && [ "$_ok" = true ]; then
		pass "$N: $_f: --json id/mac/gen/model/host/port equal the manifest, state online"
	else
		fail "$N: $_f: --json identity" "rc=$_rcj manifest=$(mf ".devices[$_i]" | jq -c .) got=$(jq -c '[.id,.mac,.gen,.model,.host,.port,.state,.error]' "$T_TMP/p.json" 2>&1 | head -c 300)"
	fi
}

# probe_live I JQ: --json of device I between two control reads of its state; JQ sees $p (the
# probe's device object), $a and $b (the sim state before and after) and must yield true.
# Power drifts slowly (sim: load * (1 + 0.015 sin(t/3 s) + 0.005 sin(3.1 t/3 s)), so at most
# about 1.05 % of the load per second), so a probed power lies between the two readings, widened
# by that rate over the time the readings took, plus 0.15 W of rounding.
probe_live() {
	_i=$1 _what=$2 _q=$3
	_t0=$(now_ms)
	_a=$(ctl GET "/devices/$_i/state")
	"$SHELLY_TUI" --probe "$(dv "$_i" HP)" --json >"$T_TMP/l.json" 2>"$T_TMP/l.err"; _rc=$?
	_b=$(ctl GET "/devices/$_i/state")
	_tol=$(( 150 + ($(now_ms) - _t0) * LOAD * 105 / 10000 )) # mW
	_ok=$(jq --argjson a "$_a" --argjson b "$_b" --argjson tol "$_tol" '. as $p | def within(v; x; y):
		v != null and x != null and y != null and v >= ([x, y] | min) - $tol / 1000 and v <= ([x, y] | max) + $tol / 1000;
		'"$_q" "$T_TMP/l.json" 2>&1)
	if [ $_rc -eq 0 ] && [ "$_ok" = true ]; then
		pass "$N: $(dv "$_i" FX): $_what"
	else
		fail "$N: $(dv "$_i" FX): $_what" "rc=$_rc jq=$_ok sim=$(echo "$_a" | jq -c '{switches,covers,lights}') probe=$(jq -c .components "$T_TMP/l.json" 2>&1 | head -c 600)"
	fi
}

# Every switch the sim has is in the probe with the sim's output and power.
SWQ='($a.switches | length) > 0 and ($p.components.switch | length) == ($a.switches | length) and
	all($a.switches[] as $s | ([$b.switches[] | select(.id == $s.id)] | first) as $t |
	    ([$p.components.switch[] | select(.id == $s.id)] | first) as $q |
	    $q.output == $s.on and $t.on == $s.on and
	    (if $s.power_w == null then true else within($q.power_w; $s.power_w; $t.power_w) end); .)'
LTQ='($a.lights | length) > 0 and ($p.components.light | length) == ($a.lights | length) and
	all($a.lights[] as $s | ([$b.lights[] | select(.id == $s.id)] | first) as $t |
	    ([$p.components.light[] | select(.id == $s.id)] | first) as $q |
	    $q.output == $s.on and $q.brightness_pct == $s.brightness and within($q.power_w; $s.power_w; $t.power_w); .)'
CVQ='($a.covers | length) > 0 and ($p.components.cover | length) == ($a.covers | length) and
	all($a.covers[] as $s | ([$p.components.cover[] | select(.id == $s.id)] | first) as $q |
	    $q.position_pct == $s.pos and $q.state == $s.state and $s.state == "stopped" and $q.power_w == 0; .)'

# --- switches: one output turned on through the device's own API, so power is not 0 ---
for f in gen1/shelly-plug-s gen2/plus-1pm gen3/1pm-gen3 gen4/1pm-mini-gen4 gen4/2pm-gen4; do
	i=$(idx $f)
	[ -n "$i" ] || { fail "$N: $f in the manifest" "$(mf '[.devices[].fixture]')"; continue; }
	probe "$i"
	if [ "$(dv "$i" GEN)" = 1 ]; then get "$i" "/relay/0?turn=on" >/dev/null
	else get "$i" "/rpc/Switch.Set?id=0&on=true" >/dev/null; fi
	on=$(dev_state "$i" '.switches[0].on')
	[ "$on" = true ] || fail "$N: $f: switch 0 on through the device API" "sim says $on"
	probe_live "$i" "switch output and power_w equal the sim state (output 0 on)" "$SWQ"
	if [ "$(dv "$i" GEN)" = 1 ]; then get "$i" "/relay/0?turn=off" >/dev/null
	else get "$i" "/rpc/Switch.Set?id=0&on=false" >/dev/null; fi
	probe_live "$i" "switch output and power_w equal the sim state (all off)" \
		"$SWQ"' and all($p.components.switch[]; .output == false and .power_w == 0)'
done

# --- lights: Gen1 Dimmer 2 (white) and RGBW2 (color mode), on at 40 % ---
i=$(idx gen1/shelly-dimmer-2)
probe "$i"
get "$i" "/light/0?turn=on&brightness=40" >/dev/null
probe_live "$i" "light output, brightness and power_w equal the sim state" "$LTQ"' and $p.components.light[0].kind == "white"'
i=$(idx gen1/shelly-rgbw2)
probe "$i"
get "$i" "/color/0?turn=on&gain=40" >/dev/null
c=$(get "$i" /status | jq -c '.lights[0] | [.red, .green, .blue]')
probe_live "$i" "color light output, gain, rgb and power_w equal the sim" \
	"$LTQ"' and $p.components.light[0].kind == "color" and ($p.components.light[0].rgb | tostring) == "'"$c"'"'

# --- covers: move to 30 % through the device API, wait until stopped, compare ---
for f in gen1/shelly-25-roller gen2/plus-2pm/cover-mode gen3/2pm-gen3/cover-mode; do
	i=$(idx $f)
	[ -n "$i" ] || { fail "$N: $f in the manifest" "$(mf '[.devices[].fixture]')"; continue; }
	probe "$i"
	if [ "$(dv "$i" GEN)" = 1 ]; then get "$i" "/roller/0?go=to_pos&roller_pos=30" >/dev/null
	else get "$i" "/rpc/Cover.GoToPosition?id=0&pos=30" >/dev/null; fi
	if wait_for 10 sh -c 'curl -s -m 2 "http://$1/devices/$2/state" | jq -e ".covers[0] | .pos == 30 and .state == \"stopped\"" >/dev/null' sh "$SIM_CTL" "$i"; then
		probe_live "$i" "cover state, position_pct (30) and power_w equal the sim state" "$CVQ"
	else
		fail "$N: $f: cover reaches 30 %" "$(dev_state "$i" .covers)"
	fi
done

# --- Gen1 H&T: the sensors the device serves ---
i=$(idx gen1/shelly-ht)
probe "$i"
s=$(get "$i" /status)
probe_live "$i" "temperature, humidity and battery equal the device's /status" \
	'$p.components.sensor.temperature[0].temperature_c == '"$(echo "$s" | jq .tmp.tC)"' and
	 $p.components.sensor.humidity[0].humidity_pct == '"$(echo "$s" | jq .hum.value)"' and
	 $p.components.sensor.battery_pct == '"$(echo "$s" | jq .bat.value)"' and ($p.components.switch | length) == 0'

# --- Gen2 Pro 3EM: three phases as the device serves them ---
i=$(idx gen2/pro-3em)
probe "$i"
em=$(get "$i" "/rpc/EM.GetStatus?id=0")
emd=$(get "$i" "/rpc/EMData.GetStatus?id=0")
"$SHELLY_TUI" --probe "$(dv "$i" HP)" --json >"$T_TMP/em.json" 2>"$T_TMP/em.err"; rc=$?
ok=$(jq --argjson e "$em" --argjson d "$emd" '.components.meter[0] as $m |
	($m.phases | length) == 3 and $m.power_w == $e.total_act_power and $m.current_a == $e.total_current and
	all(["a", "b", "c"][] as $x | ([$m.phases[] | select(.phase == $x)] | first) as $ph |
	    $ph.power_w == $e[$x + "_act_power"] and $ph.voltage_v == $e[$x + "_voltage"] and
	    $ph.current_a == $e[$x + "_current"] and $ph.pf == $e[$x + "_pf"] and
	    $ph.energy_wh == $d[$x + "_total_act_energy"]; .)' "$T_TMP/em.json" 2>&1)
if [ $rc -eq 0 ] && [ "$ok" = true ]; then
	pass "$N: gen2/pro-3em: meter with phases a/b/c: power, voltage, current, pf, energy equal EM/EMData.GetStatus"
else
	fail "$N: gen2/pro-3em: phases" "rc=$rc jq=$ok em=$em emdata=$(echo "$emd" | head -c 300) probe=$(jq -c '.components.meter' "$T_TMP/em.json" 2>&1 | head -c 800)"
fi
grep -qE '^ +phase a ' "$T_TMP/p.txt" && grep -qE '^ +phase c ' "$T_TMP/p.txt" &&
	pass "$N: gen2/pro-3em: readable summary lists the phases" || fail "$N: gen2/pro-3em: readable phases" "$(cat "$T_TMP/p.txt")"

sim_stop

# --- every device fixture the sim serves: identity (4 probes at once) ---
if ! sim_start $N --fixtures tests/fixtures; then
	fail "$N: sim start (all fixtures)" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
D=$T_TMP/all
mkdir -p "$D"
pids=""
k=0
while [ $k -lt "$D_COUNT" ]; do
	( "$SHELLY_TUI" --probe "$(dv $k HP)" --json >"$D/$k.json" 2>"$D/$k.err"; echo $? >"$D/$k.rc" ) &
	pids="$pids $!"
	k=$((k + 1))
	if [ $((k % 4)) -eq 0 ] || [ $k -eq "$D_COUNT" ]; then wait $pids; pids=""; fi
done
# One line per device: index, exit status, whether the fixture has settings.json (a Gen1 fixture
# without one has no id of its own: only the MAC in the probed id can be checked), the output.
k=0
while [ $k -lt "$D_COUNT" ]; do
	[ -f "tests/fixtures/$(dv $k FX)/settings.json" ] && st=1 || st=0
	printf '%s\t%s\t%s\t' "$k" "$(cat "$D/$k.rc")" "$st"
	tr '\n\t' '  ' <"$D/$k.json"
	echo
	k=$((k + 1))
done >"$D/all.tsv"
jq -R -r --slurpfile mm "$SIM_MANIFEST" 'split("\t") as $f | ($f[0] | tonumber) as $k | $mm[0].devices[$k] as $m |
	($f[3] | fromjson? // null) as $p |
	(if $p == null then false else
	 (if $m.gen == 1 and $f[2] == "0" then ($p.id | ascii_downcase | endswith($m.mac | ascii_downcase))
	  else ($p.id | ascii_downcase) == ($m.id | ascii_downcase) end) and $p.mac == ($m.mac | ascii_downcase) and
	 $p.gen == $m.gen and $p.model == $m.model and $p.state == "online" and $p.model_name != null end) as $ok |
	"\($m.gen)\t\($ok and $f[1] == "0")\t\($m.fixture) rc=\($f[1]) \($p | if . == null then "no JSON" else [.id, .mac, .gen, .model, .state, .error] | tostring end)"' \
	"$D/all.tsv" >"$D/verdict.tsv"
for g in 1 2 3 4; do
	cnt=$(awk -F'\t' -v g=$g '$1 == g' "$D/verdict.tsv" | wc -l)
	bad=$(awk -F'\t' -v g=$g '$1 == g && $2 != "true" { printf " %s;", $3 }' "$D/verdict.tsv")
	if [ "$cnt" -gt 0 ] && [ -z "$bad" ]; then
		pass "$N: every gen$g fixture device ($cnt) probes online with the manifest's identity"
	else
		fail "$N: every gen$g fixture device ($cnt) probes online with the manifest's identity" "$bad"
	fi
done
exit 0
