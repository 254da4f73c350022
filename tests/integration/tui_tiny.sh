# A tiny terminal: below the smallest size drawn (30x8) the console shows one line, "terminal
# too small (need 30x8)", never a frame whose heading covers its border; at 30x8 the frame is
# whole; at 40x10 the devices title keeps "N marked" (the rest of it is shortened first).
. tests/lib.sh
. tests/integration/lib_tui.sh

N=tui_tiny
NET=$(test_net "$N")
DB=$T_TMP/fleet.db
tui_registry "$DB"
for i in 1 2 3 4; do tui_row "$DB" 00000000000$i dev$i "$NET.$i"; done
tui_registry_console 40 10 'fleet 4' "$DB" || exit 1
tui_keys Space j Space j Space
tui_expect 10 '^┌─ .* - 3 marked ─' 'marks in the title' 'at 40x10 the title keeps "3 marked"'
tui_resize 20 5
tui_expect 10 '^terminal too small$' 'too small' 'at 20x5 the console says the terminal is too small' \
	'^\(need 30x8\)$'
grep -q '[└┘│]' "$T_TMP/screen" && fail "$N: no frame at 20x5" "$(cat "$T_TMP/screen")"
tui_resize 40 7
tui_expect 10 '^terminal too small \(need 30x8\)' 'too small at 40x7' 'at 40x7 too, on one line'
tui_resize 30 8
# The frame whole: its heading on the line below the top border, the bottom border a line of
# its own.
tui_expect 10 '^└─+┘$' 'frame at 30x8' 'at 30x8 the frame is whole, its title keeps the marks' \
	'^┌─ 4 of 4 - 3 marked ─'
grep -q '^│  NAME' "$T_TMP/screen" || fail "$N: heading at 30x8" "$(cat "$T_TMP/screen")"
tui_keys q
tui_expect 20 'RESTORED rc=0' quit 'q exits 0'
exit $T_FAILED
