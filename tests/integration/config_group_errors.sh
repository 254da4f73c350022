#!/bin/sh
# Group commands name what went wrong: --group-remove of a group that does not exist is a
# usage error (no group "nosuch"), as an unknown --group is for --export, not a silent 0; a bad
# value given to --group-set is reported as --group-set's, not --config-set's.
. tests/lib.sh
N=config_group_errors
: >"$T_TMP/config"
tui() { "$SHELLY_TUI" --db "$T_TMP/db" --config "$T_TMP/config" "$@"; }
tui --group-remove nosuch >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'no group "nosuch"' "$T_TMP/err" &&
	pass "$N: --group-remove of an unknown group exits 2" ||
	fail "$N: --group-remove of an unknown group exits 2" "rc=$rc $(cat "$T_TMP/err")"
tui --group-set g1 sys.eco_mode=maybe >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q '^shelly-tui: --group-set: sys.eco_mode' "$T_TMP/err" && ! grep -q -- '--config-set' "$T_TMP/err" &&
	pass "$N: a bad --group-set value names --group-set" ||
	fail "$N: a bad --group-set value names --group-set" "rc=$rc $(cat "$T_TMP/err")"
tui --group-set g1 sys.eco_mode=true && tui --group-remove g1 &&
	[ "$(tui --group-list --json | jq '.groups | length')" = 0 ] &&
	pass "$N: an existing group is removed" || fail "$N: an existing group is removed" "$(tui --group-list)"
