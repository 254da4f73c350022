# The console on a database whose status table becomes unreadable while it runs (its page
# overwritten, as cli_list_unreadable.sh does): the header says the status could not be read and why, instead
# of showing the devices as never polled with nothing said; the row's state is "unknown", not
# "new" (a device just added), and so is its detail view's. Nothing answers at the device's
# address (this test's own network, polled hourly).
. tests/lib.sh
. tests/integration/lib_tui.sh

N=tui_status_unreadable
NET=$(test_net "$N")
DB=$T_TMP/fleet.db
MAC=441793000001
tui_registry "$DB"
tui_row "$DB" $MAC alpha "$NET.1"
sqlite3 "$DB" "PRAGMA journal_mode = DELETE; INSERT INTO status (mac, ts, state) VALUES ('$MAC', 1000, 'online');" >/dev/null
tui_registry_console 200 30 'fleet 1' "$DB" || exit 1
tui_step 20 '^.  alpha ' 'the device before the damage'
grep -q 'status unreadable' "$T_TMP/screen" && fail "$N: before the damage" "$(cat "$T_TMP/screen")"

# Overwrite the status table's page (the console reads it again at the next change of the
# database: a rename by another connection).
page=$(sqlite3 "$DB" "SELECT rootpage FROM sqlite_master WHERE name = 'status'")
size=$(sqlite3 "$DB" "PRAGMA page_size")
head -c "$size" /dev/zero | tr '\0' '\245' |
	dd of="$DB" bs="$size" seek=$((page - 1)) conv=notrunc 2>/dev/null
sqlite3 -cmd '.timeout 5000' "$DB" "UPDATE devices SET name = 'bravo' WHERE mac = '$MAC'" ||
	fail "$N: rename"
sqlite3 "$DB" "SELECT * FROM status" >/dev/null 2>&1 && fail "$N: the status table is still readable"
tui_expect 30 'DB: status unreadable: .*malformed' 'header' \
	'the header says the status cannot be read, with the reason' '^.  bravo '
tui_expect 10 '^.  bravo +.* unknown ' 'row state' 'the row says its state is unknown'
grep -Eq '^.  bravo .* new ' "$T_TMP/screen" && fail "$N: the row looks newly added" "$(cat "$T_TMP/screen")"
tui_keys Enter
tui_expect 20 'bravo  -  unknown \(status unreadable\)' 'detail' 'the detail view says unknown too'
tui_keys Escape
tui_keys F10
tui_step 20 'RESTORED rc=0' 'quit'
exit $T_FAILED
