#!/bin/sh
# The network guard's check of a /8 scan target (tests/bench/bench_guard.c): the interval check
# scan_targets_check_guard against the per-address check it replaced, both in this run. Pure
# computation: nothing is sent anywhere.
# usage: sh tests/bench/guard.sh [BUILD]   (BENCH_GUARD_ROUNDS overrides the rounds)
. tests/bench/lib.sh

NAME="guard check of a /8 target"
bench_c "$NAME" tests/bench/bench_guard.c "$BUILD/bench/bench_guard" -r "${BENCH_GUARD_ROUNDS:-3}" ||
	exit 1
val() { sed -n "s/.* $1=\([0-9.]*\).*/\1/p" "$B_TMP/out" | head -n 1; }
n=$(val addresses) per=$(val per_address_us) iv=$(val interval_us) steps=$(val steps)
ratio=$(calc "$iv / ($per + 0.001)")
bench_line "$NAME ($n addresses), wall per check" "$iv" us "per address $per us" "$ratio" \
	"$(goal_le "$ratio" 0.001 "<= 0.001x")"
bench_line "$NAME, guard steps" "$steps" "" "per address $n" "$(calc "$steps / $n")"
