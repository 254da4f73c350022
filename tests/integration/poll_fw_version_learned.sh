#!/bin/sh
# A database made before the fw_version column keeps it NULL for the devices it had. A dev
# build's firmware id has no version (the Pro Dimmer 0-1-10V PM capture: fw_id
# "20241113-122729/gbbb762d", ver 1.4.99-dev111444), so an offered stable 1.4.4 looked like an
# update. --poll-once reads /shelly for the running version, stores it, and the older stable is
# no update in --list --json; the next poll reads no /shelly (one request a poll again).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=poll_fw_version_learned
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
printf 'set connect-timeout 10s\nset request-timeout 15s\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
unset SHELLY_TUI_PASSWORD
if ! sim_start $N --fixtures tests/fixtures --models gen2/pro-dimmer-0-1-10v-pm --count 1 \
	--auth none; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
HP=$(dev_hp 0)
DB=$T_TMP/fleet.db
ctl POST /devices/0/offer-update '{"stable":"1.4.4","beta":null}' >/dev/null

if ! "$SHELLY_TUI" --db "$DB" --add "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; then
	fail "$N: --add" "$(cat "$T_TMP/o" "$T_TMP/e")"
	exit 1
fi
sqlite3 "$DB" "UPDATE devices SET fw_version = NULL"
"$SHELLY_TUI" --db "$DB" --poll-once >"$T_TMP/o" 2>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$DB" --list --json >"$T_TMP/j" 2>>"$T_TMP/e"
ver=$(sqlite3 "$DB" "SELECT fw_version FROM devices")
[ "$ver" = 1.4.99-dev111444 ] &&
	pass "$N: --poll-once learns and stores the running version of a dev build" ||
	fail "$N: version learned" "'$ver' $(cat "$T_TMP/e")"
[ "$(jq -c '.devices[0].sys.update_available' "$T_TMP/j")" = false ] &&
	pass "$N: an older stable is no update for a device whose version was unknown" ||
	fail "$N: no update" "$(jq -c '.devices[0].sys' "$T_TMP/j")"

# known now: the next poll is the status read alone
before=$(dev_state 0 '.counters.by_path["/shelly"] // 0')
"$SHELLY_TUI" --db "$DB" --poll-once >"$T_TMP/o" 2>"$T_TMP/e"
after=$(dev_state 0 '.counters.by_path["/shelly"] // 0')
[ "$before" -gt 0 ] && [ "$before" = "$after" ] && pass "$N: the next poll reads no /shelly" ||
	fail "$N: the next poll reads no /shelly" "before=$before after=$after"
exit 0
