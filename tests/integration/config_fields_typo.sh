# --template-save --fields: every name must be a field or a section of the model. A typo
# (sntp.sever) is a usage error (exit 2) and the existing template, and so the desired
# configuration of the group that uses it, is left as it was; a valid section the device does
# not have (switch:5) would give an empty template: refused, nothing written.
. tests/lib.sh
. tests/sim/simlib.sh

N=config_fields_typo
export XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
mkdir -p "$XDG_CONFIG_HOME/shelly-tui/templates"
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm --count 1
D=$(mf '.devices[0] | "\(.addr):\(.port)"')
tui() { "$SHELLY_TUI" --timeout 5 "$@"; }
T=$XDG_CONFIG_HOME/shelly-tui/templates/office.tmpl

tui --template-save office --from "$D" --fields sntp.server,sys.timezone >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc = 0 ] && grep -q '^sntp.server = ' "$T" && cp "$T" "$T_TMP/office.before" ||
	fail "$N: a template with known fields is saved" "rc=$rc $(cat "$T_TMP/err")"

for bad in sntp.sever 'sys.timezone,mqtt.pas' switch sys:0 'sntp.server,'; do
	tui --template-save office --from "$D" --fields "$bad" >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc = 2 ] && grep -q -- '--fields: ' "$T_TMP/err" && cmp -s "$T" "$T_TMP/office.before" &&
		pass "$N: --fields '$bad' is a usage error, the template kept" ||
		fail "$N: --fields '$bad'" "rc=$rc $(cat "$T_TMP/err" "$T")"
done

tui --template-save office --from "$D" --fields switch:5 >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc = 1 ] && grep -q 'would hold no field' "$T_TMP/err" && cmp -s "$T" "$T_TMP/office.before" &&
	pass "$N: a template that would come out empty is refused, the old one kept" ||
	fail "$N: empty template" "rc=$rc $(cat "$T_TMP/err" "$T")"

# Sections of every kind are names: a prefix, a component instance, a dotted subsection.
tui --template-save parts --from "$D" --fields mqtt,switch:0,wifi.sta,sys.location >/dev/null 2>"$T_TMP/err"; rc=$?
P=$XDG_CONFIG_HOME/shelly-tui/templates/parts.tmpl
[ $rc = 0 ] && grep -q '^mqtt.enable = ' "$P" && grep -q '^switch:0.in_mode = ' "$P" &&
	grep -q '^sys.location.lat = ' "$P" && ! grep -q '^sys.timezone' "$P" &&
	pass "$N: sections name their fields" || fail "$N: sections" "rc=$rc $(cat "$T_TMP/err" "$P")"
