# --opnsense-sync of a fleet of 120 devices against a fake OPNsense (Kea, 25.7 shape): the
# alias's content in getItem is longer than any single display field (120 addresses), and a
# second sync must still see it equal to the plan: it writes nothing and reconfigures nothing.
. tests/lib.sh
. tests/integration/lib_opnsense.sh

N=opnsense_fleet
op_init $N
op_kea_empty "$T_TMP/kea.json"
DB=$T_TMP/db
set --
i=100
while [ $i -le 219 ]; do
	set -- "$@" "000000000$i|Dev$i|192.168.20.$((i - 90))"
	i=$((i + 1))
done
op_db "$DB" "$@"
op_fake k "$T_TMP/kea.json" --shape 25.7
op_conf k "$T_TMP/c"

T="$N first"
op_run "$T_TMP/o" "$T_TMP/c" "$DB" --json
st=$(op_get k /__fake/state)
n=$(printf '%s' "$st" | jq -r '.aliases[] | select(.name == "shelly_devices") | .content | split("\n") | length')
[ $OP_RC -eq 0 ] && [ "$n" = 120 ] && [ "$(printf '%s' "$st" | jq '.reservations | length')" = 120 ] &&
	[ "$(op_count k .reconfigure.alias)" = 1 ] &&
	pass "$T: 120 reservations and an alias of 120 addresses written" ||
	fail "$T" "rc=$OP_RC n=$n $(head -c 800 "$T_TMP/o.err")"

T="$N second"
w=$(op_count k .writes)
op_run "$T_TMP/o" "$T_TMP/c" "$DB" --json
[ $OP_RC -eq 0 ] && [ "$(op_count k .writes)" = "$w" ] && [ "$(op_count k .alias_sets)" = 0 ] &&
	[ "$(op_count k .reconfigure.alias)" = 1 ] && [ "$(op_count k .reconfigure.kea)" = 1 ] &&
	[ "$(jq -r '.records[] | select(.kind == "alias") | .action' "$T_TMP/o")" = unchanged ] &&
	pass "$T: a second sync of 120 devices writes nothing, sets no alias, reconfigures nothing" ||
	fail "$T" "writes $w -> $(op_count k .writes) alias_sets $(op_count k .alias_sets) $(op_get k /__fake/counts | jq -c .reconfigure) $(jq -c '[.records[] | select(.kind == "alias")]' "$T_TMP/o" | head -c 600)"
exit $T_FAILED
