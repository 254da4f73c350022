#!/bin/sh
# mDNS discovery end to end. Outside any namespace (no root needed): with no D-Bus reachable the
# browser reports "mDNS unavailable" and exits cleanly. Then, as root, inside a private network
# + mount + PID namespace with its own dbus-daemon and avahi-daemon on lo (netns.sh): the sim's
# publisher (tests/sim/sim_mdns.c) announces a Gen1, three Gen2 (two with the friendly name
# "Kitchen Pro 4PM", so one is renamed), a Gen3 and a non-Shelly printer; discovery/mdns must find every Shelly
# once per (address, port) with the right generation, id, app and version, ignore the printer,
# survive an avahi-daemon restart (client re-created, everything found again) and exit cleanly.
# The driver program is tests/integration/mdns_driver.c, compiled here with the Makefile's flags.
. tests/lib.sh
. tests/integration/netns.sh

# mdns_field LINE KEY: value of KEY=value in a driver line (only name=, the last, has spaces).
mdns_field() {
	case $2 in
	name) printf '%s\n' "$1" | sed -n 's/.* name=//p' ;;
	*) printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | head -n 1 ;;
	esac
}

# count FILE PATTERN: lines of FILE matching PATTERN (0 when none or no file).
count() {
	_c=$(grep -c -- "$2" "$1" 2>/dev/null) || true
	echo "${_c:-0}"
}

at_least() { [ "$(count "$2" "$3")" -ge "$1" ]; }

if [ "${SHELLY_NETNS_INSIDE:-}" != 1 ]; then
	MDNS_DRIVER=$T_TMP/mdns_driver
	_san=""
	if nm -A "$BUILD/libshelly.a" 2>/dev/null | grep -q '__asan_init\|__ubsan_handle'; then
		_san="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
	fi
	# shellcheck disable=SC2046,SC2086
	if ! ${CC:-cc} -O1 -g $_san -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Wall -Wextra -Wshadow \
		-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -Werror -Iinclude \
		$(pkg-config --cflags avahi-client) -o "$MDNS_DRIVER" \
		tests/integration/mdns_driver.c tests/sim/sim_mdns.c "$BUILD/libshelly.a" \
		$(pkg-config --libs ncursesw libcurl libcjson sqlite3 avahi-client libmicrohttpd) \
		-lcrypto -lm >"$T_TMP/cc.log" 2>&1; then
		fail mdns_driver_build "$(head -c 600 "$T_TMP/cc.log")"
		exit 1
	fi
	export MDNS_DRIVER

	# No D-Bus at all (a socket path that does not exist): a clear status, no crash, exit 0.
	DBUS_SYSTEM_BUS_ADDRESS=unix:path=$T_TMP/no-such-bus timeout 10 "$MDNS_DRIVER" browse -1 \
		>"$T_TMP/nobus.log" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -q '^STATUS unavailable sessions=0 mDNS unavailable: Daemon not running; scanning still works$' \
		"$T_TMP/nobus.log"; then
		pass mdns_no_dbus
	else
		fail mdns_no_dbus "rc=$rc: $(head -c 400 "$T_TMP/nobus.log")"
	fi
fi

netns_reexec mdns_e2e "$0"

# ---- inside the private world from here on ----
D=$MDNS_DRIVER
net=$(test_net mdns_e2e)
G1=$net.10 G2=$net.11 G2F=$net.12 G3=$net.13 G4=$net.14 PR=$net.20
PUB=$T_TMP/pub.log BRW=$T_TMP/browse.log

# Values from tests/fixtures/mdns/ (gen1/shelly-1, gen2/plus-1pm, gen3/1pm-gen3).
"$D" publish -r 100 \
	"1|shelly1-34945472A643|$G1|80|switch1||20230913-112003/v1.14.0-gcb84623|esp8266" \
	"2|shellyplus1pm-441793d69718|$G2|80|Plus1PM|1.7.5" \
	"2|shellypro4pm-c8f09e894170|$G2F|8080|Pro4PM|1.7.5|||Kitchen Pro 4PM" \
	"3|shelly1pmg3-34b7dac68344|$G3|80|S1PMG3|1.7.5" \
	"2|shellyplus2pm-c4d8d5517c68|$G4|80|Plus2PM|1.7.5|||Kitchen Pro 4PM" \
	"other|Office Printer|_http._tcp||$PR|631|txtvers=1|ty=HP LaserJet|rp=ipp/print" \
	>"$PUB" 2>&1 &
pub=$!
at_exit "kill_ours $pub"
if wait_for 10 grep -q '^READY 1$' "$PUB"; then
	pass mdns_publish
else
	fail mdns_publish "publisher not ready: $(tail -c 400 "$PUB") $(netns_log_tail)"
	exit 1
fi

"$D" browse -r 100 >"$BRW" 2>&1 &
brw=$!
at_exit "kill_ours $brw"
if ! wait_for 10 grep -q '^ALLFORNOW sessions=1 ' "$BRW"; then
	fail mdns_all_for_now "no all-for-now: $(tail -c 600 "$BRW")"
	exit 1
fi
afn=$(grep '^ALLFORNOW sessions=1 ' "$BRW")
if [ "$afn" = "ALLFORNOW sessions=1 count=5 ignored=1" ]; then
	pass mdns_all_for_now
else
	fail mdns_all_for_now "got '$afn', want 5 candidates and 1 ignored (the printer)"
fi

# check_cand NAME ADDR PORT GEN ID APP VER [FW_ID]: the merged candidate at ADDR:PORT.
check_cand() {
	_n=$1 _a=$2 _p=$3
	_l=$(grep "^CAND addr=$_a port=$_p " "$BRW" | head -n 1)
	if [ -z "$_l" ]; then
		fail "$_n" "no candidate at $_a:$_p"
		return
	fi
	_why=""
	[ "$(mdns_field "$_l" gen)" = "$4" ] || _why="$_why gen"
	[ "$(mdns_field "$_l" id)" = "$5" ] || _why="$_why id"
	[ "$(mdns_field "$_l" app)" = "$6" ] || _why="$_why app"
	[ "$(mdns_field "$_l" ver)" = "$7" ] || _why="$_why ver"
	[ "$(mdns_field "$_l" fw_id)" = "${8:-}" ] || _why="$_why fw_id"
	if [ -z "$_why" ]; then pass "$_n"; else fail "$_n" "wrong$_why in: $_l"; fi
}
check_cand mdns_gen1 "$G1" 80 1 shelly1-34945472A643 switch1 "" 20230913-112003/v1.14.0-gcb84623
check_cand mdns_gen2 "$G2" 80 2 shellyplus1pm-441793d69718 Plus1PM 1.7.5
check_cand mdns_gen2_friendly "$G2F" 8080 2 shellypro4pm-c8f09e894170 Pro4PM 1.7.5
check_cand mdns_gen3 "$G3" 80 3 shelly1pmg3-34b7dac68344 S1PMG3 1.7.5
check_cand mdns_gen2_same_name "$G4" 80 2 shellyplus2pm-c4d8d5517c68 Plus2PM 1.7.5

# Only lo exists, and avahi sees everything on lo only; the second "Kitchen Pro 4PM" was
# renamed by the publisher like a device would ("... #2", host Kitchen-Pro-4PM-2.local).
if command -v avahi-browse >/dev/null 2>&1; then
	timeout 10 avahi-browse -arpt >"$T_TMP/browse-cli.log" 2>&1
	ifs=$(ip -o link show | awk -F': ' '{print $2}' | tr '\n' ' ')
	other=$(grep '^[+=]' "$T_TMP/browse-cli.log" | cut -d';' -f2 | grep -v '^lo$' | head -n 1)
	if [ "$ifs" = "lo " ] && [ -z "$other" ] && grep -q "^=;lo;IPv4;.*;Kitchen-Pro-4PM-2.local;$G4;80;" "$T_TMP/browse-cli.log" &&
		grep -q "^=;lo;IPv4;Office.*;Office-Printer.local;$PR;631;" "$T_TMP/browse-cli.log"; then
		pass mdns_loopback_only
	else
		fail mdns_loopback_only "links: $ifs; avahi-browse: $(head -c 600 "$T_TMP/browse-cli.log")"
	fi
else
	skip mdns_loopback_only "needs avahi-browse (avahi-utils)"
fi

# The friendly-named device is announced four times (2 names x 2 types): reported once, under
# either name with that name's host (as in the captures: "2PM Pro" -> 2PM-Pro.local).
l=$(grep "^CAND addr=$G2F port=8080 " "$BRW")
case "$(mdns_field "$l" name)|$(mdns_field "$l" host)" in
"Kitchen Pro 4PM|Kitchen-Pro-4PM.local" | \
"shellypro4pm-c8f09e894170|shellypro4pm-c8f09e894170.local") name_ok=1 ;;
*) name_ok=0 ;;
esac
if [ "$(count "$BRW" "^FOUND addr=$G2F port=8080 ")" = 1 ] && [ "$(count "$BRW" '^FOUND ')" = 5 ] &&
	[ $name_ok = 1 ]; then
	pass mdns_dedup
else
	fail mdns_dedup "$(grep '^FOUND ' "$BRW" | tr '\n' '|')"
fi

if grep -q "addr=$PR " "$BRW"; then
	fail mdns_printer_ignored "the printer was reported: $(grep "addr=$PR " "$BRW")"
else
	pass mdns_printer_ignored
fi

# ---- avahi-daemon goes away ----
netns_avahi_stop || fail mdns_daemon_gone "avahi-daemon did not stop"
if wait_for 10 grep -q '^STATUS unavailable sessions=1 mDNS unavailable: .*; scanning still works$' "$BRW"; then
	pass mdns_daemon_gone
else
	fail mdns_daemon_gone "no unavailable status: $(tail -c 400 "$BRW")"
fi

# While it is away a fresh browser says so and exits cleanly (dbus is up, avahi is not).
timeout 10 "$D" browse -1 >"$T_TMP/nodaemon.log" 2>&1
rc=$?
if [ $rc -eq 0 ] && grep -q '^STATUS unavailable sessions=0 mDNS unavailable: Daemon not running; scanning still works$' \
	"$T_TMP/nodaemon.log"; then
	pass mdns_no_daemon
else
	fail mdns_no_daemon "rc=$rc: $(head -c 400 "$T_TMP/nodaemon.log")"
fi

# ---- and comes back: both clients are re-created, the sim republishes, all found again ----
netns_avahi_start || fail mdns_recovered "avahi-daemon did not come back: $(netns_log_tail)"
found_again() {
	for a in "$G1 port=80" "$G2 port=80" "$G2F port=8080" "$G3 port=80" "$G4 port=80"; do
		at_least 2 "$BRW" "^FOUND addr=$a " || return 1
	done
	grep -q '^READY 2$' "$PUB" && grep -q '^STATUS browsing sessions=2 ' "$BRW"
}
if wait_for 20 found_again; then
	pass mdns_recovered
else
	fail mdns_recovered "publisher: $(tail -c 300 "$PUB") browser: $(tail -c 600 "$BRW")"
fi
if grep -q "addr=$PR " "$BRW"; then
	fail mdns_printer_ignored_again "the printer was reported after the restart"
else
	pass mdns_printer_ignored_again
fi

# ---- clean exit (under ASan this also checks for leaks) ----
kill -TERM "$brw" "$pub"
wait "$brw"; rb=$?
wait "$pub"; rp=$?
if [ $rb -eq 0 ] && [ $rp -eq 0 ] && grep -q '^EXIT 0$' "$BRW" && grep -q '^EXIT 0$' "$PUB"; then
	pass mdns_clean_exit
else
	fail mdns_clean_exit "browser rc=$rb publisher rc=$rp: $(tail -c 400 "$BRW") $(tail -c 400 "$PUB")"
fi
exit $T_FAILED
