#!/bin/sh
# The console's DRIFT column over 1000 devices of one group that follows a template
# (tests/bench/bench_drift.c, built like bench_tui.c; the template uses ${index}): wall time of
# one recomputation through the template cache against the same pass reading the template and
# the group's members for every device, in the same run, and how many times the template file
# was read over all cached passes.
# usage: sh tests/bench/drift.sh [BUILD]   (BENCH_DRIFT_N overrides the device count)
. tests/bench/lib.sh

N=${BENCH_DRIFT_N:-1000}
BIN=$BUILD/bench/bench_drift
NAME="drift recomputation ($N devices, one template)"
if ! bench_cc tests/bench/bench_drift.c "$BIN"; then
	bench_fail "$NAME" "bench_drift does not build: $(head -c 400 "$B_TMP/cc.err")"
	exit 1
fi
if ! "$BIN" "$B_TMP" -n "$N" >"$B_TMP/out" 2>"$B_TMP/err"; then
	bench_fail "$NAME" "bench_drift failed: $(head -c 300 "$B_TMP/err")"
	exit 1
fi
sed 's/^/# /' "$B_TMP/out"
val() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$B_TMP/out" | head -n 1; }
c=$(val cached_us) u=$(val uncached_us) reads=$(val reads) passes=$(val passes)
bench_line "$NAME wall per pass, template cached" "$c" us "template and members read per device $u us" \
	"$(calc "$c / ($u + 0.001)")"
bench_line "$NAME template reads over $passes passes" "$reads" "" "one per device per pass $((N * passes))" \
	"$(calc "$reads / ($N * $passes)")"
