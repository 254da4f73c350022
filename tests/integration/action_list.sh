# --list-actions prints the action table of shelly/action.h (one line per action: name, what it
# needs, the forms of --channel it takes, help); every action it lists is documented in
# shelly-tui.1 (".It Cm NAME", with the same --channel forms, under DEVICE ACTIONS) and accepted
# by --action, what it says an action needs is what --action asks for, and --action takes each
# --channel form listed and refuses the others.
. tests/lib.sh
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config

N=action_list
"$SHELLY_TUI" --list-actions >"$T_TMP/l" 2>"$T_TMP/e"; rc=$?
n=$(wc -l <"$T_TMP/l")
if [ $rc -eq 0 ] && [ "$n" -ge 15 ] && ! grep -qvE '^[a-z0-9_]+ +(channel,value|channel|value|-) +(N(\|[a-z]+:N)+|N|-) +[A-Z].+$' "$T_TMP/l" &&
	[ "$(awk '{print $1}' "$T_TMP/l" | sort -u | wc -l)" = "$n" ]; then
	pass "$N: --list-actions prints $n actions, one per line: name, needs, --channel forms, help"
else
	fail "$N: --list-actions format" "rc=$rc $(cat "$T_TMP/l" "$T_TMP/e" | head -c 400)"
fi

missing=""
while read -r name _; do
	grep -qE "^\.It Cm $name( |\$)" shelly-tui.1 || missing="$missing $name"
done <"$T_TMP/l"
[ -z "$missing" ] && pass "$N: every action of --list-actions is in the man page" ||
	fail "$N: every action of --list-actions is in the man page" "missing:$missing"

# The man page's entry shows the same --channel forms: ".It Cm NAME Op Fl \-channel Li FORMS".
sed -n '/^\.Sh DEVICE ACTIONS/,/^\.Sh /p' shelly-tui.1 | grep '^\.It Cm ' >"$T_TMP/man"
bad=""
while read -r name needs forms _; do
	if [ "$forms" = - ]; then want=".It Cm $name"; else want=".It Cm $name Op Fl \\-channel Li $forms"; fi
	grep -qxF -- "$want" "$T_TMP/man" || bad="$bad $name($forms)"
done <"$T_TMP/l"
[ -z "$bad" ] && pass "$N: the man page shows each action's --channel forms as --list-actions does" ||
	fail "$N: --channel forms in the man page" "$bad; the page has: $(grep -F -e "$(echo "$bad" | awk '{print $1}' | cut -d'(' -f1)" "$T_TMP/man")"

# --action takes every form listed (N as 0 and 7), and refuses a type listed for no action of
# its component (another component's type, or a made-up one).
bad=""
while read -r name needs forms _; do
	[ "$forms" = - ] && continue
	val=""; case $needs in *value*) val="--value 50" ;; esac
	for f in $(echo "$forms" | tr '|' ' '); do
		for k in 0 7; do
			c=$(echo "$f" | sed "s/N\$/$k/")
			# shellcheck disable=SC2086
			"$SHELLY_TUI" --action "$name" --channel "$c" $val >/dev/null 2>"$T_TMP/e"
			grep -q "give at least one TARGET" "$T_TMP/e" || bad="$bad $name:$c($(cat "$T_TMP/e"))"
		done
	done
	for other in switch:0 cover:0 cct:0 relay:0; do
		case "|$forms|" in *"|${other%:0}:N|"*) continue ;; esac
		# shellcheck disable=SC2086
		"$SHELLY_TUI" --action "$name" --channel "$other" $val >/dev/null 2>"$T_TMP/e"; rc=$?
		[ $rc -eq 2 ] && grep -qF -- "--channel wants $forms, not '$other'" "$T_TMP/e" ||
			bad="$bad $name:$other(rc=$rc $(cat "$T_TMP/e"))"
	done
done <"$T_TMP/l"
[ -z "$bad" ] && pass "$N: --action takes exactly the --channel forms --list-actions lists" ||
	fail "$N: --channel forms vs --action" "$bad"

bad=""
while read -r name needs _ _; do
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
