# --action on a device with two lights of one number: the Pro RGBWW PM (profile rgbcct) has
# rgb:0 and cct:0. --channel TYPE:N names the light by its component type: cct:0 and rgb:0 are
# switched separately (CCT.Set, RGB.Set), the result line names the light so; a plain number
# keeps the profile's light (rgb); an unknown type, or a type on a non-light action, is a
# usage error.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=action_light_types
cli_private
sim_up $N --fixtures tests/fixtures --models gen2/pro-rgbww-pm --count 1 --auth none
HP=$(dev_hp 0)
lt() { dev_state 0 ".lights[] | select(.type == \"$1\" and .id == 0) | .on"; }
[ "$(lt cct)" = false ] && [ "$(lt rgb)" = false ] || { fail "$N: both lights off at start" "$(dev_state 0 '.lights | tojson')"; exit 1; }

"$SHELLY_TUI" --action light_on --channel cct:0 "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && grep -qE '^OK +[^ ]+ cct:0 on' "$T_TMP/o" && [ "$(lt cct)" = true ] && [ "$(lt rgb)" = false ] &&
	[ "$(dev_state 0 '.counters.by_path["/rpc/CCT.Set"] // 0')" -ge 1 ] &&
	pass "$N: --channel cct:0 turns cct:0 on (CCT.Set), rgb:0 stays off" ||
	fail "$N: --channel cct:0" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e") sim $(dev_state 0 '.lights | tojson')"

"$SHELLY_TUI" --action light_on --channel rgb:0 "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
"$SHELLY_TUI" --action light_off --channel cct:0 "$HP" >>"$T_TMP/o" 2>>"$T_TMP/e"; rc2=$?
[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && grep -qE '^OK +[^ ]+ rgb:0 on' "$T_TMP/o" && grep -qE '^OK +[^ ]+ cct:0 off' "$T_TMP/o" &&
	[ "$(lt rgb)" = true ] && [ "$(lt cct)" = false ] &&
	pass "$N: rgb:0 on and cct:0 off, each by its type" ||
	fail "$N: rgb:0 on, cct:0 off" "rc=$rc/$rc2 $(cat "$T_TMP/o" "$T_TMP/e") sim $(dev_state 0 '.lights | tojson')"

# A plain number: the profile's light (rgbcct profile: RGB).
"$SHELLY_TUI" --action light_off --channel 0 "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(lt rgb)" = false ] && grep -qE '^OK +[^ ]+ light:0 off' "$T_TMP/o" &&
	pass "$N: --channel 0 addresses the profile's light (rgb:0)" ||
	fail "$N: --channel 0" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e") sim $(dev_state 0 '.lights | tojson')"

for bad in "light_on --channel dali:0" "light_on --channel cct:" "light_on --channel cct:256" "switch_on --channel cct:0"; do
	# shellcheck disable=SC2086
	"$SHELLY_TUI" --action $bad "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	[ $rc -eq 2 ] && grep -q -- '--channel wants N|' "$T_TMP/e" &&
		pass "$N: --action $bad is a usage error" || fail "$N: --action $bad" "rc=$rc $(cat "$T_TMP/e")"
done

# --json names the light type given (null without one).
"$SHELLY_TUI" --action light_toggle --channel cct:0 --json "$HP" >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
"$SHELLY_TUI" --action light_toggle --channel 0 --json "$HP" >"$T_TMP/j2" 2>>"$T_TMP/e"; rc2=$?
[ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ "$(jq -c '[.light, .channel, .results[0].ok]' "$T_TMP/j")" = '["cct",0,true]' ] &&
	[ "$(jq -c '[.light, .channel]' "$T_TMP/j2")" = '[null,0]' ] &&
	pass "$N: --json says the light type given (\"cct\", else null)" ||
	fail "$N: --json light" "rc=$rc/$rc2 $(cat "$T_TMP/j" "$T_TMP/j2" "$T_TMP/e")"
