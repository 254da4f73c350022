#!/bin/sh
# Full poll of a simulated fleet (default 200 devices, every fixture model round-robin) by
# `shelly-tui --poll-once` against the baseline `curl --parallel --parallel-max 64` fetching
# the same single status URL per device (Gen1 /status, Gen2+ /rpc/Shelly.GetStatus) in the
# same run. Runs are interleaved (curl, poll-once, curl, ...) BENCH_REPEAT times (default 5)
# after one warm-up each; medians are reported.
#
#   wall:  process wall time, goal <= 1.3x curl (and the wish of issue 7: <= 1.1x)
#   cpu:   (user + sys) / devices, in microseconds, against curl's per fetch, goal <= 1.0x
#   reqs:  HTTP requests the sim served per device during one poll-once (curl: 1)
#   fixed: the same commands with no work (poll-once on an empty registry, curl of one URL):
#          process start, library and database set-up, which both walls include
# usage: sh tests/bench/poll.sh [BUILD]   (BENCH_POLL_N, BENCH_REPEAT override the sizes)
. tests/bench/lib.sh

N=${BENCH_POLL_N:-200}
R=${BENCH_REPEAT:-5}
NAME="poll$N"
DB=$B_TMP/poll.db
EMPTY=$B_TMP/empty.db

if ! sim_up 127.230.0 "$N" 30; then
	bench_fail "$NAME" "sim did not start: $(head -c 300 "$SIM_ERR")"
	exit 1
fi
n=$(db_fill "$DB" 2>"$B_TMP/fill.err") && [ "$n" = "$N" ] ||
	{ bench_fail "$NAME" "cannot register $N devices: ${n:-} $(head -c 300 "$B_TMP/fill.err")"; exit 1; }
db_new "$EMPTY" 2>"$B_TMP/fill.err" ||
	{ bench_fail "$NAME" "cannot create a database: $(head -c 300 "$B_TMP/fill.err")"; exit 1; }
$PY curlcfg "$SIM_MANIFEST" "$B_TMP/curl.cfg" >/dev/null
first_url=$(sed -n '1s/^url = "\(.*\)"$/\1/p' "$B_TMP/curl.cfg")

# Correctness first: every device online, curl fetched every URL.
out=$("$SHELLY_TUI" --poll-once --db "$DB" 2>"$B_TMP/poll.err")
case $out in
*"polled $N devices: online $N "*) ;;
*) bench_fail "$NAME" "poll-once did not see $N devices online: $out $(head -c 300 "$B_TMP/poll.err")"
   exit 1 ;;
esac
r0=$($PY requests "$SIM_CTL")
curl -sS --fail --parallel --parallel-max 64 -K "$B_TMP/curl.cfg" 2>"$B_TMP/curl.err" ||
	{ bench_fail "$NAME" "curl baseline failed: $(head -c 300 "$B_TMP/curl.err")"; exit 1; }
r1=$($PY requests "$SIM_CTL")
"$SHELLY_TUI" --poll-once --db "$DB" -q >/dev/null 2>&1
r2=$($PY requests "$SIM_CTL")

cw="" cc="" pw="" pc="" fw="" fc=""
i=0
while [ $i -lt "$R" ]; do
	c=$(timeit curl -sS --fail --parallel --parallel-max 64 -K "$B_TMP/curl.cfg")
	p=$(timeit "$SHELLY_TUI" --poll-once --db "$DB" -q)
	[ "$(field 5 "$c")" = 0 ] || { bench_fail "$NAME" "curl exit $(field 5 "$c")"; exit 1; }
	[ "$(field 5 "$p")" = 0 ] || { bench_fail "$NAME" "poll-once exit $(field 5 "$p")"; exit 1; }
	cw="$cw $(field 1 "$c")" pw="$pw $(field 1 "$p")"
	cc="$cc $(calc "$(field 2 "$c") + $(field 3 "$c")")"
	pc="$pc $(calc "$(field 2 "$p") + $(field 3 "$p")")"
	f=$(timeit "$SHELLY_TUI" --poll-once --db "$EMPTY" -q)
	g=$(timeit curl -sS --fail -o /dev/null "$first_url")
	fw="$fw $(field 1 "$f")" fc="$fc $(field 1 "$g")"
	i=$((i + 1))
done

cw=$(median $cw) pw=$(median $pw) cc=$(median $cc) pc=$(median $pc)
fw=$(median $fw) fc=$(median $fc)
echo "# $NAME runs: poll-once wall [$pw] s, curl wall [$cw] s (medians of $R)"
ratio=$(calc "$pw / $cw")
bench_line "$NAME wall" "$(calc "$pw * 1000")" ms "curl $(calc "$cw * 1000") ms" "$ratio" \
	"$(goal_le "$ratio" 1.3 "<= 1.3x"), wish: $(goal_le "$ratio" 1.1 "<= 1.1x")"
ratio=$(calc "$pc / $cc")
bench_line "$NAME cpu per device" "$(calc "$pc / $N * 1000000")" "us" \
	"curl $(calc "$cc / $N * 1000000") us" "$ratio" "$(goal_le "$ratio" 1.0 "<= 1.0x")"
bench_line "$NAME requests per device" "$(calc "($r2 - $r1) / $N")" "" \
	"curl $(calc "($r1 - $r0) / $N")" "$(calc "($r2 - $r1) / ($r1 - $r0)")"
bench_line "$NAME fixed cost" "$(calc "$fw * 1000")" "ms (poll-once, 0 devices)" \
	"curl one URL $(calc "$fc * 1000") ms" "$(calc "$fw / $fc")"
bench_line "$NAME wall less fixed cost" "$(calc "($pw - $fw) * 1000")" ms \
	"curl $(calc "($cw - $fc) * 1000") ms" "$(calc "($pw - $fw) / ($cw - $fc)")"
