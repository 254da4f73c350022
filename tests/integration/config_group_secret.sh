# --group-set refuses a secret field (the database never stores one, so it was dropped and the
# command exited 0): exit 2, a message naming the field, the group's stored fields unchanged,
# and the value nowhere in the database.
. tests/lib.sh
command -v sqlite3 >/dev/null 2>&1 || { skip config_group_secret "needs sqlite3"; exit 0; }

N=config_group_secret
export XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
DB=$T_TMP/db
SECRET=grp-secret-4f2a
tui() { "$SHELLY_TUI" --db "$DB" "$@"; }
body() { sqlite3 "$DB" "select value from settings where key = 'config-group:office'"; }

tui --group-set office sntp.server=grp.lan >/dev/null 2>"$T_TMP/err" ||
	fail "$N: --group-set of a plain field" "$(cat "$T_TMP/err")"
before=$(body)
for f in mqtt.pass wifi.sta.pass wifi.ap.pass; do
	tui --group-set office sys.timezone=UTC "$f=$SECRET" >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
	[ $rc = 2 ] && grep -q -- "--group-set: $f is a secret" "$T_TMP/err" && [ "$(body)" = "$before" ] &&
		! grep -q "$SECRET" "$T_TMP/err" "$T_TMP/out" &&
		pass "$N: --group-set $f is refused, exit 2, nothing stored" ||
		fail "$N: --group-set $f" "rc=$rc $(cat "$T_TMP/err") body=$(body)"
done
grep -rqa "$SECRET" "$T_TMP" && fail "$N: the secret is nowhere on disk" "$(grep -rla "$SECRET" "$T_TMP")" ||
	pass "$N: the secret is nowhere on disk"
