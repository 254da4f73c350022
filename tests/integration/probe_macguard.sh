# Credentials are sent only to the device whose MAC they belong to. Devices A (Gen2, digest) and
# A1 (Gen1, basic) are added with their passwords; then the registry is edited (sqlite3) so that
# A's address is that of another Gen2 device B and A1's that of another Gen1 device B1, as when
# a DHCP lease moves. --poll-once must stop at B's /shelly (wrong MAC): B's counters show that
# only /shelly was requested and no authentication was attempted, and A is in state error with
# a MAC mismatch message (--list --json). With the right address again A is back online.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=probe_macguard
command -v sqlite3 >/dev/null 2>&1 || { skip "$N" "needs sqlite3"; exit 0; }
if ! sim_start $N --models gen2/plus-1pm,gen2/plus-1pm,gen1/shelly-plug-s,gen1/shelly-plug-s --count 4 --auth all; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
unset SHELLY_TUI_PASSWORD
A=0 B=1 A1=2 B1=3
[ "$(dv $A GEN)$(dv $B GEN)$(dv $A1 GEN)$(dv $B1 GEN)" = 2211 ] && [ "$(dv $A PW)" != "$(dv $B PW)" ] &&
	[ "$(dv $A1 PW)" != "$(dv $B1 PW)" ] || { fail "$N: fleet layout" "$(mf '.devices' | jq -c .)"; exit 1; }
DB=$T_TMP/db
lc() { echo "$1" | tr A-F a-f; }

secret_file "$T_TMP/pwA" "$(dv $A PW)"
"$SHELLY_TUI" --db "$DB" --add "$(dv $A HP)" --password-file "$T_TMP/pwA" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
SHELLY_TUI_PASSWORD=$(dv $A1 PW) "$SHELLY_TUI" --db "$DB" --add "$(dv $A1 HP)" </dev/null >>"$T_TMP/o" 2>>"$T_TMP/e"; rc1=$?
[ $rc -eq 0 ] && [ $rc1 -eq 0 ] && [ "$(grep -c 'with credentials' "$T_TMP/o")" = 2 ] &&
	pass "$N: --add of A (gen2, --password-file) and A1 (gen1, SHELLY_TUI_PASSWORD) with credentials" ||
	fail "$N: --add with credentials" "rc=$rc/$rc1 $(cat "$T_TMP/o" "$T_TMP/e")"
[ "$(stat -c %a "$DB")" = 600 ] && pass "$N: the database file is 0600" || fail "$N: database mode" "$(stat -c %a "$DB")"

# list_state MAC: "state|error" of MAC from --list --json.
list_state() {
	"$SHELLY_TUI" --db "$DB" --list --json 2>/dev/null |
		jq -r --arg m "$(lc "$1")" '.devices[] | select(.mac == $m) | "\(.state)|\(.error // "")"'
}

"$SHELLY_TUI" --db "$DB" --poll-once >/dev/null 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(list_state "$(dv $A MAC)")" = "online|" ] && [ "$(list_state "$(dv $A1 MAC)")" = "online|" ] &&
	pass "$N: --poll-once at the right addresses: A and A1 online (credentials work)" ||
	fail "$N: baseline poll" "rc=$rc A=$(list_state "$(dv $A MAC)") A1=$(list_state "$(dv $A1 MAC)") $(cat "$T_TMP/e")"

# Point A at B and A1 at B1.
sqlite3 "$DB" "UPDATE devices SET host='$(dv $B ADDR)', port=$(dv $B PORT) WHERE mac='$(lc "$(dv $A MAC)")';
	UPDATE devices SET host='$(dv $B1 ADDR)', port=$(dv $B1 PORT) WHERE mac='$(lc "$(dv $A1 MAC)")';"
[ "$(sqlite3 "$DB" "SELECT count(*) FROM devices WHERE (mac='$(lc "$(dv $A MAC)")' AND host='$(dv $B ADDR)') OR (mac='$(lc "$(dv $A1 MAC)")' AND host='$(dv $B1 ADDR)')")" = 2 ] ||
	fail "$N: registry edit" "$(sqlite3 "$DB" 'SELECT mac, host, port FROM devices')"
ctl POST /reset-counters >/dev/null
"$SHELLY_TUI" --db "$DB" --poll-once >/dev/null 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && pass "$N: --poll-once with the moved addresses exits 0" || fail "$N: poll with moved addresses" "rc=$rc $(cat "$T_TMP/e")"

for pair in "$A $B" "$A1 $B1"; do
	set -- $pair
	a=$1 b=$2 g=$(dv $1 GEN)
	c=$(dev_state $b '.counters | "\(.by_path | keys | join(",")) \(.auth_challenges) \(.auth_failures)"')
	[ "$c" = "/shelly 0 0" ] && pass "$N: gen$g: B saw GET /shelly only, no auth challenge, no auth failure" ||
		fail "$N: gen$g: credentials or requests reached B" "paths challenges failures: $c"
	s=$(list_state "$(dv $a MAC)")
	case $s in
	"error|"*"MAC mismatch"*"$(lc "$(dv $b MAC)")"*"credentials not sent"*)
		pass "$N: gen$g: A is in state error: ${s#error|}" ;;
	*) fail "$N: gen$g: A's state after the MAC mismatch" "$s" ;;
	esac
	[ "$(dev_state $a .counters.requests)" = 0 ] && pass "$N: gen$g: A itself was not contacted" ||
		fail "$N: gen$g: A contacted" "$(dev_state $a .counters | jq -c .)"
done
"$SHELLY_TUI" --db "$DB" --list >"$T_TMP/o" 2>&1
grep -qE "^$(lc "$(dv $A MAC)") .* $(dv $B ADDR)(:[0-9]+)? +error " "$T_TMP/o" && pass "$N: readable --list shows A at B's address in state error" ||
	fail "$N: readable --list" "$(cat "$T_TMP/o")"

# Back at the right addresses: online again.
sqlite3 "$DB" "UPDATE devices SET host='$(dv $A ADDR)', port=$(dv $A PORT) WHERE mac='$(lc "$(dv $A MAC)")';
	UPDATE devices SET host='$(dv $A1 ADDR)', port=$(dv $A1 PORT) WHERE mac='$(lc "$(dv $A1 MAC)")';"
"$SHELLY_TUI" --db "$DB" --poll-once >/dev/null 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(list_state "$(dv $A MAC)")" = "online|" ] && [ "$(list_state "$(dv $A1 MAC)")" = "online|" ] &&
	pass "$N: back at their addresses, A and A1 are online again" ||
	fail "$N: back online" "A=$(list_state "$(dv $A MAC)") A1=$(list_state "$(dv $A1 MAC)")"
exit 0
