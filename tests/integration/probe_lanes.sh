# Per-device lanes are never exceeded (Gen1: 1 request in flight, Gen2+: lanes-gen2, default 2,
# at most 3), checked through the sim's per-device max_in_flight counter.
#
# Making the check meaningful: every device answers slowly (each body drips for DRIP ms), so
# requests that overlap in time are seen as concurrent by the sim. First a positive control:
# several separate processes (each with its own lanes) probing one device at once must drive
# its counter above 1, which proves the counter sees overlap. Then one process: a single
# --probe, and --poll-once over a fleet, stays within the lane limit on every device, while the
# poller is shown to overlap different devices (it finishes in less than half the time the
# same requests take one after another), so the per-device bound is the lanes' doing and not a
# serial client's. Finally max-concurrency 2 makes the same poll take at least (requests / 2)
# drips: the global cap holds too (a lower bound on time, so load cannot make it flaky).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=probe_lanes
DRIP=1500
# The sim sends a slow body in steps of 100 ms, the first at once: a request lasts DRIP - 100 ms.
PER=$((DRIP - 100))
if ! sim_start $N --models gen2/plus-1pm,gen1/shelly-plug-s --count 8 --drip-ms $DRIP; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
DB=$T_TMP/db
k=0 added=0
while [ $k -lt "$D_COUNT" ]; do
	"$SHELLY_TUI" --db "$DB" --add "$(dv $k HP)" >/dev/null 2>"$T_TMP/e" && added=$((added + 1))
	k=$((k + 1))
done
[ $added -eq "$D_COUNT" ] && pass "$N: --add of $added devices" || fail "$N: --add" "$added of $D_COUNT: $(cat "$T_TMP/e")"

G=$(dev_by_fixture gen2/plus-1pm)
H=$(dev_by_fixture gen1/shelly-plug-s)
limit() { [ "$(dv "$1" GEN)" = 1 ] && echo 1 || echo 2; }
k=0
while [ $k -lt "$D_COUNT" ]; do set_fault $k slow; k=$((k + 1)); done

# --- positive control: 4 processes at once against one Gen2 and one Gen1 device ---
ctl POST /reset-counters >/dev/null
pids=""
for i in $G $H; do
	for n in 1 2 3 4; do
		"$SHELLY_TUI" --probe "$(dv $i HP)" --timeout 5 >/dev/null 2>&1 &
		pids="$pids $!"
	done
done
wait $pids
for i in $G $H; do
	m=$(dev_state $i .counters.max_in_flight)
	[ "$m" -ge 2 ] && pass "$N: control: 4 separate processes overlap on gen$(dv $i GEN) (max_in_flight $m): the counter sees concurrency" ||
		fail "$N: control: concurrent processes not seen as concurrent on gen$(dv $i GEN)" "max_in_flight=$m"
done

# --- one --probe ---
for i in $G $H; do
	ctl POST "/devices/$i/reset-counters" >/dev/null
	"$SHELLY_TUI" --probe "$(dv $i HP)" --timeout 5 >/dev/null 2>"$T_TMP/e"; rc=$?
	c=$(dev_state $i '.counters | "\(.max_in_flight) \(.requests)"')
	[ $rc -eq 0 ] && [ "${c%% *}" -le "$(limit $i)" ] && [ "${c#* }" -ge 2 ] &&
		pass "$N: one --probe of gen$(dv $i GEN): ${c#* } requests, max in flight ${c%% *} <= $(limit $i)" ||
		fail "$N: one --probe of gen$(dv $i GEN)" "rc=$rc max_in_flight/requests=$c (limit $(limit $i)) $(head -c 200 "$T_TMP/e")"
done

# poll_check NAME [--config FILE]: --poll-once of the fleet; checks every device's counters.
# Sets REQS (requests the sim saw) and MS (time taken).
poll_check() {
	_name=$1; shift
	ctl POST /reset-counters >/dev/null
	timed "$T_TMP/o" "$T_TMP/e" "$SHELLY_TUI" --db "$DB" "$@" --poll-once --json
	MS=$T_MS
	ctl GET /devices >"$T_TMP/devs"
	REQS=$(jq '[.devices[].counters.requests] | add' "$T_TMP/devs")
	_bad=$(jq -r '[.devices[] | select(.counters.max_in_flight > (if .gen == 1 then 1 else 2 end) or .counters.requests < 1)
		| "\(.fixture)#\(.index): max \(.counters.max_in_flight), requests \(.counters.requests)"] | join("; ")' "$T_TMP/devs")
	_online=$(jq '[.devices[] | select(.state == "online")] | length' "$T_TMP/o" 2>/dev/null)
	_max=$(jq -c '[.devices[] | {gen, m: .counters.max_in_flight}] | group_by(.gen) | map({(.[0].gen | tostring): (map(.m) | max)}) | add' "$T_TMP/devs")
	if [ "$T_RC" -eq 0 ] && [ -z "$_bad" ] && [ "$_online" = "$D_COUNT" ]; then
		pass "$N: $_name: every device polled online, max in flight per gen $_max (limits gen1 1, gen2 2)"
	else
		fail "$N: $_name" "rc=$T_RC online=$_online/$D_COUNT over the limit: $_bad $(head -c 300 "$T_TMP/e")"
	fi
}

poll_check "--poll-once"
serial=$((REQS * PER))
[ $MS -lt $((serial * 9 / 10)) ] && pass "$N: --poll-once overlaps devices: $REQS requests of >= $PER ms in $MS ms (serial: $serial ms)" ||
	fail "$N: --poll-once overlaps devices" "$REQS requests of >= $PER ms took $MS ms (serial $serial ms)"

printf 'set max-concurrency 2\n' >"$T_TMP/cfg2"
poll_check "--poll-once, max-concurrency 2" --config "$T_TMP/cfg2"
floor=$(( (REQS + 1) / 2 * PER * 95 / 100 ))
[ $MS -ge $floor ] && pass "$N: max-concurrency 2: $REQS requests took $MS ms >= $floor ms ((requests / 2) drips)" ||
	fail "$N: max-concurrency 2 not respected" "$REQS requests in $MS ms < $floor ms"

printf 'set lanes-gen2 3\n' >"$T_TMP/cfg3"
ctl POST /reset-counters >/dev/null
"$SHELLY_TUI" --db "$DB" --config "$T_TMP/cfg3" --poll-once >/dev/null 2>"$T_TMP/e"; rc=$?
m=$(ctl GET /devices | jq '[.devices[].counters.max_in_flight] | max')
[ $rc -eq 0 ] && [ "$m" -le 3 ] && pass "$N: lanes-gen2 3 accepted, max in flight $m <= 3" || fail "$N: lanes-gen2 3" "rc=$rc max=$m $(cat "$T_TMP/e")"
printf 'set lanes-gen2 4\n' >"$T_TMP/cfg4"
"$SHELLY_TUI" --db "$DB" --config "$T_TMP/cfg4" --poll-once >/dev/null 2>"$T_TMP/e"; rc=$?
[ $rc -eq 2 ] && grep -q 'lanes-gen2' "$T_TMP/e" && pass "$N: lanes-gen2 4 refused (the device's RPC channels are shared): exit 2" ||
	fail "$N: lanes-gen2 4 refused" "rc=$rc $(cat "$T_TMP/e")"
exit 0
