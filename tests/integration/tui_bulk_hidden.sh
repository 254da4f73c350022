# A bulk action on marked devices the filter hides says so in its confirmation: three marked,
# then a filter that shows none of them, asks "Reboot 3 devices (3 hidden by the filter)?";
# with the filter cleared it asks without the remark; a marked device removed from the registry
# (by the CLI) is no longer counted. Nothing answers: no answer is sent.
. tests/lib.sh
. tests/integration/lib_tui.sh

N=tui_bulk_hidden
NET=$(test_net "$N")
DB=$T_TMP/fleet.db
tui_registry "$DB"
for i in 1 2 3; do tui_row "$DB" 00000000000$i alpha$i "$NET.$i"; done
tui_row "$DB" 000000000004 zulu "$NET.4"
tui_registry_console 120 30 'fleet 4' "$DB" || exit 1
# filter TEXT SHOWN: the filter TEXT ("" clears it), waited for until SHOWN of 4 rows show.
filter() {
	tui_keys / C-u
	[ -n "$1" ] && tui_type "$1"
	tui_keys Enter
	tui_step 10 "$2 of 4" "filter '$1'"
}
filter alpha 3
tui_keys a
tui_step 10 '3 marked' mark
filter zulu 1
tui_keys b
tui_step 10 '3 marked: which action' 'bulk menu'
tui_keys r
tui_expect 10 'Reboot 3 devices \(3 hidden by the filter\)\? \[y/N\]' 'hidden in the confirmation' \
	'the confirmation says the filter hides the 3 marked devices'
tui_keys n
filter "" 4
tui_keys b
tui_step 10 '3 marked: which action' 'bulk menu again'
tui_keys r
tui_expect 10 'Reboot 3 devices\? \[y/N\]' 'confirmation without filter' 'none hidden: no remark'
tui_keys n
# A marked device removed from the registry by another process is no longer counted.
"$SHELLY_TUI" --db "$DB" --remove 000000000003 -q >/dev/null 2>"$T_TMP/rm.err" ||
	fail "$N: remove" "$(cat "$T_TMP/rm.err")"
tui_expect 30 '3 of 3 - 2 marked' 'removed mark' 'a removed device leaves the marks'
tui_keys b
tui_expect 10 '^2 marked: which action' 'bulk menu after the removal' 'the bulk question counts 2'
tui_keys r
tui_expect 10 'Reboot 2 devices\? \[y/N\]' 'confirmation after the removal' 'and so does its confirmation'
tui_keys n q
tui_expect 20 'RESTORED rc=0' quit 'q exits 0'
exit $T_FAILED
