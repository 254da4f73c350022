# shelly-sim basics: manifest, identity per generation, live state (outputs, power, energy,
# covers, lights, uptime, cfg_rev), RPC forms, clean exit on SIGTERM.
. tests/lib.sh
. tests/sim/simlib.sh

N=sim_basic
# Usage: --help lists every option and fault kind; mistakes exit 2; outside 127/8 is refused.
"$SHELLY_SIM" --help >"$T_TMP/help" 2>&1
rc=$?
ok=1
for w in --fixtures --models --base --count --port --netns-ok --manifest --control --password --auth --digest \
	--nonce-ttl-ms --tls --tls-dir --fault --reboot-ms --mdns silent closed noanswer reset http500 malformed \
	truncated oversized slow wrongtypes deep auth reboot move; do
	grep -q -- "$w" "$T_TMP/help" || { ok=0; echo "missing $w"; }
done
[ $rc -eq 0 ] && [ $ok = 1 ] && pass "$N: --help lists options and faults" || fail "$N: --help" "rc=$rc"
"$SHELLY_SIM" --bogus >/dev/null 2>&1
[ $? -eq 2 ] && pass "$N: unknown option exits 2" || fail "$N: unknown option"
"$SHELLY_SIM" --base 10.1.2.1 --count 2 --port 1 >/dev/null 2>"$T_TMP/e10"
[ $? -eq 1 ] && grep -q 'netns-ok' "$T_TMP/e10" && pass "$N: addresses outside 127/8 refused" || fail "$N: 10/8" "$(cat "$T_TMP/e10")"
"$SHELLY_SIM" --models gen1/nope --port 1 >/dev/null 2>"$T_TMP/em"
[ $? -eq 1 ] && grep -q 'gen1/nope' "$T_TMP/em" && pass "$N: unknown model folder refused" || fail "$N: bad model" "$(cat "$T_TMP/em")"

MODELS=gen1/shelly-plug-s,gen2/plus-1pm,gen2/plus-2pm/cover-mode,gen2/pro-dimmer-1pm,gen1/shelly-dimmer-2,gen1/shelly-1
if ! sim_start $N --fixtures tests/fixtures --models "$MODELS" --count 12 --load 100 --cover-speed 20 \
	--reboot-ms 500; then
	fail "$N: start" "$(cat "$SIM_ERR")"
	exit 1
fi

# --- manifest ---
[ "$(mf '.devices | length')" = 12 ] && pass "$N: manifest lists 12 devices" || fail "$N: manifest count" "$(mf '.devices|length')"
[ "$(mf '[.devices[].id | ascii_downcase] | unique | length')" = 12 ] && pass "$N: ids unique" || fail "$N: ids unique" "$(mf '[.devices[].id]')"
[ "$(mf '[.devices[].mac] | unique | length')" = 12 ] && pass "$N: macs unique" || fail "$N: macs unique"
[ "$(mf '[.devices[].mac | test("^[0-9A-F]{12}$")] | all')" = true ] && pass "$N: macs are 12 hex digits" || fail "$N: mac format"
[ "$(mf '[.devices[].addr] | unique | length')" = 12 ] && pass "$N: addresses unique" || fail "$N: addresses"
[ "$(mf '.devices[0].addr')" = "$SIM_NET.1" ] && [ "$(mf '.devices[11].addr')" = "$SIM_NET.12" ] &&
	pass "$N: addresses in order from --base" || fail "$N: address order" "$(mf '[.devices[].addr]')"
[ "$(mf '[.devices[] | .port == '"$SIM_PORT"' and .scheme == "http" and .auth == null and .fault == "none"] | all')" = true ] &&
	pass "$N: port/scheme/auth/fault" || fail "$N: port/scheme/auth/fault"
echo "$SIM_CTL" | grep -Eq '^127\.0\.0\.1:[0-9]+$' && pass "$N: control address" || fail "$N: control" "$SIM_CTL"
[ "$(ctl GET /manifest | jq -r '.devices | length')" = 12 ] && pass "$N: GET /manifest" || fail "$N: GET /manifest"
# A fixture MAC keeps its first three bytes (Plus 1PM 441793D69718), the rest is the instance.
[ "$(mf '.devices[1].mac')" = 441793000002 ] && [ "$(mf '.devices[1].id')" = shellyplus1pm-441793000002 ] &&
	pass "$N: identity derived from the fixture" || fail "$N: identity" "$(mf '.devices[1]')"

# --- Gen1 ---
U=$(dev_url 0)
j=$(curl -s -m 3 "$U/shelly")
[ "$(echo "$j" | jq -r '.type')" = SHPLG-S ] && [ "$(echo "$j" | jq -r .mac)" = "$(mf '.devices[0].mac')" ] &&
	[ "$(echo "$j" | jq -r .auth)" = false ] && pass "$N: gen1 /shelly" || fail "$N: gen1 /shelly" "$j"
j=$(curl -s -m 3 "$U/status")
[ "$(echo "$j" | jq -r .mac)" = "$(mf '.devices[0].mac')" ] && [ "$(echo "$j" | jq -r .wifi_sta.ip)" = "$SIM_NET.1" ] &&
	[ "$(echo "$j" | jq -r '.relays | length')" = 1 ] && pass "$N: gen1 /status" || fail "$N: gen1 /status" "$j"
j=$(curl -s -m 3 "$U/settings")
[ "$(echo "$j" | jq -r .device.hostname)" = "$(mf '.devices[0].id')" ] && [ "$(echo "$j" | jq -r .device.mac)" = "$(mf '.devices[0].mac')" ] &&
	pass "$N: gen1 /settings hostname = manifest id" || fail "$N: gen1 /settings" "$(echo "$j" | jq -c .device)"
j=$(curl -s -m 3 "$U/relay/0?turn=off")
[ "$(echo "$j" | jq -r .ison)" = false ] && pass "$N: gen1 relay off" || fail "$N: gen1 relay off" "$j"
[ "$(curl -s -m 3 "$U/status" | jq -r '.meters[0].power')" = 0 ] && pass "$N: gen1 power 0 when off" || fail "$N: gen1 power off"
j=$(curl -s -m 3 "$U/relay/0?turn=on")
[ "$(echo "$j" | jq -r .ison)" = true ] && [ "$(echo "$j" | jq -r .source)" = http ] && pass "$N: gen1 relay on" || fail "$N: gen1 relay on" "$j"
p=$(curl -s -m 3 "$U/status" | jq -r '.meters[0].power')
[ "$(echo "$p" | jq '. >= 95 and . <= 105')" = true ] && pass "$N: gen1 power follows output ($p W)" || fail "$N: gen1 power" "$p"
t0=$(curl -s -m 3 "$U/status" | jq -r '.meters[0].total')
# 100 W is 1.67 Wmin per second: the counter (watt-minutes) must move within a few seconds.
wait_json 5 "$U/status" ".meters[0].total > $t0" && pass "$N: gen1 energy grows (Wmin)" || fail "$N: gen1 energy" "$t0"
[ "$(curl -s -m 3 "$U/relay/0?turn=toggle" | jq -r .ison)" = false ] && pass "$N: gen1 toggle" || fail "$N: gen1 toggle"
[ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$U/relay/5?turn=on")" = 404 ] && pass "$N: gen1 bad relay 404" || fail "$N: gen1 bad relay"
c0=$(curl -s -m 3 "$U/status" | jq -r .cfg_changed_cnt)
[ "$(curl -s -m 3 "$U/settings?name=Garage" | jq -r .name)" = Garage ] && pass "$N: gen1 settings setter" || fail "$N: gen1 settings setter"
[ "$(curl -s -m 3 "$U/status" | jq -r .cfg_changed_cnt)" = $((c0 + 1)) ] && pass "$N: gen1 cfg_changed_cnt moves" || fail "$N: gen1 cfg_changed_cnt"
[ "$(curl -s -m 3 "$U/cit/d" | jq -r '.blk | length > 0')" = true ] && pass "$N: gen1 /cit/d from the fixture" || fail "$N: gen1 /cit/d"
# Dimmer 2 (gen1/shelly-dimmer-2): brightness drives power.
D=$(dev_url 4)
j=$(curl -s -m 3 "$D/light/0?turn=on&brightness=40")
[ "$(echo "$j" | jq -r '.ison')" = true ] && [ "$(echo "$j" | jq -r '.brightness')" = 40 ] && pass "$N: gen1 light set" || fail "$N: gen1 light" "$j"
p=$(curl -s -m 3 "$D/status" | jq -r '.meters[0].power')
[ "$(echo "$p" | jq '. >= 37 and . <= 43')" = true ] && pass "$N: gen1 light power ~ brightness ($p W)" || fail "$N: gen1 light power" "$p"

# --- Gen2 ---
G=$(dev_url 1)
j=$(curl -s -m 3 "$G/shelly")
[ "$(echo "$j" | jq -r .gen)" = 2 ] && [ "$(echo "$j" | jq -r .id)" = "$(mf '.devices[1].id')" ] &&
	[ "$(echo "$j" | jq -r .mac)" = "$(mf '.devices[1].mac')" ] && [ "$(echo "$j" | jq -r .auth_en)" = false ] &&
	pass "$N: gen2 /shelly" || fail "$N: gen2 /shelly" "$j"
[ "$(curl -s -m 3 "$G/rpc/Shelly.GetDeviceInfo" | jq -r .id)" = "$(mf '.devices[1].id')" ] && pass "$N: gen2 GetDeviceInfo" || fail "$N: gen2 GetDeviceInfo"
j=$(curl -s -m 3 "$G/rpc/Shelly.GetStatus")
[ "$(echo "$j" | jq -r .sys.mac)" = "$(mf '.devices[1].mac')" ] && [ "$(echo "$j" | jq -r .wifi.sta_ip)" = "$SIM_NET.2" ] &&
	pass "$N: gen2 GetStatus identity" || fail "$N: gen2 GetStatus" "$(echo "$j" | jq -c .sys)"
[ "$(curl -s -m 3 "$G/rpc/Switch.Set?id=0&on=false" | jq -r .was_on)" = false ] && pass "$N: gen2 Switch.Set off (was off)" || fail "$N: gen2 Switch.Set off"
j=$(curl -s -m 3 "$G/rpc/Switch.GetStatus?id=0")
[ "$(echo "$j" | jq -r .output)" = false ] && [ "$(echo "$j" | jq -r .apower)" = 0 ] && pass "$N: gen2 off: output false, apower 0" || fail "$N: gen2 off" "$j"
[ "$(curl -s -m 3 "$G/rpc/Switch.Set?id=0&on=true" | jq -r .was_on)" = false ] && pass "$N: gen2 Switch.Set on" || fail "$N: gen2 Switch.Set on"
j=$(curl -s -m 3 "$G/rpc/Switch.GetStatus?id=0")
[ "$(echo "$j" | jq '.output == true and .apower >= 95 and .apower <= 105 and .source == "HTTP_in"')" = true ] &&
	pass "$N: gen2 power follows output" || fail "$N: gen2 on" "$j"
e0=$(echo "$j" | jq -r .aenergy.total)
wait_json 5 "$G/rpc/Switch.GetStatus?id=0" ".aenergy.total > $e0" && pass "$N: gen2 energy grows (Wh)" || fail "$N: gen2 energy" "$e0"
curl -s -m 3 "$G/rpc/Switch.Set?id=0&on=true&toggle_after=3" >/dev/null
[ "$(curl -s -m 3 "$G/rpc/Switch.GetStatus?id=0" | jq '.output == true and .timer_duration == 3')" = true ] &&
	wait_json 8 "$G/rpc/Switch.GetStatus?id=0" '.output == false and .apower == 0' &&
	pass "$N: toggle_after flips the output back" || fail "$N: toggle_after"
curl -s -m 3 "$G/rpc/Switch.Set?id=0&on=true" >/dev/null
j=$(curl -s -m 3 -X POST -d '{"id":0,"on":false}' "$G/rpc/Switch.Set")
[ "$(echo "$j" | jq -r .was_on)" = true ] && pass "$N: gen2 POST /rpc/<method>" || fail "$N: gen2 POST params" "$j"
j=$(curl -s -m 3 -X POST -d '{"id":7,"src":"tester","method":"Switch.Toggle","params":{"id":0}}' "$G/rpc")
[ "$(echo "$j" | jq -c '[.id, .src, .dst, .result.was_on]')" = "[7,\"$(mf '.devices[1].id')\",\"tester\",false]" ] &&
	pass "$N: gen2 POST /rpc frame" || fail "$N: gen2 frame" "$j"
j=$(curl -s -m 3 -w ' %{http_code}' "$G/rpc/Foo.Bar")
[ "$j" = '{"code":404,"message":"No handler for Foo.Bar"} 404' ] && pass "$N: unknown method 404" || fail "$N: unknown method" "$j"
[ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$G/rpc/Switch.Set?id=9&on=true")" = 400 ] && pass "$N: bad id rejected" || fail "$N: bad id"
[ "$(curl -s -m 3 "$G/rpc/Shelly.ListMethods" | jq -r '.methods | index("Switch.Set") != null')" = true ] && pass "$N: ListMethods" || fail "$N: ListMethods"
r0=$(curl -s -m 3 "$G/rpc/Sys.GetStatus" | jq -r .cfg_rev)
[ "$(curl -s -m 3 -X POST -d '{"config":{"device":{"name":"Lab"}}}' "$G/rpc/Sys.SetConfig" | jq -r .restart_required)" = false ] &&
	[ "$(curl -s -m 3 "$G/rpc/Sys.GetStatus" | jq -r .cfg_rev)" = $((r0 + 1)) ] && [ "$(curl -s -m 3 "$G/shelly" | jq -r .name)" = Lab ] &&
	[ "$(curl -s -m 3 "$G/rpc/Sys.GetConfig" | jq -r .device.name)" = Lab ] &&
	pass "$N: Sys.SetConfig bumps cfg_rev, renames" || fail "$N: Sys.SetConfig" "$r0"
u0=$(curl -s -m 3 "$G/rpc/Sys.GetStatus" | jq -r .uptime)
wait_json 4 "$G/rpc/Sys.GetStatus" ".uptime > $u0" && pass "$N: uptime counts" || fail "$N: uptime" "$u0"
# The device's clock lies between the times taken before and after the request (a loaded
# machine may take seconds for it; a fixed window around one instant would miss).
t0=$(date +%s)
ut=$(curl -s -m 30 "$G/rpc/Sys.GetStatus" | jq -r .unixtime)
t1=$(date +%s)
[ "$ut" -ge $((t0 - 1)) ] 2>/dev/null && [ "$ut" -le $((t1 + 1)) ] && pass "$N: unixtime current" ||
	fail "$N: unixtime" "$ut not in [$t0 - 1, $t1 + 1]"

# Cover (gen2/plus-2pm/cover-mode starts open at 100 %): 20 %/s to 40 %, 3 s.
C=$(dev_url 2)
[ "$(curl -s -m 3 "$C/rpc/Cover.GoToPosition?id=0&pos=40")" = null ] && pass "$N: Cover.GoToPosition" || fail "$N: Cover.GoToPosition"
j=$(curl -s -m 3 "$C/rpc/Cover.GetStatus?id=0")
[ "$(echo "$j" | jq '.state == "closing" and .apower > 0 and .target_pos == 40')" = true ] && pass "$N: cover closing" || fail "$N: cover closing" "$j"
wait_json 10 "$C/rpc/Cover.GetStatus?id=0" '.state == "stopped" and .current_pos == 40 and .apower == 0' &&
	pass "$N: cover stops at 40" || fail "$N: cover stop" "$(curl -s -m 3 "$C/rpc/Cover.GetStatus?id=0")"
curl -s -m 3 "$C/rpc/Cover.Open?id=0" >/dev/null
wait_json 10 "$C/rpc/Cover.GetStatus?id=0" '.state == "open" and .current_pos == 100' && pass "$N: cover opens" || fail "$N: cover open"

# Light (gen2/pro-dimmer-1pm): brightness 50 of 100 W.
L=$(dev_url 3)
curl -s -m 3 "$L/rpc/Light.Set?id=0&on=true&brightness=50" >/dev/null
j=$(curl -s -m 3 "$L/rpc/Light.GetStatus?id=0")
[ "$(echo "$j" | jq '.output == true and .brightness == 50 and .apower >= 47 and .apower <= 53')" = true ] &&
	pass "$N: gen2 light brightness and power" || fail "$N: gen2 light" "$j"

# Control view of the same state.
s=$(ctl GET /devices/1/state)
[ "$(echo "$s" | jq -r '.switches[0].on')" = "$(curl -s -m 3 "$G/rpc/Switch.GetStatus?id=0" | jq -r .output)" ] &&
	[ "$(echo "$s" | jq -r .id)" = "$(mf '.devices[1].id')" ] && pass "$N: control state" || fail "$N: control state" "$s"
[ "$(ctl GET "/devices/$(mf '.devices[1].id')/state" | jq -r .index)" = 1 ] && pass "$N: control by id" || fail "$N: control by id"

# Firmware updates: offered through the control interface, installed by Shelly.Update / /ota.
ctl POST /devices/7/offer-update '{"stable":"1.8.0"}' >/dev/null
U7=$(dev_url 7)
[ "$(curl -s -m 3 "$U7/rpc/Shelly.CheckForUpdate" | jq -r .stable.version)" = 1.8.0 ] &&
	[ "$(curl -s -m 3 "$U7/rpc/Sys.GetStatus" | jq -r .available_updates.stable.version)" = 1.8.0 ] &&
	pass "$N: update offered" || fail "$N: CheckForUpdate"
[ "$(curl -s -m 3 "$U7/rpc/Shelly.Update?stage=%22stable%22")" = null ] && pass "$N: Shelly.Update" || fail "$N: Shelly.Update"
wait_json 10 "$U7/shelly" '.ver == "1.8.0"' && [ "$(curl -s -m 3 "$U7/rpc/Shelly.CheckForUpdate")" = '{}' ] &&
	pass "$N: gen2 updated after its reboot" || fail "$N: gen2 update" "$(curl -s -m 3 "$U7/shelly")"
ctl POST /devices/6/offer-update '{"stable":"20990101-000000/v1.99.0-gsim"}' >/dev/null
U6=$(dev_url 6)
[ "$(curl -s -m 3 "$U6/ota" | jq -c '[.status, .has_update]')" = '["pending",true]' ] &&
	[ "$(curl -s -m 3 "$U6/ota?update=true" | jq -r .status)" = updating ] && pass "$N: gen1 /ota?update=true" || fail "$N: gen1 ota"
wait_json 10 "$U6/shelly" '.fw == "20990101-000000/v1.99.0-gsim"' && pass "$N: gen1 updated after its reboot" || fail "$N: gen1 update"

sim_stop
rc=$?
[ $rc -eq 0 ] && pass "$N: SIGTERM exits 0" || fail "$N: SIGTERM" "exit $rc: $(tail -n 20 "$SIM_ERR")"

# Any dump dropped into a folder is a device: a folder of our own with an extra method file,
# a Gen1 capture, and an incomplete folder (listed as skipped).
FX=$T_TMP/fx
mkdir -p "$FX/lab/my-plus" "$FX/lab/my-plus/other-unit" "$FX/lab/half"
cp tests/fixtures/gen2/plus-1pm/shelly.json tests/fixtures/gen2/plus-1pm/Shelly.GetStatus.json "$FX/lab/my-plus/"
printf '{"scripts":[{"id":1,"name":"lab","enable":false,"running":false}]}' >"$FX/lab/my-plus/Script.List.json"
cp tests/fixtures/gen1/shelly-1/shelly.json tests/fixtures/gen1/shelly-1/status.json "$FX/lab/my-plus/other-unit/"
cp tests/fixtures/gen1/shelly-1/shelly.json "$FX/lab/half/"
if sim_start $N --fixtures "$FX"; then
	[ "$(mf '[.devices[].fixture] | join(",")')" = lab/my-plus,lab/my-plus/other-unit ] &&
		[ "$(mf '.skipped | length')" = 1 ] && mf '.skipped[0]' | grep -q '^lab/half ' &&
		pass "$N: fixture folders become devices, incomplete ones are skipped" || fail "$N: custom fixtures" "$(mf '[.devices[].fixture, .skipped]')"
	grep -q 'lab/half' "$SIM_ERR" && pass "$N: skipped folder named on stderr" || fail "$N: skipped on stderr"
	[ "$(curl -s -m 3 "$(dev_url 0)/rpc/Script.List" | jq -r '.scripts[0].name')" = lab ] && pass "$N: extra method file served" ||
		fail "$N: extra method"
	[ "$(curl -s -m 3 "$(dev_url 0)/rpc/Shelly.GetConfig")" != "" ] && pass "$N: GetConfig without a capture" || fail "$N: GetConfig synthesized"
	[ "$(curl -s -m 3 "$(dev_url 1)/status" | jq -r .mac)" = "$(mf '.devices[1].mac')" ] && pass "$N: gen1 capture in a subfolder" ||
		fail "$N: gen1 subfolder"
	sim_stop
else
	fail "$N: custom fixtures start" "$(cat "$SIM_ERR")"
fi
exit 0
