# --discover scanning against the sim on this test's own 127.x.y.0/24: a /24 with live devices
# test: serial
# (Gen1..Gen4, one with auth, one HTTPS-only), silent, closed, no-answer, reset and malformed
# addresses; every target syntax; overlapping targets probed once; the guard refusing a target
# outside 127/8 before any packet; a /15 without --force; IPv6; nothing to scan.
. tests/lib.sh
. tests/sim/simlib.sh

N=discover_scan
# mDNS must never reach the host's D-Bus: point the client at a bus that does not exist.
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T_TMP/no-such-bus"
# Round-robin models: index 0 g1, 1 g2, 2 g3, 3 g4, 4 g1, 5 g2, 6 g3, 7 g4, 8 g1, 9 g2.
MODELS=gen1/shelly-1,gen2/plus-1pm,gen3/1pm-gen3,gen4/1-gen4
sim_up $N --fixtures tests/fixtures --models "$MODELS" --count 10 --auth 1 --tls 2 \
	--tls-dir "$T_TMP" --fault 3:silent,4:closed,5:noanswer,7:reset,8:malformed
: >"$T_TMP/config"
echo 'set scan-concurrency 32' >>"$T_TMP/config" # a loaded CI machine with the ASan tree
DB=$T_TMP/db
tui() { "$SHELLY_TUI" --db "$DB" --config "$T_TMP/config" "$@"; }
mac() { mf ".devices[$1].mac" | tr 'A-F' 'a-f'; }
# The devices that answer: 0 (Gen1), 1 (Gen2, auth), 2 (Gen3, HTTPS only), 6 (Gen3), 9 (Gen2).
LIVE=$(for i in 0 1 2 6 9; do mac $i; done | sort | tr '\n' ' ')

# --- a /24: live, silent, closed, no-answer, reset, malformed, and 244 empty addresses ---
t0=$(now_ms)
tui --discover --scan-only "$SIM_NET.0/24" --port "$SIM_PORT" --timeout 3 --json \
	>"$T_TMP/scan.json" 2>"$T_TMP/scan.err"
rc=$? ms=$(( $(now_ms) - t0 ))
[ $rc -eq 0 ] && pass "$N: /24 exit 0" || fail "$N: /24 exit" "rc=$rc $(head -c 400 "$T_TMP/scan.err")"
got=$(jq -r '.devices[].mac' "$T_TMP/scan.json" | sort | tr '\n' ' ')
[ "$got" = "$LIVE" ] && pass "$N: /24 finds exactly the live devices" || fail "$N: /24 devices" "got '$got' want '$LIVE'"
# 254 addresses: 5 Shelly, 2 without an answer (silent, noanswer), 2 other (reset, not JSON),
# 245 refused (244 empty addresses and the closed device).
s=$(jq -c '.summary | [.scan_addresses, .scan_done, .scan_found, .scan_no_answer, .scan_other, .scan_refused, .devices, .new]' "$T_TMP/scan.json")
[ "$s" = "[254,254,5,2,2,245,5,5]" ] && pass "$N: /24 outcome counts" || fail "$N: /24 counts" "$s"
# How fast a /24 finishes is measured by make bench (tests/bench/scan.sh), not here: a timed
# assertion would only measure how loaded the machine is.
j=$(jq -c --arg m "$(mac 1)" '.devices[] | select(.mac == $m) | [.state, .gen, .host, .port, .scheme, .discovered_via, .new]' "$T_TMP/scan.json")
[ "$j" = "[\"auth_required\",2,\"$SIM_NET.2\",$SIM_PORT,\"http\",\"scan\",true]" ] &&
	pass "$N: auth device reported auth_required" || fail "$N: auth device" "$j"
j=$(jq -c --arg m "$(mac 2)" '.devices[] | select(.mac == $m) | [.state, .gen, .host, .port, .scheme, .id]' "$T_TMP/scan.json")
[ "$j" = "[\"online\",3,\"$SIM_NET.3\",$SIM_PORT,\"https\",\"$(mf '.devices[2].id')\"]" ] &&
	pass "$N: HTTPS-only device found over https" || fail "$N: https device" "$j"
j=$(jq -c --arg m "$(mac 0)" '.devices[] | select(.mac == $m) | [.state, .gen, .model, .id]' "$T_TMP/scan.json")
[ "$j" = "[\"online\",1,\"SHSW-1\",\"shelly1-$(mf '.devices[0].mac')\"]" ] &&
	pass "$N: Gen1 id derived from /shelly" || fail "$N: gen1 id" "$j"
[ "$(jq -r '.devices | map(.host) | join(" ")' "$T_TMP/scan.json")" = "$SIM_NET.1 $SIM_NET.2 $SIM_NET.3 $SIM_NET.7 $SIM_NET.10" ] &&
	pass "$N: devices listed by address" || fail "$N: order" "$(jq -c '[.devices[].host]' "$T_TMP/scan.json")"

# The registry holds them: auth state, https scheme, discovered_via.
tui --list --json >"$T_TMP/list.json" 2>&1
[ "$(jq -r '.devices[].mac' "$T_TMP/list.json" | sort | tr '\n' ' ')" = "$LIVE" ] &&
	pass "$N: stored in the registry" || fail "$N: registry" "$(head -c 400 "$T_TMP/list.json")"
[ "$(jq -r --arg m "$(mac 1)" '.devices[] | select(.mac == $m) | .state' "$T_TMP/list.json")" = auth_required ] &&
	pass "$N: auth device stored as auth_required" || fail "$N: auth stored" "$(jq -c '.devices' "$T_TMP/list.json" | head -c 300)"
[ "$(jq -r --arg m "$(mac 2)" '.devices[] | select(.mac == $m) | .scheme' "$T_TMP/list.json")" = https ] &&
	pass "$N: https scheme stored" || fail "$N: https stored"
if command -v sqlite3 >/dev/null 2>&1; then
	r=$(sqlite3 "$DB" "select discovered_via, length(tls_pin), first_seen = last_seen from devices where mac = '$(mac 2)'")
	[ "$r" = "scan|95|1" ] && pass "$N: pin of first contact stored" || fail "$N: pin" "$r"
else
	skip "$N: pin of first contact stored" "needs sqlite3"
fi

# Table output and -v progress (stderr is not a tty: one line per second at most, and a last one).
tui --discover --scan-only "$SIM_NET.0/24" --port "$SIM_PORT" --timeout 3 -v >"$T_TMP/t.out" 2>"$T_TMP/t.err"
rc=$?
grep -q "^$(mac 1) .* $SIM_NET.2:$SIM_PORT  *scan  *auth_required  *known$" "$T_TMP/t.out" &&
	grep -q "^$(mac 2) .* https://$SIM_NET.3:$SIM_PORT  *scan  *online  *known$" "$T_TMP/t.out" &&
	grep -q '^5 devices found: 0 new, 5 known, 0 moved, 1 need credentials$' "$T_TMP/t.out" &&
	grep -q '^scanned 254 of 254 addresses in [0-9.]* s: 5 Shelly, 2 no answer, 245 refused, 2 other$' "$T_TMP/t.out" &&
	[ $rc -eq 0 ] && pass "$N: table" || fail "$N: table" "rc=$rc $(cat "$T_TMP/t.out")"
tail -n 1 "$T_TMP/t.err" | grep -q '^scan: 254/254 addresses, 5 found$' &&
	grep -q "^found shellyplus1pm-$(mac 1) (SNSW-001P16EU, gen 2, mac $(mac 1)) at $SIM_NET.2:$SIM_PORT$" "$T_TMP/t.err" &&
	pass "$N: -v progress and found lines" || fail "$N: progress" "$(tail -c 400 "$T_TMP/t.err")"

# --- target syntaxes ---
# check_targets NAME WANT_ADDRESSES WANT_INDEXES TARGET...
check_targets() {
	_n=$1 _a=$2 _i=$3; shift 3
	tui --discover --scan-only --port "$SIM_PORT" --timeout 3 --json "$@" >"$T_TMP/r.json" 2>"$T_TMP/r.err"
	_rc=$?
	_want=$(for i in $_i; do mac "$i"; done | sort | tr '\n' ' ')
	_got=$(jq -r '.devices[].mac' "$T_TMP/r.json" 2>/dev/null | sort | tr '\n' ' ')
	_cnt=$(jq -r '.summary.scan_addresses' "$T_TMP/r.json" 2>/dev/null)
	if [ $_rc -eq 0 ] && [ "$_got" = "$_want" ] && [ "$_cnt" = "$_a" ]; then
		pass "$N: targets $_n"
	else
		fail "$N: targets $_n" "rc=$_rc addresses=$_cnt got '$_got' want '$_want' $(head -c 300 "$T_TMP/r.err")"
	fi
}
check_targets "single address" 1 "0" "$SIM_NET.1"
check_targets "short range a.b.c.d-e" 3 "0 1 2" "$SIM_NET.1-3"
check_targets "full range" 3 "0 1 2" "$SIM_NET.1-$SIM_NET.3"
check_targets "CIDR /30 skips network and broadcast" 2 "0 1" "$SIM_NET.0/30"
check_targets "CIDR /31 keeps both" 2 "1 2" "$SIM_NET.2/31"
check_targets "comma list" 4 "1 9" "$SIM_NET.8-10,$SIM_NET.2"
check_targets "several targets" 3 "0 6 9" "$SIM_NET.1" "$SIM_NET.7" "$SIM_NET.10"
check_targets "overlaps probed once" 254 "0 1 2 6 9" "$SIM_NET.0/24" "$SIM_NET.1-3" "$SIM_NET.7"

# Found again and again: still one row per device.
[ "$(tui --list --json | jq '.devices | length')" = 5 ] && pass "$N: found many times, stored once" ||
	fail "$N: duplicates" "$(tui --list --json | jq -c '[.devices[].host]')"

# --- refusals ---
# Outside SHELLY_TUI_ALLOW_NETS (127.0.0.0/8): refused before anything is opened or sent. The run
# naming 10.0.0.0/30 happens inside an empty network namespace, so nothing could leave even if
# the guard failed; strace shows it does not even try.
rm -f "$T_TMP/guard.db"
rc=none
if ! empty_ns_detect; then
	skip "$N: guard refusal of 10.0.0.0/30" "no empty network namespace here (not root, no user namespaces)"
elif command -v strace >/dev/null 2>&1 && strace -f -o /dev/null true 2>/dev/null; then
	$EMPTY_NS strace -f -e trace=connect,sendto,sendmsg,sendmmsg -o "$T_TMP/strace.log" \
		env ASAN_OPTIONS=detect_leaks=0 "$SHELLY_TUI" --db "$T_TMP/guard.db" --config "$T_TMP/config" --discover 10.0.0.0/30 \
		>"$T_TMP/g.out" 2>"$T_TMP/g.err"
	rc=$?
	if grep -E 'connect\(|sendto\(|sendmsg\(|sendmmsg\(' "$T_TMP/strace.log" | grep -q .; then
		fail "$N: guard sends nothing" "$(grep -E 'connect|send' "$T_TMP/strace.log" | head -n 3)"
	else
		pass "$N: guard refusal sends nothing (strace: no connect/send)"
	fi
else
	$EMPTY_NS "$SHELLY_TUI" --db "$T_TMP/guard.db" --config "$T_TMP/config" --discover 10.0.0.0/30 \
		>"$T_TMP/g.out" 2>"$T_TMP/g.err"
	rc=$?
	skip "$N: guard sends nothing" "needs strace"
fi
[ "$rc" = none ] || { [ $rc -eq 1 ] && [ ! -e "$T_TMP/guard.db" ] && [ ! -s "$T_TMP/g.out" ] &&
	grep -q '^shelly-tui: --discover: target 10.0.0.0/30: refused: 10.0.0.1 is outside SHELLY_TUI_ALLOW_NETS (127.0.0.0/8); nothing was scanned$' "$T_TMP/g.err" &&
	pass "$N: target outside the guard refused (exit 1, no database opened)" ||
	fail "$N: guard" "rc=$rc $(cat "$T_TMP/g.err")"; }
# Partly outside is refused too.
tui --discover --scan-only "126.255.255.254-127.0.0.1" >/dev/null 2>"$T_TMP/g2.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'refused: 126.255.255.254 is outside' "$T_TMP/g2.err" &&
	pass "$N: target partly outside refused" || fail "$N: partly outside" "rc=$rc $(cat "$T_TMP/g2.err")"

# Larger than a /16 without --force: usage error, nothing scanned.
rm -f "$T_TMP/big.db"
"$SHELLY_TUI" --db "$T_TMP/big.db" --config "$T_TMP/config" --discover --scan-only "$SIM_NET.0/15" \
	>/dev/null 2>"$T_TMP/big.err"
rc=$?
net15=$(echo "$SIM_NET" | awk -F. '{ printf "%d.%d.0.0/15", $1, $2 - $2 % 2 }')
[ $rc -eq 2 ] && [ ! -e "$T_TMP/big.db" ] &&
	grep -q "^shelly-tui: --discover: target $SIM_NET.0/15 covers 131070 addresses, more than a /16 (65536); add --force to scan it$" "$T_TMP/big.err" &&
	pass "$N: /15 without --force refused ($net15)" || fail "$N: /15" "rc=$rc $(cat "$T_TMP/big.err")"
tui --discover --scan-only "$SIM_NET.0/16" "$(echo "$SIM_NET" | awk -F. '{ printf "%d.%d.0.0/16", $1, ($2 + 1) % 256 }')" \
	>/dev/null 2>"$T_TMP/big2.err"
rc=$?
[ $rc -eq 2 ] && grep -q 'the targets cover 131068 addresses together, more than a /16' "$T_TMP/big2.err" &&
	pass "$N: two /16 together refused" || fail "$N: two /16" "rc=$rc $(cat "$T_TMP/big2.err")"

tui --discover ::1 >/dev/null 2>"$T_TMP/v6.err"
rc=$?
[ $rc -eq 2 ] && grep -q 'IPv6 targets are not supported: "::1"' "$T_TMP/v6.err" &&
	pass "$N: IPv6 target refused" || fail "$N: ipv6" "rc=$rc $(cat "$T_TMP/v6.err")"
tui --discover "$SIM_NET.9-2" >/dev/null 2>"$T_TMP/bad.err"
rc=$?
[ $rc -eq 2 ] && grep -q 'invalid range: the end is before the start' "$T_TMP/bad.err" &&
	pass "$N: bad range is a usage error" || fail "$N: bad range" "rc=$rc $(cat "$T_TMP/bad.err")"
tui --discover --mdns-only "$SIM_NET.1" >/dev/null 2>"$T_TMP/mo.err"
rc=$?
[ $rc -eq 2 ] && grep -q -- '--mdns-only takes no TARGET' "$T_TMP/mo.err" &&
	pass "$N: --mdns-only with a TARGET is a usage error" || fail "$N: mdns-only target" "rc=$rc"
tui --discover --mdns-only --scan-only >/dev/null 2>&1
[ $? -eq 2 ] && pass "$N: --mdns-only with --scan-only is a usage error" || fail "$N: both only"

# --- default ports (80, then HTTPS on 443 when 80 is refused): needs root for the ports ---
# In a network namespace of its own (loopback only): ports 80 and 443 are fixed, and a second
# copy of the suite beside this one uses the same addresses from test_net.
if is_root && unshare --net true 2>/dev/null; then
	mkdir -p "$T_TMP/tls80"
	cat >"$T_TMP/p80.sh" <<'NS'
ip link set lo up || exit 3
# Signals the simulator only while it is this shell's child (its PID is not reused then).
stop_sim() {
	[ "$(sed 's/.*) //' "/proc/$sim/stat" 2>/dev/null | cut -d' ' -f2)" = "$$" ] && kill "$sim"
	wait "$sim" 2>/dev/null
}
"$SHELLY_SIM" --fixtures tests/fixtures --base "$SIM_NET.101" --count 2 \
	--models gen1/shelly-1,gen3/1pm-gen3 --tls 1 --tls-dir "$T_TMP/tls80" \
	--manifest "$T_TMP/m80.json" 2>"$T_TMP/sim80.err" &
sim=$!
i=0
while [ ! -s "$T_TMP/m80.json" ] && [ $i -lt 200 ] && kill -0 $sim 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if [ ! -s "$T_TMP/m80.json" ]; then
	stop_sim
	exit 4
fi
"$SHELLY_TUI" --db "$DB" --config "$T_TMP/config" --discover --scan-only "$SIM_NET.101-103" \
	--timeout 3 --json >"$T_TMP/p80.json" 2>"$T_TMP/p80.err"
rc=$?
stop_sim
exit $rc
NS
	SHELLY_SIM=$SHELLY_SIM SHELLY_TUI=$SHELLY_TUI T_TMP=$T_TMP SIM_NET=$SIM_NET DB=$DB \
		timeout 120 unshare --net sh "$T_TMP/p80.sh"
	rc=$?
	if [ $rc -eq 4 ] || [ $rc -eq 3 ]; then
		fail "$N: default ports" "the sim did not start in its namespace (rc=$rc): $(head -c 200 "$T_TMP/sim80.err")"
	else
		j=$(jq -c '[[.devices[] | [.host, .port, .scheme]], .summary.scan_refused]' "$T_TMP/p80.json")
		[ $rc -eq 0 ] && [ "$j" = "[[[\"$SIM_NET.101\",80,\"http\"],[\"$SIM_NET.102\",443,\"https\"]],1]" ] &&
			pass "$N: default port 80, HTTPS-only device found on 443" ||
			fail "$N: default ports" "rc=$rc $j $(head -c 300 "$T_TMP/p80.err")"
	fi
else
	skip "$N: default port 80, HTTPS-only device found on 443" "needs root and a network namespace (ports 80 and 443)"
fi

# Nothing configured, --scan-only: nothing to scan (the host's own subnets are never scanned).
tui --discover --scan-only >"$T_TMP/n.out" 2>"$T_TMP/n.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'nothing to discover: no TARGET given, no discover-range configured' "$T_TMP/n.err" &&
	pass "$N: nothing to scan: exit 1" || fail "$N: nothing to scan" "rc=$rc $(cat "$T_TMP/n.err")"
exit 0
