# Events are state changes: a poller that starts (each --poll-once from cron, each restart of
# --headless) compares a device's first state with the one the database holds, so an
# unchanged fleet adds no event, and a device that died meanwhile gets "online -> offline".
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=poll_events
if ! sim_start $N --fixtures tests/fixtures --models gen2/plus-1pm,gen1/shelly-plug-s --count 2; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
DB=$T_TMP/shelly.db
hl_add "$DB" 0 && hl_add "$DB" 1 || { fail "$N: --add" "$(cat "$T_TMP/add.err")"; exit 1; }
poll() { "$SHELLY_TUI" --db "$DB" --poll-once -t 1 >"$T_TMP/poll.out" 2>&1; }
events() { sq "$DB" "SELECT count(*) FROM events WHERE kind IN ('online','offline','error')"; }

poll
[ "$(events)" = 2 ] && pass "$N: the first poll records each device coming online" ||
	fail "$N: first poll" "$(sq "$DB" 'SELECT * FROM events')"
poll
poll
[ "$(events)" = 2 ] && pass "$N: polls of an unchanged fleet add no event" ||
	fail "$N: unchanged fleet adds no event" "$(sq "$DB" 'SELECT * FROM events')"

set_fault 1 silent
poll
got=$(sq "$DB" "SELECT mac || ' ' || detail FROM events WHERE kind = 'offline'")
case $got in
"$(mac_of 1) online -> offline"*) pass "$N: a device that died since the last run: online -> offline" ;;
*) fail "$N: online -> offline" "'$got' ($(cat "$T_TMP/poll.out"))" ;;
esac
poll
[ "$(events)" = 3 ] && pass "$N: staying offline adds no event" ||
	fail "$N: staying offline" "$(sq "$DB" 'SELECT * FROM events')"
set_fault 1 none
poll
[ "$(sq "$DB" "SELECT detail FROM events WHERE mac = '$(mac_of 1)' ORDER BY rowid DESC LIMIT 1")" = "offline -> online" ] &&
	[ "$(events)" = 4 ] && pass "$N: back: offline -> online" ||
	fail "$N: back online" "$(sq "$DB" 'SELECT * FROM events')"
exit 0
