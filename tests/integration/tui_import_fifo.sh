# Files read on the console's loop are refused unless regular, before anything blocks: an
# import from a FIFO (no writer) fails at once with why, from the command line (--import) and
# from the console (:import), and the console keeps answering keys; a theme named by a FIFO
# path is refused the same way, and a theme file's several errors are separated on the status
# line.
. tests/lib.sh
. tests/integration/lib_tui.sh

N=tui_import_fifo
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
FIFO=$T_TMP/fleet.json
mkfifo "$FIFO"

timeout 20 "$SHELLY_TUI" --import "$FIFO" </dev/null >"$T_TMP/out" 2>"$T_TMP/err"
rc=$?
if [ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q "$FIFO: not a regular file" "$T_TMP/err"; then
	pass "$N: --import of a FIFO fails at once (rc $rc) and says it is not a regular file"
else
	fail "$N: --import FIFO" "rc=$rc $(cat "$T_TMP/err")"
fi

tui_start 120 30 "XDG_DATA_HOME=$XDG_DATA_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME LC_ALL=C.UTF-8 $SHELLY_TUI"
tui_step 30 'fleet 0' "start"
tui_type ":import $FIFO"
tui_keys Enter
tui_expect 20 'not a regular file' ":import FIFO" ":import of a FIFO is refused with why"
tui_keys F1
tui_expect 20 'Help - keys of every view' "console frozen" "the console still answers keys"
tui_keys q
tui_type ":theme $FIFO"
tui_keys Enter
tui_expect 20 "theme '$FIFO' not found" ":theme FIFO" "a FIFO as a theme file is refused"
# A theme file with two wrong lines: both errors on the status line, one after the other.
printf 'bogus one\nbogus two\n' >"$T_TMP/bad.theme"
tui_type ":theme $T_TMP/bad.theme"
tui_keys Enter
tui_expect 20 "bad.theme:1: [^;]*; .*bad.theme:2: " ":theme errors" "a theme file's errors are read one after the other"
tui_keys F10
tui_step 20 'RESTORED rc=0' "quit"
