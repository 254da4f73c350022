#!/bin/sh
# The HTTP server keeps its socket across SIGHUP: a reload that changes `listen` says it needs a
# restart (and the old address keeps answering), one that leaves it alone says nothing of it,
# and with --listen on the command line the configuration's listen does not matter.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=headless_listen_reload
NET=$(test_net $N)
P1=$(free_port "$NET.1")
CONF=$T_TMP/config
hl_config "$CONF" "set discover-mdns off" "set listen $NET.1:$P1"
"$SHELLY_TUI" --headless --db "$T_TMP/db" --config "$CONF" >"$T_TMP/out" 2>"$T_TMP/err" &
P=$!
at_exit "kill_ours $P"
ok() { [ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://$NET.1:$P1/healthz")" = 200 ]; }
wait_for 20 ok || { fail "$N: start" "$(cat "$T_TMP/err")"; exit 1; }
reloads() { grep -c 'SIGHUP: configuration and registry reloaded' "$T_TMP/err"; }

kill -HUP $P
wait_for 30 [ "$(reloads)" -ge 1 ]
grep -q 'listen changed' "$T_TMP/err" && fail "$N: an unchanged listen says nothing" "$(cat "$T_TMP/err")" ||
	pass "$N: an unchanged listen says nothing"
hl_config "$CONF" "set discover-mdns off" "set listen $NET.2:$P1"
kill -HUP $P
wait_for 30 [ "$(reloads)" -ge 2 ]
grep -q 'SIGHUP: listen changed: restart to apply' "$T_TMP/err" && ok &&
	pass "$N: a changed listen logs 'restart to apply', the old address still answers" ||
	fail "$N: a changed listen logs 'restart to apply'" "$(tail -n 3 "$T_TMP/err")"
kill -TERM $P
wait $P
rc=$?
[ "$rc" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$rc"

# --listen on the command line: the configuration's listen is not the server's.
P2=$(free_port "$NET.3")
"$SHELLY_TUI" --headless --listen "$NET.3:$P2" --db "$T_TMP/db" --config "$CONF" >"$T_TMP/out2" 2>"$T_TMP/err2" &
P=$!
at_exit "kill_ours $P"
ok2() { [ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://$NET.3:$P2/healthz")" = 200 ]; }
wait_for 20 ok2 || { fail "$N: start with --listen" "$(cat "$T_TMP/err2")"; exit 1; }
hl_config "$CONF" "set discover-mdns off" "set listen $NET.4:$P1"
kill -HUP $P
wait_for 30 grep -q 'SIGHUP: configuration and registry reloaded' "$T_TMP/err2"
grep -q 'listen changed' "$T_TMP/err2" && fail "$N: with --listen the configuration's listen is ignored" ||
	pass "$N: with --listen the configuration's listen is ignored"
kill -TERM $P
wait $P
