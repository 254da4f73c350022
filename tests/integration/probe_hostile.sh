# Hostile strings from devices never reach the terminal: fixtures made here (copies of the Gen2
# Plus 1PM and Gen1 Plug S captures) carry escape sequences in the device name, the switch name
# and the WiFi SSID. The readable output of --probe, --add, --list and --poll-once holds no ESC,
# BEL or C1 CSI byte, no remains of the sequences, and no forged line; --json carries the strings
# unchanged, escaped.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=probe_hostile
# The strings, as jq literals: an SGR colour plus an OSC title ending in BEL; a C1 CSI (U+009B);
# a CR/LF followed by a forged summary line.
E1='"\u001b[31mEVIL\u001b]0;title\u0007"'
E2='"\u009b31mC1\u009b0m"'
E3='"SW\r\nstate   online"'
FX=$T_TMP/fx
mkdir -p "$FX/gen2/evil" "$FX/gen1/evil"
cp tests/fixtures/gen2/plus-1pm/*.json "$FX/gen2/evil/"
cp tests/fixtures/gen1/shelly-plug-s/*.json "$FX/gen1/evil/"
chmod -R u+w "$FX"
edit() { jq "$2" "$1" >"$1.new" && mv "$1.new" "$1"; }
edit "$FX/gen2/evil/shelly.json" ".name = $E1"
edit "$FX/gen2/evil/Shelly.GetConfig.json" ".sys.device.name = $E1 | .\"switch:0\".name = $E3"
edit "$FX/gen2/evil/Shelly.GetStatus.json" ".wifi.ssid = $E2"
edit "$FX/gen1/evil/settings.json" ".name = $E1 | .relays[0].name = $E3"
edit "$FX/gen1/evil/status.json" ".wifi_sta.ssid = $E2"

if ! sim_start $N --fixtures "$FX" --models gen2/evil,gen1/evil; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
[ "$(curl -s -m 5 "http://$(dv 0 HP)/rpc/Sys.GetConfig" | jq ".device.name == $E1")" = true ] &&
	pass "$N: the sim serves the hostile name" || fail "$N: sim serves the hostile name" "$(curl -s -m 5 "http://$(dv 0 HP)/rpc/Sys.GetConfig" | head -c 300)"

# clean NAME FILE: the readable output FILE holds no control byte, no remains of the sequences,
# one "state" line, and still the visible text.
clean() {
	if has_ctl_bytes "$2"; then
		fail "$N: $1: no ESC/BEL/C1 byte" "$(od -c "$2" | grep -E '033|\\a|302 233' | head -3)"
	elif grep -qE '\[31m|\]0;title|31mC1' "$2"; then
		fail "$N: $1: escape sequences removed whole" "$(grep -E '\[31m|\]0;title|31mC1' "$2")"
	elif [ "$(grep -c '^ *state' "$2")" -gt 1 ]; then
		fail "$N: $1: no forged line" "$(grep '^ *state' "$2")"
	elif ! grep -q EVIL "$2"; then
		fail "$N: $1: the visible text stays" "$(cat "$2")"
	else
		pass "$N: $1: no ESC/BEL/C1 byte, sequences removed whole, no forged line"
	fi
}

# json_ok NAME FILE JQ: FILE is valid JSON without raw ESC or BEL bytes and JQ holds. Outputs
# with a raw C1 CSI (U+009B as UTF-8 c2 9b: JSON allows it raw, but a terminal showing the JSON
# may take it for an escape sequence, so it must be written \u009b) are collected in C1_RAW
# for one check at the end.
C1_RAW=""
json_ok() {
	if od -An -tx1 -v "$2" | tr -s ' \n' '\n\n' | grep -qx -e 1b -e 07; then
		fail "$N: $1" "raw ESC/BEL bytes in the JSON"
	elif [ "$(jq "$3" "$2" 2>&1)" = true ]; then
		pass "$N: $1"
	else
		fail "$N: $1" "$(head -c 400 "$2" | od -An -tx1 | tr -s ' \n' '  ')"
	fi
	has_ctl_bytes "$2" && C1_RAW="$C1_RAW ${1%% *}($(grep -a -m1 ssid "$2" | od -An -tx1 | tr -s ' \n' '  '))"
}

for i in 0 1; do
	g=gen$(dv $i GEN)
	"$SHELLY_TUI" --probe "$(dv $i HP)" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	[ $rc -eq 0 ] || fail "$N: $g --probe" "rc=$rc $(cat "$T_TMP/e")"
	clean "$g --probe (readable)" "$T_TMP/o"
	has_ctl_bytes "$T_TMP/e" && fail "$N: $g --probe stderr" "control bytes: $(cat "$T_TMP/e")"
	"$SHELLY_TUI" --probe "$(dv $i HP)" --json >"$T_TMP/o" 2>"$T_TMP/e"
	json_ok "$g --probe --json carries the strings unchanged, escaped" "$T_TMP/o" \
		".name == $E1 and .components.switch[0].name == $E3 and .wifi.ssid == $E2"
	"$SHELLY_TUI" --db "$T_TMP/db" --add "$(dv $i HP)" >"$T_TMP/o" 2>"$T_TMP/e" || fail "$N: $g --add" "$(cat "$T_TMP/e")"
	has_ctl_bytes "$T_TMP/o" && fail "$N: $g --add output" "control bytes" || pass "$N: $g --add output: no control byte"
done
"$SHELLY_TUI" --db "$T_TMP/db" --poll-once >"$T_TMP/o" 2>"$T_TMP/e"
has_ctl_bytes "$T_TMP/o" || has_ctl_bytes "$T_TMP/e" && fail "$N: --poll-once output" "control bytes" ||
	pass "$N: --poll-once output and log: no control byte"
"$SHELLY_TUI" --db "$T_TMP/db" --list >"$T_TMP/o" 2>"$T_TMP/e"
clean "--list (readable)" "$T_TMP/o"
"$SHELLY_TUI" --db "$T_TMP/db" --list --json >"$T_TMP/o" 2>"$T_TMP/e"
json_ok "--list --json keeps the stored names unchanged, escaped" "$T_TMP/o" "[.devices[].name] == [$E1, $E1]"
"$SHELLY_TUI" --db "$T_TMP/db" --poll-once --json >"$T_TMP/o" 2>"$T_TMP/e"
json_ok "--poll-once --json: the SSIDs unchanged, escaped" "$T_TMP/o" "[.devices[].wifi.ssid] == [$E2, $E2]"
[ -z "$C1_RAW" ] && pass "$N: --json writes C1 controls escaped (\\u009b), in every mode" ||
	fail "$N: --json writes C1 controls escaped (\\u009b), in every mode" "raw c2 9b in:$C1_RAW"
exit 0
