#!/bin/sh
# The parse + store half of a device poll, without network: tests/bench/bench_parse.c built
# with the Makefile's flags against BUILD/libshelly.a, run over real fixture bodies. CPU time
# per device (goal <= 50 us) against bare cJSON parsing of the same bodies, with the share of
# each step; then, when valgrind is installed, instructions per device under callgrind (the
# difference of two run lengths, so set-up is not counted).
# usage: sh tests/bench/parse.sh [BUILD]   (BENCH_PARSE_N overrides the device count)
. tests/bench/lib.sh

N=${BENCH_PARSE_N:-20000}
BIN=$BUILD/bench/bench_parse
NAME="parse+store"

# The Makefile's compiler flags and libraries (without dependency-file generation).
flags=$(make -s --no-print-directory BUILD="$BUILD" \
	--eval 'bench-print-flags: ; @echo "$(CC)|$(filter-out -MMD -MP,$(ALL_CFLAGS))|$(LIBS)"' \
	bench-print-flags 2>/dev/null | tail -n 1)
case $flags in
*"|"*"|"*) ;;
*)	pk="ncursesw libcurl libcjson sqlite3 avahi-client libmicrohttpd"
	flags="cc|-O2 -g -std=c11 -D_DEFAULT_SOURCE -D_GNU_SOURCE -Wall -Wextra -Wshadow \
-Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla -Werror -Iinclude \
$(pkg-config --cflags $pk)|$(pkg-config --libs $pk) -lcrypto -lm" ;;
esac
cc=${flags%%|*} rest=${flags#*|}
cflags=${rest%%|*} libs=${rest#*|}
mkdir -p "$BUILD/bench"
# shellcheck disable=SC2086 # flag lists are meant to be split
if ! $cc $cflags -o "$BIN" tests/bench/bench_parse.c "$BUILD/libshelly.a" $libs \
	2>"$B_TMP/cc.err"; then
	bench_fail "$NAME" "bench_parse does not build: $(head -c 400 "$B_TMP/cc.err")"
	exit 1
fi

if ! "$BIN" -n "$N" >"$B_TMP/out" 2>"$B_TMP/err"; then
	bench_fail "$NAME" "bench_parse failed: $(head -c 300 "$B_TMP/err")"
	exit 1
fi
sed 's/^/# /' "$B_TMP/out"
# val PHASE KEY: the number after KEY= on the phase's line.
val() { sed -n "s/^bench_parse $1 .*$2=\([0-9.]*\).*/\1/p" "$B_TMP/out"; }
cj=$(val cjson cpu_us) pa=$(val parse cpu_us) js=$(val json cpu_us) fu=$(val full cpu_us)
fw=$(val full wall_us) jw=$(val json wall_us)

bench_line "$NAME cpu per device" "$fu" us "cJSON parse alone $cj us" "$(calc "$fu / $cj")" \
	"$(goal_le "$fu" 50 "<= 50 us")"
bench_line "$NAME   typed parse (gen1/gen2_parse_status)" "$pa" us "cJSON $cj us" \
	"$(calc "$pa / $cj")"
bench_line "$NAME   queue + flush (store)" "$(calc "$fu - $pa")" "us cpu" \
	"cJSON $cj us" "$(calc "($fu - $pa) / $cj")"
bench_line "$NAME   (device object, built only when listing: device_to_json)" "$(calc "$js - $pa")" us \
	"cJSON $cj us" "$(calc "($js - $pa) / $cj")"

if command -v valgrind >/dev/null 2>&1; then
	# ir PHASE COUNT: instructions of one bench_parse run.
	ir() {
		valgrind --tool=callgrind --callgrind-out-file="$B_TMP/cg.out" "$BIN" -p "$1" -n "$2" \
			>/dev/null 2>"$B_TMP/cg.err" || { echo nan; return; }
		sed -n 's/.*Collected : *\([0-9]*\).*/\1/p' "$B_TMP/cg.err" | tail -n 1
	}
	f1=$(ir full 100) f2=$(ir full 600) c1=$(ir cjson 100) c2=$(ir cjson 600)
	if [ -n "$f1" ] && [ -n "$f2" ] && [ -n "$c1" ] && [ -n "$c2" ] &&
	    ! echo "$f1 $f2 $c1 $c2" | grep -q nan; then
		fir=$(calc "($f2 - $f1) / 500") cir=$(calc "($c2 - $c1) / 500")
		bench_line "$NAME instructions per device (callgrind)" "$fir" "" "cJSON parse alone $cir" \
			"$(calc "$fir / $cir")"
	else
		echo "# callgrind run failed: $(head -c 200 "$B_TMP/cg.err")"
	fi
else
	echo "# valgrind not installed: no instruction count"
fi
