# One health state for the database's writes under --headless: a failed flush, a failed lease
# write and a failed settings write (here a TLS pin learned on first contact, and a device
# renamed on the device: the registry following it, the reported name kept) each
# make /readyz answer 503 naming what failed ("<kind> write failed: ..."), set
# shelly_store_healthy 0, are logged, and are gone once a write of that kind works again.
# The fault: SQLite triggers that refuse the writes of one table (added and dropped with sqlite3
# while the poller runs), as a full or read-only disk refuses them all (headless_disk.sh).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_write_health
mkdir -p "$T_TMP/tls"
# Device 1 over HTTPS: the poller learns its key on first contact (a settings write).
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm --count 2 --tls 1 --tls-dir "$T_TMP/tls"
DB=$T_TMP/shelly.db
CONF=$T_TMP/config
hl_config "$CONF"
{ hl_add "$DB" 0 && hl_add "$DB" 1 --https; } || { fail "$N: --add" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
M1=$(mac_of 1)
pin_of() { sq "$DB" "SELECT ifnull(tls_pin, '') FROM devices WHERE mac = '$M1'"; }
PIN0=$(pin_of)
sq "$DB" "UPDATE devices SET tls_pin = NULL WHERE mac = '$M1'"
ready() { [ "$(hl_code a /readyz)" = 200 ]; }

# refuse TABLE: its inserts and updates fail; refuse "OF COLUMN ON TABLE": that column's updates.
refuse() {
	case $1 in
	"OF "*) sq "$DB" "CREATE TRIGGER refuse_u BEFORE UPDATE $1 BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END;" ;;
	*) sq "$DB" "CREATE TRIGGER refuse_i BEFORE INSERT ON $1 BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END;
		CREATE TRIGGER refuse_u BEFORE UPDATE ON $1 BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END;" ;;
	esac
}
allow() { sq "$DB" "DROP TRIGGER IF EXISTS refuse_i; DROP TRIGGER IF EXISTS refuse_u;"; }
failed() { [ "$(hl_code a /readyz)" = 503 ] && hl_get a /readyz | grep -q "database: $1 write failed: .*disk I/O error (test)"; }

# kind TABLE KIND [ACTION]: refuse TABLE's writes, (ACTION makes one), expect KIND failing;
# allow them again, expect ready.
kind() {
	refuse "$1"
	[ -n "${3:-}" ] && eval "$3"
	if wait_for 60 failed "$2"; then
		pass "$N: $2: /readyz 503 ($(hl_get a /readyz))"
	else
		fail "$N: $2: /readyz" "$(hl_code a /readyz) $(hl_get a /readyz)"
	fi
	[ "$(hl_metric a shelly_store_healthy)" = 0 ] && pass "$N: $2: shelly_store_healthy 0" ||
		fail "$N: $2: metric" "$(hl_metric a shelly_store_healthy)"
	allow
	[ -n "${4:-}" ] && eval "$4"
	wait_for 60 ready && pass "$N: $2: ready again once it is written" ||
		fail "$N: $2: recovery" "$(hl_get a /readyz)"
}

# A learned pin whose write fails: /readyz names the settings write; the poller writes the pin
# again at the next reply, and once it is stored the poller is ready.
refuse "OF tls_pin ON devices"
hl_start a "$DB" "$CONF" || { fail "$N: --headless start" "$(cat "$(hl_err a)")"; exit 1; }
if wait_for 20 failed settings && [ -z "$(pin_of)" ]; then
	pass "$N: pin: /readyz 503 while the learned pin cannot be stored ($(hl_get a /readyz))"
else
	fail "$N: pin: /readyz" "$(hl_code a /readyz) $(hl_get a /readyz) pin '$(pin_of)'"
fi
allow
pinned() { [ -n "$PIN0" ] && [ "$(pin_of)" = "$PIN0" ]; }
wait_for 20 pinned && pass "$N: pin: stored at a later reply once writes work" || fail "$N: pin stored" "'$PIN0' -> '$(pin_of)'"
wait_for 20 ready && pass "$N: ready" || fail "$N: ready" "$(hl_get a /readyz)"

kind history flush
grep -q 'database write failed' "$(hl_err a)" && pass "$N: flush: logged" || fail "$N: flush log" "$(tail -n 3 "$(hl_err a)")"
kind lease lease
# Once per failing spell, not per attempt: a loaded machine may let one heartbeat through
# between two failing ones, which is a recovery and a second spell, each logged once.
lf=$(grep -c 'store: database write failed: lease' "$(hl_err a)")
lr=$(grep -c 'database writes work again (lease)' "$(hl_err a)")
[ "$lf" -ge 1 ] && [ "$lr" -ge 1 ] && [ "$lf" -le $((lr + 1)) ] &&
	pass "$N: lease: logged once a spell ($lf), and its recovery ($lr)" ||
	fail "$N: lease log" "failed $lf, recovered $lr: $(grep -i 'lease' "$(hl_err a)" | tail -n 5)"
# Settings writes: the device renames itself, and as the registry name is the device's own it
# follows (a device record), and the reported name is kept (a setting). Either failing is a
# failed settings write, logged once (not per poll); the poller observes the name again at each
# poll, so once writes work the rest is done without another rename, and the event is one.
# (30 s for the simulator's answer: at load 75 a 5 s control request once timed out, and the
# rename it carried never happened.)
rename() {
	curl -s -f -m 30 -X POST -H 'Content-Type: application/json' \
		-d "{\"patch\":{\"sys\":{\"device\":{\"name\":\"$1\"}}}}" "http://$SIM_CTL/devices/0/config" >/dev/null ||
		fail "$N: the simulator did not take the rename to $1"
}
M=$(mac_of 0)
name_is() { [ "$(sq "$DB" "SELECT name FROM devices WHERE mac = '$M'")" = "$1" ]; }
kept_is() { [ "$(sq "$DB" "SELECT value FROM settings WHERE key = 'device-name:$M'")" = "$1" ]; }
renames() { sq "$DB" "SELECT group_concat(detail, '|') FROM (SELECT detail FROM events WHERE mac = '$M' AND kind = 'device_name_changed' ORDER BY id)"; }
kind "OF name ON devices" settings "rename 'Hall lamp'"
wait_for 30 name_is 'Hall lamp' && kept_is 'Hall lamp' && pass "$N: registry follows once the device record is written" ||
	fail "$N: follow after failure" "name '$(sq "$DB" "SELECT name FROM devices WHERE mac = '$M'")' kept '$(sq "$DB" "SELECT value FROM settings WHERE key = 'device-name:$M'")'"
kind settings settings "rename 'Hall lamp 2'"
wait_for 30 kept_is 'Hall lamp 2' && name_is 'Hall lamp 2' && pass "$N: the reported name is kept once settings are written" ||
	fail "$N: kept after failure" "$(sq "$DB" "SELECT * FROM settings")"
both() { case $(renames) in *" -> 'Hall lamp', registry follows|'Hall lamp' -> 'Hall lamp 2', registry follows") true ;; *) false ;; esac; }
# The events are written at the next flush; then no more come.
wait_for 30 both && pass "$N: one event per rename ($(renames))" || fail "$N: rename events" "$(renames)"
# Several polls later (the last one written, so the events queued before it are too):
p0=$(hl_metric a shelly_polls_total)
polled() { [ "$(hl_metric a shelly_polls_total)" -ge $((p0 + 6)) ]; }
wait_for 20 polled || fail "$N: polls go on" "$(hl_metric a shelly_polls_total) after $p0"
t=$(now_ms)
written() { [ "$(sq "$DB" "SELECT count(*) FROM status WHERE mac = '$M' AND ts > $t")" = 1 ]; }
wait_for 30 written || fail "$N: written after" "$(sq "$DB" "SELECT ts FROM status WHERE mac = '$M'") <= $t"
both && pass "$N: no event again at the next polls" || fail "$N: repeated events" "$(renames)"
[ "$(grep -c 'store: database write failed: settings' "$(hl_err a)")" = 3 ] &&
	[ "$(grep -c 'database writes work again (settings)' "$(hl_err a)")" = 3 ] &&
	! grep -q 'not kept\|not stored' "$(hl_err a)" &&
	pass "$N: settings: logged once per failure, not per poll" ||
	fail "$N: settings log" "$(grep -i 'settings\|name' "$(hl_err a)" | tail -n 8)"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: SIGTERM exits 0" || fail "$N: exit" "rc=$HL_RC $(tail -n 5 "$(hl_err a)")"
sim_stop
exit $T_FAILED
