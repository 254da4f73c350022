# shelly-sim configuration: Gen1 query setters with their real names change the nested
# /settings document, Gen2+ SetConfig merges and says restart_required, cfg_rev moves, bad
# values change nothing, and the control API changes config behind a client's back or makes
# one setter fail.
. tests/lib.sh
. tests/sim/simlib.sh

N=sim_config
if ! sim_start $N --fixtures tests/fixtures --models gen1/shelly-1,gen3/1pm-gen3 --count 2 \
	--reboot-ms 200; then
	fail "$N: start" "$(cat "$SIM_ERR")"
	exit 1
fi
G1=$(dev_url 0)
G2=$(dev_url 1)
get() { curl -s -m 3 "$1"; }

# --- Gen1 ---
c0=$(get "$G1/status" | jq -r .cfg_changed_cnt)
get "$G1/settings?mqtt_server=mqtt.lan:1883&mqtt_pass=hunter2&coiot_enable=false&lng=23.3" >"$T_TMP/s1"
# (lng as the firmware keeps it: a 32-bit float printed with 6 decimals)
[ "$(jq -r .mqtt.server "$T_TMP/s1")" = mqtt.lan:1883 ] && [ "$(jq -r .lng "$T_TMP/s1")" = 23.299999 ] &&
	pass "$N: gen1 /settings setters land in the nested document" || fail "$N: gen1 setters" "$(jq -c .mqtt "$T_TMP/s1")"
grep -q hunter2 "$T_TMP/s1" && fail "$N: gen1 mqtt_pass shown" || pass "$N: gen1 mqtt_pass never shown"
[ "$(get "$G1/status" | jq -r .cfg_changed_cnt)" = $((c0 + 1)) ] && pass "$N: gen1 cfg_changed_cnt +1" || fail "$N: gen1 cnt"
j=$(get "$G1/settings/sta?enabled=1&ssid=lab&ipv4_method=static&ip=10.9.0.5&netmask=255.255.255.0&key=pw")
[ "$(echo "$j" | jq -r .ssid)" = lab ] && [ "$(echo "$j" | jq -r .mask)" = 255.255.255.0 ] &&
	[ "$(echo "$j" | jq -r .enabled)" = true ] && [ "$(echo "$j" | jq -r .ipv4_method)" = static ] &&
	! echo "$j" | grep -q '"pw"' && pass "$N: gen1 /settings/sta (netmask -> mask, key hidden)" || fail "$N: gen1 sta" "$j"
[ "$(get "$G1/settings/cloud?enabled=false" | jq -r .enabled)" = false ] &&
	[ "$(get "$G1/settings" | jq -r .cloud.enabled)" = false ] && pass "$N: gen1 /settings/cloud" || fail "$N: gen1 cloud"
j=$(get "$G1/settings/relay/0?default_state=last&auto_off=30")
[ "$(echo "$j" | jq -r .default_state)" = last ] && [ "$(echo "$j" | jq -r .auto_off)" = 30 ] &&
	pass "$N: gen1 /settings/relay/0" || fail "$N: gen1 relay settings" "$j"
c1=$(get "$G1/status" | jq -r .cfg_changed_cnt)
code=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$G1/settings/relay/0?default_state=sideways&auto_off=5")
[ "$code" = 400 ] && [ "$(get "$G1/settings" | jq -r '.relays[0].auto_off')" = 30 ] &&
	[ "$(get "$G1/status" | jq -r .cfg_changed_cnt)" = "$c1" ] &&
	pass "$N: gen1 bad value: 400, nothing changed" || fail "$N: gen1 bad value" "$code"
code=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$G1/settings/sta?enabled=maybe")
[ "$code" = 400 ] && pass "$N: gen1 bad boolean refused" || fail "$N: gen1 bad bool" "$code"

# --- Gen2+ ---
r0=$(get "$G2/rpc/Sys.GetStatus" | jq -r .cfg_rev)
j=$(curl -s -m 3 -d '{"id":0,"config":{"auto_off":true,"auto_off_delay":12.5}}' "$G2/rpc/Switch.SetConfig")
[ "$(echo "$j" | jq -r .restart_required)" = false ] && pass "$N: gen2 Switch.SetConfig" || fail "$N: gen2 set" "$j"
j=$(get "$G2/rpc/Shelly.GetConfig")
[ "$(echo "$j" | jq -r '.["switch:0"].auto_off_delay')" = 12.5 ] && [ "$(echo "$j" | jq -r '.["switch:0"].name')" = "1PM Gen3" ] &&
	pass "$N: gen2 SetConfig merges" || fail "$N: gen2 merge" "$(echo "$j" | jq -c '.["switch:0"]')"
[ "$(get "$G2/rpc/Sys.GetStatus" | jq -r .cfg_rev)" = $((r0 + 1)) ] && [ "$(get "$G2/rpc/Shelly.GetConfig" | jq -r .sys.cfg_rev)" = $((r0 + 1)) ] &&
	pass "$N: gen2 cfg_rev +1 in Sys.GetStatus and Shelly.GetConfig" || fail "$N: gen2 cfg_rev"
j=$(curl -s -m 3 -d '{"config":{"server":"mqtt.lan:1883","pass":"hunter2","enable":true}}' "$G2/rpc/MQTT.SetConfig")
[ "$(echo "$j" | jq -r .restart_required)" = true ] && [ "$(get "$G2/rpc/Sys.GetStatus" | jq -r .restart_required)" = true ] &&
	pass "$N: gen2 MQTT.SetConfig: restart_required" || fail "$N: gen2 restart_required" "$j"
get "$G2/rpc/MQTT.GetConfig" | grep -q hunter2 && fail "$N: gen2 pass shown" || pass "$N: gen2 pass never shown"
r1=$(get "$G2/rpc/Sys.GetStatus" | jq -r .cfg_rev)
j=$(curl -s -m 3 -d '{"id":0,"config":{"auto_off":"yes"}}' "$G2/rpc/Switch.SetConfig")
[ "$(echo "$j" | jq -r .code)" = -103 ] && [ "$(get "$G2/rpc/Sys.GetStatus" | jq -r .cfg_rev)" = "$r1" ] &&
	pass "$N: gen2 wrong type: -103, nothing changed" || fail "$N: gen2 wrong type" "$j"
j=$(curl -s -m 3 -d '{"id":0,"config":{"bogus":1}}' "$G2/rpc/Switch.SetConfig")
[ "$(echo "$j" | jq -r .code)" = -103 ] && pass "$N: gen2 unknown key: -103" || fail "$N: gen2 unknown key" "$j"
j=$(curl -s -m 3 -d '{"config":{"location":{"tz":"Europe/Sofia","lat":42.7,"lon":23.3}}}' "$G2/rpc/Sys.SetConfig")
[ "$(get "$G2/rpc/Sys.GetConfig" | jq -r .location.tz)" = Europe/Sofia ] && pass "$N: gen2 null location replaced" || fail "$N: gen2 location" "$j"
ctl POST /devices/1/reboot '{}' >/dev/null
wait_json 10 "$G2/rpc/Sys.GetStatus" '.restart_required == false' && pass "$N: gen2 reboot clears restart_required" || fail "$N: gen2 reboot"

# --- Control: behind the back, and a failing setter ---
ctl POST /devices/1/config '{"patch":{"sys":{"device":{"name":"Renamed"}}}}' >/dev/null
[ "$(get "$G2/rpc/Shelly.GetConfig" | jq -r .sys.device.name)" = Renamed ] && pass "$N: control config patch" || fail "$N: control patch"
ctl POST /devices/0/config-fail '{"after":1}' >/dev/null
a=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$G1/settings?timezone=Europe/Sofia")
b=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$G1/settings?sntp_server=ntp.lan")
c=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$G1/settings?sntp_server=ntp2.lan")
s=$(get "$G1/settings")
[ "$a$b$c" = 200500200 ] && [ "$(echo "$s" | jq -r .timezone)" = Europe/Sofia ] && [ "$(echo "$s" | jq -r .sntp.server)" = ntp2.lan ] &&
	pass "$N: config-fail: one setter fails, once" || fail "$N: config-fail" "$a $b $c"
sim_stop
exit 0
