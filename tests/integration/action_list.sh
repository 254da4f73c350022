# --list-actions prints the action table of shelly/action.h (one line per action: name, what it
# needs, help); every action it lists is documented in shelly-tui.1 (".It Cm NAME" under
# DEVICE ACTIONS) and accepted by --action, and what it says an action needs is what --action
# asks for.
. tests/lib.sh
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config

N=action_list
"$SHELLY_TUI" --list-actions >"$T_TMP/l" 2>"$T_TMP/e"; rc=$?
n=$(wc -l <"$T_TMP/l")
if [ $rc -eq 0 ] && [ "$n" -ge 15 ] && ! grep -qvE '^[a-z0-9_]+ +(channel,value|channel|value|-) +[A-Z].+$' "$T_TMP/l" &&
	[ "$(awk '{print $1}' "$T_TMP/l" | sort -u | wc -l)" = "$n" ]; then
	pass "$N: --list-actions prints $n actions, one per line: name, needs, help"
else
	fail "$N: --list-actions format" "rc=$rc $(cat "$T_TMP/l" "$T_TMP/e" | head -c 400)"
fi

missing=""
while read -r name needs _; do
	grep -qE "^\.It Cm $name( |\$)" shelly-tui.1 || missing="$missing $name"
done <"$T_TMP/l"
[ -z "$missing" ] && pass "$N: every action of --list-actions is in the man page" ||
	fail "$N: every action of --list-actions is in the man page" "missing:$missing"

bad=""
while read -r name needs _; do
	# Without --value: an action that needs one says so; the others get to "no TARGET".
	"$SHELLY_TUI" --action "$name" >/dev/null 2>"$T_TMP/e"; rc=$?
	case $needs in
	*value*) grep -q "needs --value" "$T_TMP/e" || bad="$bad $name(value: $(cat "$T_TMP/e"))" ;;
	*) grep -q "give at least one TARGET" "$T_TMP/e" || bad="$bad $name($(cat "$T_TMP/e"))" ;;
	esac
	[ $rc -eq 2 ] || bad="$bad $name(rc=$rc)"
	"$SHELLY_TUI" --action "$name" --channel 1 >/dev/null 2>"$T_TMP/e"
	case $needs in
	channel*) grep -q "takes no --channel" "$T_TMP/e" && bad="$bad $name(channel refused)" ;;
	*) grep -q "takes no --channel" "$T_TMP/e" || bad="$bad $name(channel accepted)" ;;
	esac
done <"$T_TMP/l"
[ -z "$bad" ] && pass "$N: --action accepts every listed action and asks for what the list says it needs" ||
	fail "$N: --action vs --list-actions" "$bad"
exit 0
