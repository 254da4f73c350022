#!/bin/sh
# A Gen1 offered a later build of the version it runs is offered an update. The shelly-vintage
# capture runs 20231206-112335/v1.14.1-rc1-2-g6f199f940 and is offered
# 20241106-105233/v1.14.1-rc1-6-gfb43488e8: both read as 1.14.1-rc1, the build stamp tells
# the offer is newer. --probe and the poller show the update, fw_check names it, fw_update
# sends /ota?update=true (the sim reboots into it).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=action_fw_builds
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
printf 'set connect-timeout 10s\nset request-timeout 15s\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
unset SHELLY_TUI_PASSWORD
if ! sim_start $N --fixtures tests/fixtures --models gen1/shelly-vintage --count 1 --auth none \
	--reboot-ms 300; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
HP=$(dev_hp 0)

"$SHELLY_TUI" --json --probe "$HP" >"$T_TMP/j" 2>"$T_TMP/e"
[ "$(jq -c '[.sys.update_available, .sys.update_version]' "$T_TMP/j")" = '[true,"1.14.1-rc1"]' ] &&
	pass "$N: --probe shows the later build as an update" ||
	fail "$N: --probe" "$(cat "$T_TMP/j" "$T_TMP/e")"

DB=$T_TMP/fleet.db
if "$SHELLY_TUI" --db "$DB" --add "$HP" >"$T_TMP/o" 2>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$DB" --poll-once >>"$T_TMP/o" 2>>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$DB" --list --json >"$T_TMP/j" 2>>"$T_TMP/e"; then
	[ "$(jq -c '.devices[0].sys.update_available' "$T_TMP/j")" = true ] &&
		pass "$N: --poll-once stores the update" ||
		fail "$N: poll-once update" "$(jq -c '.devices[0].sys' "$T_TMP/j")"
else
	fail "$N: add and poll" "$(cat "$T_TMP/o" "$T_TMP/e")"
fi

"$SHELLY_TUI" --action fw_check --json "$HP" >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(jq -r '.results[0].update_available' "$T_TMP/j")" = true ] &&
	pass "$N: fw_check: update available" ||
	fail "$N: fw_check" "rc=$rc $(cat "$T_TMP/j" "$T_TMP/e")"

r0=$(dev_state 0 .reboots)
"$SHELLY_TUI" --action fw_update "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
rebooted() { [ "$(dev_state 0 ".reboots > $r0")" = true ]; }
[ $rc -eq 0 ] && grep -q "update requested" "$T_TMP/o" && wait_for 30 rebooted &&
	pass "$N: fw_update installs the later build" ||
	fail "$N: fw_update" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e") $(dev_state 0 '[.updates, .reboots] | tojson')"
exit 0
