# --clone never carries control characters or escape sequences from the source to its targets:
# a source value a desired configuration refuses (input:0.name with ESC [5m) is an error naming
# the field, printed sanitised, exit 1, and no target gets a setter request.
. tests/lib.sh
. tests/sim/simlib.sh

N=config_clone_escape
export XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm --count 2
S=$(mf '.devices[0] | "\(.addr):\(.port)"') D=$(mf '.devices[1] | "\(.addr):\(.port)"')
ctl POST /devices/0/config '{"patch":{"input:0":{"name":"in\u001b[5mblink"},"sys":{"location":{"tz":"Asia/Tokyo"}}}}' >/dev/null
[ "$(curl -s -m 3 "http://$S/rpc/Input.GetConfig?id=0" | jq -r .name)" = "$(printf 'in\033[5mblink')" ] ||
	fail "$N: the source holds the escape" "$(curl -s -m 3 "http://$S/rpc/Input.GetConfig?id=0")"
before=$(curl -s -m 3 "http://$D/rpc/Shelly.GetConfig" | jq -c .)
ctl POST /devices/1/reset-counters >/dev/null
"$SHELLY_TUI" --timeout 5 --clone "$S" "$D" >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
sets=$(ctl GET /devices/1/state | jq '[.counters.by_path | keys[] | select(test("Set"))] | length')
after=$(curl -s -m 3 "http://$D/rpc/Shelly.GetConfig" | jq -c .)
[ $rc = 1 ] && grep -q 'clone: the device reports input:0.name, which a desired configuration refuses' "$T_TMP/err" &&
	! has_ctl_bytes "$T_TMP/err" && ! has_ctl_bytes "$T_TMP/out" && [ "$sets" = 0 ] && [ "$before" = "$after" ] &&
	pass "$N: --clone refuses a source value with an escape sequence, nothing sent" ||
	fail "$N: --clone of an escape sequence" "rc=$rc sets=$sets $(cat -v "$T_TMP/out" "$T_TMP/err")"

# A source value holding '${' would be expanded as a template variable on every target (here
# each target's own name) or fail there: --clone and --template-save refuse it, nothing sent
# or written.
ctl POST /devices/0/config '{"patch":{"input:0":{"name":"Lamp ${name}"}}}' >/dev/null
ctl POST /devices/1/reset-counters >/dev/null
"$SHELLY_TUI" --timeout 5 --clone "$S" "$D" >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
sets=$(ctl GET /devices/1/state | jq '[.counters.by_path | keys[] | select(test("Set"))] | length')
"$SHELLY_TUI" --timeout 5 --template-save var --from "$S" --fields input:0 >"$T_TMP/out2" 2>"$T_TMP/err2"; rc2=$?
[ $rc = 1 ] && [ $rc2 = 1 ] && [ "$sets" = 0 ] &&
	grep -q 'clone: the device reports input:0.name, which a desired configuration refuses' "$T_TMP/err" &&
	grep -q 'template-save: the device reports input:0.name' "$T_TMP/err2" &&
	[ ! -e "$XDG_CONFIG_HOME/shelly-tui/templates/var.tmpl" ] &&
	pass "$N: a source value with a template variable: refused, nothing sent or written" ||
	fail "$N: source value with \${" "rc=$rc/$rc2 sets=$sets $(cat "$T_TMP/out" "$T_TMP/err" "$T_TMP/err2")"
sim_stop
exit 0
