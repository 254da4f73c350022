# The console's one table of actions, as --list-keys prints it, and the man page's KEY
# BINDINGS agree both ways: every action with its default keys and help is documented, and
# every documented action exists. (The help view is generated from the same table; the unit
# test test_tui checks it lists every action.)
. tests/lib.sh

N=tui_docs
"$SHELLY_TUI" --list-keys >"$T_TMP/keys" || fail "$N: --list-keys runs"
# The KEY BINDINGS list of the man page, with mdoc's \& escapes removed.
sed -n '/^\.Ss KEY BINDINGS/,/^\.Ss /p' shelly-tui.1 | sed 's/\\&//g' >"$T_TMP/man"
missing=""
n=0
while IFS='	' read -r name views keys help; do
	n=$((n + 1))
	grep -qxF ".It Cm $name Li $keys" "$T_TMP/man" || missing="$missing $name($keys)"
	grep -qxF "$help." "$T_TMP/man" || missing="$missing $name:help"
	grep -qxF "Views: $views." "$T_TMP/man" || missing="$missing $name:views"
done <"$T_TMP/keys"
if [ "$n" -gt 20 ] && [ -z "$missing" ]; then
	pass "$N: the man page documents all $n console actions with their keys, help and views"
else
	fail "$N: KEY BINDINGS matches --list-keys" "n=$n missing:$missing"
fi
extra=""
for name in $(grep '^\.It Cm ' "$T_TMP/man" | awk '{print $3}'); do
	grep -q "^$name	" "$T_TMP/keys" || extra="$extra $name"
done
if [ -z "$extra" ]; then pass "$N: every action of KEY BINDINGS exists"; else fail "$N: unknown actions in the man page" "$extra"; fi
