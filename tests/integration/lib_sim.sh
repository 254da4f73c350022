# Helpers for tests/integration/probe_*.sh (sourced after tests/lib.sh; tests/run.sh skips
# lib*.sh). They start shelly-sim on the calling test's own 127.x.y.0/24 and read everything a
# test asserts from the sim's manifest and control API, never from hard-coded ids.
#
#   sim_start NAME [shelly-sim options]  start the sim with --base <test_net NAME>.1, a port of
#                                        this test (the next candidate when it is in use), and
#                                        wait (bounded: SIM_START_WAIT seconds, 60 by default)
#                                        for the manifest; killed on exit. Sets SIM_PID SIM_NET
#                                        SIM_PORT SIM_MANIFEST SIM_CTL SIM_ERR. May be called
#                                        again after sim_stop (same net and port). A preset
#                                        SIM_NET is kept; otherwise SIM_NET_KEY (if set) is
#                                        added to NAME for test_net.
#   sim_up NAME [shelly-sim options]     sim_start, or FAIL "NAME: sim start" (the sim's stderr)
#                                        and the test ends; then mf_load
#   cli_private [LINE ...]               private XDG directories, no password inherited, and a
#                                        configuration file: connect and request timeouts for
#                                        a loaded machine, then the LINEs
#   sim_stop                             SIGTERM, bounded wait (10 s); returns the sim's exit
#                                        status
#   mf JQ                                jq -r JQ on the manifest
#   mf_load                              caches the manifest (one jq run) for dv
#   dv I FIELD                           field of device I from the cache: HP (host:port), ADDR,
#                                        PORT, FX (fixture), GEN, MODEL, ID, MAC, PW (password)
#   dev_by_fixture FIXTURE               index of the (first) device of FIXTURE, from the cache
#   dev_hp I                             HOST:PORT of device I (from the manifest)
#   dev_addr I                           address of device I
#   ctl METHOD PATH [JSON]               control API request; prints the body
#   dev_state I [JQ]                     jq -r JQ (default .) on GET /devices/I/state
#   set_fault I KIND [PATH]              POST /devices/I/fault (PATH: only requests under it)
#   now_ms                               wall clock in milliseconds
#   pid_start PID / pid_alive PID [START] / pid_gone PID [START]   a child's start time; 0 while
#                                        it runs (and, given START, is still that process)
#   timed OUT ERR CMD...                 runs CMD (stdout to OUT, stderr to ERR); sets T_RC, T_MS
#   has_ctl_bytes FILE                   0 if FILE holds an ESC, BEL or C1 CSI (0xc2 0x9b) byte
#   secret_file PATH VALUE               writes VALUE to PATH, mode 0600 (no trailing newline)
command -v jq >/dev/null 2>&1 || { skip "$(basename "$0" .sh)" "needs jq"; exit 0; }
command -v curl >/dev/null 2>&1 || { skip "$(basename "$0" .sh)" "needs curl"; exit 0; }

SIM_PID=""
SIM_START=""
SIM_PORT=""
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# pid_start PID: the start time of process PID (clock ticks since boot), or nothing.
pid_start() {
	_ps=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	printf '%s\n' "${_ps##*) }" | cut -d' ' -f20
}

# pid_alive PID [START]: 0 while PID runs (and is not a zombie) and, given START (pid_start
# when it was started), is still that process. The shell reaps a child that ended at its next
# command, and with two suites side by side its PID soon names another program: a wait on
# a bare PID then waited for that one (and reported a stop that had happened as a timeout).
# The stat file is read once: a file that vanished between a test and a read read as running.
pid_alive() {
	[ -n "$1" ] || return 1
	_pa=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	_pa=${_pa##*) }
	case $_pa in Z* | X* | "") return 1 ;; esac
	[ -z "${2:-}" ] || [ "$(printf '%s\n' "$_pa" | cut -d' ' -f20)" = "$2" ]
}
# pid_gone PID [START]: the opposite, for wait_for.
pid_gone() { ! pid_alive "$@"; }

# Stops the sim: SIGTERM, then SIGKILL after 10 s. Returns the exit status (124 when killed).
sim_stop() {
	[ -n "$SIM_PID" ] || return 0
	kill_ours -TERM "$SIM_PID"
	_end=$(( $(now_ms) + 10000 ))
	while pid_alive "$SIM_PID" "$SIM_START" && [ "$(now_ms)" -lt "$_end" ]; do sleep 0.05; done
	if pid_alive "$SIM_PID" "$SIM_START"; then
		kill_ours -KILL "$SIM_PID"
		wait "$SIM_PID" 2>/dev/null
		SIM_PID=""
		return 124
	fi
	wait "$SIM_PID" 2>/dev/null
	_rc=$?
	SIM_PID=""
	return $_rc
}
at_exit sim_stop

sim_start() {
	_name=$1; shift
	: "${SIM_NET:=$(test_net "$_name${SIM_NET_KEY:-}")}"
	SIM_MANIFEST=$T_TMP/manifest.json
	SIM_ERR=$T_TMP/sim.err
	_h=$(printf '%s' "$_name" | cksum | cut -d' ' -f1)
	_try=0
	while [ $_try -lt 6 ]; do
		# A port once found free is kept for later starts of this test. The shell's PID is part
		# of the choice: a second copy of the suite beside this one has the same addresses from
		# test_net, and a port this copy closes (a device's "closed" fault) must not be taken
		# by the other copy's simulator, whose devices would then answer in its place.
		[ -n "$SIM_PORT" ] && [ $_try -eq 0 ] ||
			SIM_PORT=$(( 20000 + (_h + $$ * 31 + _try * 7919) % 30000 ))
		rm -f "$SIM_MANIFEST"
		"$SHELLY_SIM" --base "$SIM_NET.1" --port "$SIM_PORT" --manifest "$SIM_MANIFEST" "$@" \
			2>"$SIM_ERR" &
		SIM_PID=$!
		SIM_START=$(pid_start "$SIM_PID")
		_end=$(( $(now_ms) + ${SIM_START_WAIT:-60} * 1000 ))
		while [ ! -s "$SIM_MANIFEST" ] && pid_alive "$SIM_PID" "$SIM_START" && [ "$(now_ms)" -lt "$_end" ]; do
			sleep 0.05
		done
		if [ -s "$SIM_MANIFEST" ]; then
			SIM_CTL=$(jq -r .control "$SIM_MANIFEST")
			return 0
		fi
		sim_stop
		grep -q 'in use' "$SIM_ERR" || break
		_try=$((_try + 1))
		SIM_PORT=""
	done
	echo "sim did not start: $(cat "$SIM_ERR")" >&2
	return 1
}

sim_up() {
	sim_start "$@" || { fail "$1: sim start" "$(cat "$SIM_ERR")"; exit 1; }
	mf_load
}

cli_private() {
	export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
	unset SHELLY_TUI_PASSWORD
	mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
	printf '%s\n' 'set connect-timeout 10s' 'set request-timeout 15s' "$@" \
		>"$XDG_CONFIG_HOME/shelly-tui/config"
}

mf() { jq -r "$1" "$SIM_MANIFEST"; }

mf_load() {
	eval "$(jq -r '.devices[] | "D_\(.index)_HP=\("\(.addr):\(.port)" | @sh) D_\(.index)_ADDR=\(.addr | @sh) " +
		"D_\(.index)_PORT=\(.port) D_\(.index)_FX=\(.fixture | @sh) D_\(.index)_GEN=\(.gen) " +
		"D_\(.index)_MODEL=\(.model | @sh) D_\(.index)_ID=\(.id | @sh) D_\(.index)_MAC=\(.mac | @sh) " +
		"D_\(.index)_PW=\(.auth.password // "" | @sh)"' "$SIM_MANIFEST")"
	D_COUNT=$(jq -r '.devices | length' "$SIM_MANIFEST")
}
dv() { eval "printf '%s\\n' \"\${D_$1_$2}\""; }
dev_by_fixture() {
	_k=0
	while [ $_k -lt "$D_COUNT" ]; do
		[ "$(dv $_k FX)" = "$1" ] && { echo $_k; return 0; }
		_k=$((_k + 1))
	done
	return 1
}
dev_hp() { jq -r ".devices[$1] | \"\(.addr):\(.port)\"" "$SIM_MANIFEST"; }
dev_addr() { jq -r ".devices[$1].addr" "$SIM_MANIFEST"; }

ctl() {
	if [ $# -ge 3 ]; then
		curl -s -m 5 -X "$1" -H 'Content-Type: application/json' -d "$3" "http://$SIM_CTL$2"
	else
		curl -s -m 5 -X "$1" "http://$SIM_CTL$2"
	fi
}

dev_state() { ctl GET "/devices/$1/state" | jq -r "${2:-.}"; }

set_fault() {
	if [ -n "${3:-}" ]; then
		ctl POST "/devices/$1/fault" "{\"fault\":\"$2\",\"path\":\"$3\"}" >/dev/null
	else
		ctl POST "/devices/$1/fault" "{\"fault\":\"$2\"}" >/dev/null
	fi
}

timed() {
	_out=$1 _err=$2; shift 2
	_t0=$(date +%s%N)
	"$@" >"$_out" 2>"$_err"
	T_RC=$?
	T_MS=$(( ($(date +%s%N) - _t0) / 1000000 ))
}

# interrupted K PATH OUT ERR CMD...: device K leaves requests on PATH unanswered; CMD runs
# (stdout OUT, stderr ERR) and gets SIGTERM once K has seen one more request on PATH (bounded
# waits); the fault is cleared after. T_RC: CMD's exit status.
interrupted() {
	_k=$1 _path=$2 _out=$3 _err=$4; shift 4
	_n0=$(dev_state "$_k" ".counters.by_path[\"$_path\"] // 0")
	set_fault "$_k" noanswer "$_path"
	"$@" >"$_out" 2>"$_err" &
	_pid=$!
	_pst=$(pid_start $_pid)
	if wait_for 60 sh -c "[ \"\$(curl -s -m 3 http://$SIM_CTL/devices/$_k/state | jq -r '.counters.by_path[\"$_path\"] // 0')\" -gt $_n0 ]"; then
		kill_ours -TERM $_pid
	fi
	wait_for 30 pid_gone $_pid "$_pst" || kill_ours -KILL $_pid
	wait $_pid
	T_RC=$?
	set_fault "$_k" none
}

has_ctl_bytes() {
	od -An -tx1 -v "$1" | tr -s ' \n' '\n\n' | grep -qx -e 1b -e 07 && return 0
	od -An -tx1 -v "$1" | tr -s ' \n' ' ' | grep -q 'c2 9b'
}

secret_file() {
	( umask 077; printf '%s' "$2" >"$1" )
}
