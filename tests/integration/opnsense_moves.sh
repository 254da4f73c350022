# --opnsense-sync when devices move between each other's addresses (Kea and dnsmasq, whose APIs
# refuse an address another record still holds, as the fake does): a shift chain (A .31 -> .40,
# B .32 -> .31, C .33 -> .32) and a swap (D .34 <-> E .35) apply in one sync, exit 0, with the
# alias; the dry run says which update waits for which and which one is removed and re-added;
# a second sync then changes nothing. A re-add the firewall refuses after the removal fails
# the sync naming the record, and the next sync adds it.
. tests/lib.sh
. tests/integration/lib_opnsense.sh

N=opnsense_moves
op_init $N
op_kea_empty "$T_TMP/kea.json"
cat >"$T_TMP/dnsmasq.json" <<'JSON'
{"hosts": [], "aliases": [],
 "ranges": [{"uuid": "d0000001-0000-4000-8000-000000000001", "interface": "lan", "start_addr": "192.168.20.100", "end_addr": "192.168.20.200"}]}
JSON
# "MAC|IP" -> the state of the backend's records as "MAC IP", sorted
kea_held() { op_get "$1" /__fake/state | jq -r '.reservations[] | "\(.hw_address) \(.ip_address)"' | sort | tr '\n' ' '; }
dnsmasq_held() { op_get "$1" /__fake/state | jq -r '.hosts[] | "\(.hwaddr) \(.ip)"' | sort | tr '\n' ' '; }
want="00:00:00:00:00:01 192.168.20.40 00:00:00:00:00:02 192.168.20.31 00:00:00:00:00:03 192.168.20.32 00:00:00:00:00:04 192.168.20.35 00:00:00:00:00:05 192.168.20.34 "

for b in kea dnsmasq; do
	T="$N $b"
	DB=$T_TMP/db.$b
	op_db "$DB" "000000000001|A|192.168.20.31" "000000000002|B|192.168.20.32" \
		"000000000003|C|192.168.20.33" "000000000004|D|192.168.20.34" "000000000005|E|192.168.20.35"
	op_fake $b "$T_TMP/$b.json" --modules $b --enabled $b
	op_conf $b "$T_TMP/c.$b"
	op_run "$T_TMP/o" "$T_TMP/c.$b" "$DB"
	[ $OP_RC -eq 0 ] || fail "$T: first sync" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 1200)"
	sqlite3 "$DB" "UPDATE devices SET host = CASE mac
		WHEN '000000000001' THEN '192.168.20.40' WHEN '000000000002' THEN '192.168.20.31'
		WHEN '000000000003' THEN '192.168.20.32' WHEN '000000000004' THEN '192.168.20.35'
		WHEN '000000000005' THEN '192.168.20.34' END"

	op_run "$T_TMP/d" "$T_TMP/c.$b" "$DB" --dry-run
	[ $OP_RC -eq 0 ] && grep -q "^0 to add, 6 to update, 0 to remove, 0 unchanged, 0 conflicts" "$T_TMP/d" &&
		grep -q "^update .* B .*written after A leaves 192.168.20.31" "$T_TMP/d" &&
		grep -q "^update .* C .*written after B leaves 192.168.20.32" "$T_TMP/d" &&
		[ "$(grep -c "removed first and added again" "$T_TMP/d")" = 1 ] &&
		grep -q "^update .* [DE] .*removed first and added again .* waits for [DE]" "$T_TMP/d" &&
		pass "$T: --dry-run shows the order (each move after the one freeing its address) and the swap broken by a re-add" ||
		fail "$T: --dry-run" "rc=$OP_RC $(cat "$T_TMP/d" "$T_TMP/d.err" | head -c 2000)"

	op_run "$T_TMP/o" "$T_TMP/c.$b" "$DB"
	held=$(${b}_held $b)
	alias=$(op_get $b /__fake/state | jq -r '.aliases[0].content' | sort | tr '\n' ' ')
	[ $OP_RC -eq 0 ] && [ "$held" = "$want" ] &&
		[ "$alias" = "192.168.20.31 192.168.20.32 192.168.20.34 192.168.20.35 192.168.20.40 " ] &&
		grep -q "^0 added, 6 updated, 0 removed, 0 unchanged, 0 conflicts$" "$T_TMP/o" &&
		pass "$T: a shift chain and a swap apply in one sync (exit 0), the alias too" ||
		fail "$T: sync of the moves" "rc=$OP_RC held=$held alias=$alias $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 2000)"

	w=$(op_count $b .writes)
	op_run "$T_TMP/o" "$T_TMP/c.$b" "$DB"
	[ $OP_RC -eq 0 ] && [ "$(op_count $b .writes)" = "$w" ] &&
		grep -q "^0 added, 0 updated, 0 removed, 6 unchanged, 0 conflicts$" "$T_TMP/o" &&
		pass "$T: a second sync changes nothing" ||
		fail "$T: second sync" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 1500)"
	op_stop $b
done

# A re-add that fails after its removal: exit 1, the record named as removed and not added
# again; the next sync (the firewall accepting it again) adds it and finishes.
T="$N re-add fails"
DB=$T_TMP/db.kea
sqlite3 "$DB" "UPDATE devices SET host = CASE mac WHEN '000000000004' THEN '192.168.20.34'
	WHEN '000000000005' THEN '192.168.20.35' ELSE host END"
op_fake k0 "$T_TMP/kea.json"
op_conf k0 "$T_TMP/c.k0"
op_run "$T_TMP/o" "$T_TMP/c.k0" "$DB" # every device in place
op_get k0 /__fake/state >"$T_TMP/before.json"
op_stop k0
op_fake kf "$T_TMP/before.json" --fail-ip 192.168.20.35
op_conf kf "$T_TMP/c.kf"
sqlite3 "$DB" "UPDATE devices SET host = CASE mac WHEN '000000000004' THEN '192.168.20.35'
	WHEN '000000000005' THEN '192.168.20.34' ELSE host END"
op_run "$T_TMP/o" "$T_TMP/c.kf" "$DB"
op_get kf /__fake/state >"$T_TMP/after.json"
[ $OP_RC -eq 1 ] && grep -q "^failed .* D .*re-adding the Kea reservation of D.*Refused by this test" "$T_TMP/o" &&
	[ "$(jq '[.reservations[] | select(.hw_address == "00:00:00:00:00:04")] | length' "$T_TMP/after.json")" = 0 ] &&
	pass "$T: exit 1, the record that was removed and not added again is named" ||
	fail "$T" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 2000)"
op_stop kf
op_fake kh "$T_TMP/after.json"
op_conf kh "$T_TMP/c.kh"
op_run "$T_TMP/o" "$T_TMP/c.kh" "$DB"
[ $OP_RC -eq 0 ] && [ "$(kea_held kh)" = "$want" ] &&
	pass "$T: the next sync adds it and finishes" ||
	fail "$T: next sync" "rc=$OP_RC $(kea_held kh) $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 2000)"
exit $T_FAILED
