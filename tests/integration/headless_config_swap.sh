# Queued static-address changes that move devices around: a change that gives device a the
# address device b is at now waits while b's own queued change moves b to a free address, and is
# applied once b has moved (b offline at first, so a is seen first); a swap (c and d each queued
# to the other's address) needs a temporary address and is refused with that reason, nothing
# sent to either.
. tests/lib.sh
. tests/sim/simlib.sh
. tests/integration/lib_headless.sh

N=headless_config_swap
sim_up $N --models gen2/plus-1pm,gen2/plus-1pm,gen2/plus-1pm,gen2/plus-1pm --count 4
DB="$T_TMP/s.db"
hl_add "$DB" 0 --name a && hl_add "$DB" 1 --name b && hl_add "$DB" 2 --name c &&
	hl_add "$DB" 3 --name d || { fail "$N: --add" "$(cat "$T_TMP/add.err")"; exit 1; }
addr() { mf ".devices[$1].addr"; }
host_of() { sq "$DB" "select host from devices where mac = '$(mac_of "$1")'"; }
row() { sq "$DB" "select state || ': ' || coalesce(result, '') from config_pending where mac = '$(mac_of "$1")'"; }
A0=$(addr 0) B0=$(addr 1) C0=$(addr 2) D0=$(addr 3) FREE=$SIM_NET.77
now=$(($(date +%s) * 1000))
queue() { sq "$DB" "INSERT INTO config_pending (mac, ts, body, flags) VALUES ('$(mac_of "$1")', $now, 'wifi.sta.ipv4mode = static
wifi.sta.ip = $2
wifi.sta.netmask = 255.255.255.0', 2)" || fail "$N: queue for $1"; }
queue 0 "$B0"
queue 1 "$FREE"
queue 2 "$D0"
queue 3 "$C0"
ctl POST /devices/1/fault '{"fault":"closed"}' >/dev/null

hl_config "$T_TMP/conf" "set request-timeout 15s" "set connect-timeout 5s" "set readdress-timeout 30s"
hl_start q "$DB" "$T_TMP/conf" || { fail "$N: headless start" "$(cat "$(hl_err q)")"; exit 1; }
# c and d end (refused) while b is offline; a must still be queued then.
wait_for 60 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"select count(*) from config_pending where state = 'failed'\" 2>/dev/null)\" = 2 ]" ||
	fail "$N: the swap ends" "$(sq "$DB" 'select mac, state, result from config_pending') $(tail -5 "$(hl_err q)")"
wait_for 30 grep -q "$(mac_of 0): waits: wifi.sta.ip: $B0 is the current address of another registered device (b)" "$(hl_err q)" &&
	[ "$(row 0)" = "queued: " ] && [ "$(host_of 0)" = "$A0" ] &&
	pass "$N: a change onto the address of a device queued to move off it waits" ||
	fail "$N: a waits" "$(row 0) $(grep config "$(hl_err q)" | tail -5)"
ctl POST /devices/1/fault '{"fault":"none"}' >/dev/null
wait_for 90 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"select count(*) from config_pending where state = 'queued'\" 2>/dev/null)\" = 0 ]" ||
	fail "$N: the queue ends" "$(sq "$DB" 'select mac, state, result from config_pending') $(tail -5 "$(hl_err q)")"
hl_stop q
case "$(row 1)" in applied:*) b_ok=1 ;; *) b_ok=0 ;; esac
case "$(row 0)" in applied:*) a_ok=1 ;; *) a_ok=0 ;; esac
[ $b_ok = 1 ] && [ $a_ok = 1 ] && [ "$(host_of 1)" = "$FREE" ] && [ "$(host_of 0)" = "$B0" ] &&
	[ "$(addr 1)" = "$FREE" ] && [ "$(addr 0)" = "$B0" ] &&
	pass "$N: b moves off first, then a takes its address" ||
	fail "$N: the chain" "a=$(row 0) b=$(row 1) hosts $(host_of 0) $(host_of 1) sim $(addr 0) $(addr 1)"
case "$(row 2)$(row 3)" in
*"temporary address"*)
	case "$(row 2)|$(row 3)" in
	failed:*"|failed:"*)
		[ "$(addr 2)" = "$C0" ] && [ "$(addr 3)" = "$D0" ] && [ "$(host_of 2)" = "$C0" ] &&
			pass "$N: a swap is refused (it needs a temporary address), nothing sent" ||
			fail "$N: swap moved something" "$(addr 2) $(addr 3)" ;;
	*) fail "$N: swap rows" "$(row 2) | $(row 3)" ;;
	esac ;;
*) fail "$N: swap reason" "$(row 2) | $(row 3)" ;;
esac
sim_stop
exit $T_FAILED
