#!/bin/sh
# The provisioning verifier of --headless keeps time while its scan hangs: the configured range
# is a /29 (6 loopback addresses to scan), one of them a listener that takes connections and
# never answers, where a probe may wait 5 minutes (discover-timeout); a task whose device never
# appears still ends not_seen after verify-timeout (3 s), long before that probe would end, and
# its reason says how far the scan got (fewer than the 6 addresses), as a warning in the log
# does. The agent is played with curl.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_agentapi.sh
N=provision_tarpit
TARPIT=$(test_net $N).6
PORT=$(free_port "$TARPIT")
# Takes every connection, writes a line per connection, never answers.
python3 -c 'import socket, sys
s = socket.socket()
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(64)
open(sys.argv[3], "w").close()
held = []
while True:
    c, _ = s.accept()
    held.append(c)
    with open(sys.argv[3], "a") as f:
        f.write("conn\n")' "$TARPIT" "$PORT" "$T_TMP/tarpit.log" 2>"$T_TMP/tarpit.err" &
TP=$!
at_exit "kill_ours $TP"
wait_for 30 test -e "$T_TMP/tarpit.log" || { fail "$N: tarpit start" "port ${PORT:-none}, listener: $(ps -o stat=,etime=,wchan= -p $TP 2>/dev/null || echo gone): $(cat "$T_TMP/tarpit.err")"; exit 1; }

DB=$T_TMP/db
CONF=$T_TMP/config
hl_config "$CONF" "set discover-mdns off" "set discover-port $PORT" "set discover-timeout 5m" \
	"set scan-concurrency 16" "set verify-interval 200ms" "set verify-timeout 3s" \
	"set agent-lease 1h" "discover-range $(test_net $N).0/29"
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
aa_init "$DB" "$CONF" "http://127.0.0.1:$(hl_port a)" || { fail "$N: register" "no token"; exit 1; }
aa_waiting "$N" 0a0b0c0d0e0f
reached() { [ -s "$T_TMP/tarpit.log" ]; }
wait_for 30 reached && pass "$N: the verifier's scan reaches the silent listener" ||
	fail "$N: the verifier's scan reaches the silent listener" "$(tail -5 "$(hl_err a)")"
notseen() { [ "$(aa_field "$ID" stage)" = not_seen ]; }
wait_for 60 notseen && pass "$N: the task ends not_seen while the probe hangs" ||
	fail "$N: the task ends not_seen while the probe hangs" "$(tui --tasks) $(tail -5 "$(hl_err a)")"
COVERED='the scan covered [0-5] of 6 addresses within verify-timeout'
aa_field "$ID" reason | grep -qx "not verified: $COVERED" &&
	pass "$N: the reason says how far the scan got" ||
	fail "$N: the reason says how far the scan got" "$(aa_field "$ID" reason)"
grep -q "warn.*$COVERED" "$(hl_err a)" && pass "$N: the unfinished scan is logged" ||
	fail "$N: the unfinished scan is logged" "$(tail -5 "$(hl_err a)")"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$HL_RC"
