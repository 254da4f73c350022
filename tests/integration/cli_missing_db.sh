#!/bin/sh
# A mode that only reads never creates the database: on a mistyped --db it fails (exit 1,
# "no database at PATH") and writes nothing, so `--db typo.db --export dnsmasq -o x.conf` from
# cron cannot replace a reservation file with an empty one. Modes that register or poll
# create it, and so does the console (its first screen is the welcome).
. tests/lib.sh

N=cli_missing_db
DB=$T_TMP/typo.db

# ro NAME ARGS...: the mode fails with the message and leaves no database behind
ro() {
	_n=$1; shift
	"$SHELLY_TUI" --db "$DB" "$@" >"$T_TMP/out" 2>"$T_TMP/err"; _rc=$?
	if [ $_rc = 1 ] && grep -q "no database at $DB (create one with" "$T_TMP/err" &&
		[ ! -e "$DB" ] && [ ! -e "$DB-wal" ]; then
		pass "$N: $_n fails and creates nothing"
	else
		fail "$N: $_n" "rc=$_rc $(cat "$T_TMP/err") $(ls "$T_TMP")"
		rm -f "$DB" "$DB-wal" "$DB-shm"
	fi
}
ro "--list" --list
ro "--list --json" --list --json
echo "dhcp-host=keep" >"$T_TMP/x.conf"
ro "--export dnsmasq -o" --export dnsmasq -o "$T_TMP/x.conf"
[ "$(cat "$T_TMP/x.conf")" = "dhcp-host=keep" ] && pass "$N: the export's file is untouched" ||
	fail "$N: export target" "$(cat "$T_TMP/x.conf")"
ro "--export json" --export json
ro "--tasks" --tasks
ro "--agents" --agents
ro "--task-cancel" --task-cancel 1
ro "--remove" --remove aabbccddee01
ro "--backup-db" --backup-db "$T_TMP/backup.db"
ro "--group-list" --group-list
ro "--pending" --pending
ro "--snapshots" --snapshots aabbccddee01
ro "--opnsense-sync" --opnsense-sync --dry-run

# a sqlite: URL the same
"$SHELLY_TUI" --db "sqlite:$DB" --list >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "no database at $DB (create one with" "$T_TMP/err" && [ ! -e "$DB" ] &&
	pass "$N: --db sqlite:PATH: a missing database is refused the same way" ||
	fail "$N: sqlite: URL" "rc=$rc $(cat "$T_TMP/err")"

# a polling mode creates it; the read-only modes then work on it
if "$SHELLY_TUI" --db "$DB" --poll-once >/dev/null 2>"$T_TMP/err" && [ -f "$DB" ] &&
	"$SHELLY_TUI" --db "$DB" --list --json >"$T_TMP/out" 2>"$T_TMP/err" &&
	[ "$(jq '.devices | length' "$T_TMP/out")" = 0 ] &&
	"$SHELLY_TUI" --db "$DB" --export csv >/dev/null 2>"$T_TMP/err" &&
	"$SHELLY_TUI" --db "sqlite:$DB" --list >/dev/null 2>"$T_TMP/err"; then
	pass "$N: --poll-once creates the database, --list and --export read it"
else
	fail "$N: create then read" "$(cat "$T_TMP/err")"
fi

# modes that read the registry when there is one find it behind a sqlite: URL too
NET=$(test_net $N)
sqlite3 "$DB" "INSERT INTO devices (mac, id, gen, name, host, port, scheme)
	VALUES ('aabbccddee07', 'shellyplus1-aabbccddee07', 2, 'kitchen', '$NET.9', 9, 'http')"
"$SHELLY_TUI" --db "sqlite:$DB" --action switch_on kitchen >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
[ $rc = 1 ] && grep -q "shellyplus1-aabbccddee07 refused: $NET.9:9" "$T_TMP/out" &&
	pass "$N: --action with --db sqlite:PATH reads the registry" ||
	fail "$N: --action sqlite: registry" "rc=$rc $(cat "$T_TMP/out" "$T_TMP/err")"

# the console creates it: its first screen is the welcome
. tests/integration/lib_tui.sh
tui_start 100 30 "$SHELLY_TUI --db $T_TMP/console.db"
if tui_wait 20 'Welcome to shelly-tui' && [ -f "$T_TMP/console.db" ]; then
	pass "$N: the console creates the database and shows the welcome"
else
	fail "$N: console" "$(tui_why Welcome)"
fi
tui_keys q
tui_wait 20 'RESTORED rc=0' || fail "$N: console quit" "$(tui_why RESTORED)"
exit 0
