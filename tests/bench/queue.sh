#!/bin/sh
# The configuration queue's uniqueness check of a change queued for every one of 1000 devices
# (tests/bench/bench_queue.c): CPU time per change with the registry read once into a hash
# (engine/cfgholders), against the check as it was, reading every other device's address and
# desired configuration for each change, in the same run.
# usage: sh tests/bench/queue.sh [BUILD]   (BENCH_QUEUE_N overrides the device count)
. tests/bench/lib.sh

N=${BENCH_QUEUE_N:-1000}
NAME="queued change check ($N devices, one change each)"
bench_c "$NAME" tests/bench/bench_queue.c "$BUILD/bench/bench_queue" "$B_TMP" "$N" || exit 1
val() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$B_TMP/out" | head -n 1; }
h=$(val hashed_us) p=$(val pairwise_us)
bench_line "$NAME CPU per change, registry read once" "$h" us "registry read per change $p us" \
	"$(calc "$h / ($p + 0.001)")"
