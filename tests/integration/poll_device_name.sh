# A name changed on the device (Gen2 Sys config device.name, Gen1 settings name) after
# registration: an event device_name_changed "'old' -> 'new'" (sanitised), and the registry
# name follows only when it was the device's own (never set by the operator). A name the
# operator gave (--add --name) stays. Unchanged names add no event; --remove forgets them.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=poll_device_name
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm,gen1/shelly-plug-s,gen2/pro-dual-cover-pm --count 3
DB=$T_TMP/shelly.db
G2=$(dev_by_fixture gen2/plus-1pm)
G1=$(dev_by_fixture gen1/shelly-plug-s)
ctl POST /devices/$G1/config '{"patch":{"name":"Plug as shipped"}}' >/dev/null
# A name with an escape sequence from the start: still the device's own name when compared.
ctl POST /devices/$G2/config '{"patch":{"sys":{"device":{"name":"1PM\u001b[1m Plus"}}}}' >/dev/null
hl_add "$DB" "$G2" || { fail "$N: --add gen2" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
hl_add "$DB" "$G1" --name "Operator pick" ||
	{ fail "$N: --add gen1" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
# This capture's /shelly name ("Pro Dual Cover") is not its configured name ("2Cover Pro"):
# the name compared is always the configured one, so its first poll is no rename.
hl_add "$DB" "$(dev_by_fixture gen2/pro-dual-cover-pm)" ||
	{ fail "$N: --add cover" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
M2=$(mac_of "$G2")
M1=$(mac_of "$G1")
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
name_of() { sql "SELECT name FROM devices WHERE mac = '$1'"; }
renames() { sql "SELECT group_concat(detail, '|') FROM (SELECT detail FROM events WHERE mac = '$1' AND kind = 'device_name_changed' ORDER BY id)"; }
poll() { "$SHELLY_TUI" --db "$DB" --poll-once -q >/dev/null 2>>"$T_TMP/poll.err"; }

[ "$(name_of "$M2")" = "$(printf '1PM\033[1m Plus')" ] && [ "$(name_of "$M1")" = "Operator pick" ] &&
	pass "$N: registered with the device's name and the operator's" ||
	fail "$N: names at --add" "'$(name_of "$M2")' '$(name_of "$M1")'"

poll
[ "$(sql "SELECT count(*) FROM events WHERE kind = 'device_name_changed'")" = 0 ] &&
	pass "$N: first poll: no rename event" ||
	fail "$N: first poll" "$(sql "SELECT group_concat(detail, '|') FROM events WHERE kind = 'device_name_changed'")"

# Renamed on the devices behind the tool's back; the Gen2 name carries an escape sequence.
ctl POST /devices/$G2/config '{"patch":{"sys":{"device":{"name":"Hall\u001b[2J lamp"}}}}' >/dev/null
ctl POST /devices/$G1/config '{"patch":{"name":"Renamed on device"}}' >/dev/null
poll
[ "$(name_of "$M2")" = "Hall lamp" ] && [ "$(renames "$M2")" = "'1PM Plus' -> 'Hall lamp', registry follows" ] &&
	pass "$N: a device-given name follows the device, sanitised, with an event" ||
	fail "$N: gen2 rename" "name '$(name_of "$M2" | tr -d '\033')', events '$(renames "$M2")'"
[ "$(name_of "$M1")" = "Operator pick" ] &&
	[ "$(renames "$M1")" = "'Plug as shipped' -> 'Renamed on device'" ] &&
	pass "$N: an operator's name stays; the rename is an event" ||
	fail "$N: gen1 rename" "name '$(name_of "$M1")', events '$(renames "$M1")'"
[ "$(sql "SELECT count(*) FROM audit WHERE action = 'rename' AND who = 'device' AND target = '$M2'")" = 1 ] &&
	pass "$N: the followed rename is audited" || fail "$N: audit" "$(sql "SELECT * FROM audit WHERE action = 'rename'")"

n=$(sql "SELECT count(*) FROM events")
poll
[ "$(sql "SELECT count(*) FROM events")" = "$n" ] && pass "$N: unchanged names: no event" ||
	fail "$N: unchanged" "$(renames "$M2") / $(renames "$M1")"

"$SHELLY_TUI" --db "$DB" --remove "$M1" >/dev/null 2>&1
[ "$(sql "SELECT count(*) FROM settings WHERE key = 'device-name:$M1'")" = 0 ] &&
	[ "$(sql "SELECT count(*) FROM settings WHERE key = 'device-name:$M2'")" = 1 ] &&
	pass "$N: --remove forgets the reported name" || fail "$N: remove" "$(sql "SELECT * FROM settings")"
# --remove by the registered name (as a TARGET names a device) says which device it removed
MC=$(mac_of "$(dev_by_fixture gen2/pro-dual-cover-pm)")
CN=$(name_of "$MC")
"$SHELLY_TUI" --db "$DB" --remove "$CN" >"$T_TMP/rm.out" 2>&1; rc=$?
[ $rc = 0 ] && [ -n "$CN" ] && [ -z "$(name_of "$MC")" ] && grep -q "^removed .* (mac $MC)$" "$T_TMP/rm.out" &&
	pass "$N: --remove NAME names the device it removed" || fail "$N: --remove NAME" "rc=$rc name=$CN $(cat "$T_TMP/rm.out")"
exit $T_FAILED
