#!/bin/sh
# A device at a port that is not its scheme's default is shown with it: --add says
# "at HOST:PORT" and the --list HOST column reads HOST:PORT (the sim listens on high ports).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=list_hostport
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
unset SHELLY_TUI_PASSWORD
if ! sim_start $N --fixtures tests/fixtures --models gen2/plus-1pm --count 1 --auth none; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
HP=$(dev_hp 0)
DB=$T_TMP/fleet.db
"$SHELLY_TUI" --db "$DB" --add "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && grep -qF " at $HP" "$T_TMP/o" && ! grep -qF " at $HP:" "$T_TMP/o" &&
	pass "$N: --add names host and port" ||
	fail "$N: --add" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e")"
"$SHELLY_TUI" --db "$DB" --list >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && grep -qF " $HP " "$T_TMP/o" &&
	pass "$N: --list HOST column has the port" ||
	fail "$N: --list" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e")"

# A long host:port (IPv6, a long name) is never cut: a cut one shows a wrong port.
"$SHELLY_TUI" --db "$DB" --export json >"$T_TMP/a.json" &&
	jq '.devices[0].host = "fd00:abcd:ef::12" | .devices[0].port = 8080' "$T_TMP/a.json" >"$T_TMP/v6.json" &&
	"$SHELLY_TUI" --db "$T_TMP/v6.db" --import "$T_TMP/v6.json" >/dev/null 2>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$T_TMP/v6.db" --list >"$T_TMP/o" 2>>"$T_TMP/e"
grep -qF " [fd00:abcd:ef::12]:8080 " "$T_TMP/o" &&
	pass "$N: --list shows a long host:port whole" ||
	fail "$N: --list long host:port" "$(cat "$T_TMP/o" "$T_TMP/e")"
exit 0
