# --opnsense-sync against a fake OPNsense (Kea DHCPv4, both search-reply shapes): the dry run
# plans and writes nothing; the sync adds the fleet's reservations (lowercase colon MACs, a
# shelly-tui marker, host names from device names), removes its own record of a device gone,
# leaves foreign records alone, reports each conflict kind, creates the alias and reconfigures
# each service once; a second sync writes and reconfigures nothing; a device removed from the
# registry loses its reservation; a device registered by an IPv6 address is in the alias; an
# update of the alias posts the whole item with its name (else OPNsense renames every reference
# to it) and changes nothing but the content; a
# validation failure mid-plan stops the writes, says which records were not applied, and still
# applies (reconfigures) what was saved before it.
. tests/lib.sh
. tests/integration/lib_opnsense.sh

N=opnsense_sync
op_init $N
cat >"$T_TMP/kea.json" <<'JSON'
{"subnets": [{"uuid": "3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10", "subnet": "192.168.20.0/24", "description": "iot"}],
 "reservations": [
  {"uuid": "f0000001-0000-4000-8000-000000000001", "subnet": "3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10", "ip_address": "192.168.20.10",
   "hw_address": "de:ad:be:ef:00:01", "hostname": "printer", "description": "office printer"},
  {"uuid": "f0000002-0000-4000-8000-000000000002", "subnet": "3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10", "ip_address": "192.168.20.77",
   "hw_address": "00:00:00:00:00:04", "hostname": "attic-old", "description": "set by hand"},
  {"uuid": "09000009-0000-4000-8000-000000000009", "subnet": "3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10", "ip_address": "192.168.20.99",
   "hw_address": "00:00:00:00:00:ff", "hostname": "gone", "description": "shelly-tui:0000000000ff Gone"}],
 "aliases": [{"uuid": "a0000001-0000-4000-8000-000000000001", "name": "office", "type": "host", "content": "192.168.20.10", "description": "by hand"}]}
JSON
DB=$T_TMP/db
op_db "$DB" "000000000001|Kitchen|192.168.20.31" "000000000002|Hall|192.168.20.32" \
	"000000000003|Porch|192.168.20.10" "000000000004|Attic|192.168.20.35" \
	"000000000005|Shed|10.9.9.9" "000000000006|***|192.168.20.37"
foreign() { op_get "$1" /__fake/state | jq -c '[.reservations[] | select(.uuid | startswith("f000000"))] | sort_by(.uuid)'; }
before=$(jq -c '[.reservations[] | select(.uuid | startswith("f000000"))] | sort_by(.uuid)' "$T_TMP/kea.json")

for shape in 25.7 25.1; do
	T="$N $shape"
	op_fake k$shape "$T_TMP/kea.json" --shape $shape
	op_conf k$shape "$T_TMP/c$shape"

	# --- dry run: the plan, nothing written ---
	op_run "$T_TMP/o" "$T_TMP/c$shape" "$DB" --dry-run
	[ $OP_RC -eq 0 ] && grep -q "^backend kea (dry run" "$T_TMP/o" &&
		grep -q "^3 to add, 0 to update, 1 to remove, 0 unchanged, 4 conflicts" "$T_TMP/o" &&
		[ "$(op_count k$shape .writes)" = 0 ] && [ "$(op_count k$shape '.reconfigure | length')" = 0 ] &&
		pass "$T: --dry-run prints the plan (3 adds with the alias, 1 removal, 4 conflicts) and writes nothing" ||
		fail "$T: --dry-run" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 1500)"
	op_run "$T_TMP/j" "$T_TMP/c$shape" "$DB" --dry-run --json
	act() { jq -r --arg m "$2" '.records[] | select(.mac == $m) | "\(.action) \(.result)"' "$1"; }
	why() { jq -r --arg m "$2" '.records[] | select(.mac == $m) | .why' "$1"; }
	[ $OP_RC -eq 0 ] && [ "$(act "$T_TMP/j" 00:00:00:00:00:01)" = "added planned" ] &&
		[ "$(jq -r '.records[] | select(.kind == "alias") | .action' "$T_TMP/j")" = added ] &&
		[ "$(jq -r '.records | length' "$T_TMP/j")" = 8 ] &&
		[ "$(jq -r .summary.conflict "$T_TMP/j")" = 4 ] && [ "$(jq -r .dry_run "$T_TMP/j")" = true ] &&
		pass "$T: --dry-run --json lists every record (7 reservations, the alias) with its action" ||
		fail "$T: --dry-run --json" "rc=$OP_RC $(head -c 1500 "$T_TMP/j")"
	# each conflict kind, with its reason
	why "$T_TMP/j" 00:00:00:00:00:03 | grep -q "reserved for de:ad:be:ef:00:01" &&
		why "$T_TMP/j" 00:00:00:00:00:04 | grep -q "MAC is reserved at 192.168.20.77" &&
		why "$T_TMP/j" 00:00:00:00:00:05 | grep -q "outside every Kea subnet" &&
		why "$T_TMP/j" 00:00:00:00:00:06 | grep -q "host name" &&
		pass "$T: conflicts: address of a foreign MAC, MAC reserved elsewhere, outside every subnet, host name" ||
		fail "$T: conflict reasons" "$(jq -c '[.records[] | select(.action == "conflict") | .why]' "$T_TMP/j")"

	# --- the sync ---
	op_run "$T_TMP/o" "$T_TMP/c$shape" "$DB"
	st=$(op_get k$shape /__fake/state)
	own() { printf '%s' "$st" | jq -r --arg m "$1" '.reservations[] | select(.hw_address == $m) | "\(.ip_address) \(.hostname) \(.description)"'; }
	[ $OP_RC -eq 0 ] && grep -q "^3 added, 0 updated, 1 removed, 0 unchanged, 4 conflicts$" "$T_TMP/o" &&
		[ "$(own 00:00:00:00:00:01)" = "192.168.20.31 kitchen shelly-tui:000000000001 Kitchen" ] &&
		[ "$(own 00:00:00:00:00:02)" = "192.168.20.32 hall shelly-tui:000000000002 Hall" ] &&
		[ -z "$(own 00:00:00:00:00:ff)" ] &&
		pass "$T: sync adds Kitchen and Hall (lowercase colon MACs, marker) and removes its own record of a gone device" ||
		fail "$T: sync" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 1500) $(printf '%s' "$st" | jq -c .reservations)"
	[ "$(foreign k$shape)" = "$before" ] && [ "$(printf '%s' "$st" | jq -c '.aliases[] | select(.name == "office")')" = \
		"$(jq -c '.aliases[0]' "$T_TMP/kea.json")" ] &&
		pass "$T: foreign reservations and the foreign alias are untouched" ||
		fail "$T: foreign records" "$(foreign k$shape)"
	[ "$(printf '%s' "$st" | jq -r '.aliases[] | select(.name == "shelly_devices") | "\(.type) \(.content | gsub("\n"; ","))"')" = \
		"host 10.9.9.9,192.168.20.10,192.168.20.31,192.168.20.32,192.168.20.35,192.168.20.37" ] &&
		[ "$(op_count k$shape .reconfigure.kea)" = 1 ] && [ "$(op_count k$shape .reconfigure.alias)" = 1 ] &&
		grep -q "^kea: reconfigured, service running" "$T_TMP/o" &&
		pass "$T: the alias holds every registered address; Kea and the alias reconfigured once each, Kea running" ||
		fail "$T: alias and reconfigure" "$(printf '%s' "$st" | jq -c .aliases) $(op_get k$shape /__fake/counts | jq -c .reconfigure)"

	# --- idempotence ---
	w=$(op_count k$shape .writes)
	op_run "$T_TMP/o" "$T_TMP/c$shape" "$DB"
	[ $OP_RC -eq 0 ] && [ "$(op_count k$shape .writes)" = "$w" ] && [ "$(op_count k$shape .reconfigure.kea)" = 1 ] &&
		[ "$(op_count k$shape .reconfigure.alias)" = 1 ] &&
		grep -q "^0 added, 0 updated, 0 removed, 3 unchanged, 4 conflicts$" "$T_TMP/o" &&
		pass "$T: a second sync writes nothing and reconfigures nothing" ||
		fail "$T: second sync" "rc=$OP_RC writes $w -> $(op_count k$shape .writes) $(cat "$T_TMP/o" | head -c 1200)"
	op_stop k$shape
done

# --- a device removed from the registry: its reservation goes, the alias follows ---
T="$N removal"
op_fake kr "$T_TMP/kea.json"
op_conf kr "$T_TMP/cr"
DB2=$T_TMP/db2
op_db "$DB2" "000000000001|Kitchen|192.168.20.31" "000000000002|Hall|192.168.20.32"
op_run "$T_TMP/o" "$T_TMP/cr" "$DB2"
"$SHELLY_TUI" --db "$DB2" --remove 000000000002 >/dev/null 2>&1
op_run "$T_TMP/o" "$T_TMP/cr" "$DB2" --json
st=$(op_get kr /__fake/state)
[ $OP_RC -eq 0 ] && [ "$(jq -r '.records[] | select(.mac == "00:00:00:00:00:02") | "\(.action) \(.result)"' "$T_TMP/o")" = "removed applied" ] &&
	[ "$(printf '%s' "$st" | jq '[.reservations[] | select(.hw_address == "00:00:00:00:00:02")] | length')" = 0 ] &&
	[ "$(printf '%s' "$st" | jq -r '.aliases[] | select(.name == "shelly_devices") | .content')" = 192.168.20.31 ] &&
	[ "$(op_count kr .reconfigure.kea)" = 2 ] &&
	pass "$T: a device removed from the registry loses its reservation and its alias entry" ||
	fail "$T" "rc=$OP_RC $(head -c 1500 "$T_TMP/o") $(printf '%s' "$st" | jq -c .)"
# the last one removed: an empty registry (a new volume, the wrong --db) never empties the firewall
cp "$DB2" "$T_TMP/db2e"
"$SHELLY_TUI" --db "$T_TMP/db2e" --remove 000000000001 >/dev/null 2>&1
w=$(op_count kr .writes)
op_run "$T_TMP/o" "$T_TMP/cr" "$T_TMP/db2e"
st=$(op_get kr /__fake/state)
[ $OP_RC -eq 0 ] && [ "$(op_count kr .writes)" = "$w" ] &&
	grep -q "^conflict .*192.168.20.31  00:00:00:00:00:01  (no device is registered" "$T_TMP/o" &&
	grep -q "^conflict    alias shelly_devices .*(its 1 address stays: no device is registered" "$T_TMP/o" &&
	[ "$(printf '%s' "$st" | jq -r '.aliases[] | select(.name == "shelly_devices") | .content')" = 192.168.20.31 ] &&
	pass "$T: with no device registered nothing is removed: the reservation and the alias stay, shown as conflicts" ||
	fail "$T: empty registry" "rc=$OP_RC $(head -c 1500 "$T_TMP/o") $(printf '%s' "$st" | jq -c .)"
op_stop kr

# --- a device registered by an IPv6 address: in the alias, no DHCPv4 reservation ---
T="$N ipv6"
op_fake k6 "$T_TMP/kea.json"
op_conf k6 "$T_TMP/c6"
DB6=$T_TMP/db6
op_db "$DB6" "000000000001|Kitchen|192.168.20.31" "000000000007|Garage|2001:DB8::7"
op_run "$T_TMP/o" "$T_TMP/c6" "$DB6" --json
st=$(op_get k6 /__fake/state)
[ $OP_RC -eq 0 ] && [ "$(printf '%s' "$st" | jq -r '.aliases[] | select(.name == "shelly_devices") | .content | gsub("\n"; ",")')" = "192.168.20.31,2001:db8::7" ] &&
	jq -r '.records[] | select(.mac == "00:00:00:00:00:07") | "\(.action) \(.why)"' "$T_TMP/o" | grep -q "^conflict no IPv4 address registered (host 2001:DB8::7 is IPv6: it is in the alias" &&
	[ "$(printf '%s' "$st" | jq '[.reservations[] | select(.hw_address == "00:00:00:00:00:07")] | length')" = 0 ] &&
	pass "$T: the alias holds the IPv6 address too (compressed, lower case); no DHCPv4 reservation for it" ||
	fail "$T" "rc=$OP_RC $(head -c 1500 "$T_TMP/o") $(printf '%s' "$st" | jq -c .aliases)"
w=$(op_count k6 .writes)
op_run "$T_TMP/o" "$T_TMP/c6" "$DB6"
[ $OP_RC -eq 0 ] && [ "$(op_count k6 .writes)" = "$w" ] && [ "$(op_count k6 .reconfigure.alias)" = 1 ] &&
	pass "$T: a second sync leaves the alias with its IPv6 entry unchanged" ||
	fail "$T: second sync" "writes $w -> $(op_count k6 .writes) $(head -c 800 "$T_TMP/o")"
op_stop k6

# --- an update of the alias sends the whole item: no rename (refactor), nothing else changed ---
T="$N alias update"
jq '.aliases += [{"uuid": "a0000002-0000-4000-8000-000000000002", "name": "shelly_devices", "type": "host",
	"content": "192.168.20.9", "description": "shelly-tui: Shelly devices (used by rule 12)", "enabled": "1",
	"proto": "IPv4", "categories": "c1111111-0000-4000-8000-000000000001", "counters": "1", "updatefreq": ""}]' \
	"$T_TMP/kea.json" >"$T_TMP/kea_alias.json"
op_fake ka "$T_TMP/kea_alias.json"
op_conf ka "$T_TMP/ca"
op_run "$T_TMP/o" "$T_TMP/ca" "$DB2"
st=$(op_get ka /__fake/state)
al=$(printf '%s' "$st" | jq -c '.aliases[] | select(.uuid == "a0000002-0000-4000-8000-000000000002")
	| [.name, .type, .content, .description, .enabled, .proto, .categories, .counters]')
[ $OP_RC -eq 0 ] && [ "$(op_count ka .alias_sets)" = 1 ] && [ "$(op_count ka '.refactors | length')" = 0 ] &&
	[ "$al" = '["shelly_devices","host","192.168.20.31","shelly-tui: Shelly devices (used by rule 12)","1","IPv4","c1111111-0000-4000-8000-000000000001","1"]' ] &&
	pass "$T: setItem names the alias (no refactor of its references) and keeps description, enabled, proto, categories, counters" ||
	fail "$T" "rc=$OP_RC $(op_get ka /__fake/counts | jq -c '[.alias_sets, .refactors]') $al $(head -c 800 "$T_TMP/o")"
op_stop ka

# --- a validation failure mid-plan ---
T="$N validation"
op_fake kv "$T_TMP/kea.json" --fail-ip 192.168.20.32
op_conf kv "$T_TMP/cv"
op_run "$T_TMP/o" "$T_TMP/cv" "$DB" --json
st=$(op_get kv /__fake/state)
res() { jq -r --arg m "$1" '.records[] | select(.mac == $m) | "\(.result): \(.error)"' "$T_TMP/o"; }
[ $OP_RC -eq 1 ] && res 00:00:00:00:00:02 | grep -q "^failed: adding the Kea reservation of Hall (00:00:00:00:00:02, 192.168.20.32).*rejected: reservation.ip_address: Refused by this test" &&
	res 00:00:00:00:00:01 | grep -q "^not_applied: not applied: stopped after the record of Hall" &&
	[ "$(jq -r '.records[] | select(.kind == "alias") | .result' "$T_TMP/o")" = not_applied ] &&
	pass "$T: exit 1; the rejected record names itself and the validation; later ones and the alias are not applied" ||
	fail "$T" "rc=$OP_RC $(jq -c '[.records[] | [.mac, .result, .error]]' "$T_TMP/o" 2>&1 | head -c 1500)"
[ "$(printf '%s' "$st" | jq '[.reservations[] | select(.uuid | startswith("0900000"))] | length')" = 0 ] &&
	[ "$(printf '%s' "$st" | jq '[.reservations[] | select(.hw_address == "00:00:00:00:00:01")] | length')" = 0 ] &&
	[ "$(op_count kv .reconfigure.kea)" = 1 ] && [ "$(op_count kv '.reconfigure.alias // 0')" = 0 ] &&
	[ "$(jq -r .dhcp.reconfigure "$T_TMP/o")" = ok ] &&
	pass "$T: the removal saved before the failure is applied (one Kea reconfigure, reported); nothing after it is written" ||
	fail "$T: after the failure" "$(op_get kv /__fake/counts | jq -c '.reconfigure, .writes') $(printf '%s' "$st" | jq -c .reservations)"
op_run "$T_TMP/o" "$T_TMP/cv" "$DB"
[ $OP_RC -eq 1 ] && grep -q "^failed  *Hall" "$T_TMP/o" && grep -q "^not-applied  *Kitchen" "$T_TMP/o" &&
	grep -q "some changes failed" "$T_TMP/o" &&
	pass "$T: the text report shows failed and not-applied records" ||
	fail "$T: text report" "$(head -c 1500 "$T_TMP/o")"
exit $T_FAILED
