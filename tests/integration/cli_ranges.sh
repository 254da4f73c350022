#!/bin/sh
# A numeric option out of its range is a usage error (exit 2) whose message names the range
# the option takes, inclusive ends as "from LO to HI", an excluded lower end as "more than LO
# and at most HI" (--timeout 0 was refused as not "between 0 and 3600", and 601 to 3600 were
# taken, then refused by request-timeout), and that range holds: its ends are taken.
. tests/lib.sh

N=cli_ranges
# expect WHAT EXIT MESSAGE CMD...: CMD exits EXIT and its stderr holds MESSAGE (fixed string).
expect() {
	_w=$1 _x=$2 _m=$3; shift 3
	"$@" >"$T_TMP/o" 2>"$T_TMP/e"; _rc=$?
	if [ "$_rc" = "$_x" ] && grep -qF -e "$_m" "$T_TMP/e"; then pass "$N: $_w"
	else fail "$N: $_w" "rc=$_rc $(head -c 300 "$T_TMP/e")"; fi
}
T=$SHELLY_TUI
P=${SHELLY_PROVISIONER:-$(dirname "$SHELLY_TUI")/shelly-provisioner}
export XDG_CONFIG_HOME="$T_TMP/cfg" XDG_DATA_HOME="$T_TMP/data"
DB=$T_TMP/r.db

expect "--timeout 0" 2 "--timeout wants seconds from 0.001 to 600, not '0'" \
	"$T" --probe 127.0.0.1 --timeout 0
expect "--timeout 601" 2 "--timeout wants seconds from 0.001 to 600, not '601'" \
	"$T" --probe 127.0.0.1 --timeout 601
expect "--timeout -1" 2 "from 0.001 to 600, not '-1'" "$T" --probe 127.0.0.1 --timeout -1
expect "--port 0" 2 "--port wants a whole number from 1 to 65535, not '0'" "$T" --discover --port 0
expect "--port 65536" 2 "--port wants a whole number from 1 to 65535, not '65536'" "$T" --discover --port 65536
expect "--attempts 0" 2 "--attempts wants a whole number from 1 to 100, not '0'" \
	"$T" --db "$DB" --provision AABBCCDDEEFF --network net --attempts 0
expect "--attempts 101" 2 "--attempts wants a whole number from 1 to 100, not '101'" \
	"$T" --db "$DB" --provision AABBCCDDEEFF --network net --attempts 101
expect "--channel 256" 2 "--channel wants a whole number from 0 to 255, not '256'" \
	"$T" --db "$DB" --action switch_on --channel 256 127.0.0.1
# A hostile value is printed without its control characters.
expect "--timeout with an escape sequence" 2 "not 'x'" "$T" --probe 127.0.0.1 --timeout "$(printf '\033[31mx')"
if grep -q "$(printf '\033')" "$T_TMP/e"; then fail "$N: the escape reaches the terminal"; else pass "$N: no ESC in the message"; fi
expect "provisioner --poll 0" 2 "--poll wants seconds from 0.001 to 3600, not '0'" \
	"$P" --manager http://127.0.0.1:9 --poll 0
expect "provisioner --verify-wait 86401" 2 "--verify-wait wants seconds from 0.001 to 86400, not '86401'" \
	"$P" --manager http://127.0.0.1:9 --verify-wait 86401
expect "provisioner --timeout 601" 2 "--timeout wants seconds from 0.001 to 600, not '601'" \
	"$P" --manager http://127.0.0.1:9 --timeout 601

# The ends are in range: the queued task keeps --attempts 100; --port 65535 and --timeout
# 600 are no usage error.
"$T" --db "$DB" --provision AABBCCDDEEFF --network net --attempts 100 >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc = 0 ] && "$T" --db "$DB" --tasks --json | grep -q '"max_attempts":[[:space:]]*100' &&
	pass "$N: --attempts 100 is taken" || fail "$N: --attempts 100" "rc=$rc $(cat "$T_TMP/e") $("$T" --db "$DB" --tasks --json | head -c 300)"
SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 "$T" --db "$DB" --discover --scan-only --port 65535 --timeout 600 \
	"$(test_net $N).1" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc != 2 ] && ! grep -q wants "$T_TMP/e" && pass "$N: --port 65535 --timeout 600 are taken (exit $rc)" ||
	fail "$N: the upper ends" "rc=$rc $(cat "$T_TMP/e")"
exit 0
