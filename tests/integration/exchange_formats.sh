#!/bin/sh
# --export in every format on a fleet with hostile names, each file checked by its real
# consumer: ISC dhcpd -t, dnsmasq --test, kea-dhcp4 -t, python's tomllib and our own TOML
# reader, Python's csv module, and the hosts grammar (RFC 1123 labels, unique names).
# Each consumer is first shown to reject a broken file, so its verdict means something.
. tests/lib.sh
. tests/integration/lib_exchange.sh

N=exchange_formats
umask 022 # the modes asserted below are 0644 & ~umask
DB=$T_TMP/fleet.db
if ! hostile_fleet "$DB"; then
	fail "$N: hostile fleet" "could not create it"
	exit 0
fi
ndev=$(sqlite3 "$DB" 'SELECT count(*) FROM devices')

for f in json toml csv hosts dhcp-isc dnsmasq kea; do
	if "$SHELLY_TUI" --db "$DB" --export $f -o "$T_TMP/out.$f" 2>"$T_TMP/err" &&
		"$SHELLY_TUI" --db "$DB" --export $f >"$T_TMP/stdout.$f"; then
		pass "$N: --export $f"
	else
		fail "$N: --export $f" "$(cat "$T_TMP/err")"
	fi
done
# stdout and -o carry the same document (json apart from its time)
for f in toml csv hosts dhcp-isc dnsmasq kea; do
	cmp -s "$T_TMP/out.$f" "$T_TMP/stdout.$f" || fail "$N: $f stdout = file"
done
[ "$(no_json_time "$T_TMP/out.json")" = "$(no_json_time "$T_TMP/stdout.json")" ] &&
	pass "$N: stdout and -o give the same documents" || fail "$N: json stdout = file"
ls "$T_TMP" | grep -q '\.tmp\.' && fail "$N: temporary files left" "$(ls "$T_TMP")" ||
	pass "$N: no temporary files left behind"

# consumer LABEL CHECKER BAD GOOD: CHECKER FILE must reject BAD (so its verdict means
# something) and accept GOOD.
consumer() {
	if $2 "$3" >/dev/null 2>&1; then
		fail "$N: $1 rejects a broken file"
	elif $2 "$4" >"$T_TMP/consumer.log" 2>&1; then
		pass "$N: $1 accepts the export"
	else
		fail "$N: $1" "$(cat "$T_TMP/consumer.log")"
	fi
}
isc_check() { dhcpd -t -cf "$1"; }
dnsmasq_check() { dnsmasq --test --conf-file="$1"; }
kea_check() { kea-dhcp4 -t "$1"; }

printf 'host "bad {\n hardware ethernet zz;\n' >"$T_TMP/bad.isc"
consumer "dhcpd -t" isc_check "$T_TMP/bad.isc" "$T_TMP/out.dhcp-isc"
[ "$(grep -c '^host ' "$T_TMP/out.dhcp-isc")" -ge 8 ] && pass "$N: dhcp-isc has a host block per IPv4 device" ||
	fail "$N: dhcp-isc host blocks" "$(cat "$T_TMP/out.dhcp-isc")"
printf 'dhcp-host=zz:zz,10.0.0.1,"bad name;\n' >"$T_TMP/bad.dnsmasq"
consumer "dnsmasq --test" dnsmasq_check "$T_TMP/bad.dnsmasq" "$T_TMP/out.dnsmasq"
printf '{"Dhcp4": {"reservations": [{"hw-address": "zz", "ip-address": "10.0.0.1"}]}}' >"$T_TMP/bad.kea"
consumer "kea-dhcp4 -t" kea_check "$T_TMP/bad.kea" "$T_TMP/out.kea"
[ "$(jq '.Dhcp4.reservations | length' "$T_TMP/out.kea")" -ge 8 ] &&
	[ "$(jq '[.Dhcp4.reservations[]."ip-address"] | unique | length' "$T_TMP/out.kea")" = \
		"$(jq '.Dhcp4.reservations | length' "$T_TMP/out.kea")" ] &&
	pass "$N: kea reservations, one per address" || fail "$N: kea reservations" "$(cat "$T_TMP/out.kea")"
# Kea ignores global reservations unless reservations-global is on (its default is off)
jq -e '.Dhcp4["reservations-global"] == true and .Dhcp4["reservations-in-subnet"] == true' "$T_TMP/out.kea" >/dev/null &&
	pass "$N: kea turns global reservations on, keeps subnet ones" || fail "$N: kea reservations-global" "$(head -5 "$T_TMP/out.kea")"

# TOML: Python's tomllib (TOML 1.0) reads every device and the hostile names byte for byte
# (invalid UTF-8 becomes U+FFFD); our own reader accepts it too.
cat >"$T_TMP/toml_check.py" <<'PY'
import sqlite3, sys, tomllib
doc = tomllib.load(open(sys.argv[1], "rb"))
db = sqlite3.connect(sys.argv[2])
db.text_factory = lambda b: b.decode("utf-8", "replace")
rows = dict(db.execute("SELECT mac, name FROM devices"))
assert doc["format"] == "shelly-tui-fleet" and doc["format_version"] == 4
assert doc["end"] == {"complete": True}, doc["end"]
assert sorted(doc["devices"]) == sorted(rows), (sorted(doc["devices"]), sorted(rows))
for mac, name in rows.items():
    got = doc["devices"][mac].get("name")
    assert got == (name or None), (mac, got, name)
assert "secrets" not in doc
assert doc["settings"]["weird key = [x]"] == 'val"ue\n'
PY
if python3 "$T_TMP/toml_check.py" "$T_TMP/out.toml" "$DB" 2>"$T_TMP/py.err"; then
	pass "$N: python tomllib reads the toml export, names intact"
else
	fail "$N: tomllib" "$(cat "$T_TMP/py.err")"
fi
printf 'a = "unterminated\n' >"$T_TMP/bad.toml"
python3 -c 'import tomllib,sys; tomllib.load(open(sys.argv[1],"rb"))' "$T_TMP/bad.toml" 2>/dev/null &&
	fail "$N: tomllib rejects a broken file"
"$SHELLY_TUI" --db "$T_TMP/dry.db" --import "$T_TMP/out.toml" --dry-run >"$T_TMP/dry.out" 2>&1 &&
	grep -q "$ndev devices" "$T_TMP/dry.out" && pass "$N: our TOML reader accepts the export" ||
	fail "$N: own reader" "$(cat "$T_TMP/dry.out")"

# JSON: jq parses it; no secrets unless asked; mode 0644 without, 0600 with
jq -e ".devices | length == $ndev" "$T_TMP/out.json" >/dev/null && pass "$N: json export parses, every device" ||
	fail "$N: json export" "$(head -c 400 "$T_TMP/out.json")"
grep -q 'pa\\"ss word' "$T_TMP/out.json" "$T_TMP/out.toml" && fail "$N: secret leaked without --include-secrets" ||
	pass "$N: no password without --include-secrets"
[ "$(stat -c %a "$T_TMP/out.json")" = 644 ] || fail "$N: mode without secrets" "$(stat -c %a "$T_TMP/out.json")"
# never wider than the umask (a cron job's 077) or than the file it replaces (chmod 640)
(umask 077 && "$SHELLY_TUI" --db "$DB" --export json -o "$T_TMP/private.json")
cp "$T_TMP/out.json" "$T_TMP/kept.json" && chmod 640 "$T_TMP/kept.json"
"$SHELLY_TUI" --db "$DB" --export json -o "$T_TMP/kept.json"
[ "$(stat -c %a "$T_TMP/private.json")" = 600 ] && [ "$(stat -c %a "$T_TMP/kept.json")" = 640 ] &&
	pass "$N: an export keeps to the umask and to the mode of the file it replaces" ||
	fail "$N: export modes" "umask 077: $(stat -c %a "$T_TMP/private.json"), over 640: $(stat -c %a "$T_TMP/kept.json")"
# the operator's umask is kept: under umask 077 (systemd's UMask=0077) no export is world-readable
modes=
for f in json csv hosts; do
	(umask 077 && exec "$SHELLY_TUI" --db "$DB" --export $f -o "$T_TMP/private.$f") 2>/dev/null
	modes="$modes $(stat -c %a "$T_TMP/private.$f")"
done
[ "$modes" = " 600 600 600" ] && pass "$N: under umask 077 an export is 0600" || fail "$N: umask 077" "modes:$modes"
for f in json toml; do
	"$SHELLY_TUI" --db "$DB" --export $f --include-secrets -o "$T_TMP/secret.$f"
	if [ "$(stat -c %a "$T_TMP/secret.$f")" = 600 ] && grep -q 'pa\\"ss word' "$T_TMP/secret.$f"; then
		pass "$N: --include-secrets $f: password present, file mode 0600"
	else
		fail "$N: --include-secrets $f" "$(stat -c %a "$T_TMP/secret.$f")"
	fi
done

# hosts: "ADDRESS NAME" lines, addresses valid, names RFC 1123 labels, unique
cat >"$T_TMP/hosts_check.py" <<'PY'
import ipaddress, re, sys
label = re.compile(r"^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$")
seen = set()
n = 0
for line in open(sys.argv[1], encoding="ascii"):
    line = line.rstrip("\n")
    if not line or line.startswith("#"):
        continue
    fields = line.split()
    assert len(fields) == 2, line
    ipaddress.ip_address(fields[0])
    assert label.match(fields[1]), fields[1]
    assert fields[1] not in seen, fields[1]
    seen.add(fields[1])
    n += 1
print(n)
PY
hn=$(python3 "$T_TMP/hosts_check.py" "$T_TMP/out.hosts" 2>"$T_TMP/py.err")
# every device with an address literal (all but host.example)
if [ "$hn" = $((ndev - 1)) ]; then
	pass "$N: hosts lines valid, names unique RFC 1123 labels"
else
	fail "$N: hosts grammar" "$(cat "$T_TMP/py.err") $(cat "$T_TMP/out.hosts")"
fi
grep -q '^10\.0\.0\.12	red-quoted-brace-semi$' "$T_TMP/out.hosts" &&
	pass "$N: escape sequences are gone before the name is derived" ||
	fail "$N: derived name" "$(cat "$T_TMP/out.hosts")"

# CSV (RFC 4180): header row, one row per device, quoted fields read back, --columns
cat >"$T_TMP/csv_check.py" <<'PY'
import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="", encoding="utf-8"), strict=True))
assert rows[0] == sys.argv[2].split(","), rows[0]
assert len(rows) == int(sys.argv[3]) + 1, len(rows)
assert all(len(r) == len(rows[0]) for r in rows)
names = [r[rows[0].index("name")] for r in rows[1:]] if "name" in rows[0] else []
assert not names or 'red "quoted" {brace}; semi' in names, names
assert all("\x1b" not in c for r in rows for c in r)
# no cell a spreadsheet would take for a formula: those get a leading apostrophe
assert all(not c or c[0] not in "=+-@\t\r" for r in rows for c in r), rows
if names:
    for want in ("'=HYPERLINK(\"http://x\",\"y\")", "'@SUM(1+1)", "'+cmd", "'-- '; DROP TABLE x; #"):
        assert want in names, (want, names)
PY
python3 "$T_TMP/csv_check.py" "$T_TMP/out.csv" mac,name,host,port,gen,model,fw,state $ndev 2>"$T_TMP/py.err" &&
	pass "$N: csv: header, a row per device, quoted fields, no escape sequences, no formulas" ||
	fail "$N: csv" "$(cat "$T_TMP/py.err")"
"$SHELLY_TUI" --db "$DB" --export csv --columns mac,name,discovered_via,state >"$T_TMP/cols.csv" &&
	python3 "$T_TMP/csv_check.py" "$T_TMP/cols.csv" mac,name,discovered_via,state $ndev 2>"$T_TMP/py.err" &&
	pass "$N: csv --columns" || fail "$N: csv --columns" "$(cat "$T_TMP/py.err")"

# -o is atomic: temporary file in the same directory, fsync, rename, fsync of the directory
if command -v strace >/dev/null 2>&1; then
	strace -f -o "$T_TMP/trace" -e trace=openat,fsync,rename "$SHELLY_TUI" --db "$DB" --export toml -o "$T_TMP/at.toml"
	seq=$(awk '/openat\(.*at\.toml\.tmp\..*O_CREAT/ { s = s "create " }
		/^[0-9]+ +fsync\(/ { s = s "fsync " }
		/rename\(.*at\.toml\.tmp\..*at\.toml"\)/ { s = s "rename " }
		/openat\(.*O_DIRECTORY/ { s = s "dir " }
		END { print s }' "$T_TMP/trace")
	case $seq in
	*"create fsync rename dir fsync"*) pass "$N: -o writes a temporary file, fsyncs, renames, fsyncs the directory" ;;
	*) fail "$N: atomic write" "$seq" ;;
	esac
else
	fail "$N: atomic write" "needs strace"
fi

# names /etc/hosts and resolvers keep for themselves never name a device: "localhost" would
# point the name at a device in every host and DHCP format
RDB=$T_TMP/reserved.db
"$SHELLY_TUI" --db "$RDB" --poll-once >/dev/null 2>&1 && sqlite3 "$RDB" "
INSERT INTO devices (mac, gen, name, host, port) VALUES
 ('aabbccddee61', 2, 'localhost', '192.168.1.60', 80), ('aabbccddee62', 2, 'ip6-allnodes', '192.168.1.61', 80),
 ('aabbccddee63', 2, 'localhost.localdomain', '192.168.1.62', 80), ('aabbccddee64', 2, 'wpad', '192.168.1.63', 80),
 ('aabbccddee65', 2, 'Local', '192.168.1.64', 80), ('aabbccddee66', 2, 'Hall', 'fe80::1%lo', 80);"
for f in hosts dnsmasq dhcp-isc kea; do
	"$SHELLY_TUI" --db "$RDB" --export $f >"$T_TMP/r.$f" 2>"$T_TMP/r.err"
	if [ "$(grep -c 'shelly-aabbccddee6[1-5]' "$T_TMP/r.$f")" -ge 5 ] &&
		! grep -v '^[#/]' "$T_TMP/r.$f" | grep -qiE 'localhost|ip6-|wpad|[^.a-z]local[^-a-z]'; then
		pass "$N: $f: reserved names (localhost, ip6-*, wpad, local) become shelly-MAC"
	else
		fail "$N: $f reserved names" "$(cat "$T_TMP/r.$f")"
	fi
	# a link-local address with a zone cannot go in: left out, with a warning that says so
	if ! grep -q 'fe80' "$T_TMP/r.$f" && [ "$(grep -c warning "$T_TMP/r.err")" = 1 ] &&
		grep -q 'warning: aabbccddee66 (Hall): left out: host fe80::1%lo: a link-local address with a zone' "$T_TMP/r.err"; then
		pass "$N: $f: a zoned link-local address is left out with a warning naming the device"
	else
		fail "$N: $f zoned address" "$(cat "$T_TMP/r.err" "$T_TMP/r.$f")"
	fi
done

# An address no DHCP server leases (0.0.0.0, broadcast, multicast) made kea-dhcp4 refuse the
# whole configuration; such a device, and a second one on an address already reserved, is left
# out of every DHCP format with a warning naming it, and the file passes its server's check.
UDB=$T_TMP/unicast.db
"$SHELLY_TUI" --db "$UDB" --poll-once >/dev/null 2>&1 && sqlite3 "$UDB" "
INSERT INTO devices (mac, gen, name, host, port) VALUES
 ('aabbccddee71', 2, 'zero', '0.0.0.0', 80), ('aabbccddee72', 2, 'bcast', '255.255.255.255', 80),
 ('aabbccddee73', 2, 'mcast', '224.0.0.251', 80), ('aabbccddee74', 2, 'good', '10.0.0.74', 80),
 ('aabbccddee75', 2, 'twin', '10.0.0.74', 80);"
for f in dhcp-isc:isc_check dnsmasq:dnsmasq_check kea:kea_check; do
	"$SHELLY_TUI" --db "$UDB" --export ${f%%:*} -o "$T_TMP/u.${f%%:*}" 2>"$T_TMP/u.err"
	if ${f#*:} "$T_TMP/u.${f%%:*}" >"$T_TMP/consumer.log" 2>&1 &&
		[ "$(grep -c 'warning: aabbccddee7[1-3] .*: left out: host .*: not a unicast address' "$T_TMP/u.err")" = 3 ] &&
		grep -q 'warning: aabbccddee75 (twin): left out: host 10.0.0.74: .*aabbccddee74' "$T_TMP/u.err" &&
		! grep -v '^[#/]' "$T_TMP/u.${f%%:*}" | grep -qE '0\.0\.0\.0|255\.255|224\.0|ee:75'; then
		pass "$N: ${f%%:*}: non-unicast and taken addresses left out with warnings, the server accepts it"
	else
		fail "$N: ${f%%:*} non-unicast" "$(cat "$T_TMP/consumer.log" "$T_TMP/u.err" "$T_TMP/u.${f%%:*}")"
	fi
done

# usage errors exit 2; a file that cannot be written exits 1 and leaves nothing
"$SHELLY_TUI" --db "$DB" --export csv --columns mac,bogus >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'bogus' "$T_TMP/err" && pass "$N: unknown column exits 2" || fail "$N: unknown column" "rc=$rc"
# the list as the error and --help write it, ", " between names, is taken
"$SHELLY_TUI" --db "$DB" --export csv --columns 'mac, name ,host' >"$T_TMP/cols.csv" 2>"$T_TMP/err"; rc=$?
[ $rc -eq 0 ] && [ "$(head -n 1 "$T_TMP/cols.csv")" = "$(printf 'mac,name,host\r')" ] &&
	pass "$N: --columns takes spaces after the commas" || fail "$N: --columns with spaces" "rc=$rc $(cat "$T_TMP/err")"
"$SHELLY_TUI" --db "$DB" --export yaml >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "$N: unknown format exits 2" || fail "$N: unknown format" "rc=$rc"
"$SHELLY_TUI" --db "$DB" --export hosts --include-secrets >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "$N: --include-secrets with hosts exits 2" || fail "$N: secrets with hosts" "rc=$rc"
"$SHELLY_TUI" --db "$DB" --export json -o "$T_TMP/no/such/dir/x.json" 2>"$T_TMP/err"; rc=$?
[ $rc -eq 1 ] && [ ! -e "$T_TMP/no" ] && grep -q 'x.json' "$T_TMP/err" && pass "$N: unwritable -o exits 1" ||
	fail "$N: unwritable -o" "rc=$rc $(cat "$T_TMP/err")"
# A file size limit (ulimit -f, systemd's LimitFSIZE) is a full disk too: a clear error and exit
# 1, the old file kept, and no death by SIGXFSZ with nothing said and a temporary file left.
# The limit (100 blocks: 50 or 100 KiB, by the shell) is above what reading the database
# writes (its 32 KiB -shm) and below the export of 1000 devices (some 300 KiB).
LDB=$T_TMP/limit.db
"$SHELLY_TUI" --db "$LDB" --poll-once >/dev/null 2>&1 && sqlite3 "$LDB" "WITH RECURSIVE i(n) AS
 (SELECT 1 UNION ALL SELECT n + 1 FROM i WHERE n < 1000) INSERT INTO devices (mac, gen, name, host, port)
 SELECT printf('aabbcc%06x', n), 2, printf('device number %d of a fleet large enough', n),
 printf('10.1.%d.%d', n / 250, n % 250), 80 FROM i;"
echo old >"$T_TMP/limited.json"
(ulimit -f 100 && exec "$SHELLY_TUI" --db "$LDB" --export json -o "$T_TMP/limited.json") 2>"$T_TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'limited.json: File too large' "$T_TMP/err" && [ "$(cat "$T_TMP/limited.json")" = old ] &&
	! ls "$T_TMP" | grep -q '\.tmp\.' && pass "$N: a file size limit: exit 1, a clear error, the old file kept" ||
	fail "$N: file size limit" "rc=$rc $(cat "$T_TMP/err")"
exit 0
