# Helpers of the exchange_* tests (sourced after tests/lib.sh).

# hostile_fleet DB: a registry whose names break naive writers: escape sequences, quotes,
# braces, semicolons, unicode, newlines, empty and duplicate names, a shared address, a host
# name instead of an address, IPv6, invalid UTF-8, spreadsheet formulas (= @ TAB+); plus
# settings and a stored password.
hostile_fleet() {
	"$SHELLY_TUI" --db "$1" --poll-once >/dev/null 2>&1 || return 1
	sqlite3 "$1" "
INSERT INTO devices (mac, id, gen, model, app, fw, name, host, port, scheme, username, cred_ref,
  discovered_via, first_seen, last_seen) VALUES
 ('aabbccddee01', 'shellyplus1-aabbccddee01', 2, 'SNSW-001X16EU', 'Plus1', '1.4.4', 'Kitchen',
  '10.0.0.11', 80, 'http', 'admin', 'store:secret:aabbccddee01', 'mdns', 1700000000000, 1700000001000),
 ('aabbccddee02', 'shelly1-AABBCCDDEE02', 1, 'SHSW-1', NULL, NULL,
  char(27) || '[31mred' || char(27) || '[0m \"quoted\" {brace}; semi', '10.0.0.12', 80, NULL, NULL,
  NULL, 'scan', NULL, NULL),
 ('aabbccddee03', NULL, 2, NULL, NULL, NULL, 'Kitchen', '10.0.0.13', 8080, NULL, NULL, NULL,
  'manual', NULL, NULL),
 ('aabbccddee04', NULL, 3, NULL, NULL, NULL, NULL, '10.0.0.14', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 ('aabbccddee05', NULL, 2, NULL, NULL, NULL, 'Küche ☃ ' || char(10) || 'line\\back	tab', '10.0.0.15',
  80, NULL, NULL, NULL, NULL, NULL, NULL),
 ('aabbccddee06', NULL, 2, NULL, NULL, NULL, '123', 'host.example', 80, NULL, NULL, NULL, NULL, NULL, NULL),
 ('aabbccddee07', NULL, 2, NULL, NULL, NULL, 'kitchen', '10.0.0.11', 80, NULL, NULL, NULL, NULL, NULL, NULL),
 ('aabbccddee08', NULL, 2, NULL, NULL, NULL, '-- ''; DROP TABLE x; #', '::1', 80, NULL, NULL, NULL,
  NULL, NULL, NULL),
 ('aabbccddee09', NULL, 2, NULL, NULL, NULL, '\$(reboot) \`id\` %s%n ' || char(13) || ' ]]\"\"\"''''''',
  '10.0.0.19', 80, NULL, NULL, NULL, NULL, NULL, NULL),
 ('aabbccddee0a', NULL, 2, NULL, NULL, NULL, 'Kitchen', '10.0.0.20', 80, NULL, NULL, NULL, NULL, NULL, NULL),
 ('aabbccddee0b', NULL, 2, NULL, NULL, NULL, cast(x'6e616d65ff80c3' as text), '10.0.0.21', 80, NULL,
  NULL, NULL, NULL, NULL, NULL),
 ('aabbccddee0c', NULL, 2, NULL, NULL, NULL,
  'a-very-long-name-that-goes-on-and-on-past-the-sixty-three-characters-a-label-may-hold', '10.0.0.22',
  80, NULL, NULL, NULL, NULL, NULL, NULL),
 ('aabbccddee0d', NULL, 2, NULL, NULL, NULL, '=HYPERLINK(\"http://x\",\"y\")', '10.0.0.23', 80, NULL,
  NULL, NULL, NULL, NULL, NULL),
 ('aabbccddee0e', NULL, 2, NULL, NULL, NULL, '@SUM(1+1)', '10.0.0.24', 80, NULL, NULL, NULL, NULL,
  NULL, NULL),
 ('aabbccddee0f', NULL, 2, NULL, NULL, NULL, char(9) || '+cmd', '10.0.0.25', 80, NULL, NULL, NULL,
  NULL, NULL, NULL);
INSERT INTO settings (key, value) VALUES
 ('secret:aabbccddee01', 'pa\"ss word'), ('ui.theme', 'dark'), ('weird key = [x]', 'val\"ue' || char(10));
"
}

# no_json_time FILE: the document without its export time.
no_json_time() { grep -v '"exported_at"' "$1"; }

# config_fleet DB DIR: the hostile fleet plus configuration: two groups (one with a template
# and its own fields), a desired config and snapshots (a history of three for aabbccddee01, two
# of them with the same body; secret fields in some), and the
# template files in DIR (an XDG_CONFIG_HOME), one with a secret field and an odd name.
config_fleet() {
	hostile_fleet "$1" || return 1
	nl="' || char(10) || '"
	sqlite3 "$1" "
INSERT INTO config_groups (name, template) VALUES ('office', 'base'), ('lab', NULL), ('emp\"ty', 'gone');
INSERT INTO config_members VALUES ('office', 'aabbccddee01'), ('office', 'aabbccddee03'),
 ('lab', 'aabbccddee02'), ('lab', 'aabbccddee05');
INSERT INTO config_desired VALUES ('aabbccddee01', 'sntp.server = ntp.lan${nl}wifi.sta.pass = topsecret${nl}'),
 ('aabbccddee05', '# hand-written${nl}sys.name = \"Kü che; {x}\"${nl}');
INSERT INTO config_snapshots (mac, ts, gen, cfg_rev, reason, body) VALUES
 ('aabbccddee01', 1700000001000, 2, 6, 'read', 'sys.name = Kitchen${nl}mqtt.pass = oldsecret${nl}'),
 ('aabbccddee01', 1700000002000, 2, 7, 'read', 'sys.name = Kitchen${nl}mqtt.pass = oldsecret${nl}'),
 ('aabbccddee01', 1700000003000, 2, 8.5, 'apply', 'sys.name = Kitchen2${nl}mqtt.pass = snapsecret${nl}'),
 ('aabbccddee02', 1700000003000, 1, NULL, NULL, 'sys.name = x${nl}');
INSERT INTO settings VALUES ('config-group:office', 'sys.timezone = Europe/Sofia${nl}');
" || return 1
	mkdir -p "$2/shelly-tui/templates" &&
		printf 'sntp.server = "ntp.example"\nmqtt.pass = hunter2\n' >"$2/shelly-tui/templates/base.tmpl" &&
		printf '# odd\ncloud.enabled = false\n' >"$2/shelly-tui/templates/odd \"name\".tmpl" &&
		printf 'not a template\n' >"$2/shelly-tui/templates/README"
}

# config_state DB DIR: everything an import may change, for "nothing changed" checks.
config_state() {
	sqlite3 "$1" 'SELECT * FROM devices ORDER BY mac; SELECT * FROM settings ORDER BY key;
SELECT * FROM config_groups ORDER BY name; SELECT * FROM config_members ORDER BY grp, mac;
SELECT * FROM config_desired ORDER BY mac; SELECT mac, ts, gen, cfg_rev, reason, body FROM config_snapshots ORDER BY id;'
	(cd "$2" 2>/dev/null && find . -type f | sort && find . -type f -print0 | sort -z | xargs -0r cat)
}

# config_fleet_exported: config_fleet in $T_TMP/fleet.db (DB) with its configuration directory
# $T_TMP/cfg, exported with its secrets to $T_TMP/a.json; ref names its template base.tmpl.
# Fails the test ($N) and exits when the fleet cannot be made.
config_fleet_exported() {
	DB=$T_TMP/fleet.db
	if ! config_fleet "$DB" "$T_TMP/cfg"; then
		fail "$N: fleet with configuration" "could not create it"
		exit 0
	fi
	XDG_CONFIG_HOME="$T_TMP/cfg" timeout 30 "$SHELLY_TUI" --db "$DB" --export json \
		--include-secrets -o "$T_TMP/a.json" || fail "$N: export" "no file"
	ref=$T_TMP/cfg/shelly-tui/templates/base.tmpl
}
