# Shared helpers for tests/bench/*.sh (sourced; not a benchmark itself).
#
# Every benchmark talks only to loopback: SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 and simulated
# devices on 127.230.0.0/16 and above (integration tests use 127.10-209.x, see tests/lib.sh).
# Each benchmark prints its results as lines
#   BENCH name: value unit (baseline X, ratio Y)[ goal ... | MISSED ...]
# which tests/bench/run.sh collects into the closing block.
#
#   bench_line NAME VALUE UNIT BASELINE RATIO [NOTE]   print one BENCH line
#   bench_fail NAME WHY                                 print a BENCH line saying it did not run
#   goal_le VALUE LIMIT TEXT                            "goal TEXT ok" or "MISSED goal TEXT"
#   sim_up NET COUNT WAIT_S [sim options]               start shelly-sim with COUNT devices from
#                                                       NET.1 on a free high port; sets SIM_PID,
#                                                       SIM_PORT, SIM_MANIFEST, SIM_CTL, SIM_ERR
#   sim_down                                            SIGTERM the sim, bounded wait, then KILL
#   db_new DB                                           a database with the schema, no devices
#   db_fill DB                                          db_new + every device of SIM_MANIFEST
#   timeit CMD...                                       "wall user sys maxrss_kb rc" of CMD alone
#   bench_cc SRC BIN                                    builds SRC with the Makefile's flags
#                                                       against BUILD/libshelly.a; errors in
#                                                       $B_TMP/cc.err
#   bench_c NAME SRC BIN ARGS...                        bench_cc, then BIN ARGS into $B_TMP/out
#                                                       (shown with "# "); bench_fail NAME and
#                                                       status 1 when either step fails
#   field N "LINE"                                      Nth word of LINE
#   calc EXPR / median X... / now_ms / pid_alive PID / wait_pid PID SECONDS
set -u
B_TOP=$(cd "$(dirname "$0")/../.." && pwd)
cd "$B_TOP" || exit 1
: "${BUILD:=${1:-build}}"
: "${SHELLY_TUI:=$BUILD/shelly-tui}"
: "${SHELLY_SIM:=$BUILD/shelly-sim}"
export BUILD SHELLY_TUI SHELLY_SIM
export SHELLY_TUI_ALLOW_NETS=127.0.0.0/8
PY="python3 tests/bench/bench.py"

B_TMP=$(mktemp -d "${TMPDIR:-/tmp}/shelly-bench.XXXXXX")
B_PIDS=""
SIM_PID=""
b_cleanup() {
	for _p in $B_PIDS; do
		kill -TERM "$_p" 2>/dev/null
	done
	sim_down
	rm -rf "$B_TMP"
}
trap b_cleanup EXIT
trap 'exit 130' INT TERM

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# Arithmetic with awk (python3 starts slowly on a loaded machine): calc "1 / 3", median 3 1 2.
calc() { awk "BEGIN { x = $*; printf \"%.6g\\n\", x }" </dev/null; }
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
	if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2];
	else printf "%.6g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
field() { _n=$1; shift; set -- $1; eval "echo \${$_n}"; }
timeit() { $PY timeit "$@"; }

# pid_alive PID: 0 while it runs (not a zombie).
pid_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

# wait_pid PID SECONDS: waits (bounded) for PID to end; 0 if it ended.
wait_pid() {
	_end=$(( $(now_ms) + $2 * 1000 ))
	while pid_alive "$1"; do
		[ "$(now_ms)" -ge "$_end" ] && return 1
		sleep 0.05
	done
	return 0
}

bench_line() {
	_v="$2${3:+ $3}"
	if [ $# -ge 6 ] && [ -n "$6" ]; then
		echo "BENCH $1: $_v (baseline $4, ratio $5) $6"
	else
		echo "BENCH $1: $_v (baseline $4, ratio $5)"
	fi
}

bench_fail() { echo "BENCH $1: FAILED ($2)"; }

bench_cc() {
	_flags=$(make -s --no-print-directory BUILD="$BUILD" \
		--eval 'bench-print-flags: ; @echo "$(CC)|$(filter-out -MMD -MP,$(ALL_CFLAGS))|$(LIBS)"' \
		bench-print-flags 2>/dev/null | tail -n 1)
	_cc=${_flags%%|*} _rest=${_flags#*|}
	mkdir -p "$(dirname "$2")"
	# shellcheck disable=SC2086 # flag lists are meant to be split
	$_cc ${_rest%%|*} -o "$2" "$1" "$BUILD/libshelly.a" ${_rest#*|} 2>"$B_TMP/cc.err"
}

bench_c() {
	_bname=$1 _bsrc=$2 _bbin=$3
	shift 3
	if ! bench_cc "$_bsrc" "$_bbin"; then
		bench_fail "$_bname" "$(basename "$_bbin") does not build: $(head -c 400 "$B_TMP/cc.err")"
		return 1
	fi
	if ! "$_bbin" "$@" >"$B_TMP/out" 2>"$B_TMP/err"; then
		bench_fail "$_bname" "$(basename "$_bbin") failed: $(head -c 300 "$B_TMP/err")"
		return 1
	fi
	sed 's/^/# /' "$B_TMP/out"
}

# goal_le VALUE LIMIT TEXT
goal_le() {
	if [ "$(calc "($1) - ($2)" | cut -c1)" = "-" ] || [ "$(calc "($1) - ($2)")" = 0 ]; then
		echo "goal $3 ok"
	else
		echo "MISSED goal $3"
	fi
}

sim_down() {
	[ -n "$SIM_PID" ] || return 0
	kill -TERM "$SIM_PID" 2>/dev/null
	wait_pid "$SIM_PID" 10 || kill -KILL "$SIM_PID" 2>/dev/null
	wait "$SIM_PID" 2>/dev/null
	SIM_PID=""
}

sim_up() {
	_net=$1 _count=$2 _wait=$3
	shift 3
	SIM_MANIFEST=$B_TMP/manifest.json
	SIM_ERR=$B_TMP/sim.err
	_h=$(printf '%s%s' "$_net" "$$" | cksum | cut -d' ' -f1)
	_try=0
	while [ $_try -lt 6 ]; do
		SIM_PORT=$(( 20000 + (_h + _try * 7919) % 30000 ))
		rm -f "$SIM_MANIFEST"
		"$SHELLY_SIM" --base "$_net.1" --count "$_count" --port "$SIM_PORT" \
			--manifest "$SIM_MANIFEST" "$@" 2>"$SIM_ERR" &
		SIM_PID=$!
		_end=$(( $(now_ms) + _wait * 1000 ))
		while [ ! -s "$SIM_MANIFEST" ] && pid_alive "$SIM_PID" && [ "$(now_ms)" -lt "$_end" ]; do
			sleep 0.05
		done
		if [ -s "$SIM_MANIFEST" ]; then
			SIM_CTL=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["control"])' \
				"$SIM_MANIFEST")
			return 0
		fi
		sim_down
		grep -q 'in use' "$SIM_ERR" || break
		_try=$((_try + 1))
	done
	return 1
}

# db_new DB: creates the schema (through the binary, so migrations are the real ones).
db_new() {
	rm -f "$1" "$1-wal" "$1-shm"
	if ! "$SHELLY_TUI" --poll-once --db "$1" >/dev/null 2>"$B_TMP/db_new.err"; then
		echo "shelly-tui --poll-once --db $1 failed: $(head -c 300 "$B_TMP/db_new.err")" >&2
		return 1
	fi
}

# db_fill DB: prints the number of devices registered; errors on stderr.
db_fill() {
	db_new "$1" || return 1
	$PY filldb "$SIM_MANIFEST" "$1"
}
