#!/bin/sh
# 10,000 devices in one poller: `shelly-tui --poll-once` cycles over a simulated fleet of
# BENCH_FLEET_N devices (default 10000, on 127.232.0.1 onwards, ~40 /24s), wall time and peak
# RSS (getrusage of the child), against `curl --parallel --parallel-max 64` fetching the same
# status URL per device in the same run. The first cycle over a new registry is measured on
# its own: it also reads every device's configuration once (the first snapshot) and records
# every device's first state, so it makes two requests per device where curl makes one. The
# cycle figures are those of the next cycle, the steady state a poller repeats. If the sim
# cannot start that many devices (file descriptors, memory), the largest of N/2, N/4, ... down
# to 1000 that starts is measured and the reason printed.
# usage: sh tests/bench/fleet10k.sh [BUILD]
. tests/bench/lib.sh

N=${BENCH_FLEET_N:-10000}
# The sim needs a listener per device; it raises its own limit, this helps when it cannot.
hard=$(ulimit -Hn)
if [ "$hard" = unlimited ] || [ "$hard" -gt $((N + 1024)) ] 2>/dev/null; then
	ulimit -n $((N + 1024)) 2>/dev/null
else
	ulimit -n "$hard" 2>/dev/null
fi

want=$N
why=""
while :; do
	if sim_up 127.232.0 "$N" 120; then
		break
	fi
	why="sim did not start $N devices (nofile limit $(ulimit -n)): $(head -c 200 "$SIM_ERR")"
	echo "# $why"
	N=$((N / 2))
	if [ "$N" -lt 1000 ]; then
		bench_fail "fleet$want" "$why"
		exit 1
	fi
done
NAME="fleet$N"
[ "$N" = "$want" ] || echo "# measuring $N devices instead of $want: $why"

n=$(db_fill "$B_TMP/fleet.db" 2>"$B_TMP/fill.err") && [ "$n" = "$N" ] ||
	{ bench_fail "$NAME" "cannot register $N devices: ${n:-} $(head -c 300 "$B_TMP/fill.err")"; exit 1; }
$PY curlcfg "$SIM_MANIFEST" "$B_TMP/curl.cfg" >/dev/null

c=$(timeit curl -sS --fail --parallel --parallel-max 64 -K "$B_TMP/curl.cfg")
[ "$(field 5 "$c")" = 0 ] || { bench_fail "$NAME" "curl exit $(field 5 "$c")"; exit 1; }

# poll_cycle: one --poll-once, every device online; its timeit line in $p.
poll_cycle() {
	BENCH_LOG=$B_TMP/poll.out
	export BENCH_LOG
	: >"$BENCH_LOG"
	p=$(timeit "$SHELLY_TUI" --poll-once --db "$B_TMP/fleet.db" -q)
	unset BENCH_LOG
	summary=$(grep '^polled' "$B_TMP/poll.out")
	echo "# $NAME poll-once: $summary"
	[ "$(field 5 "$p")" = 0 ] || { bench_fail "$NAME" "poll-once exit $(field 5 "$p")"; exit 1; }
	case $summary in
	*"polled $N devices: online $N "*) ;;
	*) bench_fail "$NAME" "not every device online: $summary"; exit 1 ;;
	esac
}

# Requests the sim served: curl's fetch was counted above as one per device; measured here.
rc0=$($PY requests "$SIM_CTL")
curl -sS --fail --parallel --parallel-max 64 -K "$B_TMP/curl.cfg" ||
	{ bench_fail "$NAME" "curl failed"; exit 1; }
r0=$($PY requests "$SIM_CTL")
creq=$(calc "($r0 - $rc0) / $N")
poll_cycle
r1=$($PY requests "$SIM_CTL")
first_rss=$(field 4 "$p")
bench_line "$NAME first cycle wall (new registry: status and configuration of every device)" \
	"$(calc "$(field 1 "$p")")" s "curl $(calc "$(field 1 "$c")") s" \
	"$(calc "$(field 1 "$p") / $(field 1 "$c")")"
bench_line "$NAME first cycle requests per device" "$(calc "($r1 - $r0) / $N")" "" "curl $creq" \
	"$(calc "($r1 - $r0) / $N / $creq")"
bench_line "$NAME first cycle peak rss" "$(calc "$first_rss / 1024")" MB \
	"curl $(calc "$(field 4 "$c") / 1024") MB" "$(calc "$first_rss / $(field 4 "$c")")"
poll_cycle
r2=$($PY requests "$SIM_CTL")
bench_line "$NAME cycle requests per device" "$(calc "($r2 - $r1) / $N")" "" "curl $creq" \
	"$(calc "($r2 - $r1) / $N / $creq")"

pw=$(field 1 "$p") cw=$(field 1 "$c")
bench_line "$NAME cycle wall" "$(calc "$pw")" s "curl $(calc "$cw") s" "$(calc "$pw / $cw")"
bench_line "$NAME cpu per device" "$(calc "($(field 2 "$p") + $(field 3 "$p")) / $N * 1000000")" us \
	"curl $(calc "($(field 2 "$c") + $(field 3 "$c")) / $N * 1000000") us" \
	"$(calc "($(field 2 "$p") + $(field 3 "$p")) / ($(field 2 "$c") + $(field 3 "$c"))")"
bench_line "$NAME peak rss" "$(calc "$(field 4 "$p") / 1024")" MB \
	"curl $(calc "$(field 4 "$c") / 1024") MB" "$(calc "$(field 4 "$p") / $(field 4 "$c")")"
