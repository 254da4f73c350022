# --headless whose listen address is taken (the old instance still holds it, or another
# program does) exits 1 at once, naming the address and the reason, before it polls a device or
# takes the lease: its supervisor (Kubernetes' restart policy, systemd's Restart=, Docker's
# --restart) starts it again with a visible reason and a backoff (README, On Kubernetes).
# Started again once the address is free, it serves. (A listener it already served is retried
# in the process instead: provision_listener.sh, tui_agent_listen.sh.)
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_listen_taken
if ! sim_start $N --models gen2/plus-1pm; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
DB=$T_TMP/shelly.db
CONF=$T_TMP/config
hl_config "$CONF"
hl_add "$DB" 0 || { fail "$N: --add" "$(cat "$T_TMP/add.err")"; exit 1; }
ADDR=$(test_net $N).1

# The holder: a plain listener on the address, as the old instance would be. It takes a port
# the kernel picks (no window in which another program could take it first) and says which.
python3 -c 'import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], 0))
s.listen(8)
print("held", s.getsockname()[1], flush=True)
time.sleep(120)' "$ADDR" >"$T_TMP/holder.out" 2>&1 &
HOLDER=$!
stop_holder() { kill_ours "$HOLDER"; wait "$HOLDER" 2>/dev/null; }
at_exit stop_holder
wait_for 30 grep -q held "$T_TMP/holder.out" || { fail "$N: holder" "$(cat "$T_TMP/holder.out")"; exit 1; }
PORT=$(sed -n 's/^held //p' "$T_TMP/holder.out")
LISTEN=$ADDR:$PORT

ctl POST /devices/0/reset-counters >/dev/null
timeout 30 "$SHELLY_TUI" --headless --db "$DB" --config "$CONF" --listen "$LISTEN" >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
if [ $rc = 1 ] && grep -q "cannot listen on $LISTEN: Address already in use" "$T_TMP/err" &&
	! grep -q '^metrics:' "$T_TMP/out" && [ "$(sim_state 0 .counters.requests)" = 0 ] &&
	[ "$(sq "$DB" 'SELECT count(*) FROM lease')" = 0 ]; then
	pass "$N: a taken listen address: exit 1 with the address and the reason, no device polled, no lease"
else
	fail "$N: taken" "rc=$rc out=$(cat "$T_TMP/out") err=$(cat "$T_TMP/err") requests=$(sim_state 0 .counters.requests)"
fi

# The supervisor's next start, once the address is free, serves.
stop_holder
"$SHELLY_TUI" --headless --db "$DB" --config "$CONF" --listen "$LISTEN" >"$T_TMP/out2" 2>"$T_TMP/err2" &
HL_PIDS="$HL_PIDS $!"
healthy() { [ "$(curl -s -m 2 -o /dev/null -w "%{http_code}" "http://$LISTEN/healthz")" = 200 ]; }
if wait_for 20 healthy && grep -q "^metrics: http://$LISTEN/metrics\$" "$T_TMP/out2"; then
	pass "$N: started again on the freed address, it answers /healthz"
else
	fail "$N: restart" "$(curl -s -m 2 "http://$LISTEN/healthz"); $(cat "$T_TMP/err2")"
fi
hl_kill_all
sim_stop
