# The console's header says so while a database write of this console fails: "DB: flush write
# failed" while the poll results cannot be written (a trigger refuses the history table, as a
# full disk would), and nothing once they are written again.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_write_health
command -v sqlite3 >/dev/null 2>&1 || { skip "$N" "needs sqlite3"; exit 0; }
tui_sim_start $N --fixtures tests/fixtures --models gen2/plus-1pm --auth none
tui_config 'set flush-interval 200ms'
tui_add 0 plug
DB=$XDG_DATA_HOME/shelly-tui/shelly.db
tui_console 120 30 'fleet 1 +online 1'
tui_shows() { tui_screen 2>/dev/null | head -n 1 | grep -q "$1"; }
tui_shows 'write failed' && fail "$N: healthy header" "$(tui_why 'fleet')" || pass "$N: no write failure in the header at first"
sqlite3 -cmd '.timeout 5000' "$DB" "CREATE TRIGGER refuse BEFORE INSERT ON history BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END;"
if tui_wait 30 'offline 0  DB: flush write failed'; then pass "$N: the header says the flush fails"
else fail "$N: header while failing" "$(tui_why 'DB: flush')"; fi
sqlite3 -cmd '.timeout 5000' "$DB" "DROP TRIGGER refuse;"
gone() { ! tui_shows 'write failed'; }
wait_for 30 gone && pass "$N: gone once the results are written" || fail "$N: header after" "$(tui_why 'fleet')"
tui_keys q
if tui_wait 20 'RESTORED rc=0'; then pass "$N: q exits 0"; else fail "$N: quit" "$(tui_why RESTORED)"; fi
exit $T_FAILED
