#!/bin/sh
# A device whose configuration reply holds fields with wrong types (sim fault wrongtypes on
# /rpc/Shelly.GetConfig: booleans as objects) cannot be compared: --drift reports the field
# unreadable and exits 1 (not "unsupported", exit 0), and --apply writes nothing.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=config_unreadable
export XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
sim_up $N --fixtures tests/fixtures --models gen3/1pm-gen3 --count 1
G=$(dev_hp 0)
tui() { "$SHELLY_TUI" --timeout 5 "$@"; }
mkdir -p "$XDG_CONFIG_HOME/shelly-tui/templates"
on=$(curl -s -m 3 "http://$G/rpc/Switch.GetConfig?id=0" | jq -r .auto_on)
printf 'switch:0.auto_on = %s\n' "$on" >"$XDG_CONFIG_HOME/shelly-tui/templates/t.tmpl"
tui --drift --template t "$G" >"$T_TMP/d0" 2>&1
rc=$?
[ $rc = 0 ] && grep -q '0 field(s) drifted' "$T_TMP/d0" && pass "$N: a healthy reply: no drift" ||
	fail "$N: healthy drift" "rc=$rc $(cat "$T_TMP/d0")"

set_fault 0 wrongtypes /rpc/Shelly.GetConfig
tui --drift --template t "$G" >"$T_TMP/d1" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'switch:0.auto_on: unreadable' "$T_TMP/d1" && ! grep -q unsupported "$T_TMP/d1" &&
	pass "$N: --drift: a field with a wrong type is unreadable, exit 1" ||
	fail "$N: drift unreadable" "rc=$rc $(cat "$T_TMP/d1")"
tui --drift --template t "$G" --json >"$T_TMP/d1.json" 2>/dev/null
rc=$?
[ $rc = 1 ] && [ "$(jq -r '.devices[0].fields[0].state' "$T_TMP/d1.json")" = unreadable ] &&
	pass "$N: --drift --json: state unreadable, exit 1" || fail "$N: drift json" "rc=$rc $(cat "$T_TMP/d1.json")"
printf 'switch:0.auto_on = %s\n' "$([ "$on" = true ] && echo false || echo true)" >"$XDG_CONFIG_HOME/shelly-tui/templates/t.tmpl"
c0=$(curl -s -m 3 "http://$G/rpc/Sys.GetStatus" | jq -r .cfg_rev)
tui --apply t "$G" >"$T_TMP/a1" 2>&1
rc=$?
[ $rc = 1 ] && grep -q 'unreadable' "$T_TMP/a1" &&
	[ "$(curl -s -m 3 "http://$G/rpc/Sys.GetStatus" | jq -r .cfg_rev)" = "$c0" ] &&
	pass "$N: --apply writes nothing to a field it cannot read, exit 1" ||
	fail "$N: apply unreadable" "rc=$rc $(cat "$T_TMP/a1")"
exit $T_FAILED
