#!/bin/sh
# json-max-depth is the nesting bound of every device reply (util/json): 1 makes a Plus 1PM's
# ordinary status bad_json, the default 32 refuses a reply nested 40 deep, 256 takes it (the
# reply is then refused for what it says, not for its depth).
. tests/lib.sh
. tests/integration/lib_sim.sh
N=json_max_depth
if ! sim_start $N --models gen2/plus-1pm --count 2 --deep 40; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
probe() { # DEPTH I: probe device I with json-max-depth DEPTH (empty: the default) into $T_TMP/o
	{ [ -z "$1" ] || printf 'set json-max-depth %s\n' "$1"; } >"$T_TMP/config"
	"$SHELLY_TUI" --config "$T_TMP/config" --probe "$(dv "$2" HP)" --json --timeout 5 \
		>"$T_TMP/o" 2>"$T_TMP/e"
}
probe "" 0; rc=$?
[ $rc -eq 0 ] && [ "$(jq -r .state "$T_TMP/o")" = online ] &&
	pass "$N: the default bound takes a Plus 1PM status" ||
	fail "$N: the default bound takes a Plus 1PM status" "rc=$rc $(head -c 300 "$T_TMP/o")"
probe 1 0; rc=$?
[ $rc -eq 1 ] && [ "$(jq -r '.error | split(":")[0]' "$T_TMP/o")" = bad_json ] &&
	grep -q 'nested deeper than 1 levels' "$T_TMP/o" &&
	pass "$N: json-max-depth 1 makes a Plus 1PM status bad_json" ||
	fail "$N: json-max-depth 1 makes a Plus 1PM status bad_json" "rc=$rc $(head -c 300 "$T_TMP/o")"

set_fault 1 deep /rpc/Shelly.GetStatus
probe "" 1; rc=$?
[ $rc -eq 1 ] && grep -q 'nested deeper than 32 levels' "$T_TMP/o" &&
	pass "$N: the default bound refuses a reply nested 40 deep" ||
	fail "$N: the default bound refuses a reply nested 40 deep" "rc=$rc $(head -c 300 "$T_TMP/o")"
probe 256 1; rc=$?
[ $rc -eq 1 ] && jq -e '.error != null' "$T_TMP/o" >/dev/null && ! grep -q 'nested deeper' "$T_TMP/o" &&
	pass "$N: json-max-depth 256 parses a reply nested 40 deep" ||
	fail "$N: json-max-depth 256 parses a reply nested 40 deep" "rc=$rc $(head -c 300 "$T_TMP/o")"
