#!/bin/sh
# The configuration sections of --export json/toml (groups with template, own fields and
# members; templates; desired config and snapshot history per device) and their restore by
# --import in the same transaction; --export --group in every format; secrets only on request.
. tests/lib.sh
. tests/integration/lib_exchange.sh

N=exchange_config
umask 022 # the modes asserted below are 0644 & ~umask
DB=$T_TMP/fleet.db
export XDG_CONFIG_HOME="$T_TMP/cfg"
if ! config_fleet "$DB" "$XDG_CONFIG_HOME"; then
	fail "$N: fleet with configuration" "could not create it"
	exit 0
fi
tui() { "$SHELLY_TUI" --db "$@"; }

# Round trips with secrets: into an empty database and an empty template directory
for f in json toml; do
	tui "$DB" --export $f --include-secrets -o "$T_TMP/a.$f"
	XDG_CONFIG_HOME="$T_TMP/rt-$f" tui "$T_TMP/rt-$f.db" --import "$T_TMP/a.$f" >"$T_TMP/out" 2>&1 ||
		{ fail "$N: $f import" "$(cat "$T_TMP/out")"; continue; }
	XDG_CONFIG_HOME="$T_TMP/rt-$f" tui "$T_TMP/rt-$f.db" --export $f --include-secrets >"$T_TMP/b.$f"
	if [ "$(no_json_time "$T_TMP/a.$f")" = "$(no_json_time "$T_TMP/b.$f")" ]; then
		pass "$N: $f round trip with groups, desired configs, snapshots, templates"
	else
		fail "$N: $f round trip" "$(no_json_time "$T_TMP/a.$f" | diff - "$T_TMP/b.$f" | head -20)"
	fi
	cmp -s "$XDG_CONFIG_HOME/shelly-tui/templates/base.tmpl" "$T_TMP/rt-$f/shelly-tui/templates/base.tmpl" &&
		[ "$(stat -c %a "$T_TMP/rt-$f/shelly-tui/templates/base.tmpl")" = 600 ] &&
		[ -z "$(ls "$T_TMP/rt-$f/shelly-tui/templates" | grep -v '\.tmpl$')" ] &&
		pass "$N: $f restores the template files (0600, no temporary files)" || fail "$N: $f template files"
	[ "$(stat -c %a "$T_TMP/a.$f")" = 600 ] && grep -q hunter2 "$T_TMP/a.$f" && grep -q topsecret "$T_TMP/a.$f" &&
		pass "$N: $f --include-secrets carries secret fields, mode 0600" || fail "$N: $f secrets"
done
# what the document holds: the latest snapshot and the older ones newest first, group fields
# under the group, not in settings
jq -e '.configs.aabbccddee01.actual.cfg_rev == 8.5 and .configs.aabbccddee01.actual.ts_ms == 1700000003000
	and [.configs.aabbccddee01.history[].ts_ms] == [1700000002000, 1700000001000]
	and (.configs.aabbccddee02 | has("history") | not)
	and (.configs | has("aabbccddee03") | not) and .groups.office.template == "base"
	and .groups.office.members == ["aabbccddee01", "aabbccddee03"]
	and (.groups.office.fields | test("Europe/Sofia")) and (.settings | has("config-group:office") | not)
	and (.templates | keys) == ["base", "odd \"name\""]' "$T_TMP/a.json" >/dev/null &&
	pass "$N: json holds groups, templates, desired and the snapshot history" || fail "$N: json content"
hist="1700000001000 6.0 read
1700000002000 7.0 read
1700000003000 8.5 apply"
for f in json toml; do
	[ "$(sqlite3 "$T_TMP/rt-$f.db" "SELECT ts || ' ' || printf('%.1f', cfg_rev) || ' ' || reason FROM config_snapshots WHERE mac = 'aabbccddee01' ORDER BY id")" = "$hist" ] &&
		[ "$(sqlite3 "$T_TMP/rt-$f.db" "SELECT count(DISTINCT body) FROM config_snapshots WHERE mac = 'aabbccddee01' AND ts < 1700000003000")" = 1 ] &&
		pass "$N: $f restores the history in order with its times (equal bodies kept)" ||
		fail "$N: $f history rows" "$(sqlite3 "$T_TMP/rt-$f.db" "SELECT id, ts, reason FROM config_snapshots")"
done
[ "$(sqlite3 "$T_TMP/rt-toml.db" "SELECT value FROM settings WHERE key = 'config-group:office'")" = "sys.timezone = Europe/Sofia" ] &&
	pass "$N: group fields restored" || fail "$N: restored group fields"
# toml: no export or last seen times (first seen, which stays, and snapshot times only),
# deterministic, tables of the history
! grep -q 'exported_at\|last_seen' "$T_TMP/a.toml" && grep -q '^first_seen_ms = 1700000000000$' "$T_TMP/a.toml" && grep -q '^\[\[configs.aabbccddee01.history\]\]$' "$T_TMP/a.toml" &&
	tui "$DB" --export toml --include-secrets | cmp -s - "$T_TMP/a.toml" &&
	python3 -c 'import sys, tomllib; d = tomllib.load(open(sys.argv[1], "rb")); assert [h["ts_ms"] for h in d["configs"]["aabbccddee01"]["history"]] == [1700000002000, 1700000001000]' "$T_TMP/a.toml" &&
	pass "$N: toml: no export time, identical twice, history read by tomllib" || fail "$N: toml deterministic"

# Without --include-secrets: no secret field anywhere, file mode 0644
for f in json toml; do
	tui "$DB" --export $f -o "$T_TMP/s.$f"
	! grep -q 'hunter2\|topsecret\|snapsecret\|oldsecret\|pa"ss' "$T_TMP/s.$f" && grep -q 'ntp.example' "$T_TMP/s.$f" &&
		[ "$(stat -c %a "$T_TMP/s.$f")" = 644 ] && pass "$N: $f without --include-secrets has no secret fields" ||
		fail "$N: $f secrets left out"
done

# A file without secrets keeps the secret lines of what is stored (templates, desired, group)
sqlite3 "$T_TMP/rt-toml.db" "UPDATE settings SET value = value || 'mqtt.pass = grpsecret' || char(10) WHERE key = 'config-group:office'"
snaps_before=$(sqlite3 "$T_TMP/rt-toml.db" 'SELECT count(*) FROM config_snapshots')
XDG_CONFIG_HOME="$T_TMP/rt-toml" tui "$T_TMP/rt-toml.db" --import "$T_TMP/s.toml" --replace >"$T_TMP/out" 2>&1
# ... and adds no copy of a stored snapshot with its secret lines left out (it would be the newest)
[ "$(sqlite3 "$T_TMP/rt-toml.db" 'SELECT count(*) FROM config_snapshots')" = "$snaps_before" ] &&
	sqlite3 "$T_TMP/rt-toml.db" "SELECT body FROM config_snapshots WHERE mac = 'aabbccddee01' ORDER BY id DESC LIMIT 1" | grep -q '^mqtt.pass = snapsecret$' &&
	pass "$N: a file without secrets adds no snapshot the database holds with its secrets" ||
	fail "$N: snapshot without secrets" "$(sqlite3 "$T_TMP/rt-toml.db" 'SELECT id, ts, reason, body FROM config_snapshots')"
grep -q '^mqtt.pass = hunter2$' "$T_TMP/rt-toml/shelly-tui/templates/base.tmpl" &&
	sqlite3 "$T_TMP/rt-toml.db" "SELECT body FROM config_desired WHERE mac = 'aabbccddee01'" | grep -q '^wifi.sta.pass = topsecret$' &&
	sqlite3 "$T_TMP/rt-toml.db" "SELECT value FROM settings WHERE key = 'config-group:office'" | grep -q '^mqtt.pass = grpsecret$' &&
	pass "$N: a file without secrets keeps the stored secret lines" || fail "$N: secret lines kept" "$(cat "$T_TMP/out")"

# Importing twice (merge) adds no snapshot; --replace drops groups the file lacks
XDG_CONFIG_HOME="$T_TMP/rt-json" tui "$T_TMP/rt-json.db" --import "$T_TMP/a.json" >/dev/null
[ "$(sqlite3 "$T_TMP/rt-json.db" 'SELECT count(*) FROM config_snapshots')" = 4 ] &&
	pass "$N: importing the same file again adds no snapshot" || fail "$N: snapshot twice"
sqlite3 "$T_TMP/rt-json.db" "INSERT INTO config_groups (name) VALUES ('extra'); INSERT INTO config_desired VALUES ('aabbccddee02', 'sys.name = y');"
XDG_CONFIG_HOME="$T_TMP/rt-json" tui "$T_TMP/rt-json.db" --import "$T_TMP/a.json" --replace >/dev/null
[ -z "$(sqlite3 "$T_TMP/rt-json.db" "SELECT name FROM config_groups WHERE name = 'extra'")" ] &&
	[ -z "$(sqlite3 "$T_TMP/rt-json.db" "SELECT body FROM config_desired WHERE mac = 'aabbccddee02'")" ] &&
	pass "$N: --replace removes groups and desired configs the file lacks" || fail "$N: replace config"

# A version 1 file (before the configuration sections) still imports
jq '.format_version = 1 | del(.groups, .templates, .configs)' "$T_TMP/a.json" >"$T_TMP/v1.json"
tui "$T_TMP/v1.db" --import "$T_TMP/v1.json" >"$T_TMP/out" 2>&1 &&
	[ "$(sqlite3 "$T_TMP/v1.db" 'SELECT count(*) FROM devices')" = "$(sqlite3 "$DB" 'SELECT count(*) FROM devices')" ] &&
	pass "$N: a version 1 file imports" || fail "$N: version 1" "$(cat "$T_TMP/out")"
cp "$DB" "$T_TMP/v1r.db"
tui "$T_TMP/v1r.db" --import "$T_TMP/v1.json" --replace >/dev/null 2>&1 &&
	[ "$(sqlite3 "$T_TMP/v1r.db" 'SELECT count(*) FROM config_groups')" = 3 ] &&
	[ "$(sqlite3 "$T_TMP/v1r.db" 'SELECT count(*) FROM config_desired')" = 2 ] &&
	pass "$N: --replace with a version 1 file keeps the stored configuration" || fail "$N: v1 replace"

# Version 2 files (latest snapshot only; toml without its time) still import
jq '.format_version = 2 | del(.configs[].history)' "$T_TMP/a.json" >"$T_TMP/v2.json"
sed -e 's/^format_version = 4$/format_version = 2/' -e '/^\[end\]$/,$d' -e '/^\[\[configs\..*\.history\]\]$/,/^$/d' \
	-e '/^ts_ms = /d' "$T_TMP/a.toml" >"$T_TMP/v2.toml"
for f in json toml; do
	XDG_CONFIG_HOME="$T_TMP/v2-$f" tui "$T_TMP/v2-$f.db" --import "$T_TMP/v2.$f" >"$T_TMP/out" 2>&1 &&
		[ "$(sqlite3 "$T_TMP/v2-$f.db" "SELECT group_concat(mac || ' ' || reason) FROM config_snapshots WHERE mac = 'aabbccddee01'")" = "aabbccddee01 apply" ] &&
		[ "$(sqlite3 "$T_TMP/v2-$f.db" 'SELECT count(*) FROM config_snapshots')" = 2 ] &&
		pass "$N: a version 2 $f file (no history) imports" || fail "$N: version 2 $f" "$(cat "$T_TMP/out")"
done
[ "$(sqlite3 "$T_TMP/v2-json.db" "SELECT ts FROM config_snapshots WHERE mac = 'aabbccddee01'")" = 1700000003000 ] &&
	pass "$N: a version 2 json file keeps the snapshot time" || fail "$N: version 2 time"

# The history is bounded by what the store keeps (20 per device): export and restore 20 of 25
cp "$DB" "$T_TMP/many.db"
i=0
while [ $i -lt 25 ]; do
	echo "INSERT INTO config_snapshots (mac, ts, gen, cfg_rev, reason, body) VALUES ('aabbccddee03', $((1700000100000 + i * 1000)), 2, $i, 'read', 'sys.name = n$i' || char(10));"
	i=$((i + 1))
done | sqlite3 "$T_TMP/many.db"
XDG_CONFIG_HOME="$T_TMP/cfg-many" tui "$T_TMP/many.db" --export json --include-secrets -o "$T_TMP/many.json"
XDG_CONFIG_HOME="$T_TMP/cfg-many2" tui "$T_TMP/many2.db" --import "$T_TMP/many.json" >"$T_TMP/out" 2>&1
XDG_CONFIG_HOME="$T_TMP/cfg-many2" tui "$T_TMP/many2.db" --export json --include-secrets >"$T_TMP/many2.json"
[ "$(jq '.configs.aabbccddee03.history | length' "$T_TMP/many.json")" = 19 ] &&
	jq -e '.configs.aabbccddee03.actual.cfg_rev == 24' "$T_TMP/many.json" >/dev/null &&
	[ "$(sqlite3 "$T_TMP/many2.db" "SELECT count(*) || ' ' || min(cfg_rev) || ' ' || max(cfg_rev) FROM config_snapshots WHERE mac = 'aabbccddee03'")" = "20 5.0 24.0" ] &&
	[ "$(no_json_time "$T_TMP/many.json")" = "$(no_json_time "$T_TMP/many2.json")" ] &&
	pass "$N: the newest 20 snapshots are exported and restored, round trip identical" ||
	fail "$N: 20 snapshots" "$(cat "$T_TMP/out")"

# Merging an older backup into a store with a newer snapshot adds none of the older ones, so
# the newest stays the latest
cp "$T_TMP/rt-json.db" "$T_TMP/newer.db"
sqlite3 "$T_TMP/newer.db" "DELETE FROM config_snapshots WHERE mac = 'aabbccddee01' AND ts < 1700000003000;
INSERT INTO config_snapshots (mac, ts, gen, cfg_rev, reason, body) VALUES ('aabbccddee01', 1700000009000, 2, 9, 'read', 'sys.name = Newest' || char(10));"
XDG_CONFIG_HOME="$T_TMP/rt-json" tui "$T_TMP/newer.db" --import "$T_TMP/a.json" >"$T_TMP/out" 2>&1 &&
	[ "$(sqlite3 "$T_TMP/newer.db" "SELECT group_concat(ts, ' ') FROM (SELECT ts FROM config_snapshots WHERE mac = 'aabbccddee01' ORDER BY id)")" = "1700000003000 1700000009000" ] &&
	pass "$N: an older history merges in without passing the newer snapshot" || fail "$N: older history" "$(cat "$T_TMP/out")"

# --export --group G (and @G): only G's members, in every format; a setting that belongs to
# one device (the name it gives itself, device-name:MAC) goes with that device only
sqlite3 "$DB" "INSERT INTO settings (key, value) VALUES ('device-name:aabbccddee01', 'member'),
	('device-name:aabbccddee02', 'other'), ('device-name-cleared:aabbccddee04', '1')"
for f in json toml csv hosts dhcp-isc dnsmasq kea; do
	tui "$DB" --export $f --group office >"$T_TMP/g.$f" 2>"$T_TMP/err" &&
		tui "$DB" --export $f --group @office >"$T_TMP/g2.$f" || { fail "$N: --group $f" "$(cat "$T_TMP/err")"; continue; }
	[ $f = json ] && no_json_time "$T_TMP/g.$f" >"$T_TMP/g.x" && no_json_time "$T_TMP/g2.$f" >"$T_TMP/g2.x" &&
		mv "$T_TMP/g.x" "$T_TMP/g.$f" && mv "$T_TMP/g2.x" "$T_TMP/g2.$f"
	others=$(grep -ciE 'aabbccddee0[24-9a-f]|aa:bb:cc:dd:ee:0[24-9a-f]|10\.0\.0\.(12|1[4-9]|2[0-9])' "$T_TMP/g.$f")
	members=$(grep -ciE 'aabbccddee0[13]|aa:bb:cc:dd:ee:0[13]|10\.0\.0\.1[13]' "$T_TMP/g.$f")
	if [ "$others" = 0 ] && [ "$members" -ge 2 ] && cmp -s "$T_TMP/g.$f" "$T_TMP/g2.$f"; then
		pass "$N: --group office $f holds only the members"
	else
		fail "$N: --group $f" "others=$others members=$members"
	fi
done
jq -e '.group == "office" and (.groups | keys) == ["office"] and (.templates | keys) == ["base"]
	and (.settings | has("secret:aabbccddee01") | not)
	and .settings["device-name:aabbccddee01"] == "member" and .settings["ui.theme"] == "dark"' "$T_TMP/g.json" >/dev/null &&
	pass "$N: --group json holds only that group and its template" || fail "$N: --group json sections"
tui "$DB" --export csv --group nosuch >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
[ $rc = 2 ] && [ ! -s "$T_TMP/out" ] && grep -q 'no group "nosuch"' "$T_TMP/err" &&
	pass "$N: --group with an unknown group exits 2" || fail "$N: unknown group" "rc=$rc"
tui "$DB" --import "$T_TMP/a.json" --group office >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && pass "$N: --group with --import exits 2" || fail "$N: --group with --import" "rc=$rc"
# a one-group file restores with --merge only
cp "$DB" "$T_TMP/sub.db"
tui "$DB" --export json --group office --include-secrets >"$T_TMP/sub.json"
tui "$T_TMP/sub.db" --import "$T_TMP/sub.json" --replace >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc = 1 ] && grep -q 'only group office' "$T_TMP/err" && tui "$T_TMP/sub.db" --import "$T_TMP/sub.json" --merge >/dev/null &&
	pass "$N: a one-group file refuses --replace, takes --merge" || fail "$N: subset replace" "rc=$rc"

# Broken configuration sections: exit 1, file/line/field named, database and templates unchanged
cp "$DB" "$T_TMP/t.db"
before=$(config_state "$T_TMP/t.db" "$XDG_CONFIG_HOME")
sed 's/"members": \["aabbccddee01", "aabbccddee03"\]/"members": ["aabbccddee01", "aabbccddeeff"]/' "$T_TMP/a.json" >"$T_TMP/member.json"
sed 's/^desired = "sntp.server = ntp.lan/desired = "sntp.srv = ntp.lan/' "$T_TMP/a.toml" >"$T_TMP/desired.toml"
sed 's/"base": "sntp.server/"base": "cloud.enabled = perhaps\\nsntp.server/' "$T_TMP/a.json" >"$T_TMP/tmpl.json"
sed 's/^base = /"..\/evil" = /' "$T_TMP/a.toml" >"$T_TMP/name.toml"
sed '/^\[configs.aabbccddee02.actual\]$/,/^$/ s/^gen = 1$/gen = "one"/' "$T_TMP/a.toml" >"$T_TMP/gen.toml"
jq '.format_version = 1' "$T_TMP/a.json" >"$T_TMP/v1sect.json"
jq '.configs.aabbccddee01.history[1].ts_ms = 1700000009000' "$T_TMP/a.json" >"$T_TMP/order.json"
jq '.configs.aabbccddee01.history = [range(20) as $i | .configs.aabbccddee01.history[0]]' "$T_TMP/a.json" >"$T_TMP/toomany.json"
jq '.format_version = 2' "$T_TMP/a.json" >"$T_TMP/v2hist.json"
jq 'del(.configs.aabbccddee01.actual)' "$T_TMP/a.json" >"$T_TMP/noactual.json"
sed '/^\[\[configs.aabbccddee01.history\]\]$/,/^$/ { /^ts_ms = /d; }' "$T_TMP/a.toml" >"$T_TMP/nots.toml"
for case in "order.json:configs.aabbccddee01.history[1].ts_ms: newer than the snapshot before it" \
	"toomany.json:configs.aabbccddee01.history: more than the 19 older snapshots" \
	"v2hist.json:configs.aabbccddee01.history: unknown field" \
	"noactual.json:configs.aabbccddee01.history: a history needs the latest snapshot" \
	"nots.toml:configs.aabbccddee01.history[0].ts_ms: missing" \
	"member.json:groups.office.members: aabbccddeeff is not a device" \
	"desired.toml:configs.aabbccddee01.desired: line 1" "tmpl.json:templates.base: line 1" \
	"name.toml:templates.../evil: a template name" "gen.toml:configs.aabbccddee02.actual.gen: expected an integer" \
	"v1sect.json:groups: unknown section"; do
	file=${case%%:*} want=${case#*:}
	tui "$T_TMP/t.db" --import "$T_TMP/$file" >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
	if [ $rc -eq 1 ] && grep -q "$T_TMP/$file: line [0-9]*: " "$T_TMP/err" && grep -qF "$want" "$T_TMP/err" &&
		[ "$(config_state "$T_TMP/t.db" "$XDG_CONFIG_HOME")" = "$before" ]; then
		pass "$N: broken $file: exit 1, file/line/field named, nothing changed"
	else
		fail "$N: broken $file" "rc=$rc want '$want' got: $(cat "$T_TMP/err")"
	fi
done
# The template directory cannot be written (a file stands in its place): the database is
# rolled back. A store failure on the last configuration row: no template is written.
mkdir -p "$T_TMP/blocked/shelly-tui" && : >"$T_TMP/blocked/shelly-tui/templates"
sqlite3 "$T_TMP/t.db" "DELETE FROM config_groups; DELETE FROM config_desired;"
before=$(config_state "$T_TMP/t.db" "$T_TMP/blocked")
XDG_CONFIG_HOME="$T_TMP/blocked" tui "$T_TMP/t.db" --import "$T_TMP/a.toml" >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
[ $rc = 1 ] && grep -qi 'nothing changed: .*templates.* not a directory' "$T_TMP/err" && [ "$(config_state "$T_TMP/t.db" "$T_TMP/blocked")" = "$before" ] &&
	pass "$N: a template that cannot be written rolls the database back" || fail "$N: template failure" "rc=$rc $(cat "$T_TMP/err")"
sqlite3 "$T_TMP/t.db" "CREATE TRIGGER refuse BEFORE INSERT ON config_desired WHEN NEW.mac = 'aabbccddee05'
BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END;"
before=$(config_state "$T_TMP/t.db" "$T_TMP/fresh")
XDG_CONFIG_HOME="$T_TMP/fresh" tui "$T_TMP/t.db" --import "$T_TMP/a.json" >"$T_TMP/out" 2>"$T_TMP/err"; rc=$?
[ $rc = 1 ] && grep -q 'refused by test trigger' "$T_TMP/err" && [ "$(config_state "$T_TMP/t.db" "$T_TMP/fresh")" = "$before" ] &&
	[ -z "$(ls -A "$T_TMP/fresh/shelly-tui/templates" 2>/dev/null)" ] &&
	pass "$N: a store failure in the configuration rolls back and writes no template" ||
	fail "$N: store failure" "rc=$rc $(cat "$T_TMP/err")"
# A backup must restore: a template file edited by hand into one the template reader refuses,
# or a stored desired configuration or group's fields that no longer read (a field renamed by
# an upgrade), made the whole export one --import refuses. Each is left out of the file with a
# warning naming it and why; the rest restores.
cp "$DB" "$T_TMP/broken.db"
cp -r "$XDG_CONFIG_HOME" "$T_TMP/broken-cfg"
printf 'sntp.server = "ok"\nno.such.field = 1\n' >"$T_TMP/broken-cfg/shelly-tui/templates/handmade.tmpl"
sqlite3 "$T_TMP/broken.db" "UPDATE config_desired SET body = 'sys.name = a' || char(10) || 'gone.field = 2' || char(10) WHERE mac = 'aabbccddee05';
UPDATE settings SET value = 'old.field = 3' || char(10) WHERE key = 'config-group:office';"
for f in json toml; do
	XDG_CONFIG_HOME="$T_TMP/broken-cfg" tui "$T_TMP/broken.db" --export $f -o "$T_TMP/broken.$f" 2>"$T_TMP/err"; rc=$?
	XDG_CONFIG_HOME="$T_TMP/broken-rt-$f" tui "$T_TMP/broken-rt-$f.db" --import "$T_TMP/broken.$f" >"$T_TMP/out" 2>&1; irc=$?
	if [ $rc = 0 ] && [ $irc = 0 ] && grep -q 'warning: template handmade: left out: line 2: no.such.field' "$T_TMP/err" &&
		grep -q 'warning: desired configuration of aabbccddee05: left out: line 2: gone.field' "$T_TMP/err" &&
		grep -q 'warning: fields of group office: left out: line 1: old.field' "$T_TMP/err" &&
		[ -f "$T_TMP/broken-rt-$f/shelly-tui/templates/base.tmpl" ] && [ ! -e "$T_TMP/broken-rt-$f/shelly-tui/templates/handmade.tmpl" ] &&
		[ "$(sqlite3 "$T_TMP/broken-rt-$f.db" "SELECT count(*) FROM config_desired WHERE mac = 'aabbccddee01'")" = 1 ] &&
		[ "$(sqlite3 "$T_TMP/broken-rt-$f.db" "SELECT template FROM config_groups WHERE name = 'office'")" = base ]; then
		pass "$N: $f: texts that no longer read are left out with a warning; the backup restores"
	else
		fail "$N: $f unreadable texts" "rc=$rc import rc=$irc $(cat "$T_TMP/err" "$T_TMP/out")"
	fi
done
exit 0
