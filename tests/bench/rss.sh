#!/bin/sh
# Peak RSS of `shelly-tui --headless` polling a simulated fleet (default 1000 devices) with
# 1 s poll intervals for several cycles (default 5: until shelly_polls_total >= 5 x devices,
# read from its own /metrics, which is scraped every half second as Prometheus would),
# against the same binary with an empty registry run for the same time. VmHWM from
# /proc/PID/status. Goal: <= 16 MB (16384 kB) with 1000 devices. VmHWM counts the pages of
# shared libraries too (libcrypto, gnutls, sqlite, ... about 11 MB here, shared with other
# processes), so the private part, VmHWM - RssFile (file-backed pages at the end), is printed
# as well, and Pss and Private (clean + dirty) from /proc/PID/smaps_rollup at the end.
# usage: sh tests/bench/rss.sh [BUILD]   (BENCH_RSS_N, BENCH_RSS_CYCLES override the sizes)
. tests/bench/lib.sh

N=${BENCH_RSS_N:-1000}
CYCLES=${BENCH_RSS_CYCLES:-5}
NAME="headless$N"
GOAL_KB=16384

cat >"$B_TMP/config" <<EOF
set poll-interval-gen1 1s
set poll-interval-gen2 1s
set flush-interval 1s
set log-level warn
EOF

HL_PID=""
HL_URL=""
# hl_start DB LOG: starts --headless, waits (bounded) for its metrics URL.
hl_start() {
	"$SHELLY_TUI" --headless --db "$1" --listen 127.0.0.1:0 --config "$B_TMP/config" \
		>"$2.out" 2>"$2.err" &
	HL_PID=$!
	B_PIDS="$B_PIDS $HL_PID"
	_end=$(( $(now_ms) + 15000 ))
	HL_URL=""
	while [ -z "$HL_URL" ] && pid_alive "$HL_PID" && [ "$(now_ms)" -lt "$_end" ]; do
		sleep 0.05
		HL_URL=$(sed -n 's/^metrics: //p' "$2.out")
	done
	[ -n "$HL_URL" ]
}

# hl_stop: SIGTERM, bounded wait; 0 when it exited 0.
hl_stop() {
	kill -TERM "$HL_PID" 2>/dev/null
	if ! wait_pid "$HL_PID" 15; then
		kill -KILL "$HL_PID" 2>/dev/null
		wait "$HL_PID" 2>/dev/null
		return 1
	fi
	wait "$HL_PID"
}

if ! sim_up 127.231.0 "$N" 30; then
	bench_fail "$NAME rss" "sim did not start: $(head -c 300 "$SIM_ERR")"
	exit 1
fi
n=$(db_fill "$B_TMP/fleet.db" 2>"$B_TMP/fill.err") && [ "$n" = "$N" ] ||
	{ bench_fail "$NAME rss" "cannot register $N devices: ${n:-} $(head -c 300 "$B_TMP/fill.err")"; exit 1; }
db_new "$B_TMP/empty.db" 2>"$B_TMP/fill.err" ||
	{ bench_fail "$NAME rss" "cannot create a database: $(head -c 300 "$B_TMP/fill.err")"; exit 1; }

# The fleet: until CYCLES polls per device are done (bounded: 4 s per cycle plus 20 s).
hl_start "$B_TMP/fleet.db" "$B_TMP/fleet" ||
	{ bench_fail "$NAME rss" "headless did not start: $(head -c 300 "$B_TMP/fleet.err")"; exit 1; }
t0=$(now_ms)
limit=$(( t0 + (CYCLES * 4 + 20) * 1000 ))
want=$(( CYCLES * N ))
polls=0
while :; do
	polls=$($PY metric "$HL_URL" shelly_polls_total)
	case $polls in nan) polls=0 ;; esac
	polls=${polls%%.*}
	[ "$polls" -ge "$want" ] && break
	if ! pid_alive "$HL_PID" || [ "$(now_ms)" -ge "$limit" ]; then
		break
	fi
	sleep 0.5
done
elapsed=$(( $(now_ms) - t0 ))
online=$($PY metric "$HL_URL" 'shelly_devices{state="online"}')
errors=$($PY metric "$HL_URL" shelly_poll_errors_total)
[ "$errors" = nan ] && errors=0 # no series: no error yet
queue=$($PY metric "$HL_URL" shelly_store_queue_items)
mbytes=$(curl -s -m 10 "$HL_URL" | wc -c)
mem=$($PY hwm "$HL_PID")
hl_stop; rc=$?
echo "# $NAME: $polls polls in $elapsed ms, online $online, poll errors $errors," \
	"store queue $queue, /metrics $mbytes bytes, VmHWM RssAnon RssFile Pss Private $mem kB, exit $rc"
if [ "$polls" -lt "$want" ]; then
	bench_fail "$NAME rss" "only $polls of $want polls within the time bound (online $online)"
	exit 1
fi

# The baseline: no devices, the same time, the same scrapes.
hl_start "$B_TMP/empty.db" "$B_TMP/empty" ||
	{ bench_fail "$NAME rss" "headless (empty) did not start"; exit 1; }
end=$(( $(now_ms) + elapsed ))
while [ "$(now_ms)" -lt "$end" ] && pid_alive "$HL_PID"; do
	$PY metric "$HL_URL" shelly_polls_total >/dev/null
	sleep 0.5
done
bmem=$($PY hwm "$HL_PID")
hl_stop
echo "# 0 devices: VmHWM RssAnon RssFile Pss Private $bmem kB"
hwm=$(field 1 "$mem") base=$(field 1 "$bmem")
priv=$(calc "$hwm - $(field 3 "$mem")") bpriv=$(calc "$base - $(field 3 "$bmem")")

per=$(calc "($hwm - $base) / $N")
bench_line "$NAME peak rss after $CYCLES cycles" "$(calc "$hwm / 1024")" MB \
	"0 devices $(calc "$base / 1024") MB" "$(calc "$hwm / $base")" \
	"$(goal_le "$hwm" "$GOAL_KB" "<= 16 MB")"
bench_line "$NAME peak private (VmHWM - RssFile)" "$(calc "$priv / 1024")" MB \
	"0 devices $(calc "$bpriv / 1024") MB" "$(calc "$priv / $bpriv")"
bench_line "$NAME pss at the end" "$(calc "$(field 4 "$mem") / 1024")" MB \
	"0 devices $(calc "$(field 4 "$bmem") / 1024") MB" "$(calc "$(field 4 "$mem") / $(field 4 "$bmem")")"
bench_line "$NAME private (clean + dirty) at the end" "$(calc "$(field 5 "$mem") / 1024")" MB \
	"0 devices $(calc "$(field 5 "$bmem") / 1024") MB" "$(calc "$(field 5 "$mem") / $(field 5 "$bmem")")"
bench_line "$NAME rss per device" "$per" "kB" "0 devices 0 kB" "-"
