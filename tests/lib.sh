# Shared helpers for tests/integration/*.sh (sourced). Each check prints one line that
# tests/run.sh counts: "PASS: name", "FAIL: name: why", "SKIP: name: why".
set -u
: "${BUILD:=build}"
: "${SHELLY_TUI:=$BUILD/shelly-tui}"
: "${SHELLY_SIM:=$BUILD/shelly-sim}"
export SHELLY_TUI_ALLOW_NETS=127.0.0.0/8

T_FAILED=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1${2:+: $2}"; T_FAILED=1; }
skip() { echo "SKIP: $1: $2"; }
# check NAME CMD...: pass if CMD succeeds.
check() { n=$1; shift; if "$@"; then pass "$n"; else fail "$n" "command failed: $*"; fi; }

# A private temporary directory removed on exit; tests add their own cleanup with at_exit.
T_TMP=$(mktemp -d "${TMPDIR:-/tmp}/shelly-test.XXXXXX")
T_CLEANUP=""
at_exit() { T_CLEANUP="$1; $T_CLEANUP"; }

# kill_ours [-SIG] PID...: signals each PID (default TERM) only while it is still a child of
# this shell. A child reaped earlier (waited for, or reaped by the shell when it exited) leaves
# its PID free, and with pid_max 32768 and two suites side by side another program has it
# within minutes: a plain `kill $PID` at exit once terminated another suite's shelly-tui.
kill_ours() {
	_ko_sig=TERM
	case ${1:-} in -*) _ko_sig=${1#-}; shift ;; esac
	for _ko_p in "$@"; do
		[ -n "$_ko_p" ] && [ -r "/proc/$_ko_p/stat" ] || continue
		# the parent is the 2nd field after the command name's closing ") "
		_ko_pp=$(sed 's/.*) //' "/proc/$_ko_p/stat" 2>/dev/null | cut -d' ' -f2)
		[ "$_ko_pp" = "$$" ] && kill -"$_ko_sig" "$_ko_p" 2>/dev/null
	done
	return 0
}
t_exit() { eval "$T_CLEANUP"; rm -rf "$T_TMP"; }
trap t_exit EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS CMD...: retries CMD every 50 ms until it succeeds or the bound passes.
wait_for() {
	limit=$1; shift
	end=$(( $(date +%s%N) / 1000000 + limit * 1000 ))
	while ! "$@" 2>/dev/null; do
		[ $(( $(date +%s%N) / 1000000 )) -ge $end ] && return 1
		sleep 0.05
	done
	return 0
}

# A 127.x.y.0/24 of this test's own, from the script name, so tests can run in parallel.
test_net() {
	h=$(printf '%s' "$1" | cksum | cut -d' ' -f1)
	echo "127.$(( 10 + h % 200 )).$(( h / 200 % 250 + 1 ))"
}

# free_port ADDR: a TCP port free on ADDR now, chosen by the kernel. For a test that must name
# its port before the listener exists (a configuration file, a move between addresses): the
# addresses from test_net are the same in a second copy of the suite running beside this one,
# so a fixed port there would collide.
free_port() {
	python3 -c 'import socket, sys
s = socket.socket()
s.bind((sys.argv[1], 0))
print(s.getsockname()[1])' "$1"
}

# empty_ns_detect: sets EMPTY_NS to a command prefix that runs a command in a new network
# namespace holding only loopback (nothing sent there can reach a real network), or to "" and
# fails when this machine allows none (not root and no user namespaces). Every run that names
# an address outside 127.0.0.0/8 as a target (guard refusals, hostile targets) goes through it.
empty_ns_detect() {
	EMPTY_NS=""
	command -v unshare >/dev/null 2>&1 || return 1
	for _u in "unshare --net" "unshare --user --map-root-user --net"; do
		if $_u sh -c '[ "$(grep -c : /proc/self/net/dev)" = 1 ] && grep -q "^ *lo:" /proc/self/net/dev' 2>/dev/null; then
			EMPTY_NS=$_u
			return 0
		fi
	done
	return 1
}

is_root() { [ "$(id -u)" -eq 0 ]; }
