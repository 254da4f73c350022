# :sort fw orders the FW column by version, not as text: 1.2.0 before 1.14.0 (as text 1.14.0
# sorts between 1.1.0 and 1.2.0), and a firmware without a version after every version, in
# either direction.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_sort_fw
NET=$(test_net $N)
DB=$T_TMP/reg.db
tui_registry "$DB"
k=1
for fw in 1.14.0 1.2.0 custom 1.1.0 1.10.0-beta1; do
	tui_row "$DB" 00000000000$k "dev$k" "$NET.$k"
	sqlite3 "$DB" "UPDATE devices SET fw = '$fw' WHERE mac = '00000000000$k'"
	k=$((k + 1))
done
tui_registry_console 160 30 'fleet 5' "$DB" || exit 1
# The devices' names in the order the table shows them.
order() { tui_screen | grep -Eo '^.  dev[0-9]' | sed 's/^.  //' | tr '\n' ' '; }
is_order() { [ "$(order)" = "$1" ]; }
tui_keys :
tui_type 'sort fw'
tui_keys Enter
# 1.1.0 (dev4) < 1.2.0 (dev2) < 1.10.0-beta1 (dev5) < 1.14.0 (dev1), then custom (dev3).
if wait_for 20 is_order 'dev4 dev2 dev5 dev1 dev3 '; then pass "$N: :sort fw orders by version, no version last"
else fail "$N: sort fw" "order '$(order)'; $(tui_screen)"; fi
tui_keys :
tui_type 'sort fw'
tui_keys Enter
if wait_for 20 is_order 'dev1 dev5 dev2 dev4 dev3 '; then pass "$N: reversed, no version still last"
else fail "$N: sort fw reversed" "order '$(order)'; $(tui_screen)"; fi
tui_keys q
tui_expect 20 'RESTORED rc=0' quit 'q exits 0'
exit $T_FAILED
