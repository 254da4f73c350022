# A reservation made by hand with its MAC written as OPNsense also accepts it (dotted
# 0000.0000.0002, upper case with hyphens) is the device's: left alone at the device's address,
# a conflict at another, and never a second reservation for the same MAC.
. tests/lib.sh
. tests/integration/lib_opnsense.sh

N=opnsense_mac_dotted
op_init $N
S=3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10
cat >"$T_TMP/kea.json" <<JSON
{"subnets": [{"uuid": "$S", "subnet": "192.168.20.0/24", "description": "iot"}],
 "reservations": [
  {"uuid": "f0000002-0000-4000-8000-000000000002", "subnet": "$S", "ip_address": "192.168.20.32", "hw_address": "0000.0000.0002", "hostname": "hall", "description": "by hand"},
  {"uuid": "f0000003-0000-4000-8000-000000000003", "subnet": "$S", "ip_address": "192.168.20.99", "hw_address": "0000.0000.0003", "hostname": "porch", "description": "by hand"},
  {"uuid": "f0000004-0000-4000-8000-000000000004", "subnet": "$S", "ip_address": "192.168.20.34", "hw_address": "00-00-00-00-00-0A", "hostname": "attic", "description": "by hand"}],
 "aliases": []}
JSON
DB=$T_TMP/db
op_db "$DB" "000000000002|Hall|192.168.20.32" "000000000003|Porch|192.168.20.33" "00000000000a|Attic|192.168.20.34"
op_fake k "$T_TMP/kea.json"
op_conf k "$T_TMP/c"
op_run "$T_TMP/o" "$T_TMP/c" "$DB"
n=$(op_get k /__fake/state | jq '.reservations | length')
[ "$n" = 3 ] && grep -q "^unchanged .* Hall .*already reserved by record f0000002" "$T_TMP/o" &&
	grep -q "^conflict .* Porch .*MAC is reserved at 192.168.20.99" "$T_TMP/o" &&
	grep -q "^unchanged .* Attic .*already reserved by record f0000004" "$T_TMP/o" &&
	pass "$N: dotted and hyphenated MACs are the device's: no second reservation, a conflict at another address" ||
	fail "$N" "rc=$OP_RC reservations=$n $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 1500)"
exit $T_FAILED
