# Helpers for tests/integration/tui_*.sh (sourced after tests/lib.sh): the console runs in a
# private tmux server of this test (its own socket, no configuration), read back with
# capture-pane; every wait is bounded polling for expected text. The server is killed on exit.
#
#   tui_start W H CMD...   starts CMD in a W x H pane; when CMD ends the pane prints
#                          "RESTORED rc=N" if the terminal is back in canonical mode with echo
#                          (else "BROKEN rc=N") and stays open
#   tui_screen             the pane's text
#   tui_keys KEY...        tmux send-keys (key names: Enter, Escape, Space, C-c, F5 ...)
#   tui_type TEXT          sends TEXT literally
#   tui_wait SECONDS ERE   waits until the pane matches ERE; 0, or 1 (the pane is saved in
#                          $T_TMP/screen for the failure message)
#   tui_wait_not SECONDS ERE   waits until the pane no longer matches ERE
#   tui_wait_all SECONDS ERE...   waits until one capture of the pane matches every ERE (an ERE
#                          that starts with "!": does not match). The console draws a frame in
#                          many writes: a capture taken when the first ERE shows may not hold
#                          the rest of that frame yet on a loaded machine
#   tui_resize W H         resizes the pane's window
#   tui_env                the environment the console runs with: this test's allow-list and XDG
#                          directories, LC_ALL=C.UTF-8
#   tui_console W H ERE [ARGS...]  starts shelly-tui ARGS (tui_env) in a W x H pane and waits
#                          up to 60 s (a loaded machine) for ERE; else FAIL "<test>: start" with
#                          the pane, and 1. With TUI_CWD set, the console runs in that directory.
#   tui_console_detail W H ERE COMPONENT   tui_console, then Enter: the first device's detail
#                          view, waited for (20 s) until it shows COMPONENT (else FAIL "<test>: detail")
#   tui_config [LINE...]   the console's configuration file: gen2 polled every second, connect
#                          and request timeouts for a loaded machine, then the LINEs
#   tui_add I NAME [ARGS...]   --add manifest device I as NAME (FAIL "<test>: add NAME")
#   tui_registry DB        a registry of this binary's schema at DB, private XDG directories
#                          (the test skips without sqlite3)
#   tui_row DB MAC NAME HOST   a Gen2 device written straight into the registry, nothing behind it
#   tui_export KEY PATH_ERE  F9, the format KEY (j, t, d ...): FAIL when the format question or the
#                          default path PATH_ERE does not show (the file prompt is left open)
#   tui_import FILE        I, FILE, Enter, m (merge)
#   tui_registry_console W H ERE DB   tui_console on DB in $T_TMP/work, configuration
#                          $T_TMP/conf (polled hourly: nothing answers)
command -v tmux >/dev/null 2>&1 || { skip "$(basename "$0" .sh)" "needs tmux"; exit 0; }

# Each tui_start gets a server of its own: a new session on a server still shutting down from
# tui_stop could be lost.
TUI_N=0
TUI_SOCK="st-$(basename "$0" .sh)-$$-0"
tmux_() { tmux -L "$TUI_SOCK" "$@"; }
tui_stop() { tmux_ kill-server 2>/dev/null || true; }
# (at exit, the server of the last tui_start; tests call tui_stop before starting another)
at_exit tui_stop

tui_start() {
	TUI_N=$((TUI_N + 1))
	TUI_SOCK="st-$(basename "$0" .sh)-$$-$TUI_N"
	_w=$1 _h=$2
	shift 2
	printf '%s\n' "$*" >"$T_TMP/tui_cmd"
	cat >"$T_TMP/tui_run.sh" <<SH
$*
rc=\$?
if stty -a | grep -q ' icanon ' && stty -a | grep -q ' echo '; then echo "RESTORED rc=\$rc"; else echo "BROKEN rc=\$rc"; fi
exec sleep 600
SH
	tmux_ -f /dev/null new-session -d -x "$_w" -y "$_h" "sh $T_TMP/tui_run.sh"
}
tui_screen() { tmux_ capture-pane -p; }
tui_keys() { tmux_ send-keys "$@"; }
tui_type() { tmux_ send-keys -l "$1"; }
tui_resize() { tmux_ resize-window -x "$1" -y "$2"; }
_tui_match() { tui_screen >"$T_TMP/screen" && grep -Eq -- "$1" "$T_TMP/screen"; }
_tui_nomatch() { tui_screen >"$T_TMP/screen" && ! grep -Eq -- "$1" "$T_TMP/screen"; }
_tui_match_all() {
	tui_screen >"$T_TMP/screen" || return 1
	for _re; do
		case $_re in
		"") ;;
		!*) ! grep -Eq -- "${_re#!}" "$T_TMP/screen" || return 1 ;;
		*) grep -Eq -- "$_re" "$T_TMP/screen" || return 1 ;;
		esac
	done
}
tui_wait() { wait_for "$1" _tui_match "$2"; }
tui_wait_not() { wait_for "$1" _tui_nomatch "$2"; }
tui_wait_all() { _s=$1; shift; wait_for "$_s" _tui_match_all "$@"; }
# The pane as the failure message of a check.
tui_why() { printf 'expected /%s/; the pane showed:\n%s' "$1" "$(cat "$T_TMP/screen")"; }

# tui_hostile_bytes WHAT: 0 when the pane (with its colours) holds an OSC introducer, BEL, U+202E
# or U+2066 (capture-pane -e adds the pane's own CSI colours, so those are not looked for), the
# lines holding WHAT dumped to stdout; else 1.
tui_hostile_bytes() {
	tmux_ capture-pane -p -e >"$T_TMP/pane"
	if grep -q "$(printf '\033')]" "$T_TMP/pane" || grep -q "$(printf '\342\200\256')" "$T_TMP/pane" ||
		grep -q "$(printf '\342\201\246')" "$T_TMP/pane" || grep -q "$(printf '\007')" "$T_TMP/pane"; then
		grep -a "$1" "$T_TMP/pane" | od -c | head -20
		return 0
	fi
	return 1
}

# tui_sim_start NAME SIM_ARGS...: how a console test starts: private XDG directories, no password
# or NO_COLOR inherited, the sim started with SIM_ARGS (the test ends when it cannot start), its
# manifest loaded and the configuration directory made.
tui_sim_start() {
	_n=$1
	shift
	export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
	unset SHELLY_TUI_PASSWORD NO_COLOR
	sim_up "$_n" "$@"
	mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
}

tui_env() {
	echo "SHELLY_TUI_ALLOW_NETS=$SHELLY_TUI_ALLOW_NETS XDG_DATA_HOME=$XDG_DATA_HOME" \
		"XDG_CONFIG_HOME=$XDG_CONFIG_HOME LC_ALL=C.UTF-8"
}

tui_console() {
	_w=$1 _h=$2 _re=$3
	shift 3
	if [ -n "${TUI_CWD:-}" ]; then
		_bin=$(cd "$(dirname "$SHELLY_TUI")" && pwd)/$(basename "$SHELLY_TUI")
		tui_start "$_w" "$_h" "cd $TUI_CWD && env $(tui_env) $_bin $*"
	else
		tui_start "$_w" "$_h" "env $(tui_env) $SHELLY_TUI $*"
	fi
	tui_wait 60 "$_re" && return 0
	fail "${N:-$(basename "$0" .sh)}: start" "$(tui_why "$_re")"
	return 1
}

tui_console_detail() {
	tui_console "$1" "$2" "$3" || return 1
	tui_keys Enter
	tui_wait 20 "$4" && return 0
	fail "${N:-$(basename "$0" .sh)}: detail" "$(tui_why "$4")"
	return 1
}

tui_config() {
	mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
	printf '%s\n' 'set poll-interval-gen2 1s' 'set connect-timeout 10s' 'set request-timeout 15s' \
		"$@" >"$XDG_CONFIG_HOME/shelly-tui/config"
}

tui_add() {
	_i=$1 _name=$2
	shift 2
	"$SHELLY_TUI" --add "$(dv "$_i" HP)" --name "$_name" -q "$@" >/dev/null 2>"$T_TMP/add.err" ||
		fail "${N:-$(basename "$0" .sh)}: add $_name" "$(cat "$T_TMP/add.err")"
}

tui_registry() {
	command -v sqlite3 >/dev/null 2>&1 || { skip "$(basename "$0" .sh)" "needs sqlite3"; exit 0; }
	export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
	"$SHELLY_TUI" --db "$1" --poll-once >/dev/null 2>&1
}

tui_row() {
	sqlite3 "$1" "INSERT INTO devices (mac, id, gen, name, host, port, scheme, discovered_via)
		VALUES ('$2', 'shellyplus1-$2', 2, '$3', '$4', 80, 'http', 'manual')" ||
		fail "${N:-$(basename "$0" .sh)}: insert $2"
}

tui_registry_console() {
	mkdir -p "$T_TMP/work"
	printf 'set poll-interval-gen2 1h\n' >"$T_TMP/conf"
	TUI_CWD=$T_TMP/work tui_console "$1" "$2" "$3" --config "$T_TMP/conf" --db "$4"
}

tui_export() {
	_tn=${N:-$(basename "$0" .sh)}
	tui_keys F9
	tui_wait 10 'Export as: j json' || fail "$_tn: format question" "$(tui_why 'Export as')"
	tui_keys "$1"
	tui_wait 10 "Export to file: $2" || fail "$_tn: default path" "$(tui_why "$2")"
}

tui_import() {
	tui_keys I
	tui_type "$1"
	tui_keys Enter m
}

# tui_step SECS RE TAG: waits up to SECS for RE on the pane; when it does not show, fails TAG
# with the pane (the test goes on, as after any check).
tui_step() { tui_wait "$1" "$2" || fail "${N:-$(basename "$0" .sh)}: $3" "$(tui_why "$2")"; }

# tui_expect SECS RE TAG WHAT [ALSO]: passes WHAT when RE shows on the pane within SECS, on one
# capture with the ERE ALSO (tui_wait_all), else fails TAG with the pane.
tui_expect() {
	if tui_wait_all "$1" "$2" "${5:-}"; then
		pass "${N:-$(basename "$0" .sh)}: $4"
	else
		fail "${N:-$(basename "$0" .sh)}: $3" "$(tui_why "$2")"
	fi
}

# tui_discover_config LINE...: the configuration of a console that scans the sim: the LINEs,
# the sim's port as the discovery port, a 10 s probe timeout and no mDNS.
tui_discover_config() {
	printf '%s\n' "$@" "set discover-port $SIM_PORT" 'set discover-timeout 10s' 'set discover-mdns off' \
		>"$XDG_CONFIG_HOME/shelly-tui/config"
}

# tui_add_plain K...: registers the sim's devices K... by address, with no name of their own.
tui_add_plain() {
	for _k; do
		"$SHELLY_TUI" --add "$(dv "$_k" HP)" -q >/dev/null 2>"$T_TMP/add.err" ||
			fail "${N:-$(basename "$0" .sh)}: add $_k" "$(cat "$T_TMP/add.err")"
	done
}

# tui_scan RANGE FOUND [WHAT]: a scan of RANGE (a /24) typed at the F2 prompt, waited for until
# it has probed all 254 addresses and found FOUND devices.
tui_scan() {
	tui_keys F2
	tui_step 30 'Scan \(' "${3:+$3: }scan prompt"
	tui_type "$1"
	tui_keys Enter
	tui_step 120 "done: 254 probed / 254 addresses, $2 found" "${3:+$3: }scan"
}
