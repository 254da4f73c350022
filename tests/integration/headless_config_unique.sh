# A queued configuration change that would give a device a value that must differ per device
# is refused by --headless when the device is seen, with the reason, and nothing is sent: an
# MQTT client id another registered device's desired configuration holds, a static address
# another registered device is at now. A queued change of a third device, with no clash, is
# applied as usual.
. tests/lib.sh
. tests/sim/simlib.sh
. tests/integration/lib_headless.sh

N=headless_config_unique
sim_up $N --models gen2/plus-1pm,gen2/plus-1pm,gen2/plus-1pm --count 3
DB="$T_TMP/s.db"
hl_add "$DB" 0 --name a && hl_add "$DB" 1 --name b && hl_add "$DB" 2 --name c ||
	{ fail "$N: --add" "$(cat "$T_TMP/add.err")"; exit 1; }
mac() { sq "$DB" "SELECT mac FROM devices WHERE name = '$1'"; }
st() { curl -s -m 3 "$(hl_url "$1" "$2")"; }
B_ADDR=$(sq "$DB" "SELECT host FROM devices WHERE name = 'b'")
id_before=$(st 0 /rpc/MQTT.GetConfig | jq -r .client_id)
ip_before=$(st 2 /rpc/WiFi.GetConfig | jq -r .sta.ip)
now=$(($(date +%s) * 1000))
sq "$DB" "INSERT INTO config_desired (mac, body) VALUES ('$(mac b)', 'mqtt.client_id = shared-id')
	ON CONFLICT(mac) DO UPDATE SET body = excluded.body" || fail "$N: b's desired fields"
queue() { sq "$DB" "INSERT INTO config_pending (mac, ts, body, flags) VALUES ('$(mac "$1")', $now, '$2', $3)" ||
	fail "$N: queue for $1"; }
queue a 'mqtt.client_id = shared-id' 0
queue c "wifi.sta.ipv4mode = static
wifi.sta.ip = $B_ADDR
wifi.sta.netmask = 255.255.255.0" 2
queue b 'sys.timezone = Asia/Tokyo' 0

hl_config "$T_TMP/conf" "set request-timeout 15s" "set connect-timeout 5s"
hl_start q "$DB" "$T_TMP/conf" || { fail "$N: headless start" "$(cat "$(hl_err q)")"; exit 1; }
wait_for 60 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"select count(*) from config_pending where state = 'queued'\" 2>/dev/null)\" = 0 ]" ||
	fail "$N: the queue ends" "$(sq "$DB" 'select * from config_pending') $(tail -5 "$(hl_err q)")"
hl_stop q
row() { sq "$DB" "SELECT state || ': ' || coalesce(result, '') FROM config_pending WHERE mac = '$(mac "$1")'"; }
case $(row a) in
"failed: mqtt.client_id: shared-id is the desired value of another registered device (b)"*)
	[ "$(st 0 /rpc/MQTT.GetConfig | jq -r .client_id)" = "$id_before" ] &&
		pass "$N: a client id another device's desired configuration holds: refused, not sent" ||
		fail "$N: a's client id" "$(st 0 /rpc/MQTT.GetConfig)" ;;
*) fail "$N: a's queued change" "$(row a)" ;;
esac
case $(row c) in
"failed: wifi.sta.ip: $B_ADDR is the current address of another registered device (b)"*)
	[ "$(st 2 /rpc/WiFi.GetConfig | jq -r .sta.ip)" = "$ip_before" ] &&
		pass "$N: a static address another device is at: refused, not sent" ||
		fail "$N: c's address" "$(st 2 /rpc/WiFi.GetConfig)" ;;
*) fail "$N: c's queued change" "$(row c)" ;;
esac
[ "$(row b)" = "applied: $(sq "$DB" "SELECT result FROM config_pending WHERE mac = '$(mac b)'")" ] &&
	[ "$(st 1 /rpc/Sys.GetConfig | jq -r .location.tz)" = Asia/Tokyo ] &&
	pass "$N: a change with no clash is applied" || fail "$N: b's queued change" "$(row b)"
[ "$(sq "$DB" "select count(*) from audit where action = 'config-queued' and result = 'refused'")" = 2 ] &&
	pass "$N: the refusals are audited" || fail "$N: audit" "$(sq "$DB" "select * from audit where action = 'config-queued'")"
sim_stop
exit $T_FAILED
