# The console's snapshots of a device whose name holds newlines and field lines and whose time
# zone holds a BEL (fixture made here from the Plus 1PM capture): Enter shows the snapshot
# (it used to say "cannot be read"), the values cleaned for the screen; r leaves the values a
# template refuses out, says so in the question, and the dry run lists only the real change,
# never an injected field.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_snapshot_escape
FX=$T_TMP/fx
mkdir -p "$FX/gen2/evil"
cp tests/fixtures/gen2/plus-1pm/*.json "$FX/gen2/evil/"
chmod -R u+w "$FX"
jq '.sys.device.name = "Lamp\nmqtt.pass = attacker-chosen\nswitch:0.auto_off_delay_s = 1" |
	.sys.location = {tz: "Europe/Sofia\u0007", lat: 42.7, lon: 23.3} |
	.["switch:0"].auto_off = true' \
	"$FX/gen2/evil/Shelly.GetConfig.json" >"$FX/x" && mv "$FX/x" "$FX/gen2/evil/Shelly.GetConfig.json"
tui_sim_start $N --fixtures "$FX" --models gen2/evil
tui_config
tui_add 0 evil
delay() { curl -s -m 3 "http://$(dv 0 HP)/rpc/Switch.GetConfig?id=0" | jq -r .auto_off_delay; }
orig=$(delay)
"$SHELLY_TUI" --config-get evil >/dev/null 2>"$T_TMP/e" || fail "$N: --config-get" "$(cat "$T_TMP/e")"
"$SHELLY_TUI" --config-set switch:0.auto_off_delay_s=77 evil >/dev/null 2>"$T_TMP/e" || fail "$N: --config-set" "$(cat "$T_TMP/e")"
first=$("$SHELLY_TUI" --snapshots evil --json | jq -r '.snapshots[-1].id')

tui_console_detail 160 60 'fleet 1 +online 1' 'switch:0'
tui_keys H
tui_wait 10 'Snapshots - evil' || fail "$N: list" "$(tui_why 'Snapshots - evil')"
tui_keys G Enter
if tui_wait 10 "Snapshot $first - evil" && tui_wait 10 "sys.timezone +Europe/Sofia +│" &&
	tui_wait 10 "switch:0.auto_off_delay_s +$orig\b" && ! grep -q 'cannot be read\|│ mqtt.pass ' "$T_TMP/screen"; then
	pass "$N: Enter shows the snapshot, the device's text cleaned for the screen"
else
	fail "$N: fields" "$(tui_why 'sys.timezone +Europe/Sofia')"
fi

tui_keys r
tui_wait 10 "Restore snapshot $first on evil\? .*a template refuses, left out: sys.name and 1 more" &&
	pass "$N: r names in its question the values it leaves out" ||
	fail "$N: restore names what it leaves out" "$(tui_why 'left out: sys.name and 1 more')"
tui_keys y
if tui_wait 30 "switch:0.auto_off_delay_s +77 -> $orig\b" &&
	tui_wait 30 "Apply 1 change\(s\) of snapshot $first to evil" &&
	! grep -q 'mqtt.pass\|sys.name\|sys.timezone' "$T_TMP/screen"; then
	pass "$N: the dry run lists only the real change, no injected or refused field"
else
	fail "$N: dry run" "$(tui_why "77 -> $orig")"
fi
tui_keys y
if wait_for 30 sh -c "[ \"\$(curl -s -m 3 'http://$(dv 0 HP)/rpc/Switch.GetConfig?id=0' | jq -r .auto_off_delay)\" = '$orig' ]"; then
	pass "$N: the restore writes the real change"
else
	fail "$N: restored" "delay=$(delay); $(tui_screen)"
fi
tui_stop
exit $T_FAILED
