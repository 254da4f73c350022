# Desired values are read strictly: a template or --config-set naming one field twice is
# refused (the template with both line numbers) instead of taking the last value; numbers are
# decimal (0x10 refused, -0 is 0); a template that starts with a UTF-8 byte order mark reads
# as without it. Nothing is sent when refused.
. tests/lib.sh
. tests/sim/simlib.sh

N=config_strict_input
export XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
T=$XDG_CONFIG_HOME/shelly-tui/templates
mkdir -p "$T"
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm --count 1
D=$(mf '.devices[0] | "\(.addr):\(.port)"')
tui() { "$SHELLY_TUI" --timeout 5 "$@"; }
sets() { ctl GET /devices/0/state | jq '[.counters.by_path | keys[] | select(test("Set"))] | length'; }
ctl POST /devices/0/reset-counters >/dev/null

printf 'sys.timezone = Asia/Tokyo\nsntp.server = a.lan\n\nsys.timezone = Europe/Sofia\n' >"$T/dup.tmpl"
tui --apply dup "$D" >"$T_TMP/out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q 'line 4: sys.timezone set twice (line 1 and line 4)' "$T_TMP/out" && [ "$(sets)" = 0 ] &&
	pass "$N: a template setting a field twice is refused with both lines" ||
	fail "$N: template twice" "rc=$rc sets=$(sets) $(cat "$T_TMP/out")"

tui --config-set sys.timezone=Asia/Tokyo sys.timezone=Europe/Sofia "$D" >"$T_TMP/out" 2>&1; rc=$?
[ $rc = 2 ] && grep -q 'config-set: sys.timezone given twice' "$T_TMP/out" && [ "$(sets)" = 0 ] &&
	pass "$N: --config-set naming a field twice is a usage error" ||
	fail "$N: --config-set twice" "rc=$rc sets=$(sets) $(cat "$T_TMP/out")"

for v in 0x10 0X1p4 +5 inf; do
	tui --config-set "switch:0.auto_off_delay_s=$v" "$D" >"$T_TMP/out" 2>&1; rc=$?
	[ $rc = 2 ] && grep -q "is not a decimal number" "$T_TMP/out" && [ "$(sets)" = 0 ] &&
		pass "$N: --config-set $v is refused" || fail "$N: --config-set $v" "rc=$rc $(cat "$T_TMP/out")"
done
printf '\357\273\277sys.timezone = Pacific/Chatham\n' >"$T/bom.tmpl"
tui --apply bom "$D" >"$T_TMP/out" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(curl -s -m 3 "http://$D/rpc/Sys.GetConfig" | jq -r .location.tz)" = Pacific/Chatham ] &&
	pass "$N: a template with a byte order mark applies" || fail "$N: BOM" "rc=$rc $(cat "$T_TMP/out")"
tui --config-set switch:0.auto_off_delay_s=-0 "$D" >"$T_TMP/out" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(curl -s -m 3 "http://$D/rpc/Switch.GetConfig?id=0" | jq -c .auto_off_delay)" = 0 ] &&
	pass "$N: -0 is written as 0" || fail "$N: -0" "rc=$rc $(cat "$T_TMP/out")"

