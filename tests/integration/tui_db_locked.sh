# A database another process holds write-locked (sqlite3 in BEGIN EXCLUSIVE) does not freeze
# the console: its writes wait only briefly for the lock, so keys still move the cursor within
# a few seconds and an edit fails at once saying why; the header names the failing write and
# says the results are not saved instead of "polled Ns ago"; once the lock ends the header is
# healthy again. A console that stands down during a lock says no poller holds the lease (no
# other poller exists).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_db_locked
command -v sqlite3 >/dev/null 2>&1 || { skip "$N" "needs sqlite3"; exit 0; }
tui_sim_start $N --fixtures tests/fixtures --models gen2/plus-1pm --count 2 --auth none
tui_config 'set flush-interval 200ms'
tui_add 0 alpha
tui_add 1 bravo
DB=$XDG_DATA_HOME/shelly-tui/shelly.db

. tests/integration/lib_dblock.sh

tui_console 120 30 'fleet 2 +online 2' || exit 1
lock || { fail "$N: lock" "$(cat "$T_TMP/lock.err")"; exit 1; }
head1() { tui_screen >"$T_TMP/screen" && head -n 1 "$T_TMP/screen" | grep -Eq -- "$1"; }
if wait_for 30 head1 'DB: [a-z]+ write failed'; then
	pass "$N: the header names the failing write during the lock"
else
	fail "$N: header during the lock" "$(tui_why 'DB: ')"
fi
if wait_for 30 head1 'results not saved: database locked'; then
	if head -n 1 "$T_TMP/screen" | grep -q 'polled '; then
		fail "$N: no fresh poll claimed" "$(tui_why 'results not saved')"
	else
		pass "$N: the header says the results are not saved, not when polled"
	fi
else
	fail "$N: results not saved" "$(tui_why 'results not saved')"
fi
head -n 1 "$T_TMP/screen" | grep -q 'another poller' &&
	fail "$N: no other poller" "$(tui_why 'poller: ')" || pass "$N: no other poller is named"
# Keys during the lock: the cursor moves down to bravo and back to alpha, each within 5 s.
for step in "j bravo" "k alpha"; do
	set -- $step
	tui_keys "$1" Enter
	tui_expect 5 "^ $2  -  " "$1 during the lock" "$1 then Enter opens $2 within 5 s during the lock"
	tui_keys Escape
	tui_step 5 'NAME' 'back to the table'
done
# An edit during the lock (a new group of the marked device) fails at once, saying why.
tui_keys Space m
tui_step 5 'Groups' 'groups view during the lock'
tui_keys a
tui_step 5 'New group:' 'group prompt'
tui_type lab
tui_keys Enter
tui_expect 5 'groups?( lab)?: database is locked' 'edit during the lock' 'an edit during the lock fails within 5 s naming the lock'
tui_keys q
tui_step 5 'NAME' 'back to the table after the edit'
unlock
gone() { ! head1 'write failed|not saved'; }
wait_for 30 gone && pass "$N: healthy again once the lock ends" || fail "$N: header after" "$(tui_why 'fleet')"
tui_keys q
tui_expect 20 'RESTORED rc=0' quit 'q exits 0'

# A short lease: the console stands down during the lock, and no other poller exists: the
# header says no poller holds the lease, never "another poller".
tui_stop
tui_config 'set flush-interval 200ms' 'set lease-timeout 3s' 'set lease-heartbeat 1s'
tui_console 200 30 'poller: this console' || exit 1
lock || { fail "$N: second lock" "$(cat "$T_TMP/lock.err")"; exit 1; }
tui_expect 30 'poller: no poller holds the lease \(database locked\?\)' 'stood down' \
	'a console that stood down during the lock says no poller holds the lease'
grep -q 'another poller' "$T_TMP/screen" && fail "$N: no other poller after standing down" "$(cat "$T_TMP/screen")"
unlock
tui_expect 30 'poller: this console' 'leads again' 'it leads again once the lock ends'
tui_keys q
tui_expect 20 'RESTORED rc=0' quit 'q exits 0 after the second lock'
exit $T_FAILED
