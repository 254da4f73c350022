# Helpers for tests/integration/headless_*.sh, sourced after tests/lib.sh and
# tests/integration/lib_sim.sh (uses its mf, ctl, now_ms, pid_alive). Not a test itself
# (tests/run.sh skips lib*.sh).
#
#   hl_config FILE [LINE ...]      a configuration with millisecond intervals (+ extra lines)
#   hl_add DB I [ARGS]             --add manifest device I to DB
#   hl_add_all DB                  --add every manifest device
#   hl_fleet [LINE ...]            DB=$T_TMP/shelly.db with every manifest device, CONF=$T_TMP/config
#                                  (hl_config LINEs); a failed --add is FAIL and ends the test
#   hl_start TAG DB CONF [ARGS]    --headless on 127.0.0.1:0 in the background (CONF empty: no
#                                  --config, the default file); waits for the
#                                  "metrics:" line; files $T_TMP/hl.TAG.{out,err,pid,port}
#   hl_pid TAG, hl_port TAG, hl_err TAG (path of its stderr), hl_start_time TAG (pid_start)
#   hl_alive TAG                   0 while it runs (that process, not another one given its PID)
#   hl_get TAG PATH                body of GET PATH;  hl_code TAG PATH: its status code
#   hl_metrics TAG FILE            /metrics into FILE (0 if the fetch worked)
#   hl_metric TAG SERIES           value of the exact SERIES (name{labels} as printed) or nothing
#   mval FILE SERIES               the same, from a saved /metrics file
#   hl_state TAG MAC FILE          the device's state in shelly_device_state (online, asleep ...)
#                                  from /metrics, saved in FILE
#   hl_online TAG FILE             how many devices /metrics (saved in FILE) has online
#   hl_stop TAG [SIG [SECONDS]]    signal (TERM), bounded wait (30 s); sets HL_RC (124: still
#                                  running, killed; HL_STUCK then says where it waited) and HL_MS
#                                  (time to exit)
#   hl_kill9 TAG                   kill -9 and reap
#   sq DB SQL                      sqlite3 with a busy timeout
#   fle A B [TOL] / fnear A B TOL  float comparisons (awk)
#   sim_state I JQ                 jq -r JQ on the sim's /devices/I/state
#   hl_url I [PATH]                URL of manifest device I (scheme://addr:port) + PATH
#   mac_of I, id_of I              of manifest device I (MAC in lower case, as the DB keys it)
command -v sqlite3 >/dev/null 2>&1 || { skip "$(basename "$0" .sh)" "needs sqlite3"; exit 0; }

# No configuration or data of the person running the tests leaks in.
export XDG_CONFIG_HOME="$T_TMP/xdg-config" XDG_DATA_HOME="$T_TMP/xdg-data"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
HL_PIDS=""

hl_config() {
	_f=$1; shift
	cat >"$_f" <<-EOF
	set poll-interval-gen1 200ms
	set poll-interval-gen2 200ms
	set flush-interval 100ms
	set lease-heartbeat 200ms
	set lease-timeout 1s
	set offline-after 2
	set backoff-max 1s
	set request-timeout 500ms
	set connect-timeout 300ms
	EOF
	for _l in "$@"; do printf '%s\n' "$_l" >>"$_f"; done
}

hl_add() {
	_db=$1 _i=$2; shift 2
	"$SHELLY_TUI" --db "$_db" --add "$(mf ".devices[$_i].addr"):$(mf ".devices[$_i].port")" "$@" \
		>>"$T_TMP/add.out" 2>>"$T_TMP/add.err"
}

hl_add_all() {
	_n=$(mf '.devices | length')
	_i=0
	while [ "$_i" -lt "$_n" ]; do
		hl_add "$1" "$_i" || return 1
		_i=$((_i + 1))
	done
}

hl_fleet() {
	DB=$T_TMP/shelly.db CONF=$T_TMP/config
	hl_config "$CONF" "$@"
	hl_add_all "$DB" || { fail "$(basename "$0" .sh): --add" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
}

hl_pid() { cat "$T_TMP/hl.$1.pid" 2>/dev/null; }
hl_start_time() { cat "$T_TMP/hl.$1.start" 2>/dev/null; }
hl_port() { cat "$T_TMP/hl.$1.port" 2>/dev/null; }
hl_err() { echo "$T_TMP/hl.$1.err"; }
hl_alive() { pid_alive "$(hl_pid "$1")" "$(hl_start_time "$1")"; }

hl_start() {
	_t=$1 _db=$2 _cf=$3; shift 3
	rm -f "$T_TMP/hl.$_t.port"
	: >"$T_TMP/hl.$_t.out"
	"$SHELLY_TUI" --headless --db "$_db" --listen 127.0.0.1:0 ${_cf:+--config "$_cf"} "$@" \
		>"$T_TMP/hl.$_t.out" 2>"$T_TMP/hl.$_t.err" &
	_p=$!
	echo "$_p" >"$T_TMP/hl.$_t.pid"
	pid_start "$_p" >"$T_TMP/hl.$_t.start"
	HL_PIDS="$HL_PIDS $_p"
	_end=$(( $(now_ms) + 10000 ))
	while ! grep -q '^metrics: http://127\.0\.0\.1:[0-9]*/metrics$' "$T_TMP/hl.$_t.out"; do
		hl_alive "$_t" && [ "$(now_ms)" -lt "$_end" ] || return 1
		sleep 0.05
	done
	sed -n 's|^metrics: http://127\.0\.0\.1:\([0-9]*\)/metrics$|\1|p' "$T_TMP/hl.$_t.out" \
		>"$T_TMP/hl.$_t.port"
}

hl_kill_all() {
	for _p in $HL_PIDS; do pid_alive "$_p" && kill_ours -KILL "$_p"; done
	HL_PIDS=""
}
at_exit hl_kill_all

hl_get() { curl -s -m 5 "http://127.0.0.1:$(hl_port "$1")$2"; }
hl_code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$(hl_port "$1")$2"; }
hl_metrics() { curl -s -m 30 -f -o "$2" "http://127.0.0.1:$(hl_port "$1")/metrics"; }

# The series is compared as a string (ENVIRON, so awk does not interpret backslashes).
mval() {
	HL_SERIES=$2 awk 'BEGIN { s = ENVIRON["HL_SERIES"] " " }
		index($0, s) == 1 { print substr($0, length(s) + 1); exit }' "$1"
}

hl_metric() {
	hl_metrics "$1" "$T_TMP/hl.$1.m" || return 1
	mval "$T_TMP/hl.$1.m" "$2"
}

hl_state() {
	hl_metrics "$1" "$3" || return 1
	grep -F "shelly_device_state{mac=\"$2\"," "$3" | sed -n 's/.*,state="\([a-z_]*\)"} 1$/\1/p'
}

hl_online() {
	hl_metrics "$1" "$2" || return 1
	grep -c '^shelly_device_state{.*,state="online"} 1$' "$2"
}

hl_stop() {
	_t=$1 _sig=${2:-TERM} _lim=${3:-30}
	_p=$(hl_pid "$_t")
	_t0=$(now_ms)
	kill_ours -"$_sig" "$_p"
	_end=$(( _t0 + _lim * 1000 ))
	while hl_alive "$_t" && [ "$(now_ms)" -lt "$_end" ]; do sleep 0.02; done
	HL_MS=$(( $(now_ms) - _t0 ))
	HL_STUCK=""
	if hl_alive "$_t"; then
		# where it waits, for the failure message (state, kernel wait channel)
		HL_STUCK="state $(sed 's/.*) //' "/proc/$_p/stat" 2>/dev/null | cut -d' ' -f1),"
		HL_STUCK="$HL_STUCK waiting in $(cat "/proc/$_p/wchan" 2>/dev/null)"
		kill_ours -KILL "$_p"
		wait "$_p" 2>/dev/null
		HL_RC=124
		return 124
	fi
	wait "$_p"
	HL_RC=$?
	return "$HL_RC"
}

hl_kill9() {
	_p=$(hl_pid "$1")
	kill_ours -KILL "$_p"
	wait "$_p" 2>/dev/null
	return 0
}

sq() { sqlite3 -cmd '.timeout 5000' "$1" "$2"; }

fle() { awk -v a="$1" -v b="$2" -v t="${3:-0}" 'BEGIN { exit !(a + 0 <= b + t) }'; }
fnear() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; }

sim_state() { ctl GET "/devices/$1/state" | jq -r "$2"; }
mac_of() { mf ".devices[$1].mac | ascii_downcase"; }
id_of() { mf ".devices[$1].id"; }
hl_url() { echo "$(mf ".devices[$1] | \"\\(.scheme)://\\(.addr):\\(.port)\"")${2:-}"; }

# hl_provision_one NAME ATTEMPTS: manager "a" on $DB=$T_TMP/db ($CONF: agent lease 1 s or
# $HL_AGENT_LEASE, no mDNS) with an enrolment secret in $T_TMP/secret and one task for the access point
# shelly1-AABBCC on network home; defines tui. Exits the test when it cannot.
hl_provision_one() {
	DB=$T_TMP/db
	CONF=$T_TMP/config
	hl_config "$CONF" "set discover-mdns off" "set agent-lease ${HL_AGENT_LEASE:-1s}" "set verify-interval 200ms"
	hl_start a "$DB" "$CONF" || { fail "$1: headless start" "$(cat "$(hl_err a)")"; exit 1; }
	tui() { "$SHELLY_TUI" --db "$DB" --config "$CONF" "$@"; }
	tui --agent-enrol >"$T_TMP/secret" 2>/dev/null
	tui --provision shelly1-AABBCC --network home --attempts "$2" >/dev/null ||
		{ fail "$1: --provision"; exit 1; }
}

# hl_nmcli DIR [JOIN [SCAN]]: a stand-in nmcli in DIR (put DIR first in PATH for the agent),
# connected to network home; its join ("connection up") runs the shell text JOIN (default:
# nothing) and its scan ("wifi list") runs SCAN (default: shelly1-AABBCC in range)
hl_nmcli() {
	mkdir -p "$1"
	cat >"$1/nmcli" <<SH
#!/bin/sh
case "\$*" in
*'wifi list'*) ${3:-printf 'shelly1-AABBCC:80\\n'};;
*'--active'*) printf 'home:802-11-wireless\\n';;
*'connection up'*) ${2:-:};;
esac
exit 0
SH
	chmod 755 "$1/nmcli"
}
