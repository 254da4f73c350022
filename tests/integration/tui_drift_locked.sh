# The DRIFT column does not freeze the console during a database lock: 160 devices in a group
# with a template, another process holds the database locked, the template file is edited
# (the column would be recomputed, each device's reads waiting for the lock): keys still open
# a device's detail within 5 s, again and again, and after the lock the console is healthy.
. tests/lib.sh
. tests/integration/lib_tui.sh

N=tui_drift_locked
NET=$(test_net "$N")
DB=$T_TMP/fleet.db
tui_registry "$DB"
# 160 devices, dev100 .. dev259, nothing behind them (the console polls hourly).
sqlite3 "$DB" "WITH RECURSIVE k(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM k WHERE i < 259)
	INSERT INTO devices (mac, id, gen, name, host, port, scheme, discovered_via)
	SELECT printf('000000000%03d', i), printf('shellyplus1-000000000%03d', i), 2, 'dev' || i,
		'$NET.' || (i - 90), 80, 'http', 'manual' FROM k" || fail "$N: devices"
mkdir -p "$XDG_CONFIG_HOME/shelly-tui/templates"
T=$XDG_CONFIG_HOME/shelly-tui/templates/base.tmpl
printf 'sys.timezone = Pacific/Chatham\n' >"$T"
"$SHELLY_TUI" --db "$DB" --group-add lab $(seq -f 'dev%g' 100 259) -q >/dev/null 2>"$T_TMP/e" ||
	fail "$N: --group-add" "$(cat "$T_TMP/e")"
"$SHELLY_TUI" --db "$DB" --group-template lab base -q >/dev/null 2>"$T_TMP/e" ||
	fail "$N: --group-template" "$(cat "$T_TMP/e")"
. tests/integration/lib_dblock.sh

tui_registry_console 160 30 'fleet 160' "$DB" || exit 1
tui_step 30 ' DRIFT ' 'the DRIFT column'
lock || { fail "$N: lock" "$(cat "$T_TMP/lock.err")"; exit 1; }
printf 'sys.timezone = Europe/Berlin\n' >"$T"
tui_step 30 'DB: [a-z]+ write failed' 'the lock shows'
# For 12 s (several of the column's 2 s pauses), every key is answered within 5 s: the
# cursor goes down a device at a time and each one's detail opens and closes.
slow=""
until_s=$(($(date +%s) + 12))
i=101
while [ "$(date +%s)" -lt $until_s ]; do
	tui_keys j Enter
	tui_wait 5 "^ dev$i  -  " || slow="$slow dev$i"
	tui_keys Escape
	tui_wait 5 'NAME' || slow="$slow table-after-dev$i"
	i=$((i + 1))
done
[ -z "$slow" ] && pass "$N: keys are answered within 5 s while the lock lasts" ||
	fail "$N: keys during the lock" "slow:$slow; $(tui_screen)"
unlock
tui_wait_not 30 'write failed' && pass "$N: healthy again after the lock" ||
	fail "$N: after the lock" "$(tui_why 'no write failed')"
tui_keys q
tui_expect 20 'RESTORED rc=0' quit 'q exits 0'
exit $T_FAILED
