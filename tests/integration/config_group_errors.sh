#!/bin/sh
# Group commands name what went wrong: --group-remove of a group that does not exist is a
# usage error (no group "nosuch"), as an unknown --group is for --export, not a silent 0; a bad
# value given to --group-set is reported as --group-set's, not --config-set's.
. tests/lib.sh
N=config_group_errors
: >"$T_TMP/config"
tui() { "$SHELLY_TUI" --db "$T_TMP/db" --config "$T_TMP/config" "$@"; }
tui --group-remove nosuch >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'no group "nosuch"' "$T_TMP/err" &&
	pass "$N: --group-remove of an unknown group exits 2" ||
	fail "$N: --group-remove of an unknown group exits 2" "rc=$rc $(cat "$T_TMP/err")"
tui --group-set g1 sys.eco_mode=maybe >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q '^shelly-tui: --group-set: sys.eco_mode' "$T_TMP/err" && ! grep -q -- '--config-set' "$T_TMP/err" &&
	pass "$N: a bad --group-set value names --group-set" ||
	fail "$N: a bad --group-set value names --group-set" "rc=$rc $(cat "$T_TMP/err")"
tui --group-set g1 sys.eco_mode=true && tui --group-remove g1 &&
	[ "$(tui --group-list --json | jq '.groups | length')" = 0 ] &&
	pass "$N: an existing group is removed" || fail "$N: an existing group is removed" "$(tui --group-list)"
# A variable the desired configuration cannot expand is refused where it is given, not stored
# to break every later --drift and --apply of the group; --config-set expands none, so a value
# holding one is refused rather than written as typed and stored to be expanded later.
export XDG_CONFIG_HOME="$T_TMP/xdg"
for v in 'sys.name=${foo}' 'sys.name=ntp${index.lan'; do
	tui --group-set g2 sntp.server=ok.lan "$v" >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc -eq 2 ] && grep -q '^shelly-tui: --group-set: ' "$T_TMP/err" &&
		[ "$(tui --group-list --json | jq '.groups | length')" = 0 ] &&
		pass "$N: --group-set $v is refused, nothing stored" ||
		fail "$N: --group-set $v" "rc=$rc $(cat "$T_TMP/err") $(tui --group-list)"
done
tui --group-set g2 'sys.name=${group}-${index}' 'sntp.server=${id}.lan' >/dev/null 2>"$T_TMP/err" &&
	pass "$N: --group-set with known variables" || fail "$N: --group-set known variables" "$(cat "$T_TMP/err")"
mkdir -p "$XDG_CONFIG_HOME/shelly-tui/templates"
printf 'sntp.server = ${foo}.lan\n' >"$XDG_CONFIG_HOME/shelly-tui/templates/badvar.tmpl"
tui --group-template g2 badvar >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'foo' "$T_TMP/err" &&
	[ "$(tui --group-list --json | jq -r '.groups[0].template')" = null ] &&
	pass "$N: --group-template with an unknown variable is not attached" ||
	fail "$N: --group-template unknown variable" "rc=$rc $(cat "$T_TMP/err") $(tui --group-list --json)"
tui --config-set 'sys.name=Lamp ${mac}' aabbccddeeff >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q '^shelly-tui: --config-set: sys.name: ' "$T_TMP/err" &&
	pass "$N: --config-set refuses a value with a variable" ||
	fail "$N: --config-set variable" "rc=$rc $(cat "$T_TMP/err")"
# A group's own fields and its template are every member's: a value that must differ per device
# (static address, MQTT client id or topic prefix) without a per-device variable is refused
# for a group of two members or more; a group of one may hold it (an apply refuses a value two
# devices would get, whichever way it came).
for i in 1 2; do
	sqlite3 "$T_TMP/db" "INSERT INTO devices (mac, id, gen, name, host, port, scheme, discovered_via)
		VALUES ('00000000000$i', 'shellyplus1-00000000000$i', 2, 'dev$i', '127.0.0.$i', 80, 'http', 'manual')" ||
		fail "$N: device row $i"
done
tui --group-add g3 dev1 dev2 && tui --group-add g2 dev1 dev2 || fail "$N: --group-add" "$(tui --group-list)"
tui --group-add g4 dev1 && tui --group-set g4 wifi.sta.ip=10.0.0.5 mqtt.client_id=fixed >/dev/null 2>"$T_TMP/err" &&
	[ "$(tui --group-list --json | jq -r '[.groups[].name] | join(",")')" = g2,g3,g4 ] &&
	pass "$N: a group of one member may give it a fixed static address and client id" ||
	fail "$N: a group of one" "$(cat "$T_TMP/err") $(tui --group-list)"
# ... but a second member is not added to it: every member would then get the one address
# (each --apply of a single member sends it, the run holding no other device to compare with).
tui --group-add g4 dev2 >/dev/null 2>"$T_TMP/err"; rc=$?
printf 'wifi.sta.ip = 10.0.0.9\n' >"$XDG_CONFIG_HOME/shelly-tui/templates/fixedip.tmpl"
tui --group-add g5 dev1 && tui --group-template g5 fixedip >/dev/null 2>&1 || fail "$N: g5" "$(tui --group-list)"
tui --group-add g5 dev1 dev2 >/dev/null 2>>"$T_TMP/err"; rc5=$?
[ $rc -eq 2 ] && [ $rc5 -eq 2 ] &&
	grep -q '^shelly-tui: --group-add: wifi.sta.ip: every member' "$T_TMP/err" &&
	[ "$(tui --group-list --json | jq -c '[.groups[] | select(.name == "g4" or .name == "g5") | .members | length]')" = '[1,1]' ] &&
	pass "$N: --group-add refuses a second member of a group giving a fixed static address" ||
	fail "$N: --group-add second member" "rc=$rc/$rc5 $(cat "$T_TMP/err") $(tui --group-list --json)"
tui --group-add g4 dev1 >/dev/null 2>"$T_TMP/err" &&
	pass "$N: --group-add of the member it has" || fail "$N: --group-add again" "$(cat "$T_TMP/err")"
tui --group-remove g4 >/dev/null 2>&1
tui --group-remove g5 >/dev/null 2>&1
tui --group-set g3 mqtt.client_id=fixed >/dev/null 2>"$T_TMP/err"; rc1=$?
tui --group-set g3 wifi.sta.ip=10.0.0.5 >/dev/null 2>>"$T_TMP/err"; rc2=$?
printf 'mqtt.topic_prefix = site/${group}\n' >"$XDG_CONFIG_HOME/shelly-tui/templates/sameprefix.tmpl"
tui --group-template g2 sameprefix >/dev/null 2>>"$T_TMP/err"; rc3=$?
[ $rc1 -eq 2 ] && [ $rc2 -eq 2 ] && [ $rc3 -eq 2 ] &&
	grep -q '^shelly-tui: --group-set: mqtt.client_id: every member' "$T_TMP/err" &&
	grep -q '^shelly-tui: --group-template: mqtt.topic_prefix: every member' "$T_TMP/err" &&
	[ "$(sqlite3 "$T_TMP/db" "SELECT count(*) FROM settings WHERE key = 'config-group:g3'")" = 0 ] &&
	[ "$(tui --group-list --json | jq -r '.groups[] | select(.name == "g2") | .template')" = null ] &&
	pass "$N: a per-device field the same for every member is refused" ||
	fail "$N: per-device field for a group" "rc=$rc1/$rc2/$rc3 $(cat "$T_TMP/err") $(tui --group-list)"
tui --group-set g3 'mqtt.client_id=sh-${id}' 'mqtt.topic_prefix=site/${mac}' >/dev/null 2>"$T_TMP/err" &&
	pass "$N: ... and taken with a per-device variable" || fail "$N: per-device variable" "$(cat "$T_TMP/err")"
