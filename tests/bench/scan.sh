#!/bin/sh
# Benchmark (not part of `make check`): `--discover --scan-only` of a /24 with 20 live
# simulated devices and 234 silent addresses (SYN never answered) must finish in under the
# probe timeout plus one second (default timeout 2 s, so under 3 s). For comparison the same
# 254 URLs are fetched in the same run by curl with 256 transfers in parallel and the same
# connect timeout; the ratio ours/curl is printed.
#
#   sh tests/bench/scan.sh [BUILD]        (BUILD defaults to build; run from the repository top)
# Prints PASS/FAIL lines like the integration tests, and one "bench:" line with the numbers.
[ $# -gt 0 ] && BUILD=$1
. tests/lib.sh
. tests/sim/simlib.sh

N=bench_scan
TIMEOUT_MS=2000
export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T_TMP/no-such-bus"
[ -x "$SHELLY_TUI" ] && [ -x "$SHELLY_SIM" ] || { fail "$N" "build $SHELLY_TUI and $SHELLY_SIM first"; exit 1; }

faults=""
i=20
while [ $i -lt 254 ]; do
	faults="$faults${faults:+,}$i:silent"
	i=$((i + 1))
done
if ! sim_start $N --fixtures tests/fixtures --count 254 \
	--models gen1/shelly-1,gen2/plus-1pm,gen3/1pm-gen3,gen4/1-gen4 --fault "$faults"; then
	fail "$N: start" "$(cat "$SIM_ERR")"
	exit 1
fi
[ "$(mf '[.devices[] | select(.fault == "silent")] | length')" = 234 ] &&
	[ "$(mf '.devices[253].addr')" = "$SIM_NET.254" ] || { fail "$N: sim layout" "$(mf '.devices | length')"; exit 1; }
: >"$T_TMP/config"

# --- shelly-tui ---
t0=$(now_ms)
"$SHELLY_TUI" --db "$T_TMP/db" --config "$T_TMP/config" --discover --scan-only "$SIM_NET.0/24" \
	--port "$SIM_PORT" --json >"$T_TMP/scan.json" 2>"$T_TMP/scan.err"
rc=$?
ours=$(( $(now_ms) - t0 ))
found=$(jq -r '.summary.scan_found' "$T_TMP/scan.json" 2>/dev/null)
silent=$(jq -r '.summary.scan_no_answer' "$T_TMP/scan.json" 2>/dev/null)
[ $rc -eq 0 ] && [ "$found" = 20 ] && [ "$silent" = 234 ] &&
	pass "$N: found 20 of 20, 234 silent" || fail "$N: result" "rc=$rc found=$found silent=$silent $(head -c 300 "$T_TMP/scan.err")"
limit=$((TIMEOUT_MS + 1000))
[ $ours -lt $limit ] && pass "$N: /24 in $ours ms (limit $limit ms)" || fail "$N: too slow" "$ours ms >= $limit ms"

# --- baseline: curl, 256 in parallel, same connect timeout, same URLs ---
if curl --help all 2>/dev/null | grep -q -- '--parallel-max'; then
	: >"$T_TMP/urls"
	i=1
	while [ $i -le 254 ]; do
		printf 'url = "http://%s.%d:%s/shelly"\noutput = "/dev/null"\n' "$SIM_NET" $i "$SIM_PORT" >>"$T_TMP/urls"
		i=$((i + 1))
	done
	t0=$(now_ms)
	curl --parallel --parallel-max 256 --connect-timeout $((TIMEOUT_MS / 1000)) \
		--max-time $((TIMEOUT_MS / 1000)) -s -K "$T_TMP/urls" >/dev/null 2>&1
	base=$(( $(now_ms) - t0 ))
	ratio=$(awk -v a=$ours -v b=$base 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }')
	echo "bench: scan /24 (20 live, 234 silent, timeout ${TIMEOUT_MS} ms): shelly-tui $ours ms," \
		"curl --parallel-max 256 $base ms, ratio $ratio"
else
	echo "bench: scan /24 (20 live, 234 silent, timeout ${TIMEOUT_MS} ms): shelly-tui $ours ms" \
		"(no baseline: curl lacks --parallel)"
fi
exit $T_FAILED
