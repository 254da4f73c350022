#!/bin/sh
# --export -o onto the database in use (by its name, through a symbolic link, a hard link, or
# its -wal/-shm files) and --backup-db onto it are refused: exit 1, a message naming the
# database, the database untouched and still readable.
. tests/lib.sh
. tests/integration/lib_exchange.sh

N=exchange_export_self
DB=$T_TMP/self.db
if ! hostile_fleet "$DB"; then
	fail "$N: hostile fleet" "could not create it"
	exit 0
fi
count() { sqlite3 "$DB" 'SELECT count(*) FROM devices'; }
before=$(count)
ln -s self.db "$T_TMP/link.db"
ln "$DB" "$T_TMP/hard.db"
: >"$DB-wal.keep" # a plain file beside it that is not the database: allowed
refused() { # label, target, what the message names
	timeout 30 "$SHELLY_TUI" --db "$DB" --export json -o "$2" 2>"$T_TMP/err" >"$T_TMP/out"
	rc=$?
	if [ "$rc" = 1 ] && grep -q "refusing to write .*$3" "$T_TMP/err" &&
		[ "$(head -c 15 "$DB")" = "SQLite format 3" ] && [ "$(count)" = "$before" ]; then
		pass "$N: $1 is refused"
	else
		fail "$N: $1" "rc=$rc $(cat "$T_TMP/err"; head -c 80 "$DB" | od -c | head -2)"
	fi
}
refused "the database" "$DB" "it is the database in use"
refused "a symbolic link to it" "$T_TMP/link.db" "it is the database in use"
refused "a hard link to it" "$T_TMP/hard.db" "it is the database in use"
refused "its -wal file" "$DB-wal" "the wal file of the database in use"
refused "its -shm file" "$DB-shm" "the shm file of the database in use"
[ -L "$T_TMP/link.db" ] || fail "$N: link kept" "$(ls -la "$T_TMP")"

# --backup-db has its own check before the shared one
if ! timeout 30 "$SHELLY_TUI" --db "$DB" --backup-db "$T_TMP/link.db" 2>"$T_TMP/err" &&
	grep -q 'database' "$T_TMP/err" && [ "$(count)" = "$before" ]; then
	pass "$N: --backup-db onto a link to the database is refused"
else
	fail "$N: --backup-db onto itself" "$(cat "$T_TMP/err")"
fi

# another name in the same directory is written
if timeout 30 "$SHELLY_TUI" --db "$DB" --export json -o "$DB-wal.keep" 2>"$T_TMP/err" &&
	grep -q '"devices"' "$DB-wal.keep"; then
	pass "$N: a neighbouring file is written"
else
	fail "$N: neighbour" "$(cat "$T_TMP/err")"
fi
exit 0
