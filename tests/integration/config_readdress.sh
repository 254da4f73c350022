# A static-address change moves the device: --config-set/--apply with --allow-network-change look
# for it at the new address (its MAC and generation shown over /shelly first), read back there,
# and the registry follows (ip_changed event, audit). A device not seen there is reported
# "not seen at NEW; last known OLD" and nothing is restored to the old address; the address of
# another registered device is refused before anything is sent. Gen1 and Gen2+;
# an HTTPS device is followed only when it shows its pinned key at the new address.
. tests/lib.sh
. tests/sim/simlib.sh
. tests/integration/lib_headless.sh

N=config_readdress
TLS="$T_TMP/tls"
mkdir -p "$TLS"
if ! sim_start $N --fixtures tests/fixtures --models gen1/shelly-1,gen3/1pm-gen3,gen3/1pm-gen3,gen3/1pm-gen3 \
	--count 4 --tls 3 --tls-dir "$TLS"; then
	fail "$N: start" "$(cat "$SIM_ERR")"
	exit 1
fi
DB="$T_TMP/s.db"
# A generous bound where the device is expected to appear (a loaded machine), a short one where
# it never will.
CF="$T_TMP/config"
echo "set readdress-timeout 30s" >"$CF"
echo "set readdress-timeout 3s" >"$T_TMP/short"
tui() { "$SHELLY_TUI" --db "$DB" --config "$CF" --timeout 3 "$@"; }
tui_short() { "$SHELLY_TUI" --db "$DB" --config "$T_TMP/short" --timeout 3 "$@"; }
hl_add "$DB" 0 --name g1 && hl_add "$DB" 1 --name plus && hl_add "$DB" 2 --name other &&
	hl_add "$DB" 3 --name secure --https ||
	{ fail "$N: --add" "$(cat "$T_TMP/add.err")"; exit 1; }
host_of() { sq "$DB" "select host from devices where mac = '$(mac_of "$1")'"; }
events_of() { sq "$DB" "select count(*) from events where mac = '$(mac_of "$1")' and kind = 'ip_changed' and detail like '%-> $2:%'"; }
audits_of() { sq "$DB" "select count(*) from audit where target = '$(mac_of "$1")' and action = 'readdress' and detail like '%-> $2:%'"; }
PORT=$(mf '.devices[0].port')

# moved I NAME NEW GETPATH JQ: the device answers at NEW with the address in its configuration,
# the sim's manifest and the registry say NEW, with one event and one audit record.
moved() {
	[ "$(mf ".devices[$1].addr")" = "$3" ] && [ "$(host_of "$1")" = "$3" ] &&
		[ "$(curl -s -m 3 "http://$3:$PORT$4" | jq -r "$5")" = "$3" ] &&
		[ "$(events_of "$1" "$3")" = 1 ] && [ "$(audits_of "$1" "$3")" = 1 ]
}

# --- Gen1: /settings/sta ipv4_method=static&ip=... ---
OLD1=$(mf '.devices[0].addr')
NEW1=$SIM_NET.50
# (with a secret: the address clause comes before the secrets clause)
tui --config-set wifi.sta.ipv4mode=static wifi.sta.ip="$NEW1" wifi.sta.netmask=255.255.255.0 mqtt.pass=hunter2 g1 \
	--allow-network-change >"$T_TMP/g1" 2>&1
rc=$?
[ $rc = 0 ] && grep -Eq ": ok: [0-9]+ field\(s\) set and verified at the new address $NEW1, 1 secret\(s\) sent " "$T_TMP/g1" &&
	moved 0 g1 "$NEW1" /settings .wifi_sta.ip &&
	pass "$N: Gen1 static address: followed to $NEW1, read back there, registry/event/audit follow" ||
	fail "$N: Gen1 static address" "rc=$rc $(cat "$T_TMP/g1") host=$(host_of 0)"
curl -s -m 2 -o /dev/null "http://$OLD1:$PORT/shelly" && fail "$N: Gen1 old address still answers" ||
	pass "$N: Gen1 old address no longer answers"
tui --config-get g1 --json >"$T_TMP/g1get" 2>&1
[ $? = 0 ] && [ "$(jq -r '.devices[0].config["wifi.sta.ip"]' "$T_TMP/g1get")" = "$NEW1" ] &&
	pass "$N: Gen1 reached at the registered new address" || fail "$N: Gen1 config-get" "$(cat "$T_TMP/g1get")"

# --- Gen2+: WiFi.SetConfig sta.ipv4mode/ip, through --apply and a template ---
NEW2=$SIM_NET.51
printf 'wifi.sta.ipv4mode = static\nwifi.sta.ip = %s\nwifi.sta.netmask = 255.255.255.0\n' "$NEW2" >"$T_TMP/net.tmpl"
tui --apply --template "$T_TMP/net.tmpl" plus --dry-run --allow-network-change >"$T_TMP/p0" 2>&1
[ "$(mf '.devices[1].addr')" != "$NEW2" ] && grep -q "would move to $NEW2" "$T_TMP/p0" &&
	pass "$N: dry run names the new address, moves nothing" || fail "$N: dry run" "$(cat "$T_TMP/p0")"
tui --apply --template "$T_TMP/net.tmpl" plus >"$T_TMP/p1" 2>&1
[ $? != 0 ] && grep -q "allow-network-change" "$T_TMP/p1" && [ "$(mf '.devices[1].addr')" != "$NEW2" ] &&
	pass "$N: refused without --allow-network-change" || fail "$N: refusal" "$(cat "$T_TMP/p1")"
tui --apply --template "$T_TMP/net.tmpl" plus --allow-network-change --json >"$T_TMP/p2" 2>"$T_TMP/p2.err"
rc=$?
[ $rc = 0 ] && [ "$(jq -r '.devices[0].moved_to' "$T_TMP/p2")" = "$NEW2" ] &&
	jq -r '.devices[0].message' "$T_TMP/p2" | grep -q "verified at the new address $NEW2" &&
	moved 1 plus "$NEW2" /rpc/WiFi.GetConfig .sta.ip &&
	pass "$N: Gen2+ static address: followed to $NEW2, read back there, registry/event/audit follow" ||
	fail "$N: Gen2+ static address" "rc=$rc $(cat "$T_TMP/p2") host=$(host_of 1)"

# --- the address of another registered device: refused before anything is sent ---
TAKEN=$(mf '.devices[2].addr')
tui_short --config-set wifi.sta.ip="$TAKEN" plus --allow-network-change >"$T_TMP/p3r" 2>&1
rc=$?
[ $rc != 0 ] && grep -q "wifi.sta.ip: $TAKEN is the current address of another registered device (other); nothing sent" "$T_TMP/p3r" &&
	[ "$(curl -s -m 3 "http://$NEW2:$PORT/rpc/WiFi.GetConfig" | jq -r .sta.ip)" = "$NEW2" ] &&
	pass "$N: another registered device's address: refused, nothing sent" ||
	fail "$N: registered address" "rc=$rc $(cat "$T_TMP/p3r")"

# --- not seen: the new address belongs to a device the registry does not hold (its MAC
# answers there) ---
"$SHELLY_TUI" --db "$DB" --remove other >/dev/null 2>&1 || fail "$N: --remove other"
tui_short --config-set wifi.sta.ip="$TAKEN" plus --allow-network-change >"$T_TMP/p3" 2>&1
rc=$?
[ $rc != 0 ] && grep -q "not seen at $TAKEN (a device with MAC $(mac_of 2) answers there); last known $NEW2" "$T_TMP/p3" &&
	[ "$(host_of 1)" = "$NEW2" ] &&
	[ "$(curl -s -m 3 "http://$NEW2:$PORT/rpc/WiFi.GetConfig" | jq -r .sta.ip)" = "$TAKEN" ] &&
	pass "$N: not seen at the new address: reported with the last known one, registry kept, nothing restored" ||
	fail "$N: not seen" "rc=$rc $(cat "$T_TMP/p3") host=$(host_of 1)"

# --- queued for an offline device, applied by --headless when it is back: polled at its new address ---
NEW5=$SIM_NET.55
ctl POST /devices/0/fault '{"fault":"closed"}' >/dev/null
tui --config-set wifi.sta.ip="$NEW5" g1 --allow-network-change >"$T_TMP/q" 2>&1
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
hl_config "$T_TMP/hl.conf"
echo "set readdress-timeout 30s" >>"$T_TMP/hl.conf"
if grep -q queued "$T_TMP/q" && hl_start q "$DB" "$T_TMP/hl.conf"; then
	polled_at_new() { [ "$(mf '.devices[0].addr')" = "$NEW5" ] && [ "$(ctl GET /devices/0/state | jq -r .counters.requests)" -ge 3 ]; }
	if wait_for 60 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"select state from config_pending where mac = '$(mac_of 0)' order by id desc limit 1\")\" = applied ]" &&
		[ "$(host_of 0)" = "$NEW5" ] && ctl POST /devices/0/reset-counters >/dev/null && wait_for 20 polled_at_new &&
		[ "$(sq "$DB" "select count(*) from audit where who = 'queue' and action = 'readdress' and target = '$(mac_of 0)'")" = 1 ]; then
		pass "$N: a queued static-address change: --headless follows the device and polls it there"
	else
		fail "$N: queued readdress" "host=$(host_of 0) $(sq "$DB" "select state, result from config_pending") $(tail -5 "$(hl_err q)")"
	fi
	hl_stop q
else
	fail "$N: queue/headless" "$(cat "$T_TMP/q" "$(hl_err q)")"
fi

# --- HTTPS: followed with its pinned key; a device showing another key there is not it ---
NEW3=$SIM_NET.53
curl -s -m 3 -o /dev/null -k "https://$NEW3:$PORT/shelly" && fail "$N: $NEW3 is free before the move"
tui --config-set wifi.sta.ipv4mode=static wifi.sta.ip="$NEW3" secure --allow-network-change >"$T_TMP/s1" 2>&1
rc=$?
[ $rc = 0 ] && grep -q "verified at the new address $NEW3" "$T_TMP/s1" && [ "$(host_of 3)" = "$NEW3" ] &&
	[ "$(sq "$DB" "select scheme from devices where mac = '$(mac_of 3)'")" = https ] &&
	pass "$N: HTTPS device followed to $NEW3 with its pinned key, still https" ||
	fail "$N: HTTPS static address" "rc=$rc $(cat "$T_TMP/s1") host=$(host_of 3)"
NEW4=$SIM_NET.54
ctl POST /devices/3/tls/rotate '{"after":"/rpc/WiFi.SetConfig"}' >/dev/null
tui_short --config-set wifi.sta.ip="$NEW4" secure --allow-network-change >"$T_TMP/s2" 2>&1
rc=$?
[ $rc != 0 ] && grep -q "not seen at $NEW4 (.*); last known $NEW3" "$T_TMP/s2" && [ "$(host_of 3)" = "$NEW3" ] &&
	pass "$N: another key at the new address: not seen, the registry keeps the last known address" ||
	fail "$N: HTTPS key change" "rc=$rc $(cat "$T_TMP/s2") host=$(host_of 3)"
exit $T_FAILED
