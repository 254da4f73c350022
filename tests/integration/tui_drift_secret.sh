# The drift view's apply to an offline device whose desired configuration holds a secret (its
# group's template sets mqtt.pass): the dry run says the change will not be queued (a queued
# change never holds a secret, the database never stores one), the question counts it apart
# from the queued ones, and after the yes nothing is queued and the secret is never shown.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_drift_secret
SECRET=drift-secret-7c1e
tui_sim_start $N --models gen2/plus-1pm
tui_config
mkdir -p "$XDG_CONFIG_HOME/shelly-tui/templates"
printf 'sys.timezone = Pacific/Chatham\nmqtt.pass = "%s"\n' "$SECRET" \
	>"$XDG_CONFIG_HOME/shelly-tui/templates/keyed.tmpl"
tui_add 0 plus
"$SHELLY_TUI" --config-get plus >/dev/null 2>"$T_TMP/e" || fail "$N: --config-get" "$(cat "$T_TMP/e")"
"$SHELLY_TUI" --group-add lab plus -q >/dev/null 2>"$T_TMP/e" || fail "$N: --group-add" "$(cat "$T_TMP/e")"
"$SHELLY_TUI" --group-template lab keyed -q >/dev/null 2>"$T_TMP/e" || fail "$N: --group-template" "$(cat "$T_TMP/e")"

tui_console 130 36 'fleet 1 +online 1'
tui_wait 60 '^.  plus .*online +1 ' || fail "$N: drift 1" "$(tui_why 'plus online 1')"
# The device refuses connections (the fault set again until it does: a loaded machine can
# make one control request time out).
closed() {
	ctl POST /devices/0/fault '{"fault":"closed"}' >/dev/null
	! curl -s -m 3 -o /dev/null "http://$(dv 0 HP)/shelly"
}
wait_for 60 closed || fail "$N: fault" "the simulated device still answers"
tui_wait 60 '^.  plus .*offline ' || fail "$N: offline" "$(tui_why 'plus offline')"
tui_keys d
tui_wait 30 'plus +sys.timezone' || fail "$N: drift view" "$(tui_why 'plus sys.timezone')"
shown=""
grep -q "$SECRET" "$T_TMP/screen" && shown="the drift list"
tui_keys a
if tui_wait 60 'plus .*\(holds a secret: not queued\)' &&
	tui_wait 30 '\(0 offline: queued, 1 with a secret: not queued;.*\[y/N\]'; then
	pass "$N: the dry run says an offline change holding a secret is not queued"
	grep -q "$SECRET" "$T_TMP/screen" && shown="$shown the dry run"
else
	fail "$N: dry run" "$(tui_why 'holds a secret: not queued')"
fi
tui_keys y
tui_wait 60 'apply done' || fail "$N: apply ends" "$(tui_why 'apply done')"
# (the words after FAILED depend on how the closed device failed: refused, or reset mid-read)
if tui_wait 10 'FAILED +plus '; then
	pass "$N: the apply reports the change as failed"
	grep -q "$SECRET" "$T_TMP/screen" && shown="$shown the results"
else
	fail "$N: apply" "$(grep -v '^│ *│$' "$T_TMP/screen")"
fi
"$SHELLY_TUI" --pending --json >"$T_TMP/pending" 2>&1
rc=$?
if [ $rc = 0 ] && [ "$(jq -r '.pending | length' "$T_TMP/pending")" = 0 ] && [ -z "$shown" ] &&
	! grep -rqa "$SECRET" "$XDG_DATA_HOME/shelly-tui"; then
	pass "$N: nothing queued, the secret neither shown nor stored"
else
	fail "$N: queue" "rc=$rc; secret shown in: ${shown:-nothing}; $(cat "$T_TMP/pending")"
fi
tui_keys q q q
tui_stop
sim_stop
