# Configuration management against the simulated fleet, Gen1 and Gen2+: read, edit, drift after
# a change behind the tool's back (exit 3), apply fixes it and reads back, a device that fails
# half-way is restored and reported, invalid values and network-cutting changes change
# nothing, secrets never show, reboot only with --allow-reboot, templates as files.
. tests/lib.sh
. tests/sim/simlib.sh

N=config_cli
export XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
sim_up $N --fixtures tests/fixtures --models gen1/shelly-1,gen3/1pm-gen3 --count 2 \
	--reboot-ms 300
G1=$(mf '.devices[0] | "\(.addr):\(.port)"')
G2=$(mf '.devices[1] | "\(.addr):\(.port)"')
st() { curl -s -m 3 "http://$1$2"; }
tui() { "$SHELLY_TUI" --timeout 5 "$@"; }

# --- fields and docs ---
tui --config-fields >"$T_TMP/fields"
missing=""
for f in $(awk '{print $1}' "$T_TMP/fields"); do
	grep -q "^\.It Li $f\$" shelly-tui.1 || missing="$missing $f"
done
[ -z "$missing" ] && [ "$(wc -l <"$T_TMP/fields")" -ge 50 ] && pass "$N: every field is in the man page" ||
	fail "$N: fields in man page" "missing:$missing"

# --- read ---
tui --config-get "$G1" "$G2" --json >"$T_TMP/get.json"
rc=$?
[ $rc = 0 ] && [ "$(jq -r '.devices[0].gen' "$T_TMP/get.json")" = 1 ] &&
	[ "$(jq -r '.devices[0].config["switch:0.initial_state"]' "$T_TMP/get.json")" = off ] &&
	[ "$(jq -r '.devices[1].config["switch:0.auto_on_delay_s"]' "$T_TMP/get.json")" = 60 ] &&
	[ "$(jq -r '.devices[1].config["ble.enable"]' "$T_TMP/get.json")" = true ] &&
	[ "$(jq -r '.devices[0].config | has("ble.enable")' "$T_TMP/get.json")" = false ] &&
	pass "$N: --config-get reads Gen1 and Gen2+ (unsupported fields absent)" || fail "$N: config-get" "rc=$rc"

# --- invalid values change nothing ---
c0=$(st "$G1" /status | jq -r .cfg_changed_cnt)
tui --config-set sys.timezone=Europe/Sofia cloud.enabled=perhaps "$G1" >"$T_TMP/bad" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "cloud.enabled: 'perhaps' is not a boolean" "$T_TMP/bad" &&
	[ "$(st "$G1" /status | jq -r .cfg_changed_cnt)" = "$c0" ] &&
	pass "$N: invalid value: usage error, nothing sent" || fail "$N: invalid value" "rc=$rc $(cat "$T_TMP/bad")"
tui --config-set switch:0.power_limit_w=99999 "$G2" >/dev/null 2>&1
[ $? = 2 ] && pass "$N: out-of-range value refused" || fail "$N: range"

# --- edit, Gen1 and Gen2+ at once, secrets never shown ---
r0=$(st "$G2" /rpc/Sys.GetStatus | jq -r .cfg_rev)
tui --config-set sys.timezone=Europe/Sofia switch:0.auto_off=true switch:0.auto_off_delay_s=30 mqtt.pass=hunter2 "$G1" "$G2" \
	>"$T_TMP/set" 2>"$T_TMP/set.err"
rc=$?
[ $rc = 0 ] && [ "$(grep -c ': ok: ' "$T_TMP/set")" = 2 ] &&
	[ "$(st "$G1" /settings | jq -r '.timezone, .relays[0].auto_off' | tr '\n' ' ')" = "Europe/Sofia 30 " ] &&
	[ "$(st "$G2" /rpc/Shelly.GetConfig | jq -r '.sys.location.tz, .["switch:0"].auto_off_delay' | tr '\n' ' ')" = "Europe/Sofia 30 " ] &&
	[ "$(st "$G2" /rpc/Sys.GetStatus | jq -r .cfg_rev)" -gt "$r0" ] &&
	pass "$N: --config-set on Gen1 and Gen2+, verified" || fail "$N: config-set" "rc=$rc $(cat "$T_TMP/set" "$T_TMP/set.err")"
grep -q hunter2 "$T_TMP/set" "$T_TMP/set.err" && fail "$N: secret shown" || pass "$N: secret never printed"
grep -q 'needs a restart' "$T_TMP/set" && pass "$N: restart needed is reported" || fail "$N: restart report" "$(cat "$T_TMP/set")"
[ "$(grep -c ': ok: 3 field(s) set and verified, 1 secret(s) sent' "$T_TMP/set")" = 2 ] &&
	pass "$N: a secret is reported as sent, not as verified" || fail "$N: secret count" "$(cat "$T_TMP/set")"

# --- dry run changes nothing ---
c1=$(st "$G1" /status | jq -r .cfg_changed_cnt)
tui --config-set sys.timezone=Asia/Tokyo "$G1" --dry-run >"$T_TMP/dry"
[ $? = 0 ] && grep -q 'sys.timezone: Europe/Sofia -> Asia/Tokyo' "$T_TMP/dry" &&
	[ "$(st "$G1" /status | jq -r .cfg_changed_cnt)" = "$c1" ] && pass "$N: --dry-run lists actual -> desired, sends nothing" ||
	fail "$N: dry-run" "$(cat "$T_TMP/dry")"

# --- a field the device lacks is reported beside those set, not only when nothing else changed ---
tui --config-set ble.enable=true sys.eco_mode=true "$G1" >"$T_TMP/uns" 2>&1
rc=$?
[ $rc = 0 ] && grep -q ': ok: 1 field(s) set and verified; 1 field(s) unsupported here, left alone$' "$T_TMP/uns" &&
	[ "$(st "$G1" /settings | jq -r .eco_mode_enabled)" = true ] &&
	pass "$N: a field the device lacks is reported with the ones set" || fail "$N: unsupported report" "rc=$rc $(cat "$T_TMP/uns")"
tui --config-set sys.eco_mode=false "$G1" >/dev/null 2>&1

# --- template, drift, apply ---
# office.tmpl is a symbolic link to a file kept elsewhere: saved through it, the link kept
TF="$XDG_CONFIG_HOME/shelly-tui/templates/office.tmpl"
mkdir -p "${TF%/*}" "$T_TMP/kept" && echo 'old = 1' >"$T_TMP/kept/office.tmpl" &&
	ln -s ../../../kept/office.tmpl "$TF"
tui --template-save office --from "$G2" --fields sys.timezone,switch:0.auto_off_delay_s,mqtt,sys.name >/dev/null
[ -L "$TF" ] && ! grep -q '^old' "$T_TMP/kept/office.tmpl" && [ "$(stat -c %a "$T_TMP/kept/office.tmpl")" = 600 ] &&
	! ls -A "${TF%/*}" "$T_TMP/kept" | grep -q '\.tmp\.' &&
	pass "$N: --template-save through a symbolic link updates its target, keeps the link" ||
	fail "$N: template-save link" "$(ls -la "${TF%/*}" "$T_TMP/kept")"
[ -f "$TF" ] && grep -q '^switch:0.auto_off_delay_s = 30$' "$TF" && grep -q '^sys.name = ' "$TF" &&
	! grep -q 'client_id' "$TF" && ! grep -q hunter2 "$TF" &&
	pass "$N: --template-save: named fields, identity only when named in full" || fail "$N: template-save" "$(cat "$TF")"
grep -v '^sys.name' "$TF" | grep -v '^mqtt' >"$T_TMP/t" && echo 'mqtt.server = mqtt.${index}.lan:1883' >>"$T_TMP/t" && cp "$T_TMP/t" "$TF"
tui --apply office "$G1" "$G2" >/dev/null 2>&1
tui --drift --template office "$G1" "$G2" >"$T_TMP/d0"
rc=$?
[ $rc = 0 ] && [ "$(st "$G1" /settings | jq -r .mqtt.server)" = mqtt.1.lan:1883 ] &&
	[ "$(st "$G2" /rpc/Shelly.GetConfig | jq -r .mqtt.server)" = mqtt.2.lan:1883 ] &&
	pass "$N: --apply with \${index}, then no drift (exit 0)" || fail "$N: apply/drift 0" "rc=$rc $(cat "$T_TMP/d0")"
ctl POST /devices/0/config '{"patch":{"relays":{"0":{"auto_off":99}}}}' >/dev/null
ctl POST /devices/1/config '{"patch":{"sys":{"location":{"tz":"UTC"}}}}' >/dev/null
tui --drift --template office "$G1" "$G2" --json >"$T_TMP/d1.json"
rc=$?
[ $rc = 3 ] && [ "$(jq -r '.drifted' "$T_TMP/d1.json")" = 2 ] &&
	[ "$(jq -r '.devices[0].fields[] | select(.state == "drift") | "\(.field) \(.actual) \(.desired)"' "$T_TMP/d1.json")" = "switch:0.auto_off_delay_s 99 30" ] &&
	[ "$(jq -r '.devices[1].fields[] | select(.state == "drift") | "\(.field) \(.actual) \(.desired)"' "$T_TMP/d1.json")" = "sys.timezone UTC Europe/Sofia" ] &&
	pass "$N: drift behind the tool's back: exit 3, field, actual, desired" || fail "$N: drift" "rc=$rc $(cat "$T_TMP/d1.json")"
tui --add "$G1" --name plug1 >/dev/null 2>&1 || fail "$N: --add"
tui --apply office plug1 "$G2" --json >"$T_TMP/a1.json" 2>/dev/null
rc=$?
[ $rc = 0 ] && [ "$(jq -r '[.devices[].result] | join(",")' "$T_TMP/a1.json")" = ok,ok ] &&
	[ "$(st "$G1" /settings | jq -r '.relays[0].auto_off')" = 30 ] &&
	[ "$(st "$G2" /rpc/Sys.GetConfig | jq -r .location.tz)" = Europe/Sofia ] &&
	pass "$N: --apply fixes the drift and verifies" || fail "$N: apply" "rc=$rc $(cat "$T_TMP/a1.json")"
tui --drift --template office "$G1" "$G2" >/dev/null
[ $? = 0 ] && pass "$N: no drift after apply" || fail "$N: drift after apply"
aud=$(sqlite3 "$XDG_DATA_HOME/shelly-tui/shelly.db" "select count(*) from audit where action='apply' and result='ok'" 2>&1)
[ "$aud" = 2 ] && [ "$(jq -r '.devices[0].target' "$T_TMP/a1.json")" = plug1 ] &&
	pass "$N: a registered name as TARGET; apply audited" || fail "$N: audit" "$aud"

# --- a device that fails half-way is restored and reported ---
for i in 0 1; do
	ctl POST /devices/$i/config '{"patch":{}}' >/dev/null
done
printf 'sys.timezone = Asia/Tokyo\nsntp.server = ntp.lan\nswitch:0.auto_off_delay_s = 45\n' >"$T_TMP/t3.tmpl"
ctl POST /devices/0/config-fail '{"after":1}' >/dev/null
ctl POST /devices/1/config-fail '{"after":1}' >/dev/null
tui --apply --template "$T_TMP/t3.tmpl" "$G1" "$G2" --json >"$T_TMP/a2.json" 2>"$T_TMP/a2.err"
rc=$?
[ $rc = 1 ] && [ "$(jq -r '[.devices[].result] | join(",")' "$T_TMP/a2.json")" = restored,restored ] &&
	[ "$(st "$G1" /settings | jq -r '.timezone, .sntp.server, .relays[0].auto_off' | tr '\n' ' ')" = "Europe/Sofia time.google.com 30 " ] &&
	[ "$(st "$G2" /rpc/Shelly.GetConfig | jq -r '.sys.location.tz, .["switch:0"].auto_off_delay' | tr '\n' ' ')" = "Europe/Sofia 30 " ] &&
	grep -q restoring "$T_TMP/a2.err" &&
	pass "$N: failure half-way: restored and reported (exit 1)" || fail "$N: restore" "rc=$rc $(cat "$T_TMP/a2.json" "$T_TMP/a2.err")"

# --- interrupted half-way (SIGTERM): the fields written are set back, reported and audited ---
# The Gen2+ device takes the first write and never answers the second; the Gen1 one never
# answers its read. The signal comes once the first write landed and the second is in flight.
tz0=$(st "$G2" /rpc/Sys.GetConfig | jq -r .location.tz)
aud0=$(sqlite3 "$XDG_DATA_HOME/shelly-tui/shelly.db" "select count(*) from audit where action='config-set'")
ctl POST /devices/1/reset-counters >/dev/null
ctl POST /devices/1/fault '{"fault":"noanswer","path":"/rpc/MQTT.SetConfig"}' >/dev/null
ctl POST /devices/0/fault '{"fault":"noanswer","path":"/settings"}' >/dev/null
"$SHELLY_TUI" --timeout 60 --config-set sys.timezone=America/Lima mqtt.server=int.lan:1883 "$G2" "$G1" --json \
	>"$T_TMP/int.json" 2>"$T_TMP/int.err" &
ipid=$!
pst=$(pid_start $ipid)
if wait_for 30 sh -c "[ \"\$(curl -s -m 3 http://$SIM_CTL/devices/1/state | jq -r '.counters.by_path[\"/rpc/MQTT.SetConfig\"] // 0')\" -ge 1 ]"; then
	ctl POST /devices/1/fault '{"fault":"none"}' >/dev/null
	ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
	kill_ours -TERM $ipid
fi
wait_for 30 pid_gone $ipid "$pst" || kill_ours -KILL $ipid
wait $ipid
rc=$?
aud1=$(sqlite3 "$XDG_DATA_HOME/shelly-tui/shelly.db" "select count(*) from audit where action='config-set'")
[ $rc = 1 ] && [ "$(jq -r '[.devices[].result] | join(",")' "$T_TMP/int.json")" = restored,refused ] &&
	[ "$(st "$G2" /rpc/Sys.GetConfig | jq -r .location.tz)" = "$tz0" ] &&
	jq -r '.devices[].message' "$T_TMP/int.json" | grep -q '^interrupted' &&
	jq -r '.devices[1].message' "$T_TMP/int.json" | grep -q '^interrupted before anything was written' &&
	grep -q 'interrupted' "$T_TMP/int.err" && [ "$aud1" = $((aud0 + 2)) ] &&
	pass "$N: interrupted: the written fields set back, each device reported and audited" ||
	fail "$N: interrupted" "rc=$rc tz=$(st "$G2" /rpc/Sys.GetConfig | jq -r .location.tz) aud=$aud0/$aud1 $(cat "$T_TMP/int.json" "$T_TMP/int.err")"
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
ctl POST /devices/1/fault '{"fault":"none"}' >/dev/null

# --- a second interrupt while the first winds down quits at once (as the man page says) ---
# The Gen2+ device stops answering any RPC once its first write landed, so setting it back
# after the first SIGTERM waits (up to --timeout); the second SIGTERM ends the program by it.
ctl POST /devices/1/reset-counters >/dev/null
ctl POST /devices/1/fault '{"fault":"noanswer","path":"/rpc/MQTT.SetConfig"}' >/dev/null
ctl POST /devices/0/fault '{"fault":"noanswer","path":"/settings"}' >/dev/null
"$SHELLY_TUI" --timeout 60 --config-set sys.timezone=America/Bogota mqtt.server=int2.lan:1883 "$G2" "$G1" --json \
	>"$T_TMP/int2.json" 2>"$T_TMP/int2.err" &
ipid=$!
pst=$(pid_start $ipid)
if wait_for 30 sh -c "[ \"\$(curl -s -m 3 http://$SIM_CTL/devices/1/state | jq -r '.counters.by_path[\"/rpc/MQTT.SetConfig\"] // 0')\" -ge 1 ]"; then
	ctl POST /devices/1/fault '{"fault":"noanswer","path":"/rpc/"}' >/dev/null
	kill_ours -TERM $ipid
	wait_for 30 grep -q 'again to quit at once' "$T_TMP/int2.err" && kill_ours -TERM $ipid
fi
wait_for 30 pid_gone $ipid "$pst" || kill_ours -KILL $ipid
wait $ipid
rc=$?
[ $rc = 143 ] && grep -q 'again to quit at once' "$T_TMP/int2.err" &&
	pass "$N: a second interrupt while setting back quits at once (killed by SIGTERM)" ||
	fail "$N: second interrupt" "rc=$rc $(cat "$T_TMP/int2.json" "$T_TMP/int2.err" | head -c 800)"
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
ctl POST /devices/1/fault '{"fault":"none"}' >/dev/null

# --- network-cutting changes need their own confirmation ---
c2=$(st "$G1" /status | jq -r .cfg_changed_cnt)
tui --config-set wifi.sta.ssid=other "$G1" >"$T_TMP/net"
rc=$?
[ $rc = 1 ] && grep -q 'allow-network-change' "$T_TMP/net" && [ "$(st "$G1" /status | jq -r .cfg_changed_cnt)" = "$c2" ] &&
	pass "$N: WiFi change refused without --allow-network-change" || fail "$N: network guard" "rc=$rc $(cat "$T_TMP/net")"
tui --config-set wifi.sta.ssid=other "$G1" --allow-network-change >/dev/null 2>&1
[ $? = 0 ] && [ "$(st "$G1" /settings | jq -r .wifi_sta.ssid)" = other ] && pass "$N: ... and done and verified with it" || fail "$N: network change"

# --- one static address (or MQTT client id) for several devices: refused, nothing sent ---
c3=$(st "$G1" /status | jq -r .cfg_changed_cnt)
r3=$(st "$G2" /rpc/Sys.GetStatus | jq -r .cfg_rev)
IP1=$(echo "${G1%%:*}" | cut -d. -f1-3).200 # unused, in this test's own loopback net
printf 'wifi.sta.ipv4mode = static\nwifi.sta.ip = %s\nwifi.sta.netmask = 255.255.255.0\n' "$IP1" >"$T_TMP/ip.tmpl"
tui --apply --template "$T_TMP/ip.tmpl" "$G1" "$G2" --allow-network-change --json >"$T_TMP/ip.json" 2>/dev/null
rc1=$?
tui --config-set mqtt.client_id=same-id sys.timezone=Asia/Seoul "$G1" "$G2" --json >"$T_TMP/id.json" 2>/dev/null
rc2=$?
[ $rc1 = 1 ] && [ $rc2 = 1 ] &&
	[ "$(jq -r --arg ip "$IP1" '[.devices[].error | test("wifi.sta.ip: \($ip) would be given to 2 devices")] | all' "$T_TMP/ip.json")" = true ] &&
	[ "$(jq -r '[.devices[].error | test("mqtt.client_id: same-id would be given to 2 devices")] | all' "$T_TMP/id.json")" = true ] &&
	[ "$(st "$G1" /status | jq -r .cfg_changed_cnt)" = "$c3" ] && [ "$(st "$G2" /rpc/Sys.GetStatus | jq -r .cfg_rev)" = "$r3" ] &&
	pass "$N: one address or MQTT client id for two devices: refused, nothing sent" ||
	fail "$N: shared identity" "rc=$rc1/$rc2 $(cat "$T_TMP/ip.json" "$T_TMP/id.json")"

# --- reboot only when the device says so, only with --allow-reboot ---
b0=$(ctl GET /devices/1/state | jq -r .reboots)
tui --config-set mqtt.enable=true "$G2" >/dev/null 2>&1
[ "$(ctl GET /devices/1/state | jq -r .reboots)" = "$b0" ] && pass "$N: no reboot without --allow-reboot" || fail "$N: reboot w/o flag"
tui --config-set mqtt.user=shelly "$G2" --allow-reboot --json >"$T_TMP/rb.json" 2>/dev/null
rc=$?
[ $rc = 0 ] && [ "$(jq -r '.devices[0].rebooted' "$T_TMP/rb.json")" = true ] &&
	[ "$(ctl GET /devices/1/state | jq -r .reboots)" -gt "$b0" ] &&
	[ "$(st "$G2" /rpc/Shelly.GetConfig | jq -r .mqtt.user)" = shelly ] &&
	pass "$N: restart_required + --allow-reboot: rebooted, read back after" || fail "$N: reboot" "rc=$rc $(cat "$T_TMP/rb.json")"

# --- an unreachable device is reported, the others still done ---
ctl POST /devices/0/fault '{"fault":"closed"}' >/dev/null
tui --config-set sys.timezone=Asia/Tokyo "$G1" "$G2" >"$T_TMP/off" 2>&1
rc=$?
[ $rc = 1 ] && [ "$(st "$G2" /rpc/Sys.GetConfig | jq -r .location.tz)" = Asia/Tokyo ] &&
	pass "$N: an offline device fails alone" || fail "$N: offline" "rc=$rc $(cat "$T_TMP/off")"
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null

# --- a value another registered device holds, or its address: refused, nothing sent, as the
# console and the queue refuse it (engine/cfgpeers) ---
tui --add "$G1" --name one -q >/dev/null 2>&1 && tui --add "$G2" --name two -q >/dev/null 2>&1 ||
	fail "$N: --add one, two"
tui --config-set mqtt.client_id=peer-id two >/dev/null 2>&1 || fail "$N: two's client id"
A2=${G2%:*}
c5=$(st "$G1" /status | jq -r .cfg_changed_cnt)
tui --config-set wifi.sta.ipv4mode=static "wifi.sta.ip=$A2" wifi.sta.netmask=255.255.255.0 one \
	--allow-network-change --json >"$T_TMP/peer_ip.json" 2>/dev/null
rc1=$?
tui --config-set mqtt.client_id=peer-id one --json >"$T_TMP/peer_id.json" 2>/dev/null
rc2=$?
[ $rc1 = 1 ] && [ $rc2 = 1 ] &&
	jq -e --arg ip "$A2" '.devices[0].error | test("wifi.sta.ip: \($ip) is the current address of another registered device \\(two\\)")' "$T_TMP/peer_ip.json" >/dev/null &&
	jq -e '.devices[0].error | test("mqtt.client_id: peer-id is the desired value of another registered device \\(two\\)")' "$T_TMP/peer_id.json" >/dev/null &&
	[ "$(st "$G1" /status | jq -r .cfg_changed_cnt)" = "$c5" ] &&
	pass "$N: another registered device's address or desired client id: refused, nothing sent" ||
	fail "$N: registered peers" "rc=$rc1/$rc2 $(cat "$T_TMP/peer_ip.json" "$T_TMP/peer_id.json")"
sim_stop
exit 0
