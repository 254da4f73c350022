#!/bin/sh
# A device that is registered but that no run has polled yet is "unknown" everywhere, as the
# man page, README and /metrics say: --list --json (state "unknown", no error, counted under
# "unknown" in the summary) and the text --list's STATE column.
. tests/lib.sh
. tests/integration/lib_sim.sh
N=registry_never_polled
if ! sim_start $N --models gen2/plus-1pm --count 1; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
DB=$T_TMP/db
: >"$T_TMP/config"
tui() { "$SHELLY_TUI" --db "$DB" --config "$T_TMP/config" "$@"; }
tui --add "$(dv 0 HP)" >/dev/null 2>"$T_TMP/err" || { fail "$N: --add" "$(cat "$T_TMP/err")"; exit 1; }
tui --list --json >"$T_TMP/l.json" 2>"$T_TMP/err"
[ "$(jq -c '[.devices[0].state, .devices[0].error, .summary.unknown, .summary.offline]' "$T_TMP/l.json")" = '["unknown",null,1,0]' ] &&
	pass "$N: --list --json: a never-polled device is unknown, with no error, counted as unknown" ||
	fail "$N: --list --json: a never-polled device is unknown" "$(cat "$T_TMP/l.json" "$T_TMP/err")"
tui --list | awk -v m="$(dv 0 MAC)" 'NR > 1 && tolower($1) == tolower(m)' | grep -qw unknown &&
	pass "$N: the text --list says unknown too" || fail "$N: the text --list says unknown too" "$(tui --list)"
