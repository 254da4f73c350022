# Device text in snapshots and templates: values are written escaped, one line each, and read
# back byte for byte. A Gen2 device (fixture made here from the Plus 1PM capture) whose name
# holds newlines and field lines, and whose time zone holds a BEL: its snapshot has one line per
# field, no raw control byte, reads back (--snapshots --snapshot), and --config-restore leaves
# the refused values out instead of writing injected fields (no secret); --template-save refuses
# the BEL with a clear error and writes nothing; every export still imports into a fresh DB.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=config_escape
INJ='Lamp\nmqtt.pass = attacker-chosen\nswitch:0.auto_off_delay_s = 1'
FX=$T_TMP/fx
mkdir -p "$FX/gen2/evil"
cp tests/fixtures/gen2/plus-1pm/*.json "$FX/gen2/evil/"
chmod -R u+w "$FX"
jq ".sys.device.name = \"$INJ\" | .sys.location = {tz: \"Europe/Sofia\\u0007\", lat: 42.7, lon: 23.3}" \
	"$FX/gen2/evil/Shelly.GetConfig.json" >"$FX/x" && mv "$FX/x" "$FX/gen2/evil/Shelly.GetConfig.json"

sim_up $N --fixtures "$FX" --models gen2/evil
export XDG_CONFIG_HOME="$T_TMP/cfg"
DB="$T_TMP/s.db"
tui() { "$SHELLY_TUI" --db "$DB" --timeout 3 "$@"; }
hl_add "$DB" 0 --name evil || { fail "$N: --add" "$(cat "$T_TMP/add.err")"; exit 1; }
MAC=$(mac_of 0)
tui --poll-once >/dev/null 2>&1
tui --config-get evil >/dev/null 2>&1

# The stored snapshot: one line per field, no control byte but the newlines, the escapes.
BODY=$T_TMP/body
sq "$DB" "select body from config_snapshots where mac = '$MAC' order by id desc limit 1" >"$BODY"
if [ ! -s "$BODY" ]; then
	fail "$N: a snapshot is stored" "$(sq "$DB" 'select count(*) from config_snapshots')"
elif has_ctl_bytes "$BODY" || od -An -tx1 -v "$BODY" | tr -s ' \n' '\n\n' | grep -qx -e 0d -e 09; then
	fail "$N: snapshot body holds no raw control byte" "$(od -c "$BODY" | head)"
elif grep -q '^mqtt\.pass\|^switch:0\.auto_off_delay_s = 1$' "$BODY"; then
	fail "$N: no injected line in the snapshot" "$(cat "$BODY")"
elif ! grep -qF 'sys.name = "Lamp\nmqtt.pass = attacker-chosen\nswitch:0.auto_off_delay_s = 1"' "$BODY" ||
	! grep -qF 'sys.timezone = "Europe/Sofia\u0007"' "$BODY"; then
	fail "$N: values escaped on one line" "$(cat "$BODY")"
else
	pass "$N: the snapshot holds each value escaped on its line, no injected field"
fi

# It reads back: as a template text (escaped) and as JSON (the exact strings).
ID=$(tui --snapshots evil --json | jq -r '.snapshots[0].id')
tui --snapshots evil --snapshot "$ID" >"$T_TMP/show" 2>"$T_TMP/show.err"
rc=$?
tui --snapshots evil --snapshot "$ID" --json >"$T_TMP/show.json" 2>>"$T_TMP/show.err"
[ $rc = 0 ] && ! has_ctl_bytes "$T_TMP/show" && grep -qF 'sys.timezone = "Europe/Sofia\u0007"' "$T_TMP/show" &&
	[ "$(jq -r '.snapshot.config["sys.name"]' "$T_TMP/show.json")" = "$(printf 'Lamp\nmqtt.pass = attacker-chosen\nswitch:0.auto_off_delay_s = 1')" ] &&
	[ "$(jq -r '.snapshot.config["sys.timezone"] == "Europe/Sofia\u0007"' "$T_TMP/show.json")" = true ] &&
	[ "$(jq -r '.snapshot.config | has("mqtt.pass")' "$T_TMP/show.json")" = false ] &&
	pass "$N: --snapshots --snapshot reads it back, text escaped, JSON exact" ||
	fail "$N: snapshot readable" "rc=$rc $(cat "$T_TMP/show" "$T_TMP/show.err")"

# A restore never writes the injected secret nor a truncated name: the refused values are left
# out, named.
tui --config-restore evil --snapshot "$ID" --dry-run >"$T_TMP/dry" 2>"$T_TMP/dry.err"
rc=$?
[ $rc = 0 ] && ! grep -q 'mqtt.pass\|sys.name:\|auto_off_delay' "$T_TMP/dry" &&
	grep -q 'sys.name left out: longer than 64 characters\|sys.name left out: control characters' "$T_TMP/dry.err" &&
	grep -q 'sys.timezone left out: control characters are not allowed' "$T_TMP/dry.err" &&
	! has_ctl_bytes "$T_TMP/dry.err" &&
	pass "$N: --config-restore --dry-run writes no injected field, names what it leaves out" ||
	fail "$N: restore dry run" "rc=$rc $(cat "$T_TMP/dry" "$T_TMP/dry.err")"

# --template-save refuses the BEL, writes nothing; without that field it saves.
TF="$XDG_CONFIG_HOME/shelly-tui/templates/hostile.tmpl"
tui --template-save hostile --from evil >"$T_TMP/ts" 2>"$T_TMP/ts.err"
rc=$?
[ $rc = 1 ] && [ ! -e "$TF" ] &&
	grep -q 'template-save: the device reports sys.timezone, which a desired configuration refuses: control characters are not allowed; nothing written' "$T_TMP/ts.err" &&
	pass "$N: --template-save refuses a value with a control character, writes nothing" ||
	fail "$N: template-save refused" "rc=$rc $(cat "$T_TMP/ts" "$T_TMP/ts.err")"
tui --template-save hostile --from evil --fields sys.eco_mode,sntp >/dev/null 2>"$T_TMP/ts.err"
rc=$?
[ $rc = 0 ] && grep -q '^sntp.server = ' "$TF" && ! has_ctl_bytes "$TF" &&
	tui --drift evil --template hostile >/dev/null 2>&1 &&
	pass "$N: --template-save --fields without it saves a template --drift reads" ||
	fail "$N: template-save --fields" "rc=$rc $(cat "$T_TMP/ts.err" "$TF")"

# Every export imports into a fresh database, the snapshot byte for byte.
for f in json toml; do
	tui --export $f -o "$T_TMP/a.$f" 2>"$T_TMP/ex.err" || { fail "$N: export $f" "$(cat "$T_TMP/ex.err")"; continue; }
	XDG_CONFIG_HOME="$T_TMP/rt-$f" "$SHELLY_TUI" --db "$T_TMP/rt-$f.db" --import "$T_TMP/a.$f" >"$T_TMP/im" 2>&1
	rc=$?
	sq "$T_TMP/rt-$f.db" "select body from config_snapshots where mac = '$MAC' order by ts desc, id desc limit 1" >"$T_TMP/rt-body"
	[ $rc = 0 ] && cmp -s "$BODY" "$T_TMP/rt-body" &&
		pass "$N: --export $f imports into a fresh database, snapshot unchanged" ||
		fail "$N: $f round trip" "rc=$rc $(cat "$T_TMP/im") $(diff "$BODY" "$T_TMP/rt-body" | head -5)"
done
exit $T_FAILED
