#!/bin/sh
# Gen1 keeps lat/lng as 32-bit floats and prints them with 6 decimals (the shelly-em fixture's
# "lat": 45.775398 for 45.7754; the simulator does the same): a set is verified on read-back
# and the drift clears, while a real difference is still drift.
. tests/lib.sh
. tests/sim/simlib.sh

N=config_gen1_float
export XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
sim_up $N --fixtures tests/fixtures --models gen1/shelly-1 --count 1
G1=$(mf '.devices[0] | "\(.addr):\(.port)"')
tui() { "$SHELLY_TUI" --timeout 5 "$@"; }

tui --config-set sys.location.lat=45.7754 sys.location.lon=9.18176 "$G1" >"$T_TMP/set" 2>&1
rc=$?
[ $rc = 0 ] && [ "$(curl -s -m 3 "http://$G1/settings" | jq -r .lat)" = 45.775398 ] &&
	pass "$N: a set of lat/lng is verified although the device reads back 45.775398" ||
	fail "$N: set" "rc=$rc $(cat "$T_TMP/set")"
mkdir -p "$XDG_CONFIG_HOME/shelly-tui/templates"
printf 'sys.location.lat = 45.7754\nsys.location.lon = 9.18176\n' >"$XDG_CONFIG_HOME/shelly-tui/templates/here.tmpl"
tui --drift --template here "$G1" >"$T_TMP/d0" 2>&1
rc=$?
[ $rc = 0 ] && grep -q '0 field(s) drifted' "$T_TMP/d0" && pass "$N: no drift at float precision" ||
	fail "$N: drift 0" "rc=$rc $(cat "$T_TMP/d0")"
printf 'sys.location.lat = 45.7755\n' >"$XDG_CONFIG_HOME/shelly-tui/templates/here.tmpl"
tui --drift --template here "$G1" >"$T_TMP/d1" 2>&1
rc=$?
[ $rc = 3 ] && grep -q 'sys.location.lat' "$T_TMP/d1" && pass "$N: a real difference is still drift" ||
	fail "$N: drift 1" "rc=$rc $(cat "$T_TMP/d1")"
exit $T_FAILED
