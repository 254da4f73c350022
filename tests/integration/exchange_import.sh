#!/bin/sh
# --import: round trips (export, import into an empty database, export again: the same
# document apart from the export time), broken files change nothing and name file, line and
# field, --dry-run writes nothing, --merge keeps and --replace removes what the file lacks.
. tests/lib.sh
. tests/integration/lib_exchange.sh

N=exchange_import
DB=$T_TMP/fleet.db
if ! hostile_fleet "$DB"; then
	fail "$N: hostile fleet" "could not create it"
	exit 0
fi
ex() { "$SHELLY_TUI" --db "$1" --export "$2" --include-secrets; }

# Round trips, secrets included
for f in json toml; do
	ex "$DB" $f >"$T_TMP/a.$f"
	if "$SHELLY_TUI" --db "$T_TMP/rt-$f.db" --import "$T_TMP/a.$f" >"$T_TMP/out" 2>&1; then
		ex "$T_TMP/rt-$f.db" $f >"$T_TMP/b.$f"
		if [ $f = json ]; then
			no_json_time "$T_TMP/a.$f" >"$T_TMP/a2" && no_json_time "$T_TMP/b.$f" >"$T_TMP/b2"
		else
			cp "$T_TMP/a.$f" "$T_TMP/a2" && cp "$T_TMP/b.$f" "$T_TMP/b2"
		fi
		if cmp -s "$T_TMP/a2" "$T_TMP/b2" && [ "$(grep -c exported_at "$T_TMP/a.$f")" = "$(grep -c exported_at "$T_TMP/b.$f")" ]; then
			pass "$N: $f round trip gives the same document"
		else
			fail "$N: $f round trip" "$(diff "$T_TMP/a2" "$T_TMP/b2" | head -20)"
		fi
	else
		fail "$N: $f import into an empty database" "$(cat "$T_TMP/out")"
	fi
done
# the json round trip carried the times and the password
[ "$(sqlite3 "$T_TMP/rt-json.db" "SELECT first_seen FROM devices WHERE mac='aabbccddee01'")" = 1700000000000 ] &&
	[ "$(sqlite3 "$T_TMP/rt-json.db" "SELECT value FROM settings WHERE key='secret:aabbccddee01'")" = 'pa"ss word' ] &&
	pass "$N: json restores times and the stored password" || fail "$N: json times/secret"
# each format says the version of its own content: json did not change in 4 (only toml's [end]
# came), so a json backup stays 3 and an older program (a rolled-back upgrade) restores it;
# what an earlier build of 4 wrote as json 4 imports too
jv=$(jq '.format_version' "$T_TMP/a.json")
tv=$(sed -n 's/^format_version = //p' "$T_TMP/a.toml")
sed 's/"format_version": 3,/"format_version": 4,/' "$T_TMP/a.json" >"$T_TMP/json4.json"
[ "$jv" = 3 ] && [ "$tv" = 4 ] && grep -q '"format_version": 4,' "$T_TMP/json4.json" &&
	"$SHELLY_TUI" --db "$T_TMP/v3-json.db" --import "$T_TMP/a.json" >/dev/null 2>&1 &&
	"$SHELLY_TUI" --db "$T_TMP/v4-json.db" --import "$T_TMP/json4.json" >/dev/null 2>&1 &&
	[ "$(sqlite3 "$T_TMP/v3-json.db" 'SELECT count(*) FROM devices')" = "$(sqlite3 "$DB" 'SELECT count(*) FROM devices')" ] &&
	[ "$(sqlite3 "$T_TMP/v4-json.db" 'SELECT count(*) FROM devices')" = "$(sqlite3 "$DB" 'SELECT count(*) FROM devices')" ] &&
	pass "$N: json is written as version 3 (toml 4); json 3 and 4 import" ||
	fail "$N: format versions" "json $jv toml $tv"
# toml keeps first_seen (it never moves once set): the device seen first keeps a shared name in
# the host and DHCP files (and the OPNsense sync), so a restore must not hand it to another
FDB=$T_TMP/first.db
"$SHELLY_TUI" --db "$FDB" --poll-once >/dev/null 2>&1 && sqlite3 "$FDB" "
INSERT INTO devices (mac, gen, name, host, port, first_seen, last_seen) VALUES
 ('aabbccddee51', 2, 'Kitchen', '10.0.0.51', 80, 1700000005000, 1700000009000),
 ('aabbccddee52', 2, 'Kitchen', '10.0.0.52', 80, 1700000001000, 1700000009000);"
"$SHELLY_TUI" --db "$FDB" --export toml >"$T_TMP/first.toml"
"$SHELLY_TUI" --db "$T_TMP/first-rt.db" --import "$T_TMP/first.toml" >/dev/null 2>&1
"$SHELLY_TUI" --db "$FDB" --export dnsmasq >"$T_TMP/first.before"
"$SHELLY_TUI" --db "$T_TMP/first-rt.db" --export dnsmasq >"$T_TMP/first.after"
[ "$(sqlite3 "$T_TMP/first-rt.db" 'SELECT group_concat(first_seen) FROM devices ORDER BY mac')" = 1700000005000,1700000001000 ] &&
	grep -q 'ee:52,10.0.0.52,kitchen$' "$T_TMP/first.after" && cmp -s "$T_TMP/first.before" "$T_TMP/first.after" &&
	pass "$N: toml restores first_seen: the device seen first keeps its name" ||
	fail "$N: toml first_seen" "$(cat "$T_TMP/first.before" "$T_TMP/first.after")"
# two toml exports of an unchanged fleet are byte-identical
ex "$DB" toml | cmp -s - "$T_TMP/a.toml" && pass "$N: toml export is deterministic" || fail "$N: toml deterministic"

# Broken files: each exits 1, names the file, line and field, changes nothing
snapshot() { sqlite3 "$1" 'SELECT * FROM devices ORDER BY mac; SELECT * FROM settings ORDER BY key;'; }
cp "$DB" "$T_TMP/target.db"
before=$(snapshot "$T_TMP/target.db")
size=$(wc -c <"$T_TMP/a.json")
head -c $((size * 2 / 3)) "$T_TMP/a.json" >"$T_TMP/trunc.json"
printf '[devices.aabbccddeeff\nname = "x"\n' >"$T_TMP/trunc.toml"
sed 's/"port": 8080/"port": "8080"/' "$T_TMP/a.json" >"$T_TMP/type.json"
sed 's/^port = 8080$/port = 70000/' "$T_TMP/a.toml" >"$T_TMP/range.toml"
sed 's/"format_version": [0-9]*/"format_version": 99/' "$T_TMP/a.json" >"$T_TMP/newer.json"
sed 's/^\[settings\]$/[widgets]\nall = "x"\n\n[settings]/' "$T_TMP/a.toml" >"$T_TMP/section.toml"
sed 's/"mac": "aabbccddee03"/"mac": "aabbccddee01"/' "$T_TMP/a.json" >"$T_TMP/dup.json"
# a file whose first devices are fine and whose last is bad: nothing of it may land
sed 's/^\[devices.aabbccddee0c\]$/[devices.AABBCCDDEE0C]/' "$T_TMP/a.toml" | sed 's/^name = "Kitchen"$/name = "Renamed"/' >"$T_TMP/late.toml"
for case in "trunc.json:line" "trunc.toml:line 1, column" "type.json:devices\[2\].port: expected an integer" \
	"range.toml:devices.aabbccddee03.port: expected an integer 0..65535" \
	"newer.json:format_version: version 99 is newer" "section.toml:widgets: unknown section" \
	"dup.json:MAC aabbccddee01 appears twice" "late.toml:devices.AABBCCDDEE0C"; do
	file=${case%%:*} want=${case#*:}
	for mode in --merge --replace; do
		"$SHELLY_TUI" --db "$T_TMP/target.db" --import "$T_TMP/$file" $mode >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
		if [ $rc -eq 1 ] && grep -q "$T_TMP/$file" "$T_TMP/err" && grep -q "$want" "$T_TMP/err" &&
			grep -qE 'line [0-9]+' "$T_TMP/err" && [ "$(snapshot "$T_TMP/target.db")" = "$before" ]; then
			:
		else
			fail "$N: broken $file $mode" "rc=$rc want '$want' got: $(cat "$T_TMP/err")"
			continue 2
		fi
	done
	pass "$N: broken $file: exit 1, file/line/field named, nothing changed"
done
# A store failure on the last write of a valid file (a trigger refuses one device) rolls
# the whole import back: one transaction, not one per device.
cp "$DB" "$T_TMP/trig.db"
sqlite3 "$T_TMP/trig.db" "UPDATE devices SET name = 'old' || mac; DELETE FROM settings WHERE key = 'ui.theme';
CREATE TRIGGER refuse BEFORE UPDATE ON devices WHEN NEW.mac = 'aabbccddee0c'
BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END;"
before=$(snapshot "$T_TMP/trig.db")
"$SHELLY_TUI" --db "$T_TMP/trig.db" --import "$T_TMP/a.json" >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
if [ $rc -eq 1 ] && grep -q 'refused by test trigger' "$T_TMP/err" && grep -q 'nothing changed' "$T_TMP/err" &&
	[ "$(snapshot "$T_TMP/trig.db")" = "$before" ]; then
	pass "$N: a write failing late rolls the whole import back"
else
	fail "$N: rollback" "rc=$rc $(cat "$T_TMP/err")"
fi
# the line named is the line of the bad value
line=$(grep -n '^port = 70000$' "$T_TMP/range.toml" | cut -d: -f1)
"$SHELLY_TUI" --db "$T_TMP/target.db" --import "$T_TMP/range.toml" 2>&1 | grep -q "range.toml: line $line: " &&
	pass "$N: the error names the line of the bad value ($line)" || fail "$N: error line"
# A toml export cut short at a line end (a full disk, an interrupted copy) is still valid TOML:
# without its closing table it must be refused, or --replace would remove the devices, settings
# and groups of the lost tail.
cp "$T_TMP/target.db" "$T_TMP/cut.db"
before=$(snapshot "$T_TMP/cut.db")
lines=$(wc -l <"$T_TMP/a.toml") cut=1 accepted=
while [ "$cut" -lt "$lines" ]; do
	head -n "$cut" "$T_TMP/a.toml" >"$T_TMP/cut.toml"
	"$SHELLY_TUI" --db "$T_TMP/cut.db" --import "$T_TMP/cut.toml" --replace >"$T_TMP/out" 2>&1; rc=$?
	[ $rc -eq 1 ] && grep -q 'cut\.toml: line [0-9]*' "$T_TMP/out" || accepted="$accepted $cut"
	cut=$((cut + 1))
done
"$SHELLY_TUI" --db "$T_TMP/cut.db" --import "$T_TMP/a.toml" --replace --dry-run >/dev/null 2>&1 || accepted="$accepted whole"
[ -z "$accepted" ] && [ "$(snapshot "$T_TMP/cut.db")" = "$before" ] &&
	pass "$N: a toml export cut at a line end is refused, nothing changed" ||
	fail "$N: cut toml" "accepted at lines:$accepted of $lines"

# --dry-run reports and writes nothing; --merge keeps, --replace removes what the file lacks
sqlite3 "$DB" "DELETE FROM devices WHERE mac IN ('aabbccddee0b', 'aabbccddee0c'); DELETE FROM settings WHERE key = 'ui.theme'"
ex "$DB" json >"$T_TMP/small.json"
small=$(sqlite3 "$DB" 'SELECT count(*) FROM devices')
cp "$T_TMP/target.db" "$T_TMP/m.db"
before=$(snapshot "$T_TMP/m.db")
"$SHELLY_TUI" --db "$T_TMP/m.db" --import "$T_TMP/small.json" --replace --dry-run --json >"$T_TMP/out" 2>&1
[ "$(jq -c '[.devices, .added, .updated, .unchanged, .removed, .dry_run]' "$T_TMP/out")" = "[$small,0,0,$small,2,true]" ] &&
	[ "$(snapshot "$T_TMP/m.db")" = "$before" ] && pass "$N: --dry-run counts and changes nothing" ||
	fail "$N: --dry-run" "$(cat "$T_TMP/out")"
# Updated counts only devices whose stored fields change: one renamed device in the file is
# the one update, in the dry run and the real run, and importing it again updates nothing.
jq '(.devices[] | select(.mac == "aabbccddee01") | .name) = "Kitchen 2"' "$T_TMP/small.json" >"$T_TMP/renamed.json"
cp "$T_TMP/m.db" "$T_TMP/u.db"
"$SHELLY_TUI" --db "$T_TMP/u.db" --import "$T_TMP/renamed.json" --merge --dry-run >"$T_TMP/dry" 2>&1
"$SHELLY_TUI" --db "$T_TMP/u.db" --import "$T_TMP/renamed.json" --merge >"$T_TMP/real" 2>&1
"$SHELLY_TUI" --db "$T_TMP/u.db" --import "$T_TMP/renamed.json" --merge --json >"$T_TMP/again" 2>&1
counts="0 added, 1 updated, $((small - 1)) unchanged, 0 removed"
if grep -q "^dry run, nothing changed: .*($counts)" "$T_TMP/dry" && grep -q "^imported .*($counts)" "$T_TMP/real" &&
	[ "$(jq -c '[.added, .updated, .unchanged]' "$T_TMP/again")" = "[0,0,$small]" ] &&
	[ "$(sqlite3 "$T_TMP/u.db" "SELECT count(*) FROM devices WHERE name = 'Kitchen 2'")" = 1 ]; then
	pass "$N: only devices whose stored fields change count as updated"
else
	fail "$N: updated/unchanged counts" "$(cat "$T_TMP/dry" "$T_TMP/real" "$T_TMP/again")"
fi
"$SHELLY_TUI" --db "$T_TMP/m.db" --import "$T_TMP/small.json" --merge >/dev/null 2>&1
[ "$(sqlite3 "$T_TMP/m.db" 'SELECT count(*) FROM devices')" = $((small + 2)) ] &&
	[ "$(sqlite3 "$T_TMP/m.db" "SELECT value FROM settings WHERE key='ui.theme'")" = dark ] &&
	pass "$N: --merge keeps devices and settings the file lacks" || fail "$N: --merge"
"$SHELLY_TUI" --db "$T_TMP/m.db" --import "$T_TMP/small.json" --replace >/dev/null 2>&1
[ "$(sqlite3 "$T_TMP/m.db" 'SELECT count(*) FROM devices')" = "$small" ] &&
	[ -z "$(sqlite3 "$T_TMP/m.db" "SELECT value FROM settings WHERE key='ui.theme'")" ] &&
	pass "$N: --replace removes devices and settings the file lacks" || fail "$N: --replace"
# a file without secrets leaves stored passwords alone, even with --replace
"$SHELLY_TUI" --db "$DB" --export json >"$T_TMP/nosecret.json"
"$SHELLY_TUI" --db "$T_TMP/m.db" --import "$T_TMP/nosecret.json" --replace >/dev/null 2>&1
[ "$(sqlite3 "$T_TMP/m.db" "SELECT value FROM settings WHERE key='secret:aabbccddee01'")" = 'pa"ss word' ] &&
	pass "$N: --replace without a secrets section keeps stored passwords" || fail "$N: secrets kept"
"$SHELLY_TUI" --db "$T_TMP/m.db" --import "$T_TMP/small.json" --merge --replace >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "$N: --merge with --replace exits 2" || fail "$N: --merge --replace" "rc=$rc"
# A device's id is its own (shellyplus1-<mac>): two devices with one id would make --action ID
# act on whichever was seen last, so a file that gives two devices one id is refused, and so is
# a merge that gives a new device the id of a registered one; both MACs are named.
cp "$DB" "$T_TMP/ids.db"
before=$(snapshot "$T_TMP/ids.db")
sed 's/"shelly1-AABBCCDDEE02"/"SHELLYPLUS1-aabbccddee01"/' "$T_TMP/a.json" >"$T_TMP/dupid.json"
"$SHELLY_TUI" --db "$T_TMP/ids.db" --import "$T_TMP/dupid.json" >"$T_TMP/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'devices\[1\]: id SHELLYPLUS1-aabbccddee01 is the id of aabbccddee01 too' "$T_TMP/out" &&
	[ "$(snapshot "$T_TMP/ids.db")" = "$before" ] && pass "$N: two devices with one id: refused, both named, nothing changed" ||
	fail "$N: duplicate id" "rc=$rc $(cat "$T_TMP/out")"
printf '{"format": "shelly-tui-backup", "format_version": 3, "devices": [{"mac": "aabbccddee99", "id": "shellyplus1-aabbccddee01", "host": "10.0.0.99"}]}\n' >"$T_TMP/newid.json"
"$SHELLY_TUI" --db "$T_TMP/ids.db" --import "$T_TMP/newid.json" --merge >"$T_TMP/out" 2>&1; rc=$?
[ $rc = 1 ] && grep -q 'device aabbccddee99 has id shellyplus1-aabbccddee01, the id of registered device aabbccddee01' "$T_TMP/out" &&
	[ "$(snapshot "$T_TMP/ids.db")" = "$before" ] && pass "$N: a merge giving a new device a registered id: refused" ||
	fail "$N: merge duplicate id" "rc=$rc $(cat "$T_TMP/out")"

"$SHELLY_TUI" --db "$T_TMP/m.db" --import "$T_TMP/none.json" >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && pass "$N: missing file exits 1" || fail "$N: missing file" "rc=$rc"
exit 0
