# Helpers for tests/integration/sim_*.sh (sourced after tests/lib.sh). Not a test itself.
#
#   sim_start NAME [shelly-sim options]   start the sim on this test's own 127.x.y.0/24 and a
#                                         high port (another one if busy); waits for the
#                                         manifest; kills the sim on exit. Sets SIM_PID,
#                                         SIM_PORT, SIM_NET, SIM_MANIFEST, SIM_CTL, SIM_ERR.
#   sim_stop                              SIGTERM, bounded wait; returns the sim's exit status
#   mf JQ                                 jq -r JQ on the manifest (re-read every call)
#   dev_url I PATH                        URL of device I (scheme, addr, port from the manifest)
#   ctl METHOD PATH [JSON]                control request; prints the body
#   elapsed_ms CMD...                     runs CMD; prints "rc ms"
#   wait_json SECONDS URL JQ              polls URL until jq -e JQ holds
# SIM_NET (default: test_net NAME) and SIM_START_WAIT (seconds, default 20) may be preset.
command -v jq >/dev/null 2>&1 || { skip "$(basename "$0" .sh)" "needs jq"; exit 0; }
command -v curl >/dev/null 2>&1 || { skip "$(basename "$0" .sh)" "needs curl"; exit 0; }

SIM_PID=""
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# pid_alive PID: 0 while it runs (not a zombie).
pid_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

sim_kill() {
	[ -n "$SIM_PID" ] || return 0
	kill -TERM "$SIM_PID" 2>/dev/null
	_end=$(( $(now_ms) + 5000 ))
	while pid_alive "$SIM_PID" && [ "$(now_ms)" -lt "$_end" ]; do sleep 0.05; done
	pid_alive "$SIM_PID" && kill -KILL "$SIM_PID" 2>/dev/null
	SIM_PID=""
}

sim_start() {
	# The build directory is part of the key: the plain and the sanitizer run of one test
	# may overlap in time and must not share addresses.
	_name="$1${BUILD:+-$BUILD}"; shift
	: "${SIM_NET:=$(test_net "$_name")}"
	SIM_MANIFEST=$T_TMP/manifest.json
	SIM_ERR=$T_TMP/sim.err
	_h=$(printf '%s' "$_name" | cksum | cut -d' ' -f1)
	_try=0
	while [ $_try -lt 6 ]; do
		SIM_PORT=$(( 20000 + (_h + _try * 7919) % 30000 ))
		rm -f "$SIM_MANIFEST"
		"$SHELLY_SIM" --base "$SIM_NET.1" --port "$SIM_PORT" --manifest "$SIM_MANIFEST" "$@" \
			2>"$SIM_ERR" &
		SIM_PID=$!
		_end=$(( $(now_ms) + ${SIM_START_WAIT:-20} * 1000 ))
		while [ ! -s "$SIM_MANIFEST" ] && pid_alive "$SIM_PID" && [ "$(now_ms)" -lt "$_end" ]; do
			sleep 0.05
		done
		if [ -s "$SIM_MANIFEST" ]; then
			SIM_CTL=$(jq -r .control "$SIM_MANIFEST")
			return 0
		fi
		sim_kill
		grep -q 'in use' "$SIM_ERR" || break
		_try=$((_try + 1))
	done
	echo "sim did not start: $(cat "$SIM_ERR")" >&2
	return 1
}
at_exit sim_kill

# sim_stop: SIGTERM and wait (bounded); prints nothing, returns the exit status (124 if stuck).
sim_stop() {
	[ -n "$SIM_PID" ] || return 0
	kill -TERM "$SIM_PID" 2>/dev/null
	_end=$(( $(now_ms) + 10000 ))
	while pid_alive "$SIM_PID" && [ "$(now_ms)" -lt "$_end" ]; do sleep 0.05; done
	if pid_alive "$SIM_PID"; then
		kill -KILL "$SIM_PID" 2>/dev/null
		SIM_PID=""
		return 124
	fi
	wait "$SIM_PID"
	_rc=$?
	SIM_PID=""
	return $_rc
}

mf() { jq -r "$1" "$SIM_MANIFEST"; }

dev_url() {
	_d=$(jq -r ".devices[$1] | \"\(.scheme)://\(.addr):\(.port)\"" "$SIM_MANIFEST")
	echo "$_d${2:-}"
}

ctl() {
	if [ $# -ge 3 ]; then
		curl -s -m 5 -X "$1" -H 'Content-Type: application/json' -d "$3" "http://$SIM_CTL$2"
	else
		curl -s -m 5 -X "$1" "http://$SIM_CTL$2"
	fi
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
