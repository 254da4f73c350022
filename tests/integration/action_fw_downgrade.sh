#!/bin/sh
# A device offered an older "stable" than it runs is not offered an update. The EM Mini Gen4
# capture runs 2.0.0-beta1 and reports available_updates.stable 1.7.0-miniemg4prod0: --probe
# shows no update, --action fw_check says none (naming both versions), fw_update installs
# nothing (the sim neither marks an update pending nor reboots) and is done, not failed. A
# newer stable offered afterwards (control API) is an update again, and fw_update starts it.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=action_fw_downgrade
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
printf 'set connect-timeout 10s\nset request-timeout 15s\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
unset SHELLY_TUI_PASSWORD
if ! sim_start $N --fixtures tests/fixtures --models gen4/em-mini-gen4 --count 1 --auth none \
	--reboot-ms 300; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
HP=$(dev_hp 0)
WHY='no update available (device runs 2.0.0-beta1, newer than the offered 1.7.0-miniemg4prod0)'

"$SHELLY_TUI" --probe "$HP" >"$T_TMP/o" 2>"$T_TMP/e"
grep -qi 'update' "$T_TMP/o" && fail "$N: --probe shows no update" "$(cat "$T_TMP/o")" ||
	pass "$N: --probe shows no update for an older stable"

# the poller's reading the same: registered and polled, the device has no update
DB=$T_TMP/fleet.db
if "$SHELLY_TUI" --db "$DB" --add "$HP" >"$T_TMP/o" 2>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$DB" --poll-once >>"$T_TMP/o" 2>>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$DB" --list --json >"$T_TMP/j" 2>>"$T_TMP/e"; then
	[ "$(jq -c '[.devices[0].sys.update_available, .devices[0].sys.update_version]' "$T_TMP/j")" = '[false,null]' ] &&
		pass "$N: --poll-once stores no update for an older stable" ||
		fail "$N: poll-once update" "$(jq -c '.devices[0].sys' "$T_TMP/j")"
else
	fail "$N: add and poll" "$(cat "$T_TMP/o" "$T_TMP/e")"
fi
"$SHELLY_TUI" --action fw_check --json "$HP" >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(jq -r '.results[0].update_available' "$T_TMP/j")" = false ] &&
	[ "$(jq -r '.results[0].message' "$T_TMP/j")" = "$WHY" ] &&
	pass "$N: fw_check: no update, the message names both versions" ||
	fail "$N: fw_check" "rc=$rc $(cat "$T_TMP/j" "$T_TMP/e")"

r0=$(dev_state 0 .reboots)
"$SHELLY_TUI" --action fw_update "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && grep -qF "$WHY" "$T_TMP/o" && [ "$(dev_state 0 .reboots)" = "$r0" ] &&
	[ "$(dev_state 0 '.updates.pending // false')" = false ] &&
	pass "$N: fw_update installs no downgrade, done not failed" ||
	fail "$N: fw_update" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e") $(dev_state 0 '[.updates, .reboots] | tojson')"

# a newer stable is an update again
ctl POST /devices/0/offer-update '{"stable":"2.0.1","beta":null}' >/dev/null
"$SHELLY_TUI" --action fw_update "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
rebooted() { [ "$(dev_state 0 ".reboots > $r0")" = true ]; }
[ $rc -eq 0 ] && grep -q 'update to the stable firmware started' "$T_TMP/o" && wait_for 30 rebooted &&
	pass "$N: a newer stable is installed" ||
	fail "$N: newer stable" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e") $(dev_state 0 '[.updates, .reboots] | tojson')"
exit 0
