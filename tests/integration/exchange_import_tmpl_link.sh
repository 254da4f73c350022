#!/bin/sh
# --import writes templates as --export -o writes its file: a template whose path in the
# templates directory is a symbolic link gets the new text in the link's target and the link
# stays (it was replaced by a regular file, the target keeping the old text); a link to a
# missing file is refused before the database changes. --backup-db follows a link the same
# way. Everything lives in the test's own directory.
. tests/lib.sh
. tests/integration/lib_exchange.sh

N=exchange_import_tmpl_link
tui() { timeout 30 "$SHELLY_TUI" --db "$@"; }
config_fleet_exported

# the link's target elsewhere holds an old text; the import replaces it and keeps the link
R=$T_TMP/rt
mkdir -p "$R/shelly-tui/templates" "$T_TMP/kept"
echo 'old = 1' >"$T_TMP/kept/base.tmpl"
ln -s ../../../kept/base.tmpl "$R/shelly-tui/templates/base.tmpl"
if XDG_CONFIG_HOME="$R" tui "$T_TMP/rt.db" --import "$T_TMP/a.json" >"$T_TMP/out" 2>&1 &&
	[ -L "$R/shelly-tui/templates/base.tmpl" ] && cmp -s "$T_TMP/kept/base.tmpl" "$ref" &&
	! ls -A "$R/shelly-tui/templates" "$T_TMP/kept" | grep -q '\.tmp\.'; then
	pass "$N: a template that is a symbolic link keeps the link, its target updated"
else
	fail "$N: template link" "$(ls -laR "$R" "$T_TMP/kept"; cat "$T_TMP/out")"
fi

# a link to a missing file: refused, nothing created, the database unchanged
D=$T_TMP/dangling
mkdir -p "$D/shelly-tui/templates"
ln -s ../../../nowhere/base.tmpl "$D/shelly-tui/templates/base.tmpl"
XDG_CONFIG_HOME="$D" tui "$T_TMP/d.db" --import "$T_TMP/a.json" >"$T_TMP/out" 2>&1 && rc=0 || rc=$?
if [ "$rc" != 0 ] && grep -q 'symbolic link to a missing file' "$T_TMP/out" &&
	[ -L "$D/shelly-tui/templates/base.tmpl" ] && [ ! -e "$T_TMP/nowhere" ] &&
	[ -z "$(sqlite3 "$T_TMP/d.db" 'SELECT mac FROM devices' 2>/dev/null)" ]; then
	pass "$N: a template link to a missing file is refused, nothing imported"
else
	fail "$N: dangling template link" "rc=$rc $(cat "$T_TMP/out")"
fi
# --backup-db onto a link: the target becomes the copy, the link stays; a FIFO is refused
echo old >"$T_TMP/kept/backup.db"
ln -s kept/backup.db "$T_TMP/backup.db"
if tui "$DB" --backup-db "$T_TMP/backup.db" >"$T_TMP/out" 2>&1 && [ -L "$T_TMP/backup.db" ] &&
	[ "$(sqlite3 "$T_TMP/kept/backup.db" 'SELECT count(*) FROM devices')" = \
		"$(sqlite3 "$DB" 'SELECT count(*) FROM devices')" ] &&
	! ls -A "$T_TMP" "$T_TMP/kept" | grep -q 'backup\.db\.tmp'; then
	pass "$N: --backup-db through a symbolic link fills its target, keeps the link"
else
	fail "$N: backup link" "$(ls -la "$T_TMP" "$T_TMP/kept"; cat "$T_TMP/out")"
fi
mkfifo "$T_TMP/backup.fifo"
if ! tui "$DB" --backup-db "$T_TMP/backup.fifo" >"$T_TMP/out" 2>&1 && [ -p "$T_TMP/backup.fifo" ] &&
	grep -q 'not a regular file' "$T_TMP/out"; then
	pass "$N: --backup-db onto a FIFO is refused, the FIFO kept"
else
	fail "$N: backup FIFO" "$(ls -la "$T_TMP"; cat "$T_TMP/out")"
fi
exit 0
