#!/bin/sh
# --agent-enrol writes the secret's hash into the poller's database or nowhere: a database that
# does not exist is refused (exit 1, "no database at PATH", nothing created) instead of a new
# empty one the poller never reads (its agent would get 401 forever). SHELLY_TUI_DB, which the
# container image sets to the poller's database, is the default when --db is not given.
. tests/lib.sh
N=provision_enrol_db
CONF=$T_TMP/config
: >"$CONF"

"$SHELLY_TUI" --config "$CONF" --db "$T_TMP/none/shelly.db" --agent-enrol >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
[ "$rc" = 1 ] && grep -q "no database at $T_TMP/none/shelly.db" "$T_TMP/err" && [ ! -s "$T_TMP/out" ] &&
	[ ! -e "$T_TMP/none" ] &&
	pass "$N: a missing database is refused, and none is created" ||
	fail "$N: a missing database is refused, and none is created" "rc $rc $(cat "$T_TMP/err") $(ls "$T_TMP")"
XDG_DATA_HOME=$T_TMP/xdg SHELLY_TUI_DB= "$SHELLY_TUI" --config "$CONF" --agent-enrol >/dev/null 2>"$T_TMP/err"
rc=$?
[ "$rc" = 1 ] && grep -q "no database at $T_TMP/xdg/shelly-tui/shelly.db" "$T_TMP/err" &&
	[ ! -e "$T_TMP/xdg/shelly-tui/shelly.db" ] &&
	pass "$N: the default database is not created either" ||
	fail "$N: the default database is not created either" "rc $rc $(cat "$T_TMP/err")"

DB=$T_TMP/poller.db
"$SHELLY_TUI" --config "$CONF" --db "$DB" --poll-once >/dev/null 2>&1 || { fail "$N: make a database"; exit 1; }
XDG_DATA_HOME=$T_TMP/xdg SHELLY_TUI_DB=$DB "$SHELLY_TUI" --config "$CONF" --agent-enrol \
	>"$T_TMP/secret" 2>"$T_TMP/err"
rc=$?
n=$(sqlite3 "$DB" "SELECT count(*) FROM enrolments")
[ "$rc" = 0 ] && [ -s "$T_TMP/secret" ] && [ "$n" = 1 ] && [ ! -e "$T_TMP/xdg/shelly-tui/shelly.db" ] &&
	pass "$N: SHELLY_TUI_DB names the default database (the secret's hash is there)" ||
	fail "$N: SHELLY_TUI_DB names the default database" "rc $rc, $n enrolments, $(cat "$T_TMP/err")"

# The store decides whether the database exists, so a sqlite:PATH --db works as a plain path.
"$SHELLY_TUI" --config "$CONF" --db "sqlite:$DB" --agent-enrol >"$T_TMP/secret2" 2>"$T_TMP/err"
rc=$?
n=$(sqlite3 "$DB" "SELECT count(*) FROM enrolments")
[ "$rc" = 0 ] && [ -s "$T_TMP/secret2" ] && [ "$n" = 2 ] &&
	pass "$N: --db sqlite:PATH names an existing database" ||
	fail "$N: --db sqlite:PATH names an existing database" "rc $rc, $n enrolments, $(cat "$T_TMP/err")"
# --agent-revoke on a missing database: refused, nothing created.
"$SHELLY_TUI" --config "$CONF" --db "$T_TMP/none2.db" --agent-revoke ag-00000000 >/dev/null 2>"$T_TMP/err"
rc=$?
[ "$rc" = 1 ] && grep -q "no database at $T_TMP/none2.db" "$T_TMP/err" && [ ! -e "$T_TMP/none2.db" ] &&
	pass "$N: --agent-revoke refuses a missing database and creates none" ||
	fail "$N: --agent-revoke on a missing database" "rc $rc $(cat "$T_TMP/err")"

# A secret expires enrol-ttl after it was made: 1h by default (the ones above), as configured.
printf 'set enrol-ttl 90s\n' >"$T_TMP/ttl.conf"
"$SHELLY_TUI" --config "$T_TMP/ttl.conf" --db "$DB" --agent-enrol >/dev/null 2>"$T_TMP/err"
rc=$?
ttls=$(sqlite3 "$DB" "SELECT group_concat(expires - created, ' ') FROM (SELECT * FROM enrolments ORDER BY rowid)")
[ "$rc" = 0 ] && [ "$ttls" = "3600000 3600000 90000" ] &&
	pass "$N: a secret expires after enrol-ttl (1h by default)" ||
	fail "$N: a secret expires after enrol-ttl (1h by default)" "rc $rc, ttls $ttls $(cat "$T_TMP/err")"
exit $T_FAILED
