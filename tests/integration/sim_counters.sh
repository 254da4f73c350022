# shelly-sim counters: requests in total and by path, requests in flight and the maximum seen
# at once (a request counts from accept until its response is sent or the connection closes),
# auth failures, reset.
. tests/lib.sh
. tests/sim/simlib.sh

N=sim_counters
if ! sim_start $N --models gen2/plus-1pm --count 3 --drip-ms 10000; then
	fail "$N: start" "$(cat "$SIM_ERR")"
	exit 1
fi
U=$(dev_url 0)
for i in 1 2 3; do curl -s -m 3 "$U/shelly" >/dev/null; done
for i in 1 2; do curl -s -m 3 "$U/rpc/Shelly.GetStatus" >/dev/null; done
curl -s -m 3 -X POST -d '{"id":1,"method":"Shelly.GetStatus"}' "$U/rpc" >/dev/null
c=$(ctl GET /devices/0/state | jq -c .counters)
[ "$(echo "$c" | jq -c '[.requests, .by_path["/shelly"], .by_path["/rpc/Shelly.GetStatus"], .by_path["/rpc"], .in_flight, .max_in_flight]')" = '[6,3,2,1,0,1]' ] &&
	pass "$N: totals, by path, sequential max 1" || fail "$N: totals" "$c"
[ "$(ctl GET /devices/1/state | jq -r .counters.requests)" = 0 ] && pass "$N: other devices untouched" || fail "$N: per device"

# Ten requests held open at once (noanswer): all in flight together (the peak, which a loaded
# machine cannot miss), then none.
ctl POST /devices/0/reset-counters '{}' >/dev/null
ctl POST /devices/0/fault '{"fault":"noanswer"}' >/dev/null
pids=""
for i in 1 2 3 4 5 6 7 8 9 10; do
	curl -s -m 60 "$U/rpc/Shelly.GetStatus" >/dev/null 2>&1 &
	pids="$pids $!"
done
wait_json 30 "http://$SIM_CTL/devices/0/state" '.counters.max_in_flight == 10' && pass "$N: 10 requests in flight (peak)" ||
	fail "$N: in flight" "$(ctl GET /devices/0/state | jq -c .counters)"
kill_ours $pids
wait $pids 2>/dev/null
wait_json 30 "http://$SIM_CTL/devices/0/state" '.counters.in_flight == 0 and .counters.max_in_flight == 10 and .counters.requests == 10' &&
	pass "$N: clients gone: in flight 0, max 10" || fail "$N: after" "$(ctl GET /devices/0/state | jq -c .counters)"

# Slow bodies (10 s each) are in flight until the last byte is sent: five started together
# overlap, which the peak shows after the fact.
ctl POST /devices/0/fault '{"fault":"slow"}' >/dev/null
ctl POST /devices/0/reset-counters '{}' >/dev/null
pids=""
for i in 1 2 3 4 5; do
	curl -s -m 40 "$U/rpc/Shelly.GetStatus" -o "$T_TMP/slow$i" &
	pids="$pids $!"
done
wait $pids
ok=1
for i in 1 2 3 4 5; do [ "$(jq -r .sys.mac "$T_TMP/slow$i")" = "$(mf '.devices[0].mac')" ] || ok=0; done
[ $ok = 1 ] && pass "$N: all slow responses complete" || fail "$N: slow bodies"
wait_json 30 "http://$SIM_CTL/devices/0/state" '.counters.in_flight == 0 and .counters.max_in_flight == 5' &&
	pass "$N: max_in_flight 5" || fail "$N: slow max" "$(ctl GET /devices/0/state | jq -c .counters)"
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null

# Counters are per device and reset on demand (all devices at once too).
[ "$(ctl POST /devices/0/reset-counters '{}' | jq -c '[.counters.requests, .counters.max_in_flight, (.counters.by_path|length)]')" = '[0,0,0]' ] &&
	pass "$N: reset-counters" || fail "$N: reset"
curl -s -m 3 "$(dev_url 1)/shelly" >/dev/null
ctl POST /reset-counters '{}' >/dev/null
[ "$(ctl GET /devices/1/state | jq -r .counters.requests)" = 0 ] && pass "$N: reset all" || fail "$N: reset all"

sim_stop
rc=$?
[ $rc -eq 0 ] && pass "$N: clean exit" || fail "$N: exit" "$rc $(tail -n 20 "$SIM_ERR")"
exit 0
