#!/bin/sh
# Runs the whole suite for each build directory given (e.g. build build-san): cmocka unit tests,
# fuzz corpus replays, integration scripts. Prints one closing line "N passed, N failed" (with
# ", N skipped" when anything was skipped). Exit status 0 only when nothing failed.
# TESTS_JOBS (default 2) integration scripts run in parallel; each uses its own addresses.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ $# -gt 0 ] || set -- build
jobs=${TESTS_JOBS:-2}
logdir=$(mktemp -d "${TMPDIR:-/tmp}/shelly-run.XXXXXX")
export SHELLY_TUI_ALLOW_NETS=127.0.0.0/8
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# A home of the suite's own: no test reads or writes the user's configuration, data or
# templates (a test that wants a file there makes it), and none depends on what is there.
export HOME="$logdir/home"
unset XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME
mkdir -p "$HOME"

# Unit tests and fuzz replays each run in a network namespace of their own that holds only
# loopback (brought up): their inputs name addresses of every kind (parser cases, the edges of
# the IPv4 space, real device captures), and there nothing can reach a real network. Root
# makes one; elsewhere a user namespace does. Without either they are not run (SKIP).
netns=""
for u in "unshare --net" "unshare --user --map-root-user --net"; do
	if $u sh -c 'ip link set lo up && [ "$(grep -c : /proc/self/net/dev)" = 1 ]' 2>/dev/null; then
		netns=$u
		break
	fi
done
in_netns() { timeout 600 $netns sh -c 'ip link set lo up && exec "$@"' sh "$@"; }

n=0
run_one() { # KIND BUILD FILE LOG
	kind=$1 build=$2 file=$3 log=$4
	if [ "$kind" != integ ] && [ -z "$netns" ]; then
		echo "SKIP: $(basename "$file"): no network namespace (needs root or user namespaces)" >"$log"
		[ "$kind" = unit ] && echo "[  SKIPPED ] 1 test" >>"$log" && echo "rc=0" >>"$log"
		return
	fi
	case $kind in
	unit)
		in_netns "$file" >"$log" 2>&1
		echo "rc=$?" >>"$log" ;;
	replay)
		in_netns "$file" >"$log" 2>&1
		rc=$?
		name=$(basename "$file")
		if [ $rc -eq 0 ]; then echo "PASS: $name" >>"$log"; else echo "FAIL: $name: exit $rc" >>"$log"; fi ;;
	integ)
		BUILD=$build SHELLY_TUI=$build/shelly-tui SHELLY_SIM=$build/shelly-sim \
			timeout 600 sh "$file" >"$log" 2>&1
		rc=$?
		if [ $rc -ne 0 ] && ! grep -q '^FAIL: ' "$log"; then
			echo "FAIL: $(basename "$file"): exit $rc" >>"$log"
		fi ;;
	esac
}

list=$logdir/list
: >"$list"
for b in "$@"; do
	for f in "$b"/tests/test_*; do [ -x "$f" ] && echo "unit $b $f" >>"$list"; done
	for f in "$b"/fuzz/replay_*; do [ -x "$f" ] && echo "replay $b $f" >>"$list"; done
	for f in tests/integration/*.sh; do
		case $(basename "$f") in netns.sh|lib*.sh) continue ;; esac
		[ -f "$f" ] || continue
		# Scripts marked "# test: serial" (hundreds of concurrent probes, or windows that a
		# second job would squeeze) run after the pool, alone.
		if grep -q '^# test: serial' "$f"; then
			echo "integ $b $f" >>"$list.serial"
		else
			echo "integ $b $f" >>"$list"
		fi
	done
done

# Simple job pool: at most $jobs at once.
pids=""
while read -r kind b f; do
	n=$((n + 1))
	log=$logdir/$n.$kind.$(basename "$b").$(basename "$f").log
	run_one "$kind" "$b" "$f" "$log" &
	pids="$pids $!"
	while [ "$(jobs -p | wc -l)" -ge "$jobs" ]; do sleep 0.1; done
done <"$list"
wait
if [ -f "$list.serial" ]; then
	while read -r kind b f; do
		n=$((n + 1))
		run_one "$kind" "$b" "$f" "$logdir/$n.$kind.$(basename "$b").$(basename "$f").log"
	done <"$list.serial"
fi

passed=0 failed=0 skipped=0
for log in "$logdir"/*.log; do
	[ -f "$log" ] || continue
	name=$(basename "$log" .log)
	case $name in
	*.unit.*)
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
		s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$log" | tail -n 1)
		rc=$(sed -n 's/^rc=//p' "$log")
		: "${p:=0}" "${f:=0}" "${s:=0}"
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
		if [ "$f" != 0 ] || [ "$s" != 0 ]; then
			echo "== $name"; grep -E '^\[  (FAILED|SKIPPED) \]|ERROR|error|Assert|runtime error|Sanitizer' "$log" | head -40
		fi ;;
	*)
		p=$(grep -c '^PASS: ' "$log"); f=$(grep -c '^FAIL: ' "$log"); s=$(grep -c '^SKIP: ' "$log")
		passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
		if [ "$f" != 0 ] || [ "$s" != 0 ]; then
			echo "== $name"; grep -E '^(FAIL|SKIP): ' "$log" | head -20
			[ "$f" != 0 ] && tail -n 30 "$log" | sed 's/^/   | /'
		fi ;;
	esac
done
if [ -n "${TESTS_KEEP_LOGS:-}" ]; then echo "logs kept in $logdir"; else rm -rf "$logdir"; fi
if [ "$skipped" -gt 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ]
