# One health state for the database's writes under --headless: a failed flush, a failed lease
# write and a failed settings write (here a device's reported name, renamed on the device) each
# make /readyz answer 503 naming what failed ("<kind> write failed: ..."), set
# shelly_store_healthy 0, are logged, and are gone once a write of that kind works again.
# The fault: SQLite triggers that refuse the writes of one table (added and dropped with sqlite3
# while the poller runs), as a full or read-only disk refuses them all (headless_disk.sh).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_write_health
if ! sim_start $N --fixtures tests/fixtures --models gen2/plus-1pm --count 2; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
DB=$T_TMP/shelly.db
CONF=$T_TMP/config
hl_config "$CONF"
hl_add_all "$DB" || { fail "$N: --add" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
hl_start a "$DB" "$CONF" || { fail "$N: --headless start" "$(cat "$(hl_err a)")"; exit 1; }
ready() { [ "$(hl_code a /readyz)" = 200 ]; }
wait_for 20 ready && pass "$N: ready" || fail "$N: ready" "$(hl_get a /readyz)"

refuse() {
	sq "$DB" "CREATE TRIGGER refuse_i BEFORE INSERT ON $1 BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END;
		CREATE TRIGGER refuse_u BEFORE UPDATE ON $1 BEGIN SELECT RAISE(ABORT, 'disk I/O error (test)'); END;"
}
allow() { sq "$DB" "DROP TRIGGER refuse_i; DROP TRIGGER refuse_u;"; }
failed() { [ "$(hl_code a /readyz)" = 503 ] && hl_get a /readyz | grep -q "database: $1 write failed: .*disk I/O error (test)"; }

# kind TABLE KIND [ACTION]: refuse TABLE's writes, (ACTION makes one), expect KIND failing;
# allow them again, expect ready.
kind() {
	refuse "$1"
	[ -n "${3:-}" ] && eval "$3"
	if wait_for 20 failed "$2"; then
		pass "$N: $2: /readyz 503 ($(hl_get a /readyz))"
	else
		fail "$N: $2: /readyz" "$(hl_code a /readyz) $(hl_get a /readyz)"
	fi
	[ "$(hl_metric a shelly_store_healthy)" = 0 ] && pass "$N: $2: shelly_store_healthy 0" ||
		fail "$N: $2: metric" "$(hl_metric a shelly_store_healthy)"
	allow
	[ -n "${4:-}" ] && eval "$4"
	wait_for 20 ready && pass "$N: $2: ready again once it is written" ||
		fail "$N: $2: recovery" "$(hl_get a /readyz)"
}

kind history flush
grep -q 'database write failed' "$(hl_err a)" && pass "$N: flush: logged" || fail "$N: flush log" "$(tail -n 3 "$(hl_err a)")"
kind lease lease
[ "$(grep -c 'store: database write failed: lease' "$(hl_err a)")" = 1 ] &&
	grep -q 'database writes work again (lease)' "$(hl_err a)" &&
	pass "$N: lease: logged once, and its recovery" || fail "$N: lease log" "$(grep -i 'lease' "$(hl_err a)" | tail -n 5)"
# A settings write: the device renames itself, the reported name is kept as a setting.
rename() { ctl POST /devices/0/config "{\"patch\":{\"sys\":{\"device\":{\"name\":\"$1\"}}}}" >/dev/null; }
kind settings settings "rename 'Hall lamp'" "rename 'Hall lamp 2'"
[ "$(grep -c 'store: database write failed: settings' "$(hl_err a)")" = 1 ] &&
	pass "$N: settings: logged once" || fail "$N: settings log" "$(grep -i 'settings\|name' "$(hl_err a)" | tail -n 5)"
kept() { [ "$(sq "$DB" "SELECT value FROM settings WHERE key = 'device-name:$(mac_of 0)'")" = 'Hall lamp 2' ]; }
wait_for 10 kept && pass "$N: settings: the name is kept once writes work" ||
	fail "$N: settings kept" "$(sq "$DB" "SELECT * FROM settings")"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: SIGTERM exits 0" || fail "$N: exit" "rc=$HL_RC $(tail -n 5 "$(hl_err a)")"
sim_stop
exit $T_FAILED
