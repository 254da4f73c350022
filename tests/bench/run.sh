#!/bin/sh
# `make bench`: the benchmarks of issue 3 (and the discovery scan of issue 4 when
# tests/bench/scan.sh exists), against the simulated fleet on loopback only. Not part of
# `make check`. Every figure is a ratio against a baseline measured in the same run, because
# the machines are shared and noisy. Bounded in time; a few minutes on 2 cores.
#
#   parse.sh     parse + store CPU per device (bench_parse.c), goal <= 50 us
#   poll.sh      poll-once of 200 devices vs curl --parallel: wall (goal <= 1.3x), CPU/device
#                (goal <= 1.0x)
#   rss.sh       --headless peak RSS with 1000 devices after 5 cycles (goal <= 16 MB)
#   scan.sh      discovery scan of a /24
#   fleet10k.sh  poll-once of 10,000 devices: the first cycle over a new registry (it also
#                reads every configuration), then the steady cycle: wall, CPU, peak RSS
#   tui.sh       the console with 1000 devices: CPU per key and per second, bytes to the terminal
#   drift.sh     the DRIFT column's recomputation over 1000 devices: template cached vs read per device
#   queue.sh     the configuration queue's check of a change for each of 1000 devices: hashed vs per-change reads
#   guard.sh     the network guard's check of a /8 scan target: by intervals vs per address
#   import.sh    --import --dry-run of 80k settings keys against 20k (goal <= 8x: linear)
#   standby.sh   /metrics of a standing-by --headless (1000 devices, read from the store)
#                against the leader's, CPU per scrape
#
# Each part is run as `sh tests/bench/PART.sh BUILD` with BUILD, SHELLY_TUI, SHELLY_SIM and
# SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 in the environment, under a time bound; its lines starting
# with "BENCH " are collected into the final block (format: "BENCH name: value unit (baseline
# X, ratio Y)", then "goal ... ok" or "MISSED goal ..."); so are "bench: ..." lines (as BENCH)
# and "FAIL: ..." lines (as FAILED) of parts that follow tests/lib.sh. Exit status: 0 when
# every part ran (missed goals are printed, not failures), 1 when a part failed to run.
# usage: sh tests/bench/run.sh [BUILD]   (BENCH_ONLY="poll rss" runs a subset)
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
BUILD=${1:-build}
SHELLY_TUI=$BUILD/shelly-tui
SHELLY_SIM=$BUILD/shelly-sim
export BUILD SHELLY_TUI SHELLY_SIM
export SHELLY_TUI_ALLOW_NETS=127.0.0.0/8

for f in "$SHELLY_TUI" "$SHELLY_SIM"; do
	[ -x "$f" ] || { echo "bench: $f missing (make all first)" >&2; exit 1; }
done
[ -f "$BUILD/libshelly.a" ] || { echo "bench: $BUILD/libshelly.a missing" >&2; exit 1; }
for t in python3 curl awk; do
	command -v "$t" >/dev/null 2>&1 || { echo "bench: needs $t" >&2; exit 1; }
done

logdir=$(mktemp -d "${TMPDIR:-/tmp}/shelly-bench-run.XXXXXX")
trap 'rm -rf "$logdir"' EXIT
trap 'exit 130' INT TERM
results=$logdir/results
: >"$results"
failed=0
t_start=$(date +%s)

# part NAME BOUND_S: runs tests/bench/NAME.sh, shows its output, keeps its BENCH lines.
part() {
	_name=$1 _bound=$2
	case " ${BENCH_ONLY:-$_name} " in *" $_name "*) ;; *) return 0 ;; esac
	echo "== $_name ($(date +%H:%M:%S), load $(cut -d' ' -f1-3 /proc/loadavg))"
	_t0=$(date +%s)
	timeout -k 10 "$_bound" sh "tests/bench/$_name.sh" "$BUILD" >"$logdir/$_name.log" 2>&1
	_rc=$?
	cat "$logdir/$_name.log"
	# Parts written to the integration-test conventions ("bench: ..." figures, "FAIL: ..."
	# checks, e.g. scan.sh) are carried over too.
	sed -n -e '/^BENCH /p' -e "s/^bench: /BENCH /p" -e "s/^FAIL: \(.*\)/BENCH $_name: FAILED (\1)/p" \
		"$logdir/$_name.log" >>"$results"
	if [ $_rc -ne 0 ]; then
		[ $_rc -eq 124 ] && _why="timed out after $_bound s" || _why="exit $_rc"
		grep -q '^BENCH .*FAILED' "$logdir/$_name.log" ||
			echo "BENCH $_name: FAILED ($_why)" >>"$results"
		echo "== $_name: $_why"
		failed=1
	fi
	echo "== $_name done in $(( $(date +%s) - _t0 )) s"
}

part parse 240
part poll 180
part rss 180
if [ -f tests/bench/scan.sh ]; then
	part scan 180
else
	echo "== scan: tests/bench/scan.sh not present, skipped"
fi
part fleet10k 420
part tui 180
part drift 120
part queue 120
part guard 120
part import 120
part standby 180

echo
echo "==== BENCH results: $BUILD, $(date '+%Y-%m-%d %H:%M'), $(nproc) cpus," \
	"load $(cut -d' ' -f1-3 /proc/loadavg), $(( $(date +%s) - t_start )) s ===="
cat "$results"
missed=$(grep -c 'MISSED' "$results")
nfail=$(grep -c 'FAILED' "$results")
echo "==== $(grep -c . "$results") figures, $missed goals missed, $nfail benchmarks failed ===="
[ $failed -eq 0 ] && [ "$nfail" -eq 0 ]
