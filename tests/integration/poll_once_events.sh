# --poll-once runs one after another: a state change is an event once, across runs. The
# first poll of a never-polled device records its state ("first seen online", not a transition
# from an offline it never was in); a later run
# that finds the stored state unchanged records nothing; a device that went away between
# runs gets "online -> offline", and "offline -> online" when it answers again.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=poll_once_events
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm,gen1/shelly-plug-s --count 2
hl_fleet # (its configuration unused: --poll-once runs with the defaults)
M0=$(mf '.devices[0].mac' | tr 'A-F' 'a-f' | tr -d ':')
sql() { sqlite3 -cmd '.timeout 5000' "$DB" "$1"; }
events() { sql "SELECT group_concat(kind || ':' || detail, ',') FROM (SELECT * FROM events ORDER BY id)"; }
poll() { "$SHELLY_TUI" --db "$DB" --poll-once -q >/dev/null 2>>"$T_TMP/poll.err"; }

poll
ev=$(events)
[ "$ev" = "online:first seen online,online:first seen online" ] &&
	pass "$N: first poll of never-polled devices records them online" || fail "$N: first poll" "'$ev'"

poll
poll
ev2=$(events)
[ "$ev2" = "$ev" ] && pass "$N: later runs with unchanged states record no event" ||
	fail "$N: unchanged states" "'$ev' -> '$ev2'"

set_fault 0 closed
poll
got=$(sql "SELECT kind || ':' || detail FROM events WHERE mac = '$M0' ORDER BY id DESC LIMIT 1")
st=$(sql "SELECT state FROM status WHERE mac = '$M0'")
[ "$got" != "${got#offline:online -> offline}" ] && [ "$st" = offline ] &&
	pass "$N: a device gone between runs: 'online -> offline' ($got)" ||
	fail "$N: went offline" "last event '$got', state '$st'"
n=$(sql "SELECT count(*) FROM events")
poll
[ "$(sql "SELECT count(*) FROM events")" = "$n" ] && pass "$N: still offline: no event" ||
	fail "$N: still offline" "$(events)"

set_fault 0 none
poll
got=$(sql "SELECT kind || ':' || detail FROM events WHERE mac = '$M0' ORDER BY id DESC LIMIT 1")
[ "$got" = "online:offline -> online" ] && pass "$N: back online: 'offline -> online'" ||
	fail "$N: back online" "'$got'"
exit $T_FAILED
