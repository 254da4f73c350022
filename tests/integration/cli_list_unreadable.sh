#!/bin/sh
# --list on a database whose status table cannot be read (a page overwritten): a clear error
# and exit 1, not every device listed as "unknown" with exit 0.
. tests/lib.sh
N=cli_list_unreadable
command -v sqlite3 >/dev/null 2>&1 || { skip "$N" "needs sqlite3"; exit 0; }
export XDG_CONFIG_HOME="$T_TMP/xdg-config" XDG_DATA_HOME="$T_TMP/xdg-data"
DB=$T_TMP/shelly.db
MAC=441793000001
cat >"$T_TMP/fleet.toml" <<EOT
format = "shelly-tui-fleet"
format_version = 4

[devices.$MAC]
id = "shellyplus1pm-$MAC"
gen = 2
model = "SNSW-001P16EU"
host = "127.0.0.1"
port = 80
scheme = "http"

[end]
complete = true
EOT
"$SHELLY_TUI" --db "$DB" --import "$T_TMP/fleet.toml" >"$T_TMP/out" 2>&1 ||
	{ fail "$N: import" "$(cat "$T_TMP/out")"; exit 1; }
sqlite3 "$DB" "PRAGMA journal_mode = DELETE; INSERT INTO status (mac, ts, state) VALUES ('$MAC', 1000, 'online');" >/dev/null
"$SHELLY_TUI" --db "$DB" --list >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
[ "$rc" = 0 ] && grep -q "$MAC .* online " "$T_TMP/out" && pass "$N: --list before the damage" ||
	fail "$N: --list before" "rc=$rc $(cat "$T_TMP/out" "$T_TMP/err")"

# Overwrite the status table's page.
page=$(sqlite3 "$DB" "SELECT rootpage FROM sqlite_master WHERE name = 'status'")
size=$(sqlite3 "$DB" "PRAGMA page_size")
head -c "$size" /dev/zero | tr '\0' '\245' |
	dd of="$DB" bs="$size" seek=$((page - 1)) conv=notrunc 2>/dev/null

for mode in "" --json; do
	"$SHELLY_TUI" --db "$DB" --list $mode >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
	if [ "$rc" = 1 ] && grep -q 'malformed.*reading status' "$T_TMP/err" && ! grep -q unknown "$T_TMP/out"; then
		pass "$N: --list $mode on an unreadable status table: exit 1 with the reason"
	else
		fail "$N: --list $mode unreadable" "rc=$rc out: $(cat "$T_TMP/out") err: $(cat "$T_TMP/err")"
	fi
done
exit 0
