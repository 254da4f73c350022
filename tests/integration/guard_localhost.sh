# The network guard and "localhost": a resolver gives it both 127.0.0.1 and ::1. With
# SHELLY_TUI_ALLOW_NETS=127.0.0.1/32 a server that listens only on [::1] must not be reached by
# --probe localhost:PORT (the name is resolved to IPv4 only), and [::1] itself is refused; with
# ::1 allowed as well, localhost reaches it (the stand-in answers /shelly only).
. tests/lib.sh
. tests/integration/lib_stub.sh

N=guard_localhost
python3 -c 'import socket; s = socket.socket(socket.AF_INET6); s.bind(("::1", 0))' 2>/dev/null ||
	{ fail "$N: no IPv6 loopback (::1) to test with" "bind failed"; exit 0; }
stub_start ::1 '[{"path": "/shelly", "body": "{\"type\":\"SHSW-1\",\"mac\":\"AABBCCDDEE71\",\"auth\":false,\"fw\":\"20230913-112003/v1.14.0-gcb84623\"}"}]' "$T_TMP/stub.log"
curl -s -m 5 "http://[::1]:$STUB_PORT/shelly" | grep -q AABBCCDDEE71 && : >"$T_TMP/stub.log" ||
	{ fail "$N: stand-in on [::1]" "$(cat "$T_TMP/stub.err")"; exit 1; }

SHELLY_TUI_ALLOW_NETS=127.0.0.1/32 "$SHELLY_TUI" --db "$T_TMP/db" --probe "localhost:$STUB_PORT" --timeout 3 </dev/null \
	>"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ ! -s "$T_TMP/stub.log" ] &&
	pass "$N: 127.0.0.1/32 allowed: localhost is not reached over [::1] (rc=$rc)" ||
	fail "$N: localhost reached [::1]" "rc=$rc log: $(cat "$T_TMP/stub.log") $(cat "$T_TMP/o" "$T_TMP/e")"

: >"$T_TMP/stub.log"
SHELLY_TUI_ALLOW_NETS=127.0.0.1/32 "$SHELLY_TUI" --db "$T_TMP/db" --probe "[::1]:$STUB_PORT" --timeout 3 </dev/null \
	>"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -ne 0 ] && grep -q "outside SHELLY_TUI_ALLOW_NETS\|not allowed" "$T_TMP/e" && [ ! -s "$T_TMP/stub.log" ] &&
	pass "$N: [::1] itself is refused" || fail "$N: [::1] literal" "rc=$rc $(cat "$T_TMP/e")"

: >"$T_TMP/stub.log"
SHELLY_TUI_ALLOW_NETS=127.0.0.1/32,::1 "$SHELLY_TUI" --db "$T_TMP/db" --probe "localhost:$STUB_PORT" --timeout 3 </dev/null \
	>"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
grep -q "^GET /shelly " "$T_TMP/stub.log" && grep -q aabbccddee71 "$T_TMP/o" &&
	pass "$N: with ::1 allowed too, localhost reaches the server on [::1]" ||
	fail "$N: localhost with both allowed" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e")"
exit 0
