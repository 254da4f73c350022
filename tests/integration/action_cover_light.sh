# shelly-tui --action on covers and lights. Covers: cover_position 40 on a Gen2 Plus 2PM in
# cover mode and a Gen1 Shelly 2.5 in roller mode (a fixture written here: tests/fixtures has no
# Gen1 roller capture), then open, close and stop; the sim's position (control API, polled with
# a bound) must reach what was asked. Lights: light_brightness, light_off, light_on and
# light_toggle on a Gen1 Dimmer 2 (/light/N), RGBW2 in colour mode (/color/N, mode from /shelly)
# and in white mode (/white/N), a Color Bulb (mode only in /settings), a Gen2 Pro Dimmer 1PM
# (Light.Set) and a Plus RGBW PM in rgb profile (RGB.Set); the sim's light state and the device
# API each used (request counters by path) are checked.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=action_cover_light
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
# Handshakes and replies of the ASan tree on a loaded machine take seconds.
mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
printf 'set connect-timeout 10s\nset request-timeout 15s\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
unset SHELLY_TUI_PASSWORD
FX=$T_TMP/fx
mkdir -p "$FX/gen1" "$FX/gen2"
cp -R tests/fixtures/gen1/shelly-dimmer-2 tests/fixtures/gen1/shelly-rgbw2 tests/fixtures/gen1/shelly-color-bulb "$FX/gen1/"
cp -R tests/fixtures/gen2/plus-2pm tests/fixtures/gen2/pro-dimmer-1pm tests/fixtures/gen2/plus-rgbw-pm "$FX/gen2/"
chmod -R u+w "$FX"

# A Shelly 2.5 in roller mode, shaped like /shelly, /status and /settings of Gen1 firmware 1.14
# (keys as documented for roller mode; values chosen here, the sim makes them live).
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

MODELS=gen2/plus-2pm/cover-mode,gen1/shelly-25-roller
MODELS=$MODELS,gen1/shelly-dimmer-2,gen1/shelly-rgbw2,gen1/shelly-rgbw2/white-mode,gen1/shelly-color-bulb
MODELS=$MODELS,gen2/pro-dimmer-1pm,gen2/plus-rgbw-pm
sim_up $N --fixtures "$FX" --models "$MODELS" --cover-speed 10
idx() { dev_by_fixture "$1"; }
hps() { for _k in "$@"; do printf '%s ' "$(dv $_k HP)"; done; }
CG2=$(idx gen2/plus-2pm/cover-mode) CG1=$(idx gen1/shelly-25-roller)
[ -n "$CG2" ] && [ -n "$CG1" ] || { fail "$N: covers in the manifest" "$(mf '[.devices[].fixture]')"; exit 1; }

# cover_wait I JQ: polls the sim state of device I (20 s bound) until .covers[0] satisfies JQ.
# Covers move at 10 %/s, so a close (10 s) is still under way when cover_stop comes.
cover_wait() {
	wait_for 20 sh -c 'curl -s -m 2 "http://$1/devices/$2/state" | jq -e ".covers[0] | $3" >/dev/null' sh "$SIM_CTL" "$1" "$2"
}

# --- cover_position 40 on both covers in one run ---
"$SHELLY_TUI" --action cover_position --value 40 $(hps $CG2 $CG1) >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
for k in $CG2 $CG1; do
	[ "$k" = "$CG2" ] && n=1 || n=2
	if [ $rc -eq 0 ] && sed -n "${n}p" "$T_TMP/o" | grep -qE '^OK +[^ ]+ cover:0 moving to 40%' &&
		cover_wait $k '.pos == 40 and .state == "stopped"'; then
		pass "$N: $(dv $k FX): cover_position 40 -> the sim's cover stops at 40 %"
	else
		fail "$N: $(dv $k FX): cover_position 40" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 300) sim $(dev_state $k '.covers | tojson')"
	fi
done

# --- JSON: open both; the Gen1 roller's reply has a position, the Gen2 RPC result has none ---
"$SHELLY_TUI" --action cover_open --json $(hps $CG2 $CG1) >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
ok=$(jq '[.results[0].ok, .results[1].ok] == [true, true] and .results[0].position == null and
	(.results[1].position | type) == "number" and .results[1].position >= 40 and .results[1].position <= 100 and
	.summary == {"ok": 2, "failed": 0}' "$T_TMP/j" 2>&1)
if [ $rc -eq 0 ] && [ "$ok" = true ] && cover_wait $CG2 '.pos == 100 and .state == "open"' &&
	cover_wait $CG1 '.pos == 100 and .state == "open"'; then
	pass "$N: cover_open --json on both: ok, Gen1 position from the roller reply, both reach 100 %"
else
	fail "$N: cover_open --json" "rc=$rc jq=$ok $(jq -c .results "$T_TMP/j" 2>&1 | head -c 400) sim $(dev_state $CG2 '.covers | tojson') $(dev_state $CG1 '.covers | tojson')"
fi

# --- close, then stop while moving: stopped somewhere between. A close takes 10 s here; should
# a very slow machine let it finish before the stop arrives, the cycle (open, close, stop) is
# tried again, at most three times. ---
try=0
while :; do
	try=$((try + 1))
	t0=$(now_ms)
	"$SHELLY_TUI" --action cover_close $(hps $CG2 $CG1) >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	"$SHELLY_TUI" --action cover_stop $(hps $CG2 $CG1) >>"$T_TMP/o" 2>>"$T_TMP/e"; rc2=$?
	gap=$(( $(now_ms) - t0 ))
	cover_wait $CG2 '.state != "closing"' && cover_wait $CG1 '.state != "closing"'
	if [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ "$(grep -cE '^OK +[^ ]+ cover:0 closing' "$T_TMP/o")" = 2 ] &&
		[ "$(grep -cE '^OK +[^ ]+ cover:0 stopped' "$T_TMP/o")" = 2 ] &&
		cover_wait $CG2 '.state == "stopped" and .pos > 0 and .pos < 100' &&
		cover_wait $CG1 '.state == "stopped" and .pos > 0 and .pos < 100'; then
		pass "$N: cover_close then cover_stop: both covers stop between 0 and 100 % (attempt $try, ${gap} ms)"
		break
	fi
	if [ $try -ge 3 ] || [ $gap -lt 8000 ]; then
		fail "$N: close/stop" "attempt $try, ${gap} ms rc=$rc/$rc2 $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400) sim $(dev_state $CG2 '.covers | tojson') $(dev_state $CG1 '.covers | tojson')"
		break
	fi
	"$SHELLY_TUI" --action cover_open $(hps $CG2 $CG1) >/dev/null 2>&1
	cover_wait $CG2 '.pos == 100 and .state == "open"' && cover_wait $CG1 '.pos == 100 and .state == "open"'
done

# --- lights ---
# light_check ACTION VALUE-ARGS JQ-ON-SIM-LIGHT0 TEXT-REGEX [INDEXES]: one run over the light
# devices (default: all of them).
# The Color Bulb takes part in on/off only: in colour mode its brightness is "gain" (as the
# client sends it), while the sim keeps "brightness" for any light whose status has that key.
LIGHTS="gen1/shelly-dimmer-2 gen1/shelly-rgbw2 gen1/shelly-rgbw2/white-mode gen1/shelly-color-bulb gen2/pro-dimmer-1pm gen2/plus-rgbw-pm"
LI="" LB=""
for f in $LIGHTS; do
	k=$(idx $f) || { fail "$N: $f in the manifest" "$(mf '[.devices[].fixture]')"; exit 1; }
	LI="$LI $k"
	[ "$f" = gen1/shelly-color-bulb ] || LB="$LB $k"
done
light_check() {
	_act=$1 _args=$2 _q=$3 _re=$4 _set=${5:-$LI}
	# shellcheck disable=SC2086
	"$SHELLY_TUI" --action $_act $_args $(hps $_set) >"$T_TMP/o" 2>"$T_TMP/e"; _rc=$?
	_bad="" _n=0 _cnt=0
	for _k in $_set; do
		_n=$((_n + 1))
		# the Plus RGBW PM's profile is rgb: the request goes to RGB.Set, and says rgb:0
		_c=light
		[ "$(dv $_k FX)" = gen2/plus-rgbw-pm ] && _c=rgb
		sed -n "${_n}p" "$T_TMP/o" | grep -qE -e "^OK +[^ ]+ $_c:0 $_re\$" || _bad="$_bad [$(dv $_k FX): $(sed -n "${_n}p" "$T_TMP/o")]"
		[ "$(dev_state $_k ".lights[0] | $_q")" = true ] || _bad="$_bad [$(dv $_k FX) sim: $(dev_state $_k '.lights[0] | tojson')]"
	done
	if [ $_rc -eq 0 ] && [ -z "$_bad" ]; then
		pass "$N: $_act${_args:+ $_args} on $(echo $_set | wc -w) lights: the sim's state and the result lines agree"
	else
		fail "$N: $_act $_args" "rc=$_rc$_bad $(head -c 300 "$T_TMP/e")"
	fi
}
ctl POST /reset-counters >/dev/null
light_check light_brightness "--value 30" '.on == true and .brightness == 30' 'on 30%' "$LB"
light_check light_off "" '.on == false' 'off'
light_check light_on "" '.on == true' 'on( [0-9]+%)?'
light_check light_toggle "" '.on == false' '(off|toggled)'
light_check light_on "" '.on == true and .brightness == 30' 'on( 30%)?' "$LB"
light_check light_brightness "--value 0" '.on == false' 'off'

# The API each device was driven through (sim request counters by path).
api_ok() { # FIXTURE PATH MIN: the device saw at least MIN requests on PATH
	_k=$(idx "$1")
	_c=$(dev_state $_k ".counters.by_path[\"$2\"] // 0")
	if [ "$_c" -ge "$3" ]; then pass "$N: $1: driven through $2 ($_c requests)"
	else fail "$N: $1: driven through $2" "$(dev_state $_k '.counters.by_path | tojson')"; fi
}
api_ok gen1/shelly-dimmer-2 /light/0 6
api_ok gen1/shelly-rgbw2 /color/0 6
api_ok gen1/shelly-rgbw2/white-mode /white/0 6
api_ok gen1/shelly-color-bulb /color/0 4
api_ok gen2/pro-dimmer-1pm /rpc/Light.Set 5
api_ok gen2/pro-dimmer-1pm /rpc/Light.Toggle 1
api_ok gen2/plus-rgbw-pm /rpc/RGB.Set 5
k=$(idx gen1/shelly-color-bulb)
[ "$(dev_state $k '.counters.by_path["/settings"] // 0')" -ge 1 ] && pass "$N: the bulb's colour mode was read from /settings" ||
	fail "$N: bulb /settings" "$(dev_state $k '.counters.by_path | tojson')"
k=$(idx gen1/shelly-dimmer-2)
[ "$(dev_state $k '.counters.by_path["/settings"] // 0')" = 0 ] && pass "$N: the dimmer needed no /settings read" ||
	fail "$N: dimmer /settings" "$(dev_state $k '.counters.by_path | tojson')"

# Interrupted while the bulb's /settings (its light mode) is read, before the light request:
# reported as nothing sent (a read changes nothing), and no light request went out.
k=$(idx gen1/shelly-color-bulb)
sets0=$(dev_state $k '.counters.by_path["/color/0"] // 0')
interrupted $k /settings "$T_TMP/o" "$T_TMP/e" "$SHELLY_TUI" --action light_toggle "$(dv $k HP)"
rc=$T_RC
sets1=$(dev_state $k '.counters.by_path["/color/0"] // 0')
[ $rc -eq 1 ] && grep -q '^FAIL .*interrupted before anything was sent' "$T_TMP/o" && [ "$sets1" = "$sets0" ] &&
	pass "$N: interrupted while the bulb's /settings is read: reported as not sent, nothing sent" ||
	fail "$N: interrupted during /settings" "rc=$rc /color/0 $sets0/$sets1 $(cat "$T_TMP/o" "$T_TMP/e")"
exit 0
