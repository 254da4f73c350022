# Helpers of the exchange_* tests (sourced after tests/lib.sh).

# hostile_fleet DB: a registry whose names break naive writers: escape sequences, quotes,
# braces, semicolons, unicode, newlines, empty and duplicate names, a shared address, a host
# name instead of an address, IPv6, invalid UTF-8; plus settings and a stored password.
hostile_fleet() {
	"$SHELLY_TUI" --db "$1" --list >/dev/null 2>&1 || return 1
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
  80, NULL, NULL, NULL, NULL, NULL, NULL);
INSERT INTO settings (key, value) VALUES
 ('secret:aabbccddee01', 'pa\"ss word'), ('ui.theme', 'dark'), ('weird key = [x]', 'val\"ue' || char(10));
"
}

# no_json_time FILE: the document without its export time.
no_json_time() { grep -v '"exported_at"' "$1"; }
