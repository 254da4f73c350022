# --import's secrets section holds passwords only for devices of the same file: a secret for a
# device the file does not bring (one the database holds, or no device at all) or under no
# valid MAC is refused in validation, the file and key named, and nothing is written.
. tests/lib.sh

N=exchange_import_secrets
DB=$T_TMP/db
"$SHELLY_TUI" --db "$DB" --poll-once >/dev/null 2>&1
sqlite3 "$DB" "INSERT INTO devices (mac, id, gen, name, host, port, scheme, discovered_via, username, cred_ref)
	VALUES ('aabbccddee01', 'shellyplus1-aabbccddee01', 2, 'Victim', '127.0.0.9', 80, 'http', 'manual', 'admin', 'store:secret:aabbccddee01');
	INSERT INTO settings (key, value) VALUES ('secret:aabbccddee01', 'original');" ||
	{ fail "$N: database" "sqlite3 failed"; exit 1; }
before=$(sqlite3 "$DB" "SELECT key || '=' || value FROM settings ORDER BY key; SELECT mac FROM devices ORDER BY mac")

try() { # FILE KEY: the import is refused naming FILE and KEY, and the database is unchanged
	"$SHELLY_TUI" --db "$DB" --import "$1" >"$T_TMP/out" 2>&1
	rc=$?
	[ $rc -ne 0 ] && grep -q "$(basename "$1").*secrets.$2: .* is not a device of this file" "$T_TMP/out" &&
		[ "$(sqlite3 "$DB" "SELECT key || '=' || value FROM settings ORDER BY key; SELECT mac FROM devices ORDER BY mac")" = "$before" ]
}
cat >"$T_TMP/other.json" <<'JSON'
{"format": "shelly-tui-backup", "format_version": 3,
 "devices": [{"mac": "aabbccddee02", "id": "shellyplus1-aabbccddee02", "gen": 2, "host": "127.0.0.10"}],
 "secrets": {"secret:aabbccddee01": "overwritten", "secret:ffffffffffff": "orphan"}}
JSON
try "$T_TMP/other.json" secret:aabbccddee01 &&
	pass "$N: a secret for a device the file lacks (the database's) is refused; its password stays" ||
	fail "$N: foreign secret" "rc=$rc $(cat "$T_TMP/out")"
cat >"$T_TMP/orphan.json" <<'JSON'
{"format": "shelly-tui-backup", "format_version": 3,
 "devices": [{"mac": "aabbccddee02", "id": "shellyplus1-aabbccddee02", "gen": 2, "host": "127.0.0.10"}],
 "secrets": {"secret:aabbccddee02": "fine", "secret:ffffffffffff": "orphan"}}
JSON
try "$T_TMP/orphan.json" secret:ffffffffffff &&
	pass "$N: a secret of no device is refused, nothing stored" || fail "$N: orphan secret" "rc=$rc $(cat "$T_TMP/out")"
cat >"$T_TMP/bad.toml" <<'EOF2'
format = "shelly-tui-fleet"
format_version = 1
[devices.aabbccddee02]
host = "127.0.0.10"
[secrets]
"secret:aabb.ccdd.ee02" = "x"
EOF2
try "$T_TMP/bad.toml" secret:aabb.ccdd.ee02 &&
	pass "$N: a secret under no valid MAC is refused" || fail "$N: invalid MAC" "rc=$rc $(cat "$T_TMP/out")"
# the same file with only its own device's secret imports
cat >"$T_TMP/good.json" <<'JSON'
{"format": "shelly-tui-backup", "format_version": 3,
 "devices": [{"mac": "aabbccddee02", "id": "shellyplus1-aabbccddee02", "gen": 2, "host": "127.0.0.10"}],
 "secrets": {"secret:aabbccddee02": "fine"}}
JSON
"$SHELLY_TUI" --db "$DB" --import "$T_TMP/good.json" >"$T_TMP/out" 2>&1 &&
	[ "$(sqlite3 "$DB" "SELECT value FROM settings WHERE key='secret:aabbccddee02'")" = fine ] &&
	[ "$(sqlite3 "$DB" "SELECT value FROM settings WHERE key='secret:aabbccddee01'")" = original ] &&
	pass "$N: a secret of the file's own device is imported; the other device's stays" ||
	fail "$N: own secret" "$(cat "$T_TMP/out")"
exit $T_FAILED
