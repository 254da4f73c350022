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
#   tui_resize W H         resizes the pane's window
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
tui_wait() { wait_for "$1" _tui_match "$2"; }
tui_wait_not() { wait_for "$1" _tui_nomatch "$2"; }
# The pane as the failure message of a check.
tui_why() { printf 'expected /%s/; the pane showed:\n%s' "$1" "$(cat "$T_TMP/screen")"; }

# tui_sim_start NAME SIM_ARGS...: how a console test starts: private XDG directories, no password
# or NO_COLOR inherited, the sim started with SIM_ARGS (the test ends when it cannot start), its
# manifest loaded and the configuration directory made.
tui_sim_start() {
	_n=$1
	shift
	export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
	unset SHELLY_TUI_PASSWORD NO_COLOR
	if ! sim_start "$_n" "$@"; then
		fail "$_n: sim start" "$(cat "$SIM_ERR")"
		exit 1
	fi
	mf_load
	mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
}
