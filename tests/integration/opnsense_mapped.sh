# A device registered by an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 device
# a.b.c.d: the OPNsense sync reserves a.b.c.d and puts it (not the IPv6 literal) in the alias,
# the DHCP export lists it at a.b.c.d, and a second sync changes nothing.
. tests/lib.sh
. tests/integration/lib_opnsense.sh

N=opnsense_mapped
op_init $N
op_kea_empty "$T_TMP/kea.json"
DB=$T_TMP/db
op_db "$DB" "000000000034|Mapped|::ffff:192.168.20.34"
op_fake k "$T_TMP/kea.json"
op_conf k "$T_TMP/c"
op_run "$T_TMP/o" "$T_TMP/c" "$DB"
st=$(op_get k /__fake/state)
res=$(printf '%s' "$st" | jq -r '.reservations[] | "\(.hw_address) \(.ip_address) \(.hostname)"')
alias=$(printf '%s' "$st" | jq -r '.aliases[0].content')
[ $OP_RC -eq 0 ] && [ "$res" = "00:00:00:00:00:34 192.168.20.34 mapped" ] && [ "$alias" = 192.168.20.34 ] &&
	pass "$N: ::ffff:192.168.20.34 is reserved and in the alias as 192.168.20.34" ||
	fail "$N: sync" "rc=$OP_RC res=$res alias=$alias $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 1200)"
w=$(op_count k .writes)
op_run "$T_TMP/o" "$T_TMP/c" "$DB"
[ $OP_RC -eq 0 ] && [ "$(op_count k .writes)" = "$w" ] &&
	pass "$N: a second sync changes nothing" || fail "$N: second sync" "$(head -c 800 "$T_TMP/o")"
"$SHELLY_TUI" --db "$DB" --export dnsmasq >"$T_TMP/d" 2>"$T_TMP/d.err" &&
	grep -qx "dhcp-host=00:00:00:00:00:34,192.168.20.34,mapped" "$T_TMP/d" &&
	pass "$N: --export dnsmasq lists it at 192.168.20.34" || fail "$N: export" "$(cat "$T_TMP/d" "$T_TMP/d.err")"
exit $T_FAILED
