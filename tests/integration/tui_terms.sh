# The console under every terminal type the issue names, in UTF-8 and C locales, at 80x24: it
# draws its frame and the welcome text of an empty database, and q leaves it with status 0 and
# the terminal restored. No device is contacted (the database is empty).
. tests/lib.sh
. tests/integration/lib_tui.sh

N=tui_terms
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
for term in xterm-256color screen-256color tmux-256color linux vt100; do
	if ! infocmp "$term" >/dev/null 2>&1; then
		fail "$N: $term" "no terminfo entry for $term"
		continue
	fi
	for loc in C.UTF-8 C; do
		tui_start 80 24 "env XDG_DATA_HOME=$XDG_DATA_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME TERM=$term LC_ALL=$loc $SHELLY_TUI"
		welcome() {
			_tui_match_all 'Welcome to shelly-tui' 'fleet 0' &&
				sed -n 2p "$T_TMP/screen" | grep -Eq '(┐|\+|k)$'
		}
		if wait_for 20 welcome; then
			tui_keys q
			if tui_wait 20 'RESTORED rc=0'; then
				pass "$N: TERM=$term LC_ALL=$loc: frame, welcome, q restores the terminal"
			else
				fail "$N: TERM=$term LC_ALL=$loc quit" "$(tui_why RESTORED)"
			fi
		else
			fail "$N: TERM=$term LC_ALL=$loc" "$(tui_why Welcome)"
		fi
		tui_stop
	done
done
