# The drift view agrees with --drift and --apply when a secret is the only thing desired (the
# group's template sets mqtt.pass alone): the store view labels it "(write-only)" (not
# "(unsupported)") and counts the device as one to change; the dry run shows it as
# "(write-only) -> ********" without "nothing to change"; the question names 1 device; the
# apply sends it (MQTT.SetConfig reaches the device) and the secret is never shown.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_drift_secret_only
SECRET=only-secret-93bd
tui_sim_start $N --models gen2/plus-1pm
tui_config
mkdir -p "$XDG_CONFIG_HOME/shelly-tui/templates"
printf 'mqtt.pass = "%s"\n' "$SECRET" >"$XDG_CONFIG_HOME/shelly-tui/templates/keyed.tmpl"
tui_add 0 plus
"$SHELLY_TUI" --config-get plus >/dev/null 2>"$T_TMP/e" || fail "$N: --config-get" "$(cat "$T_TMP/e")"
"$SHELLY_TUI" --group-add lab plus -q >/dev/null 2>"$T_TMP/e" || fail "$N: --group-add" "$(cat "$T_TMP/e")"
"$SHELLY_TUI" --group-template lab keyed -q >/dev/null 2>"$T_TMP/e" || fail "$N: --group-template" "$(cat "$T_TMP/e")"
shown=""

tui_console 130 36 'fleet 1 +online 1'
tui_keys d
if tui_wait 30 'plus +mqtt\.pass +\*{8} +\(write-only\)' && tui_wait 10 '1 device\(s\) to change'; then
	pass "$N: the store view labels the secret write-only and counts the device"
else
	fail "$N: store view" "$(tui_why 'mqtt.pass ******** (write-only), 1 device(s) to change')"
fi
grep -q 'unsupported' "$T_TMP/screen" && fail "$N: not unsupported" "$(cat "$T_TMP/screen")"
grep -q "$SECRET" "$T_TMP/screen" && shown="the store view"
ctl POST /devices/0/reset-counters >/dev/null
tui_keys a
if tui_wait 60 'plus +mqtt\.pass +\(write-only\) -> \*{8}' &&
	tui_wait 30 'Apply to 1 device\(s\) .*\[y/N\]'; then
	if grep -q 'nothing to change' "$T_TMP/screen"; then
		fail "$N: dry run" "says nothing to change: $(cat "$T_TMP/screen")"
	else
		pass "$N: the dry run lists the secret as a change and asks for 1 device"
	fi
	grep -q "$SECRET" "$T_TMP/screen" && shown="$shown the dry run"
else
	fail "$N: dry run" "$(tui_why '(write-only) -> ********, Apply to 1 device(s)')"
fi
tui_keys y
tui_wait 60 'apply done' || fail "$N: apply ends" "$(tui_why 'apply done')"
sent=$(ctl GET /devices/0/state | jq '[.counters.by_path | keys[] | select(test("MQTT.SetConfig"))] | length')
if tui_wait 10 'OK +plus ' && [ "$sent" -ge 1 ]; then
	pass "$N: the apply sends the secret, as --apply does"
	grep -q "$SECRET" "$T_TMP/screen" && shown="$shown the results"
else
	fail "$N: apply" "sent=$sent $(grep -v '^│ *│$' "$T_TMP/screen")"
fi
[ -z "$shown" ] && pass "$N: the secret is never shown" || fail "$N: secret shown" "in $shown"
tui_keys q q q
tui_stop
sim_stop
