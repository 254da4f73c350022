# A bulk action on marked devices the filter hides says so in its confirmation: three marked,
# then a filter that shows none of them, asks "Reboot 3 devices (3 hidden by the filter)?";
# with the filter cleared it asks without the remark. Nothing answers: no answer is sent.
. tests/lib.sh
. tests/integration/lib_tui.sh

N=tui_bulk_hidden
NET=$(test_net "$N")
DB=$T_TMP/fleet.db
tui_registry "$DB"
tui_row "$DB" 000000000001 alpha1 "$NET.1"
tui_row "$DB" 000000000002 alpha2 "$NET.2"
tui_row "$DB" 000000000003 alpha3 "$NET.3"
tui_row "$DB" 000000000004 zulu "$NET.4"
tui_registry_console 120 30 'fleet 4' "$DB" || exit 1
filter() {
	tui_keys /
	tui_keys C-u
	[ -n "$1" ] && tui_type "$1"
	tui_keys Enter
}
filter alpha
tui_wait 10 '3 of 4' || fail "$N: filter alpha" "$(tui_why '3 of 4')"
tui_keys a
tui_wait 10 '3 marked' || fail "$N: mark" "$(tui_why '3 marked')"
filter zulu
tui_wait 10 '1 of 4' || fail "$N: filter zulu" "$(tui_why '1 of 4')"
tui_keys b
tui_wait 10 '3 marked: which action' || fail "$N: bulk menu" "$(tui_why 'which action')"
tui_keys r
if tui_wait 10 'Reboot 3 devices \(3 hidden by the filter\)\? \[y/N\]'; then
	pass "$N: the confirmation says the filter hides the 3 marked devices"
else
	fail "$N: hidden in the confirmation" "$(tui_why 'Reboot 3 devices (3 hidden')"
fi
tui_keys n
filter ""
tui_wait 10 '4 of 4' || fail "$N: filter cleared" "$(tui_why '4 of 4')"
tui_keys b
tui_wait 10 '3 marked: which action' || fail "$N: bulk menu again" "$(tui_why 'which action')"
tui_keys r
if tui_wait 10 'Reboot 3 devices\? \[y/N\]'; then pass "$N: none hidden: no remark"
else fail "$N: confirmation without filter" "$(tui_why 'Reboot 3 devices?')"; fi
tui_keys n q
if tui_wait 20 'RESTORED rc=0'; then pass "$N: q exits 0"; else fail "$N: quit" "$(tui_why RESTORED)"; fi
exit $T_FAILED
