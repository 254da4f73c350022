#!/bin/sh
# Where templates go, as the container image and Kubernetes set it up: XDG_CONFIG_HOME names a
# read-only configuration directory (/etc, a ConfigMap on Kubernetes) and SHELLY_TUI_TEMPLATES
# a directory on the data volume; --import of an export with templates writes them there. Without
# SHELLY_TUI_TEMPLATES, a templates directory that cannot be created is an error naming the real
# cause (read-only file system, permission denied), not "No such file or directory", and the
# database is unchanged.
. tests/lib.sh
. tests/integration/lib_exchange.sh

N=exchange_templates_dir
tui() { timeout 30 "$SHELLY_TUI" --db "$@"; }
config_fleet_exported

# the image's layout: configuration in a read-only etc, templates on the data volume
ETC=$T_TMP/etc
mkdir -p "$ETC/shelly-tui" "$T_TMP/data"
chmod 0555 "$ETC" "$ETC/shelly-tui"
if XDG_CONFIG_HOME="$ETC" SHELLY_TUI_TEMPLATES="$T_TMP/data/templates" \
	tui "$T_TMP/data/shelly.db" --import "$T_TMP/a.json" >"$T_TMP/out" 2>&1 &&
	cmp -s "$T_TMP/data/templates/base.tmpl" "$ref" && [ ! -e "$ETC/shelly-tui/templates" ]; then
	pass "$N: SHELLY_TUI_TEMPLATES puts imported templates on the data volume"
else
	fail "$N: SHELLY_TUI_TEMPLATES" "$(cat "$T_TMP/out"; ls -laR "$T_TMP/data" "$ETC")"
fi
# and the export reads them from there
if XDG_CONFIG_HOME="$ETC" SHELLY_TUI_TEMPLATES="$T_TMP/data/templates" \
	tui "$T_TMP/data/shelly.db" --export json -o "$T_TMP/b.json" 2>"$T_TMP/out" &&
	grep -q '"base"' "$T_TMP/b.json"; then
	pass "$N: the export reads the templates from SHELLY_TUI_TEMPLATES"
else
	fail "$N: export from SHELLY_TUI_TEMPLATES" "$(cat "$T_TMP/out")"
fi

# an empty templates directory (every template removed) exports no templates
mkdir -p "$T_TMP/empty"
if SHELLY_TUI_TEMPLATES="$T_TMP/empty" tui "$T_TMP/data/shelly.db" --export json \
	-o "$T_TMP/c.json" 2>"$T_TMP/out" && jq -e '.devices | length > 0' "$T_TMP/c.json" >/dev/null; then
	pass "$N: an empty templates directory exports"
else
	fail "$N: export with an empty templates directory" "$(cat "$T_TMP/out")"
fi

# without it the templates directory under the read-only etc cannot be made: the real cause.
# Root passes the mode bits, so as root etc is a read-only bind mount in a mount namespace.
ro_run() {
	if is_root; then
		unshare -m sh -c 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift &&
			exec "$@"' sh "$ETC" "$@"
	else
		"$@"
	fi
}
ro_run env XDG_CONFIG_HOME="$ETC" "$SHELLY_TUI" --db "$T_TMP/ro.db" --import "$T_TMP/a.json" \
	>"$T_TMP/out" 2>&1 && rc=0 || rc=$?
if [ "$rc" != 0 ] && grep -q "cannot create directory $ETC/shelly-tui/templates: \(Read-only file system\|Permission denied\)" "$T_TMP/out" &&
	! grep -q 'No such file' "$T_TMP/out" && [ ! -e "$ETC/shelly-tui/templates" ] &&
	[ "$(sqlite3 "$T_TMP/ro.db" 'SELECT count(*) FROM devices' 2>/dev/null)" = 0 ]; then
	pass "$N: an uncreatable templates directory names the real cause"
else
	fail "$N: mkdir cause" "rc=$rc $(cat "$T_TMP/out")"
fi
exit 0
