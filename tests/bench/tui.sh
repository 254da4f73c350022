#!/bin/sh
# The console with 1000 devices on a virtual terminal (tests/bench/bench_tui.c built with the
# Makefile's flags against BUILD/libshelly.a): CPU per key press to the finished frame, CPU per
# second while idle (one frame a second), while every device changes each second and while a
# thirtieth of them does (re-read and one frame), and bytes a terminal receives for each,
# against a minimal ncurses program drawing the same visible table in the same run.
# With BENCH_TUI_OLD=DIR (the build directory of an older tree, its DIR/libshelly.a; the
# bench's headers must still fit it) the same bench is also built against that library and run
# in the same run, and each CPU figure gets a ratio against it.
# usage: sh tests/bench/tui.sh [BUILD]   (BENCH_TUI_N overrides the device count)
. tests/bench/lib.sh

N=${BENCH_TUI_N:-1000}
BIN=$BUILD/bench/bench_tui
NAME="console ($N devices)"
if ! bench_cc tests/bench/bench_tui.c "$BIN"; then
	bench_fail "$NAME" "bench_tui does not build: $(head -c 400 "$B_TMP/cc.err")"
	exit 1
fi
if ! "$BIN" -n "$N" >"$B_TMP/out" 2>"$B_TMP/err"; then
	bench_fail "$NAME" "bench_tui failed: $(head -c 300 "$B_TMP/err")"
	exit 1
fi
sed 's/^/# /' "$B_TMP/out"
OLD_OUT=""
if [ -n "${BENCH_TUI_OLD:-}" ]; then
	if BUILD=$BENCH_TUI_OLD bench_cc tests/bench/bench_tui.c "$BUILD/bench/bench_tui_old" &&
		"$BUILD/bench/bench_tui_old" -n "$N" >"$B_TMP/old" 2>"$B_TMP/err"; then
		OLD_OUT=$B_TMP/old
		sed 's/^/# old: /' "$OLD_OUT"
	else
		bench_fail "$NAME against $BENCH_TUI_OLD" "$(head -c 300 "$B_TMP/cc.err" "$B_TMP/err" 2>/dev/null)"
	fi
fi
val() { sed -n "s/^bench_tui $1 .* $2=\([0-9.]*\).*/\1/p;s/^bench_tui $1 $2=\([0-9.]*\).*/\1/p" "${3:-$B_TMP/out}" | head -n 1; }
for ph in key idle churn trickle; do
	c=$(val $ph cpu_us) b=$(val $ph bytes) bc=$(val $ph base_cpu_us) bb=$(val $ph base_bytes)
	case $ph in
	key) what="cpu per key press to the finished frame" unit=us bunit="bytes per key" ;;
	idle) what="cpu per second idle (one frame)" unit=us bunit="bytes per second idle" ;;
	churn) what="cpu per second, every device changing (re-read + frame)" unit=us bunit="bytes per second, every device changing" ;;
	trickle) what="cpu per second, a thirtieth of the devices changing (re-read + frame)" unit=us bunit="bytes per second, a thirtieth changing" ;;
	esac
	bench_line "$NAME $what" "$c" "$unit" "minimal ncurses redraw $bc us" "$(calc "$c / ($bc + 0.001)")"
	bench_line "$NAME $bunit" "$b" "" "minimal ncurses redraw $bb" "$(calc "($b + 1) / ($bb + 1)")"
	if [ -n "$OLD_OUT" ]; then
		o=$(val $ph cpu_us "$OLD_OUT")
		bench_line "$NAME $what, against the older library" "$c" "$unit" "older library $o us" "$(calc "$c / ($o + 0.001)")"
	fi
done
