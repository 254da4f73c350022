#!/bin/sh
# Provisioning from the command line, without agents or devices: --agent-enrol prints a secret
# that only its hash keeps, --provision and --provision-csv validate everything before they
# queue anything, --tasks/--agents in text and JSON (columns in line after a UTF-8 network
# name), --task-cancel; the agent writes an IPv6 manager address in brackets.
. tests/lib.sh
DB="$T_TMP/db"
: >"$T_TMP/config"
tui() { "$SHELLY_TUI" --db "$DB" --config "$T_TMP/config" "$@"; }
printf 'home-key-4711\n' >"$T_TMP/key"; chmod 600 "$T_TMP/key"
printf 'tiny7\n' >"$T_TMP/badkey"; chmod 600 "$T_TMP/badkey"

tui --poll-once >/dev/null 2>&1 # --agent-enrol wants an existing database (the poller's)
s=$(tui --agent-enrol 2>/dev/null)
if printf '%s' "$s" | grep -qE '^[0-9a-f]{48}$' && ! grep -qa "$s" "$DB"*; then
	pass "--agent-enrol prints a secret the database does not hold"
else
	fail "--agent-enrol prints a secret the database does not hold" "$s"
fi

tui --provision kitchen --network home >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'neither a MAC nor a Shelly access point' "$T_TMP/err" &&
	pass "a target that is neither MAC nor AP is a usage error" || fail "a target that is neither MAC nor AP is a usage error" "rc=$rc"
tui --provision shelly1-AABBCC >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "--provision without --network is a usage error" || fail "--provision without --network is a usage error" "rc=$rc"
tui --provision shelly1-AABBCC --network home --wifi-key-file "$T_TMP/badkey" >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q '8 to 63' "$T_TMP/err" && ! grep -q tiny7 "$T_TMP/err" &&
	pass "a bad WiFi key is refused without being shown" || fail "a bad WiFi key is refused without being shown" "rc=$rc $(cat "$T_TMP/err")"
tui --provision shelly1-AABBCC --network "$(printf 'bad\033net')" >/dev/null 2>&1; rc=$?
[ $rc -ne 0 ] && pass "a network name with an escape is refused" || fail "a network name with an escape is refused" "rc=$rc"

printf 'target,name\nshelly1-AABBCC,one\nbad one,two\n' >"$T_TMP/bad.csv"
tui --provision-csv "$T_TMP/bad.csv" --network home >/dev/null 2>"$T_TMP/err"; rc=$?
n=$(tui --tasks --json | jq '.tasks | length')
[ $rc -eq 2 ] && grep -q 'bad.csv:3:' "$T_TMP/err" && [ "$n" = 0 ] &&
	pass "a broken CSV line queues nothing and names its line" || fail "a broken CSV line queues nothing and names its line" "rc=$rc n=$n $(cat "$T_TMP/err")"

printf 'target,name\nshelly1-AABBCC,kitchen\n# comment\n\nA1:B2:C3:D4:E5:F6\nShellyPlus1PM-A8032AB12345 , hall\n' >"$T_TMP/ok.csv"
tui --provision-csv "$T_TMP/ok.csv" --network home --wifi-key-file "$T_TMP/key" --ap-off --attempts 4 >/dev/null
tui --tasks --json >"$T_TMP/t.json"
if [ "$(jq '.tasks | length' "$T_TMP/t.json")" = 3 ] &&
	[ "$(jq -r '.tasks[1].target' "$T_TMP/t.json")" = a1b2c3d4e5f6 ] &&
	[ "$(jq -r '.tasks[0].name' "$T_TMP/t.json")" = kitchen ] &&
	[ "$(jq -r '.tasks[2].name' "$T_TMP/t.json")" = hall ] &&
	[ "$(jq -r '[.tasks[] | .state == "queued" and .has_key and .ap_off and .max_attempts == 4] | all' "$T_TMP/t.json")" = true ] &&
	! grep -q home-key "$T_TMP/t.json" "$DB"*; then
	pass "a CSV batch is queued with names, the key only by reference"
else
	fail "a CSV batch is queued with names, the key only by reference" "$(cat "$T_TMP/t.json")"
fi
id=$(jq -r '.tasks[0].id' "$T_TMP/t.json")
tui --task-cancel "$id" >/dev/null && [ "$(tui --tasks --json | jq -r ".tasks[0].state")" = cancelled ] &&
	pass "--task-cancel" || fail "--task-cancel"
tui --task-cancel "$id" >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && pass "cancelling an ended task fails" || fail "cancelling an ended task fails" "rc=$rc"
tui --task-cancel x >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "--task-cancel wants a number" || fail "--task-cancel wants a number" "rc=$rc"
tui --tasks | grep -q '^[0-9]* *cancelled *shelly1-AABBCC' && pass "--tasks lists in text" || fail "--tasks lists in text" "$(tui --tasks)"
tui --tasks | head -1 | grep -q '^ID  *STATE  *TARGET  *NETWORK' && pass "--tasks starts with a header line" || fail "--tasks starts with a header line" "$(tui --tasks)"
tui --tasks --json | jq -e .tasks >/dev/null && pass "--tasks --json has no header line" || fail "--tasks --json has no header line" "$(tui --tasks --json | head -2)"
# A verified task whose AP-off the manager still owes (the verifier's record of it, written here
# as the verifier writes it): its row says why the AP is still on, not only the address.
sqlite3 -cmd '.timeout 5000' "$DB" "UPDATE tasks SET state = 'done', stage = 'ap_on', result = '10.0.0.5', reason = 'verified, AP still on: 10.0.0.5:80: HTTP 503' WHERE id = $id"
tui --tasks | grep -q "^$id *done .*verified, AP still on: 10.0.0.5:80: HTTP 503\$" &&
	pass "--tasks shows a verified device's AP still on, and why" ||
	fail "--tasks shows a verified device's AP still on, and why" "$(tui --tasks)"
[ "$(tui --agents --json | jq -c '[.agents, .access_points]')" = '[[],[]]' ] &&
	pass "--agents --json with no agents" || fail "--agents --json with no agents"

# --name names one device: with several targets or a CSV (which has its own name column) it
# would be dropped for all but one, so it is refused before anything is queued.
before=$(tui --tasks --json | jq '.tasks | length')
tui --provision shelly1-AABBCC shelly1-DDEEFF --network home --name x >/dev/null 2>"$T_TMP/err"; rc1=$?
tui --provision-csv "$T_TMP/ok.csv" --network home --name x >/dev/null 2>>"$T_TMP/err"; rc2=$?
after=$(tui --tasks --json | jq '.tasks | length')
[ $rc1 -eq 2 ] && [ $rc2 -eq 2 ] && [ "$before" = "$after" ] &&
	[ "$(grep -c -- '--name goes with one --provision target' "$T_TMP/err")" = 2 ] &&
	pass "--name with several targets or --provision-csv is a usage error, nothing queued" ||
	fail "--name with several targets or --provision-csv is a usage error, nothing queued" \
		"rc=$rc1/$rc2 $before->$after $(cat "$T_TMP/err")"
tui --provision shelly1-A1B2C3 --network home --name solo >/dev/null &&
	[ "$(tui --tasks --json | jq -r '.tasks[-1].name')" = solo ] &&
	pass "--name with one --provision target is kept" || fail "--name with one --provision target is kept"

# --tasks pads a network name by the terminal cells it takes: an accented (two bytes, one
# cell) and a CJK name (three bytes, two cells each) keep the columns after them in line.
tui --provision shelly1-0C0C01 --network "$(printf 'Caf\303\251 Wohnung')" >/dev/null &&
	tui --provision shelly1-0C0C02 --network "$(printf '\346\227\245\346\234\254\343\201\256\345\256\266')" >/dev/null &&
	tui --provision shelly1-0C0C03 --network home >/dev/null
tui --tasks >"$T_TMP/tasks.txt"
# The cells before the ATTEMPTS column, per row of the three (wc -L counts cells in UTF-8).
for t in 01 02 03; do
	grep "shelly1-0C0C$t" "$T_TMP/tasks.txt" | sed 's| [0-9]*/[0-9]* .*||' | LC_ALL=C.UTF-8 wc -L
done >"$T_TMP/widths"
[ "$(sort -u "$T_TMP/widths" | wc -l)" = 1 ] && [ "$(wc -l <"$T_TMP/widths")" = 3 ] &&
	pass "--tasks keeps its columns in line after a UTF-8 network name" ||
	fail "--tasks keeps its columns in line after a UTF-8 network name" "$(cat "$T_TMP/tasks.txt")"

# The agent names an IPv6 manager as an address it can be given back: [::1]:PORT, not ::1:PORT
# (no manager listens there: the first heartbeat fails, on loopback).
AGENT=${SHELLY_PROVISIONER:-$BUILD/shelly-provisioner}
mkdir -p "$T_TMP/w/aps"
printf 'x\n' >"$T_TMP/token"; chmod 600 "$T_TMP/token"
SHELLY_TUI_ALLOW_NETS=::1/128 "$AGENT" --manager 'http://[::1]:9/' --token-file "$T_TMP/token" \
	--wifi "test:$T_TMP/w" --once -t 1 >/dev/null 2>"$T_TMP/agent.err"
grep -q 'agent .* for manager \[::1\]:9$' "$T_TMP/agent.err" &&
	grep -q 'manager \[::1\]:9 not answering heartbeats' "$T_TMP/agent.err" &&
	! grep -q 'manager ::1:9' "$T_TMP/agent.err" &&
	pass "the agent writes an IPv6 manager address in brackets" ||
	fail "the agent writes an IPv6 manager address in brackets" "$(cat "$T_TMP/agent.err")"

# Two --provision of one device at the same time queue one task: the check for a task not
# ended and the insert are one write transaction. A third connection holds the write lock
# while both start, so that both have looked (or wait to look) before either may write;
# each round ends when both are waiting in the store's busy handler.
asleep() { for p in "$@"; do grep -q sleep "/proc/$p/wchan" 2>/dev/null || return 1; done; }
locked() { ! sqlite3 -cmd '.timeout 0' "$DB" 'BEGIN IMMEDIATE; ROLLBACK;' >/dev/null 2>&1; }
race() { # race TARGET: two --provision TARGET while the lock is held; outcome in $T_TMP/race.*
	rm -f "$T_TMP/lock.in"; mkfifo "$T_TMP/lock.in"
	sqlite3 "$DB" <"$T_TMP/lock.in" >/dev/null 2>&1 &
	locker=$!
	exec 3>"$T_TMP/lock.in"
	printf 'BEGIN IMMEDIATE;\n' >&3
	wait_for 10 locked || { exec 3>&-; return 1; }
	"$SHELLY_TUI" --db "$DB" --config "$T_TMP/config" --provision "$1" --network home \
		>"$T_TMP/race.1" 2>&1 &
	p1=$!
	"$SHELLY_TUI" --db "$DB" --config "$T_TMP/config" --provision "$1" --network home \
		>"$T_TMP/race.2" 2>&1 &
	p2=$!
	wait_for 4 asleep $p1 $p2
	printf 'ROLLBACK;\n' >&3
	exec 3>&-
	wait $p1; r1=$?
	wait $p2; r2=$?
	wait $locker
	echo "$r1 $r2" >"$T_TMP/race.rc"
}
active_for() { tui --tasks --json | jq --arg t "$1" '[.tasks[] | select(.target == $t and .state == "queued")] | length'; }
ok=yes; why=""
for t in shelly1-0D0D01 shelly1-0D0D02 shelly1-0D0D03; do
	race "$t" || { ok=no; why="$why $t: no lock"; continue; }
	grep -q 'database is locked' "$T_TMP/race.1" "$T_TMP/race.2" && continue # a loaded machine: not a verdict
	n=$(active_for "$t")
	if [ "$n" != 1 ] || [ "$(tr ' ' '\n' <"$T_TMP/race.rc" | sort | tr '\n' ' ')" != "0 1 " ] ||
		! cat "$T_TMP/race.1" "$T_TMP/race.2" | grep -q 'for this device has not ended'; then
		ok=no; why="$why $t: $n queued, rc $(cat "$T_TMP/race.rc"): $(cat "$T_TMP/race.1" "$T_TMP/race.2")"
	fi
done
[ $ok = yes ] && pass "two --provision of one device at the same time queue one task" ||
	fail "two --provision of one device at the same time queue one task" "$why"
