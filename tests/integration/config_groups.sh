# Groups, stored desired configuration and the queue: @GROUP targets with a group template
# (device fields over group template), drift without --template, an offline registered device
# gets its change queued (--pending) and applied by --headless when the device is seen again,
# clone onto a device of the same kind only.
. tests/lib.sh
. tests/sim/simlib.sh
. tests/integration/lib_headless.sh

N=config_groups
sim_up $N --fixtures tests/fixtures --models gen1/shelly-1,gen3/1pm-gen3,gen3/1pm-gen3 --count 3
DB="$T_TMP/s.db"
tui() { "$SHELLY_TUI" --db "$DB" --timeout 3 "$@"; }
hl_add "$DB" 0 --name g1 && hl_add "$DB" 1 --name plus-a && hl_add "$DB" 2 --name plus-b ||
	{ fail "$N: --add" "$(cat "$T_TMP/add.err")"; exit 1; }
st() { curl -s -m 3 "$(hl_url "$1" "$2")"; }

# --- groups ---
tui --group-add office g1 plus-a plus-b && tui --group-add office nosuchdevice 2>"$T_TMP/e1"
[ $? = 2 ] && grep -q 'not a registered device' "$T_TMP/e1" && pass "$N: --group-add refuses unregistered devices" || fail "$N: group-add bad"
# @GROUP names a group's members as a TARGET of --group-add and --group-remove too
members_of() { tui --group-list --json | jq -r --arg g "$1" '[.groups[] | select(.name == $g) | .members[]] | length'; }
tui --group-add team @office plus-a 2>"$T_TMP/e1" && [ "$(members_of team)" = 3 ] &&
	tui --group-remove team @office 2>>"$T_TMP/e1" && [ "$(members_of team)" = 0 ] &&
	pass "$N: --group-add/--group-remove take @GROUP" || fail "$N: @GROUP in --group-add" "$(members_of team) $(cat "$T_TMP/e1")"
tui --group-remove team 2>/dev/null
tui --group-add team @nosuch 2>"$T_TMP/e1"
[ $? = 2 ] && grep -q 'nosuch' "$T_TMP/e1" && [ "$(members_of team)" = 0 ] &&
	pass "$N: --group-add @GROUP of no group is refused" || fail "$N: @nosuch" "$(cat "$T_TMP/e1")"
mkdir -p "$XDG_CONFIG_HOME/shelly-tui/templates"
printf 'sys.timezone = Europe/Sofia\nsntp.server = ntp.${group}.lan\nswitch:0.auto_off = true\nswitch:0.auto_off_delay_s = 20\n' \
	>"$XDG_CONFIG_HOME/shelly-tui/templates/office.tmpl"
tui --group-template office nosuch 2>/dev/null
[ $? = 2 ] && pass "$N: a template that cannot be read is not attached" || fail "$N: bad template attached"
tui --group-template office office
tui --group-list --json >"$T_TMP/gl.json"
[ "$(jq -r '.groups[0] | "\(.name) \(.template) \(.members | length)"' "$T_TMP/gl.json")" = "office office 3" ] &&
	pass "$N: --group-list: template and members" || fail "$N: group-list" "$(cat "$T_TMP/gl.json")"

# --- drift from the stored desired configuration, @GROUP as TARGET ---
tui --drift @office --json >"$T_TMP/d0.json"
rc=$?
[ $rc = 3 ] && [ "$(jq -r '[.devices[] | .fields[] | select(.field == "sntp.server") | .desired] | unique | join(",")' "$T_TMP/d0.json")" = ntp.office.lan ] &&
	[ "$(jq -r '.devices | length' "$T_TMP/d0.json")" = 3 ] &&
	pass "$N: --drift @office uses the group template (\${group})" || fail "$N: drift @office" "rc=$rc $(cat "$T_TMP/d0.json")"
# One run over a group reads the group's template file once, not once per member.
if command -v strace >/dev/null 2>&1; then
	ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=open,openat -o "$T_TMP/st" \
		"$SHELLY_TUI" --db "$DB" --timeout 3 --drift @office >/dev/null 2>&1
	opens=$(grep -c 'templates/office\.tmpl' "$T_TMP/st")
	[ "$opens" = 1 ] && pass "$N: --drift @office (3 members) reads office.tmpl once" ||
		fail "$N: template reads" "opened $opens times: $(grep 'office.tmpl' "$T_TMP/st" | head -5)"
else
	fail "$N: template reads" "needs strace (tools/deps.sh installs it)"
fi
tui --apply @office >"$T_TMP/a0" 2>&1
rc=$?
tui --drift @office >/dev/null
[ $rc = 0 ] && [ $? = 0 ] && [ "$(st 1 /rpc/Sys.GetConfig | jq -r .sntp.server)" = ntp.office.lan ] &&
	pass "$N: --apply @office, then no drift" || fail "$N: apply @office" "rc=$rc $(cat "$T_TMP/a0")"
# A field set on one device wins over the group template for it.
tui --config-set switch:0.auto_off_delay_s=45 plus-b >/dev/null 2>&1
ctl POST /devices/2/config '{"patch":{"switch:0":{"auto_off_delay":20}}}' >/dev/null
tui --drift @office --json >"$T_TMP/d1.json"
rc=$?
[ $rc = 3 ] && [ "$(jq -r '.devices[] | select(.target | test("^[0-9a-f]{12}$")) | .fields[] | select(.state == "drift") | "\(.field) \(.actual) \(.desired)"' "$T_TMP/d1.json")" = "switch:0.auto_off_delay_s 20 45" ] &&
	pass "$N: device fields over the group template" || fail "$N: precedence" "rc=$rc $(cat "$T_TMP/d1.json")"
# The group's own fields override its template, not the device's own fields.
tui --group-set office sntp.server=grp.lan switch:0.auto_off_delay_s=25
tui --group-set office cloud.enabled=perhaps 2>/dev/null
[ $? = 2 ] && pass "$N: --group-set validates its values" || fail "$N: group-set invalid"
tui --drift @office --json >"$T_TMP/d2.json"
[ "$(jq -r '[.devices[] | .fields[] | select(.field == "sntp.server") | .desired] | unique | join(",")' "$T_TMP/d2.json")" = grp.lan ] &&
	[ "$(jq -r '[.devices[] | .fields[] | select(.field == "switch:0.auto_off_delay_s") | .desired] | join(",")' "$T_TMP/d2.json")" = 25,25,45 ] &&
	pass "$N: device over group over template" || fail "$N: group fields" "$(cat "$T_TMP/d2.json")"
n=$(sq "$DB" "select count(*) from config_snapshots")
[ "$n" -ge 3 ] && pass "$N: snapshots kept ($n)" || fail "$N: snapshots" "$n"

# --- an offline device: queued, shown, applied when seen ---
ctl POST /devices/0/fault '{"fault":"closed"}' >/dev/null
ctl POST /devices/1/fault '{"fault":"closed"}' >/dev/null
tui --config-set sys.timezone=Asia/Tokyo g1 plus-a >"$T_TMP/q" 2>&1
rc=$?
tui --pending --json >"$T_TMP/p0.json"
[ $rc = 0 ] && [ "$(grep -c 'queued' "$T_TMP/q")" = 2 ] &&
	[ "$(jq -r '[.pending[] | select(.state == "queued") | .fields["sys.timezone"]] | join(",")' "$T_TMP/p0.json")" = Asia/Tokyo,Asia/Tokyo ] &&
	pass "$N: offline Gen1 and Gen2+ devices: changes queued, --pending shows them" || fail "$N: queue" "rc=$rc $(cat "$T_TMP/q" "$T_TMP/p0.json")"
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
# Back, but its first reads of the configuration get HTTP 500 (busy, just booted): a server
# error may not recur, so the queued change waits for the next time the device is seen.
ctl POST /devices/1/fault '{"fault":"http500","path":"/rpc/Shelly.GetConfig","count":2}' >/dev/null
# The queued change is sent once when the device is back: give its requests the time a
# sanitizer build on a loaded machine needs (the polls' short default would fail it).
hl_config "$T_TMP/conf" "set request-timeout 15s" "set connect-timeout 5s"
hl_start q "$DB" "$T_TMP/conf" || { fail "$N: headless start" "$(cat "$(hl_err q)")"; exit 1; }
wait_for 60 sh -c "[ \"\$(sqlite3 '$DB' \"select count(*) from config_pending where state = 'applied'\" 2>/dev/null)\" = 2 ]" &&
	[ "$(st 1 /rpc/Sys.GetConfig | jq -r .location.tz)" = Asia/Tokyo ] && [ "$(st 0 /settings | jq -r .timezone)" = Asia/Tokyo ] &&
	pass "$N: --headless applies the queued changes when the devices are seen (Gen1, Gen2+)" ||
	fail "$N: queued apply" "$(sq "$DB" 'select * from config_pending') $(tail -5 "$(hl_err q)")"
# A change behind the tool's back moves cfg_rev: the poller keeps a snapshot of it.
ctl POST /devices/2/config '{"patch":{"sys":{"sntp":{"server":"behind.lan"}}}}' >/dev/null
M2=$(mac_of 2)
wait_for 20 sh -c "sqlite3 '$DB' \"select body from config_snapshots where mac = '$M2' and reason = 'cfg_rev changed'\" 2>/dev/null | grep -q behind.lan" &&
	pass "$N: the poller keeps a snapshot when cfg_rev moves" || fail "$N: poller snapshot" "$(sq "$DB" "select id, reason, cfg_rev from config_snapshots where mac = '$M2'")"
hl_stop q
[ "$(sq "$DB" "select count(*) from audit where action = 'config-queued' and result = 'ok'")" = 2 ] &&
	pass "$N: the queued apply is audited" || fail "$N: queued audit"

# --- clone onto the same kind only ---
# (the timer on: the delay of a timer that is off is not compared, so not copied)
tui --config-set switch:0.auto_on=true switch:0.auto_on_delay_s=33 sys.name=Alpha plus-a >/dev/null 2>&1
tui --clone plus-a plus-b g1 --json >"$T_TMP/c.json" 2>/dev/null
rc=$?
[ $rc = 1 ] && [ "$(jq -r '.devices[0].result' "$T_TMP/c.json")" = ok ] &&
	[ "$(jq -r '.devices[1].error' "$T_TMP/c.json" | grep -c 'same kind')" = 1 ] &&
	[ "$(st 2 /rpc/Shelly.GetConfig | jq -r '.["switch:0"].auto_on_delay')" = 33 ] &&
	[ "$(st 1 /rpc/Shelly.GetConfig | jq -r '.sys.device.name')" = Alpha ] &&
	[ "$(st 2 /rpc/Shelly.GetConfig | jq -r '.sys.device.name')" != Alpha ] &&
	pass "$N: --clone onto the same model, not onto a Gen1" || fail "$N: clone" "rc=$rc $(cat "$T_TMP/c.json")"

# --- a device that answers but refuses the read is not offline: failed, nothing queued ---
# (a wrong password on a Gen2+ device, HTTP 500 from a Gen1 /settings)
ctl POST /devices/1/auth '{"enable":true,"password":"right-one"}' >/dev/null
ctl POST /devices/0/fault '{"fault":"http500","path":"/settings"}' >/dev/null
printf 'wrong-one\n' >"$T_TMP/pw" && chmod 600 "$T_TMP/pw"
np=$(sq "$DB" "select count(*) from config_pending")
tui --config-set sys.timezone=Europe/Paris g1 plus-a --password-file "$T_TMP/pw" --json >"$T_TMP/rf.json" 2>"$T_TMP/rf.err"
rc=$?
[ $rc = 1 ] && [ "$(jq -r '[.devices[].result] | join(",")' "$T_TMP/rf.json")" = failed,failed ] &&
	[ "$(sq "$DB" "select count(*) from config_pending")" = "$np" ] &&
	jq -r '.devices[1].message' "$T_TMP/rf.json" | grep -q 'cannot read the configuration: .*nothing written' &&
	! grep -q offline "$T_TMP/rf.json" &&
	pass "$N: wrong password or HTTP 500 on the read: failed, not queued as offline" ||
	fail "$N: refused read" "rc=$rc $(cat "$T_TMP/rf.json" "$T_TMP/rf.err")"
ctl POST /devices/1/auth '{"enable":false}' >/dev/null
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null

# --- ${index}: the device's position in its group (MAC order), however the device is named ---
tui --group-set office 'sntp.server=ntp${index}.lan'
M2=$(mac_of 2)
pos=$(for i in 0 1 2; do mac_of $i; done | sort | grep -n "^$M2\$" | cut -d: -f1)
one=$(tui --drift plus-b --json | jq -r '.devices[0].fields[] | select(.field == "sntp.server") | .desired')
grp=$(tui --drift @office --json | jq -r ".devices[] | select(.target == \"$M2\") | .fields[] | select(.field == \"sntp.server\") | .desired")
[ "$one" = "ntp$pos.lan" ] && [ "$grp" = "ntp$pos.lan" ] &&
	pass "$N: \${index} is the position in the group, named alone or by @office" || fail "$N: index" "pos=$pos one=$one grp=$grp"

# --- MQTT client ids that differ only in case are two ids (a broker tells them apart) ---
tui --config-set mqtt.client_id=Lamp plus-a >/dev/null 2>&1 &&
	tui --config-set mqtt.client_id=lamp plus-b >/dev/null 2>&1 ||
	fail "$N: per-device client ids" "could not set them"
tui --group-set office sys.timezone=Asia/Seoul
tui --apply @office --json >"$T_TMP/ci.json" 2>"$T_TMP/ci.err"
rc=$?
[ $rc = 0 ] && [ "$(jq -r '[.devices[].result] | unique | join(",")' "$T_TMP/ci.json")" = ok ] &&
	[ "$(st 1 /rpc/MQTT.GetConfig | jq -r .client_id)" = Lamp ] &&
	[ "$(st 2 /rpc/MQTT.GetConfig | jq -r .client_id)" = lamp ] &&
	[ "$(st 2 /rpc/Sys.GetConfig | jq -r .location.tz)" = Asia/Seoul ] &&
	pass "$N: client ids Lamp and lamp: the group is applied, not refused as one id" ||
	fail "$N: client ids by case" "rc=$rc $(cat "$T_TMP/ci.json" "$T_TMP/ci.err")"

# --- group removal ---
tui --group-remove office g1 && [ "$(tui --group-list --json | jq -r '.groups[0].members | length')" = 2 ] &&
	tui --group-remove office && [ "$(tui --group-list --json | jq -r '.groups | length')" = 0 ] &&
	pass "$N: --group-remove members, then the group" || fail "$N: group-remove"
sim_stop
exit 0
