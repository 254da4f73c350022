#!/bin/sh
# Slowloris against the poller's HTTP server: 17 addresses of this test's own range open 16
# connections each (more than the 256 the server takes) and send a request header line every
# 2 s, which an inactivity timeout never ends. The server must close each of them once it has
# not had a complete request for HTTPD_REQUEST_DEADLINE_S (10 s), and /healthz must keep
# answering: at once from an address that holds no connection (the reserved slots), and from
# one of the trickling addresses once its connections are gone.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=http_slowloris
NET=$(test_net $N)
DEADLINE=10

hl_config "$T_TMP/config" "set discover-mdns off"
hl_start a "$T_TMP/db" "$T_TMP/config" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
PORT=$(hl_port a)

# The trickler: writes "held N" once its connections are up, then one line per connection
# the server closed ("closed SECONDS" after its connect), "open" for each one still open when
# it gives up (40 s), and "done".
python3 -c 'import socket, sys, time, select
net, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
conns = {}  # socket: [connected at, next header line due]
log = open(out, "a", buffering=1)
def drop(s, held):
    t0 = conns.pop(s)[0]
    s.close()
    if held:
        log.write("closed %.1f\n" % (time.monotonic() - t0))
def service(wait, held):
    # Reads what the server sent (an end: closed), then sends each connection its line when due.
    for s in select.select(list(conns), [], [], wait)[0]:
        try:
            data = s.recv(4096)
        except OSError:
            data = b""
        if not data:
            drop(s, held)
    now = time.monotonic()
    for s, c in list(conns.items()):
        if now >= c[1]:
            c[1] = now + 2
            try:
                s.send(b"X-Trickle: 1\r\n")
            except OSError:
                drop(s, held)
for a in range(1, 18):
    for i in range(16):
        s = socket.socket()
        s.settimeout(0.5)
        try:
            s.bind(("%s.%d" % (net, a), 0))
            s.connect(("127.0.0.1", port))
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            s.close()
            continue
        s.setblocking(False)
        conns[s] = [time.monotonic(), time.monotonic() + 2]
        service(0, False)
# Connections refused or over the per-address limit end within a second.
end = time.monotonic() + 1
while conns and time.monotonic() < end:
    service(0.2, False)
log.write("held %d\n" % len(conns))
give_up = time.monotonic() + 40
while conns and time.monotonic() < give_up:
    service(0.2, True)
for s in conns:
    log.write("open\n")
log.write("done\n")' "$NET" "$PORT" "$T_TMP/trickle" 2>"$T_TMP/trickle.err" &
TR=$!
at_exit "kill_ours $TR"

wait_for 60 grep -q '^held' "$T_TMP/trickle" || { fail "$N: trickler" "$(cat "$T_TMP/trickle.err")"; exit 1; }
held=$(sed -n 's/^held //p' "$T_TMP/trickle")
[ "$held" -ge 200 ] && pass "$N: the tricklers hold $held connections" ||
	fail "$N: the tricklers hold most connections" "$held $(cat "$T_TMP/trickle.err")"

hz() { [ "$(curl -s -m 3 ${1:+--interface "$1"} -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/healthz")" = 200 ]; }
wait_for 5 hz && pass "$N: /healthz answers another address while the tricklers hold the server" ||
	fail "$N: /healthz answers another address while the tricklers hold the server" "$(tail -n 3 "$(hl_err a)")"

wait_for $((DEADLINE + 40)) grep -q '^done' "$T_TMP/trickle"
closed=$(grep -c '^closed' "$T_TMP/trickle")
open=$(grep -c '^open' "$T_TMP/trickle")
late=$(awk -v d=$DEADLINE '/^closed/ && $2 > d + 8 { n++ } END { print n + 0 }' "$T_TMP/trickle")
early=$(awk -v d=$DEADLINE '/^closed/ && $2 < d - 1 { n++ } END { print n + 0 }' "$T_TMP/trickle")
[ "$open" = 0 ] && [ "$closed" = "$held" ] && [ "$late" = 0 ] &&
	pass "$N: the server closed all $closed trickling connections at the deadline (none left open, none late)" ||
	fail "$N: the server closes trickling connections at the deadline" "closed $closed of $held, open $open, later than $((DEADLINE + 8)) s: $late"
[ "$early" = 0 ] && pass "$N: none was closed before the deadline" ||
	fail "$N: none was closed before the deadline" "$early"
wait_for 10 hz "$NET.1" && pass "$N: /healthz answers a trickling address once its connections are gone" ||
	fail "$N: /healthz answers a trickling address once its connections are gone"
grep -q 'without a complete request in 10 s' "$(hl_err a)" &&
	pass "$N: the log says why connections were closed" || fail "$N: the log says why" "$(tail -n 3 "$(hl_err a)")"
hl_stop a
n=$(grep -c "Connection socket is closed" "$(hl_err a)")
[ "$n" = 0 ] && pass "$N: no log line per closed connection" || fail "$N: no log line per closed connection" "$n"
[ "$HL_RC" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$HL_RC"
