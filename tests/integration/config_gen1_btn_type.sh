# Gen1 relay btn_type momentary_on_release (a valid Gen1 button type) reads as
# switch:0.in_mode: --config-get shows it, --drift compares it, --apply writes another. A value
# the model does not know is "unreadable" with its raw value sanitised (never silently absent,
# never "unsupported"): --config-get lists it, --drift exits 1, --apply writes nothing.
. tests/lib.sh
. tests/sim/simlib.sh

N=config_gen1_btn_type
export XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
T=$XDG_CONFIG_HOME/shelly-tui/templates
mkdir -p "$T"
sim_up $N --fixtures tests/fixtures --models gen1/shelly-1 --count 1
G=$(mf '.devices[0] | "\(.addr):\(.port)"')
tui() { "$SHELLY_TUI" --timeout 5 "$@"; }
btn() { curl -s -m 3 "http://$G/settings" | jq -r '.relays[0].btn_type'; }

ctl POST /devices/0/config '{"patch":{"relays":{"0":{"btn_type":"momentary_on_release"}}}}' >/dev/null
[ "$(btn)" = momentary_on_release ] || fail "$N: the sim holds the button type" "$(btn)"
tui --config-get "$G" --json >"$T_TMP/get" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(jq -r '.devices[0].config["switch:0.in_mode"]' "$T_TMP/get")" = momentary_on_release ] &&
	pass "$N: --config-get reads momentary_on_release" || fail "$N: --config-get" "rc=$rc $(cat "$T_TMP/get")"
printf 'switch:0.in_mode = momentary_on_release\n' >"$T/mor.tmpl"
tui --drift --template mor "$G" >"$T_TMP/drift" 2>&1; rc=$?
[ $rc = 0 ] && grep -q '0 field(s) drifted' "$T_TMP/drift" && ! grep -q unsupported "$T_TMP/drift" &&
	pass "$N: --drift compares it (no drift)" || fail "$N: --drift" "rc=$rc $(cat "$T_TMP/drift")"
printf 'switch:0.in_mode = follow\n' >"$T/follow.tmpl"
tui --apply follow "$G" >"$T_TMP/apply" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(btn)" = toggle ] && pass "$N: --apply writes another button type over it" ||
	fail "$N: --apply" "rc=$rc btn=$(btn) $(cat "$T_TMP/apply")"
tui --apply mor "$G" >"$T_TMP/apply" 2>&1; rc=$?
[ $rc = 0 ] && [ "$(btn)" = momentary_on_release ] && pass "$N: --apply writes momentary_on_release" ||
	fail "$N: --apply momentary_on_release" "rc=$rc btn=$(btn) $(cat "$T_TMP/apply")"

# A button type the model does not know, with an escape sequence in it.
ctl POST /devices/0/config '{"patch":{"relays":{"0":{"btn_type":"future\u001b[31m"}}}}' >/dev/null
tui --config-get "$G" >"$T_TMP/get.txt" 2>&1; rc1=$?
tui --config-get "$G" --json >"$T_TMP/get" 2>&1; rc2=$?
[ $rc1 = 0 ] && [ $rc2 = 0 ] && grep -q 'switch:0.in_mode *unreadable: the device reports "future' "$T_TMP/get.txt" &&
	[ "$(jq -r '.devices[0].unreadable["switch:0.in_mode"] | startswith("future")' "$T_TMP/get")" = true ] &&
	[ "$(jq -r '.devices[0].config | has("switch:0.in_mode")' "$T_TMP/get")" = false ] &&
	! has_ctl_bytes "$T_TMP/get.txt" && ! has_ctl_bytes "$T_TMP/get" &&
	pass "$N: --config-get shows an unknown choice as unreadable, sanitised" ||
	fail "$N: --config-get unknown" "rc=$rc1/$rc2 $(cat -v "$T_TMP/get.txt" "$T_TMP/get")"
tui --drift --template follow "$G" >"$T_TMP/drift" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'switch:0.in_mode: unreadable: the device reports "future' "$T_TMP/drift" &&
	! grep -q unsupported "$T_TMP/drift" && ! has_ctl_bytes "$T_TMP/drift" &&
	pass "$N: --drift: unreadable with its raw value, exit 1" || fail "$N: --drift unknown" "rc=$rc $(cat -v "$T_TMP/drift")"
ctl POST /devices/0/reset-counters >/dev/null
tui --apply follow "$G" >"$T_TMP/apply" 2>&1; rc=$?
sets=$(ctl GET /devices/0/state | jq '[.counters.by_path | keys[] | select(test("settings/"))] | length')
[ $rc != 0 ] && grep -q 'unreadable' "$T_TMP/apply" && [ "$sets" = 0 ] &&
	pass "$N: --apply over an unknown choice writes nothing" || fail "$N: --apply unknown" "rc=$rc sets=$sets $(cat "$T_TMP/apply")"
