# The console's DRIFT column follows an edit of a group's template file: a device whose stored
# snapshot matches the template (saved from it) shows 0; after the file is replaced by one that
# adds a time zone the device does not have, the column shows 1 (bounded wait, no key pressed), and 0 again once the edit is undone. The
# template is read from the file only when it changed (tests/unit/test_tmplcache.c counts it).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_drift_template
tui_sim_start $N --models gen2/plus-1pm
mkdir -p "$XDG_CONFIG_HOME/shelly-tui/templates"
printf 'set poll-interval-gen2 1h\nset poll-interval-gen1 1h\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
tui_add 0 plus
# A snapshot of the device's configuration in the store, and a template made from it (so
# nothing drifts); the edit adds a time zone the device does not have.
"$SHELLY_TUI" --config-get plus >"$T_TMP/cfg" 2>"$T_TMP/e" || fail "$N: --config-get" "$(cat "$T_TMP/e")"
"$SHELLY_TUI" --template-save base --from plus -q >/dev/null 2>"$T_TMP/e" || fail "$N: --template-save" "$(cat "$T_TMP/e")"
T=$XDG_CONFIG_HOME/shelly-tui/templates/base.tmpl
[ -s "$T" ] || fail "$N: the template file" "$(ls -R "$XDG_CONFIG_HOME")"
cp "$T" "$T_TMP/base.orig"
grep -v '^sys.timezone' "$T_TMP/base.orig" >"$T_TMP/base.edit"
printf 'sys.timezone = Pacific/Chatham\n' >>"$T_TMP/base.edit"
"$SHELLY_TUI" --group-add lab plus -q >/dev/null 2>"$T_TMP/e" || fail "$N: --group-add" "$(cat "$T_TMP/e")"
"$SHELLY_TUI" --group-template lab base -q >/dev/null 2>"$T_TMP/e" || fail "$N: --group-template" "$(cat "$T_TMP/e")"

tui_start 130 30 "env $(tui_env) $SHELLY_TUI"
if tui_wait 60 '^.  plus .* 0 '; then
	pass "$N: the template matches the snapshot: DRIFT 0"
else
	fail "$N: drift 0" "$(tui_why 'plus ... 0')"
fi
cp "$T_TMP/base.edit" "$T.new" && mv "$T.new" "$T"
if tui_wait 30 '^.  plus .* 1 '; then
	pass "$N: an edit of the template file shows in the DRIFT column (1)"
else
	fail "$N: drift after edit" "$(tui_why 'plus ... 1')"
fi
cat "$T_TMP/base.orig" >"$T"
if tui_wait 30 '^.  plus .* 0 '; then
	pass "$N: the edit undone in place: DRIFT 0 again"
else
	fail "$N: drift after undo" "$(tui_why 'plus ... 0')"
fi
tui_keys q
tui_wait 20 'RESTORED rc=0' || fail "$N: q" "$(tui_why RESTORED)"
