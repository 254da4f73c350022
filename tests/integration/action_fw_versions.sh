#!/bin/sh
# Gen2+ dev builds name no version in their fw_id (pro-dimmer-0-1-10v-pm: fw_id
# "20241113-122729/gbbb762d", /shelly ver "1.4.99-dev111444"; power-strip-gen4: ver
# "1.7.99-powerstripg4prod1"): what they run is their ver. Offered stable 1.4.4 (control API),
# --probe, the poller, fw_check and fw_update all see no update and nothing is installed;
# --list --json and the table show the ver, not a date. A newer stable is installed. A device
# whose running version cannot be read at all (a Gen1 capture of 2019) is shown its offer,
# but fw_update does not install it and fails saying why. A Gen1 offered a later build of the
# version it runs (shelly-vintage: runs 20231206-112335/v1.14.1-rc1-2-g6f199f940, offered
# 20241106-105233/v1.14.1-rc1-6-gfb43488e8, both 1.14.1-rc1) is offered an update: the build
# stamp tells, and fw_update installs it.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=action_fw_versions
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
printf 'set connect-timeout 10s\nset request-timeout 15s\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
unset SHELLY_TUI_PASSWORD
if ! sim_start $N --fixtures tests/fixtures --auth none --reboot-ms 300 \
	--models gen2/pro-dimmer-0-1-10v-pm,gen4/power-strip-gen4,gen1/shelly-1/pastebin-fw-20191217,gen1/shelly-vintage \
	--count 4; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
DB=$T_TMP/fleet.db
for i in 0 1; do
	ctl POST /devices/$i/offer-update '{"stable":"1.4.4","beta":null}' >/dev/null
	HP=$(dev_hp $i)
	"$SHELLY_TUI" --json --probe "$HP" >"$T_TMP/j" 2>"$T_TMP/e"
	[ "$(jq -c '[.sys.update_available, .sys.update_version]' "$T_TMP/j")" = '[false,null]' ] &&
		pass "$N: $i: --probe shows no update for an older stable" ||
		fail "$N: $i: --probe" "$(jq -c .sys "$T_TMP/j") $(cat "$T_TMP/e")"
	"$SHELLY_TUI" --db "$DB" --add "$HP" >"$T_TMP/o" 2>"$T_TMP/e" ||
		fail "$N: $i: --add" "$(cat "$T_TMP/o" "$T_TMP/e")"
	"$SHELLY_TUI" --action fw_check --json "$HP" >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
	[ $rc -eq 0 ] && [ "$(jq -r '.results[0].update_available' "$T_TMP/j")" = false ] &&
		jq -r '.results[0].message' "$T_TMP/j" | grep -q 'newer than the offered 1.4.4' &&
		pass "$N: $i: fw_check: no update" ||
		fail "$N: $i: fw_check" "rc=$rc $(cat "$T_TMP/j" "$T_TMP/e")"
	r0=$(dev_state $i .reboots)
	"$SHELLY_TUI" --action fw_update "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	[ $rc -eq 0 ] && grep -q 'no update available' "$T_TMP/o" &&
		[ "$(dev_state $i .reboots)" = "$r0" ] &&
		[ "$(dev_state $i '.updates.pending // false')" = false ] &&
		pass "$N: $i: fw_update installs no downgrade" ||
		fail "$N: $i: fw_update" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e") $(dev_state $i '.updates | tojson')"
done

if "$SHELLY_TUI" --db "$DB" --poll-once >"$T_TMP/o" 2>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$DB" --list --json >"$T_TMP/j" 2>>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$DB" --list >"$T_TMP/t" 2>>"$T_TMP/e"; then
	got=$(jq -c '[.devices[] | [.fw_version, .sys.update_available]] | sort' "$T_TMP/j")
	[ "$got" = '[["1.4.99-dev111444",false],["1.7.99-powerstripg4prod1",false]]' ] &&
		pass "$N: --list --json: the ver, no update" ||
		fail "$N: --list --json" "$got"
else
	fail "$N: poll and list" "$(cat "$T_TMP/o" "$T_TMP/e")"
fi

# a newer stable is an update again
ctl POST /devices/0/offer-update '{"stable":"1.5.0","beta":null}' >/dev/null
HP=$(dev_hp 0)
# installs: fw_update I WORDS NAME: the run says WORDS and device I reboots
installs() {
	I=$1 r0=$(dev_state $1 .reboots)
	"$SHELLY_TUI" --action fw_update "$(dev_hp $1)" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	rebooted() { [ "$(dev_state $I ".reboots > $r0")" = true ]; }
	[ $rc -eq 0 ] && grep -q "$2" "$T_TMP/o" && wait_for 30 rebooted &&
		pass "$N: $3" ||
		fail "$N: $3" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e") $(dev_state $1 '[.updates, .reboots] | tojson')"
}
installs 0 'update to the stable firmware started' 'a newer stable is installed'

# running version unreadable: the offer is shown, fw_update does not install it
HP=$(dev_hp 2)
ctl POST /devices/2/offer-update '{"stable":"20220209-092750/v1.11.8-g8c7bb8d","beta":null}' >/dev/null
"$SHELLY_TUI" --action fw_check --json "$HP" >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(jq -r '.results[0].update_available' "$T_TMP/j")" = true ] &&
	pass "$N: unreadable running version: fw_check shows the offer" ||
	fail "$N: unreadable fw_check" "rc=$rc $(cat "$T_TMP/j" "$T_TMP/e")"
r0=$(dev_state 2 .reboots)
"$SHELLY_TUI" --action fw_update "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -ne 0 ] && grep -qF 'not installed: cannot tell whether the stable offered (20220209-092750/v1.11.8-g8c7bb8d) is newer than the firmware the device runs (20191217-140757/1047-long-id-for-shelly-devices@a0661583)' "$T_TMP/o" "$T_TMP/e" &&
	[ "$(dev_state 2 .reboots)" = "$r0" ] && [ "$(dev_state 2 '.updates.pending // false')" = false ] &&
	pass "$N: unreadable running version: fw_update installs nothing and says why" ||
	fail "$N: unreadable fw_update" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e") $(dev_state 2 '[.updates, .reboots] | tojson')"

# a later build of the same version (Gen1 vintage capture as it is)
HP=$(dev_hp 3)
"$SHELLY_TUI" --json --probe "$HP" >"$T_TMP/j" 2>"$T_TMP/e"
[ "$(jq -c '[.sys.update_available, .sys.update_version]' "$T_TMP/j")" = '[true,"1.14.1-rc1"]' ] &&
	pass "$N: --probe shows a later build as an update" ||
	fail "$N: later build --probe" "$(jq -c .sys "$T_TMP/j") $(cat "$T_TMP/e")"
"$SHELLY_TUI" --db "$DB" --add "$HP" >"$T_TMP/o" 2>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$DB" --poll-once >>"$T_TMP/o" 2>>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$DB" --list --json >"$T_TMP/j" 2>>"$T_TMP/e"
[ "$(jq -c '[.devices[] | select(.model == "SHVIN-1") | .sys.update_available]' "$T_TMP/j")" = '[true]' ] &&
	pass "$N: --poll-once stores the later build as an update" ||
	fail "$N: later build poll" "$(cat "$T_TMP/o" "$T_TMP/e") $(jq -c '.devices[].sys' "$T_TMP/j")"
"$SHELLY_TUI" --action fw_check --json "$HP" >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(jq -r '.results[0].update_available' "$T_TMP/j")" = true ] &&
	pass "$N: fw_check: the later build is an update" ||
	fail "$N: later build fw_check" "rc=$rc $(cat "$T_TMP/j" "$T_TMP/e")"
installs 3 'update requested' 'fw_update installs the later build'
exit 0
