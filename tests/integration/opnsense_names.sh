# Host names two devices share, in the OPNsense sync and the exports (one rule, util/hostname):
# a device synced as "kitchen" keeps the name when a second "Kitchen" (a lower MAC, registered
# later) arrives; the newcomer gets the MAC suffix; --export hosts and --export dnsmasq give
# each device the same name as the sync; a second sync changes nothing.
. tests/lib.sh
. tests/integration/lib_opnsense.sh

N=opnsense_names
op_init $N
op_kea_empty "$T_TMP/kea.json"
DB=$T_TMP/db
op_db "$DB" "000000000005|Kitchen|192.168.20.35"
sqlite3 "$DB" "UPDATE devices SET first_seen = 1000 WHERE mac = '000000000005'"
op_fake k "$T_TMP/kea.json"
op_conf k "$T_TMP/c"
op_run "$T_TMP/o" "$T_TMP/c" "$DB"
[ $OP_RC -eq 0 ] && grep -q "^added .* kitchen  192.168.20.35" "$T_TMP/o" ||
	fail "$N: first sync" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 1200)"

op_db "$DB" "000000000001|Kitchen|192.168.20.31"
sqlite3 "$DB" "UPDATE devices SET first_seen = 2000 WHERE mac = '000000000001'"
op_run "$T_TMP/o" "$T_TMP/c" "$DB"
names=$(op_get k /__fake/state | jq -r '.reservations[] | "\(.ip_address) \(.hostname)"' | sort | tr '\n' ' ')
[ $OP_RC -eq 0 ] && [ "$names" = "192.168.20.31 kitchen-000001 192.168.20.35 kitchen " ] &&
	grep -q "^added .* kitchen-000001  192.168.20.31" "$T_TMP/o" &&
	grep -q "^unchanged .* kitchen  192.168.20.35" "$T_TMP/o" && ! grep -q "^updated .* 00:00:00:00:00:05" "$T_TMP/o" &&
	pass "$N: the device synced as kitchen keeps it; the newcomer (lower MAC) gets kitchen-000001" ||
	fail "$N: second device of one name" "rc=$OP_RC names=$names $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 1200)"

"$SHELLY_TUI" --db "$DB" --export hosts >"$T_TMP/hosts" 2>"$T_TMP/hosts.err" &&
	grep -Eq "^192\.168\.20\.35[[:space:]]+kitchen$" "$T_TMP/hosts" &&
	grep -Eq "^192\.168\.20\.31[[:space:]]+kitchen-000001$" "$T_TMP/hosts" &&
	"$SHELLY_TUI" --db "$DB" --export dnsmasq >"$T_TMP/dnsmasq" 2>>"$T_TMP/hosts.err" &&
	grep -q "00:00:00:00:00:05,192.168.20.35,kitchen" "$T_TMP/dnsmasq" &&
	grep -q "00:00:00:00:00:01,192.168.20.31,kitchen-000001" "$T_TMP/dnsmasq" &&
	pass "$N: --export hosts and dnsmasq give each device the name the sync gave it" ||
	fail "$N: exports agree with the sync" "$(cat "$T_TMP/hosts" "$T_TMP/dnsmasq" "$T_TMP/hosts.err" | head -c 1200)"

w=$(op_count k .writes)
op_run "$T_TMP/o" "$T_TMP/c" "$DB"
[ $OP_RC -eq 0 ] && [ "$(op_count k .writes)" = "$w" ] &&
	pass "$N: a second sync changes nothing" || fail "$N: second sync" "$(head -c 800 "$T_TMP/o")"
exit $T_FAILED
