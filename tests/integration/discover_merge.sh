# --discover merging into the registry, against the sim on this test's own 127.x.y.0/24: new
# test: serial
# devices, a device moved to another address by the sim's control API (same MAC, new host, an
# ip_changed event, no duplicate), a device needing auth stored as such until credentials are
# given, configured discover-ranges, mDNS unavailable (warning, scan goes on), SIGINT. Then, as
# root, in a private network namespace with its own dbus-daemon and avahi-daemon (netns.sh): a
# device announced over mDNS and found by the scan too is one device, "mdns,scan".
. tests/lib.sh
. tests/sim/simlib.sh
. tests/integration/netns.sh

N=discover_merge
tui() { "$SHELLY_TUI" --db "$DB" --config "$T_TMP/config" "$@"; }
mac() { mf ".devices[$1].mac" | tr 'A-F' 'a-f'; }
sql() { sqlite3 "$DB" "$1"; }
have_sqlite=0
command -v sqlite3 >/dev/null 2>&1 && have_sqlite=1

if [ "${SHELLY_NETNS_INSIDE:-}" != 1 ]; then
# mDNS must never reach the host's D-Bus: point the client at a bus that does not exist.
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T_TMP/no-such-bus"
MODELS=gen1/shelly-1,gen2/plus-1pm,gen3/1pm-gen3,gen2/pro-1pm
PW=discover-merge-pw
if ! sim_start $N --fixtures tests/fixtures --models "$MODELS" --count 5 --auth 1 --password "$PW" \
	--fault 4:silent; then
	fail "$N: start" "$(cat "$SIM_ERR")"
	exit 1
fi
: >"$T_TMP/config"
echo 'set scan-concurrency 32' >>"$T_TMP/config" # a loaded CI machine with the ASan tree
DB=$T_TMP/db
scan() { tui --discover --scan-only "$SIM_NET.0/24" --port "$SIM_PORT" --timeout 3 --json "$@"; }

# --- first run: everything is new ---
scan >"$T_TMP/r1.json" 2>"$T_TMP/r1.err"
rc=$?
s=$(jq -c '.summary | [.devices, .new, .known, .ip_changed, .auth_required]' "$T_TMP/r1.json")
[ $rc -eq 0 ] && [ "$s" = "[4,4,0,0,1]" ] && pass "$N: first run: 4 new, 1 needs credentials" ||
	fail "$N: first run" "rc=$rc $s $(head -c 300 "$T_TMP/r1.err")"
[ "$(jq -r '[.devices[] | .new and .discovered_via == "scan" and .previous_host == null] | all' "$T_TMP/r1.json")" = true ] &&
	pass "$N: new devices flagged" || fail "$N: new flags" "$(jq -c '.devices' "$T_TMP/r1.json" | head -c 300)"
if [ $have_sqlite = 1 ]; then
	r=$(sql "select count(*), sum(first_seen = last_seen), min(discovered_via), max(discovered_via) from devices")
	[ "$r" = "4|4|scan|scan" ] && pass "$N: first_seen = last_seen for new devices" || fail "$N: first_seen" "$r"
	first0=$(sql "select first_seen from devices where mac = '$(mac 0)'")
	last0=$(sql "select last_seen from devices where mac = '$(mac 0)'")
fi

# --- a device changes its address ---
old=$(mf '.devices[0].addr')
ctl POST /devices/0/move >/dev/null
if wait_for 5 sh -c '[ "$(jq -r ".devices[0].addr" "$1")" != "$2" ]' sh "$SIM_MANIFEST" "$old"; then
	new=$(mf '.devices[0].addr')
	pass "$N: sim moved device 0 from $old to $new"
else
	fail "$N: sim move" "$(mf '.devices[0]')"
	new=$old
fi
scan >"$T_TMP/r2.json" 2>"$T_TMP/r2.err"
rc=$?
s=$(jq -c '.summary | [.devices, .new, .known, .ip_changed]' "$T_TMP/r2.json")
[ $rc -eq 0 ] && [ "$s" = "[4,0,4,1]" ] && pass "$N: second run: 4 known, 1 moved" || fail "$N: second run" "rc=$rc $s"
j=$(jq -c --arg m "$(mac 0)" '.devices[] | select(.mac == $m) | [.host, .port, .new, .previous_host, .previous_port]' "$T_TMP/r2.json")
[ "$j" = "[\"$new\",$SIM_PORT,false,\"$old\",$SIM_PORT]" ] && pass "$N: moved device reported with its old address" ||
	fail "$N: moved device" "$j"
tui --list --json >"$T_TMP/l2.json"
[ "$(jq '.devices | length' "$T_TMP/l2.json")" = 4 ] &&
	[ "$(jq -r --arg m "$(mac 0)" '[.devices[] | select(.mac == $m)] | length' "$T_TMP/l2.json")" = 1 ] &&
	[ "$(jq -r --arg m "$(mac 0)" '.devices[] | select(.mac == $m) | .host' "$T_TMP/l2.json")" = "$new" ] &&
	pass "$N: same MAC, new host, no duplicate" || fail "$N: registry after move" "$(jq -c '[.devices[] | [.mac, .host]]' "$T_TMP/l2.json")"
if [ $have_sqlite = 1 ]; then
	r=$(sql "select mac, kind, detail from events")
	[ "$r" = "$(mac 0)|ip_changed|$old:$SIM_PORT -> $new:$SIM_PORT" ] && pass "$N: ip_changed event old -> new" ||
		fail "$N: event" "$r"
	r=$(sql "select first_seen = $first0, last_seen > $last0 from devices where mac = '$(mac 0)'")
	[ "$r" = "1|1" ] && pass "$N: first_seen kept, last_seen moved" || fail "$N: seen times" "$r"
else
	skip "$N: ip_changed event old -> new" "needs sqlite3"
fi
# The moved device's table line.
tui --discover --scan-only "$new" --port "$SIM_PORT" --timeout 3 >"$T_TMP/t.out" 2>&1
grep -q "^$(mac 0) .* $new:$SIM_PORT  *scan  *online  *known$" "$T_TMP/t.out" && pass "$N: table after the move" ||
	fail "$N: table" "$(cat "$T_TMP/t.out")"

# --- seen again at the same place: nothing moves ---
scan >"$T_TMP/r3.json" 2>&1
[ "$(jq -c '.summary | [.devices, .new, .ip_changed]' "$T_TMP/r3.json")" = "[4,0,0]" ] &&
	pass "$N: third run: no change" || fail "$N: third run" "$(jq -c .summary "$T_TMP/r3.json")"
if [ $have_sqlite = 1 ]; then
	[ "$(sql "select count(*) from events")" = 1 ] && pass "$N: no new event" || fail "$N: events" "$(sql 'select * from events')"
fi

# --- a device that needs credentials ---
j=$(jq -c --arg m "$(mac 1)" '.devices[] | select(.mac == $m) | [.state, .error]' "$T_TMP/r3.json")
[ "$j" = '["auth_required","authentication required: no credentials for this device"]' ] &&
	pass "$N: auth device reported" || fail "$N: auth device" "$j"
[ "$(tui --list --json | jq -r --arg m "$(mac 1)" '.devices[] | select(.mac == $m) | .state')" = auth_required ] &&
	pass "$N: auth device stored as auth_required" || fail "$N: auth stored"
# The operator gives credentials; discovery no longer asks for them.
printf '%s\n' "$PW" >"$T_TMP/pw"
tui --add "$SIM_NET.2:$SIM_PORT" --password-file "$T_TMP/pw" >"$T_TMP/add.out" 2>&1
rc=$?
[ $rc -eq 0 ] && pass "$N: credentials given with --add" || fail "$N: --add" "rc=$rc $(cat "$T_TMP/add.out")"
scan >"$T_TMP/r4.json" 2>&1
j=$(jq -c --arg m "$(mac 1)" '[(.devices[] | select(.mac == $m) | .state), .summary.auth_required, .summary.devices]' "$T_TMP/r4.json")
[ "$j" = '["online",0,4]' ] && pass "$N: with credentials: online, none required" || fail "$N: with creds" "$j"
# Credentials from the configuration count too (a second sim device with auth).
ctl POST /devices/3/auth '{"enable":true,"password":"x"}' >/dev/null
scan >"$T_TMP/r5.json" 2>&1
[ "$(jq -r --arg m "$(mac 3)" '.devices[] | select(.mac == $m) | .state' "$T_TMP/r5.json")" = auth_required ] &&
	pass "$N: auth turned on later: auth_required" || fail "$N: auth later" "$(jq -c .summary "$T_TMP/r5.json")"
printf 'x\n' >"$T_TMP/pw3"
printf 'credentials %s admin file:%s\n' "$(mac 3)" "$T_TMP/pw3" >"$T_TMP/config"
echo 'set scan-concurrency 32' >>"$T_TMP/config" # a loaded CI machine with the ASan tree
scan >"$T_TMP/r6.json" 2>&1
[ "$(jq -r --arg m "$(mac 3)" '.devices[] | select(.mac == $m) | .state' "$T_TMP/r6.json")" = online ] &&
	pass "$N: configured credentials count" || fail "$N: configured credentials" "$(jq -c .summary "$T_TMP/r6.json")"

# --- configured ranges; never anything unconfigured ---
printf 'discover-range %s.1-3\nset discover-mdns off\n' "$SIM_NET" >"$T_TMP/config"
echo 'set scan-concurrency 32' >>"$T_TMP/config" # a loaded CI machine with the ASan tree
tui --discover --port "$SIM_PORT" --timeout 3 --json >"$T_TMP/c.json" 2>"$T_TMP/c.err"
rc=$?
[ $rc -eq 0 ] && [ "$(jq -c '.summary | [.scan_addresses, .mdns]' "$T_TMP/c.json")" = '[3,"off"]' ] &&
	pass "$N: configured discover-range scanned, mDNS off" || fail "$N: configured range" "rc=$rc $(cat "$T_TMP/c.err")"
printf 'set discover-mdns off\n' >"$T_TMP/config"
echo 'set scan-concurrency 32' >>"$T_TMP/config" # a loaded CI machine with the ASan tree
tui --discover --port "$SIM_PORT" >"$T_TMP/c2.out" 2>"$T_TMP/c2.err"
rc=$?
[ $rc -eq 1 ] && [ ! -s "$T_TMP/c2.out" ] &&
	grep -q 'nothing to discover: no TARGET given, no discover-range configured, and mDNS is off (discover-mdns)' "$T_TMP/c2.err" &&
	pass "$N: nothing configured, mDNS off: exit 1" || fail "$N: nothing configured" "rc=$rc $(cat "$T_TMP/c2.err")"
: >"$T_TMP/config"
echo 'set scan-concurrency 32' >>"$T_TMP/config" # a loaded CI machine with the ASan tree

# --- mDNS obeys the guard: 127.0.0.0/8 alone keeps it off (it would multicast to 224.0.0.251) ---
tui --discover "$SIM_NET.1-3" --port "$SIM_PORT" --timeout 3 --json >"$T_TMP/g.json" 2>"$T_TMP/g.err"
rc=$?
[ $rc -eq 0 ] && grep -q 'mDNS is off: SHELLY_TUI_ALLOW_NETS does not include the mDNS group 224.0.0.251; scanning only' "$T_TMP/g.err" &&
	[ "$(jq -c '.summary | [.mdns, .scan_addresses]' "$T_TMP/g.json")" = '["off",3]' ] &&
	pass "$N: mDNS off by the guard, scan goes on" || fail "$N: mdns guard" "rc=$rc $(cat "$T_TMP/g.err")"
tui --discover --mdns-only --timeout 3 >"$T_TMP/go.out" 2>"$T_TMP/go.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'mdns-only: mDNS is off: SHELLY_TUI_ALLOW_NETS' "$T_TMP/go.err" &&
	pass "$N: --mdns-only refused by the guard: exit 1" || fail "$N: mdns-only guard" "rc=$rc $(cat "$T_TMP/go.err")"

# --- mDNS unavailable (no D-Bus): a warning, the scan goes on. The guard lets mDNS out here,
# so the system bus is pointed at a socket that does not exist: nothing can reach a daemon. ---
export SHELLY_TUI_ALLOW_NETS=127.0.0.0/8,224.0.0.251
export DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T_TMP/no-such-bus
tui --discover "$SIM_NET.1-3" --port "$SIM_PORT" --timeout 3 --json >"$T_TMP/m.json" 2>"$T_TMP/m.err"
rc=$?
[ $rc -eq 0 ] && grep -q 'warn mDNS unavailable: .*; scanning still works' "$T_TMP/m.err" &&
	[ "$(jq -c '.summary | [.mdns, .scan_addresses]' "$T_TMP/m.json")" = '["unavailable",3]' ] &&
	pass "$N: mDNS unavailable: warning, scan goes on" || fail "$N: mdns unavailable" "rc=$rc $(cat "$T_TMP/m.err")"
tui --discover --mdns-only --timeout 3 >"$T_TMP/mo.out" 2>"$T_TMP/mo.err"
rc=$?
[ $rc -eq 1 ] && grep -q 'mDNS is unavailable and there is nothing to scan' "$T_TMP/mo.err" &&
	pass "$N: --mdns-only without mDNS: exit 1" || fail "$N: mdns-only unavailable" "rc=$rc $(cat "$T_TMP/mo.err")"
export SHELLY_TUI_ALLOW_NETS=127.0.0.0/8
unset DBUS_SYSTEM_BUS_ADDRESS

# --- SIGINT: stops at once, keeps what was found, exit 1 ---
t0=$(now_ms)
"$SHELLY_TUI" --db "$DB" --config "$T_TMP/config" --discover --scan-only "$SIM_NET.0/24" \
	--port "$SIM_PORT" --timeout 20 -v --json >"$T_TMP/i.json" 2>"$T_TMP/i.err" &
pid=$!
if wait_for 10 grep -q '^scan: ' "$T_TMP/i.err"; then
	kill -INT $pid
	wait $pid
	rc=$?
	ms=$(( $(now_ms) - t0 ))
	[ $rc -eq 1 ] && [ $ms -lt 10000 ] && [ "$(jq -r .summary.interrupted "$T_TMP/i.json")" = true ] &&
		grep -q 'interrupted; what was found so far is stored' "$T_TMP/i.err" &&
		pass "$N: SIGINT stops the scan ($ms ms, timeout 20 s)" || fail "$N: SIGINT" "rc=$rc $ms ms $(tail -c 300 "$T_TMP/i.err")"
else
	kill $pid 2>/dev/null
	fail "$N: SIGINT" "no progress line: $(cat "$T_TMP/i.err")"
fi
sim_kill

# ---- found by mDNS and by the scan: root, private avahi (skipped with a reason otherwise) ----
MDNS_DRIVER=$T_TMP/mdns_driver
_san=""
if nm -A "$BUILD/libshelly.a" 2>/dev/null | grep -q '__asan_init\|__ubsan_handle'; then
	_san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
fi
if is_root; then
	# shellcheck disable=SC2046,SC2086
	if ! ${CC:-cc} -O1 -g $_san -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Wall -Wextra -Iinclude \
		$(pkg-config --cflags avahi-client) -o "$MDNS_DRIVER" \
		tests/integration/mdns_driver.c tests/sim/sim_mdns.c "$BUILD/libshelly.a" \
		$(pkg-config --libs ncursesw libcurl libcjson sqlite3 avahi-client libmicrohttpd) \
		-lcrypto -lm >"$T_TMP/cc.log" 2>&1; then
		fail "$N: mdns_driver build" "$(head -c 600 "$T_TMP/cc.log")"
		exit 1
	fi
fi
export MDNS_DRIVER
fi
netns_reexec "$N: mdns and scan" "$0"

# ---- inside the private world from here on ----
# Only lo exists here, so mDNS (224.0.0.251) may go out: it stays on lo.
export SHELLY_TUI_ALLOW_NETS=127.0.0.0/8,224.0.0.251
: >"$T_TMP/config"
echo 'set scan-concurrency 32' >>"$T_TMP/config" # a loaded CI machine with the ASan tree
DB=$T_TMP/db
if ! sim_start $N --fixtures tests/fixtures --models gen1/shelly-1,gen2/plus-1pm,gen3/1pm-gen3 --count 3; then
	fail "$N: start (netns)" "$(cat "$SIM_ERR")"
	exit 1
fi
A0=$(mf '.devices[0].addr') A1=$(mf '.devices[1].addr')
"$MDNS_DRIVER" publish -r 100 \
	"1|$(mf '.devices[0].id')|$A0|$SIM_PORT|switch1|||esp8266" \
	"2|$(mf '.devices[1].id')|$A1|$SIM_PORT|Plus1PM|1.7.5|||Kitchen Plus" \
	"other|Office Printer|_http._tcp||$SIM_NET.200|631|ty=HP LaserJet" \
	>"$T_TMP/pub.log" 2>&1 &
pub=$!
at_exit "kill_ours $pub"
if ! wait_for 10 grep -q '^READY 1$' "$T_TMP/pub.log"; then
	fail "$N: mdns publish" "$(tail -c 400 "$T_TMP/pub.log") $(netns_log_tail)"
	exit 1
fi
# mDNS finds devices 0 and 1; the scan covers devices 0 and 2 only.
tui --discover "$A0" "$(mf '.devices[2].addr')" --port "$SIM_PORT" --timeout 3 --json \
	>"$T_TMP/b.json" 2>"$T_TMP/b.err"
rc=$?
j=$(jq -c '[.devices[] | [.mac, .discovered_via, .host]]' "$T_TMP/b.json")
want="[[\"$(mac 0)\",\"mdns,scan\",\"$A0\"],[\"$(mac 1)\",\"mdns\",\"$A1\"],[\"$(mac 2)\",\"scan\",\"$(mf '.devices[2].addr')\"]]"
[ $rc -eq 0 ] && [ "$j" = "$want" ] && pass "$N: found by mDNS and by the scan: one device, mdns,scan" ||
	fail "$N: both methods" "rc=$rc got $j want $want $(head -c 300 "$T_TMP/b.err")"
s=$(jq -c '.summary | [.devices, .new, .mdns, .mdns_candidates, .scan_addresses]' "$T_TMP/b.json")
[ "$s" = '[3,3,"browsed",2,2]' ] && pass "$N: mDNS summary (the printer is ignored)" || fail "$N: mdns summary" "$s"
[ "$(tui --list --json | jq '.devices | length')" = 3 ] && pass "$N: three devices stored" || fail "$N: stored"
if [ $have_sqlite = 1 ]; then
	r=$(sql "select discovered_via from devices where mac = '$(mac 0)'")
	[ "$r" = "mdns,scan" ] && pass "$N: discovered_via mdns,scan stored" || fail "$N: via stored" "$r"
fi
tui --discover --mdns-only --timeout 3 --json >"$T_TMP/mo.json" 2>"$T_TMP/mo.err"
rc=$?
j=$(jq -c '[[.devices[].mac], .summary.new, .summary.known, .summary.scan_addresses]' "$T_TMP/mo.json")
[ $rc -eq 0 ] && [ "$j" = "[[\"$(mac 0)\",\"$(mac 1)\"],0,2,0]" ] && pass "$N: --mdns-only" ||
	fail "$N: --mdns-only" "rc=$rc $j $(head -c 300 "$T_TMP/mo.err")"
exit $T_FAILED
