# Helpers for tests/integration/sim_*.sh and the tests written with them (sourced after
# tests/lib.sh). The simulator's start-up and stop are those of tests/integration/lib_sim.sh
# (a port that includes the shell's PID, bounded waits, signals only to our own child); this
# file adds what these tests use besides. Not a test itself.
#
#   sim_start, sim_stop, mf, ctl, now_ms, pid_alive ...   see tests/integration/lib_sim.sh
#   sim_kill                              sim_stop, whatever the exit status
#   dev_url I PATH                        URL of device I (scheme, addr, port from the manifest)
#   elapsed_ms CMD...                     runs CMD; prints "rc ms"
#   wait_json SECONDS URL JQ              polls URL until jq -e JQ holds
# SIM_NET (default: test_net NAME) and SIM_START_WAIT (seconds) may be preset. The build
# directory is part of the address key: the plain and the sanitizer run of one test may overlap.
SIM_NET_KEY=${BUILD:+-$BUILD}
. tests/integration/lib_sim.sh

sim_kill() {
	sim_stop
	return 0
}

dev_url() {
	_d=$(jq -r ".devices[$1] | \"\(.scheme)://\(.addr):\(.port)\"" "$SIM_MANIFEST")
	echo "$_d${2:-}"
}

elapsed_ms() {
	_t0=$(now_ms)
	"$@" >/dev/null 2>&1
	_rc=$?
	echo "$_rc $(( $(now_ms) - _t0 ))"
}

wait_json() {
	_lim=$1 _url=$2 _q=$3
	# (jq -e is true on empty input: require a body.)
	wait_for "$_lim" sh -c 'b=$(curl -s -m 2 "$1") && [ -n "$b" ] && echo "$b" | jq -e "$2" >/dev/null' \
		sh "$_url" "$_q"
}
