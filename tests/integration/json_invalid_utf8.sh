# A device name that is not UTF-8 (raw bytes FF FE, as a Gen2 device may send them; fixture
# made here from the Plus 1PM capture): every --json output (--probe, --list, --poll-once) is
# valid UTF-8 that Python's json module reads, with U+FFFD in place of the bytes, as the other
# outputs have it.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=json_invalid_utf8
command -v python3 >/dev/null 2>&1 || { skip "$N" "needs python3"; exit 0; }
FX=$T_TMP/fx
mkdir -p "$FX/gen2/badutf"
cp tests/fixtures/gen2/plus-1pm/*.json "$FX/gen2/badutf/"
chmod -R u+w "$FX"
jq '.name = "XXBADXXLamp"' "$FX/gen2/badutf/shelly.json" >"$FX/x" && mv "$FX/x" "$FX/gen2/badutf/shelly.json"
jq '.sys.device.name = "XXBADXXLamp"' "$FX/gen2/badutf/Shelly.GetConfig.json" >"$FX/x" &&
	mv "$FX/x" "$FX/gen2/badutf/Shelly.GetConfig.json"
sed -i 's/XXBADXX/\xff\xfe/' "$FX/gen2/badutf/shelly.json" "$FX/gen2/badutf/Shelly.GetConfig.json"

sim_up $N --fixtures "$FX" --models gen2/badutf
curl -s -m 5 "http://$(dv 0 HP)/shelly" | od -An -tx1 | tr -s ' \n' '\n\n' | grep -qx ff &&
	pass "$N: the sim serves the raw bytes" || fail "$N: sim serves FF FE" "$(curl -s -m 5 "http://$(dv 0 HP)/shelly" | head -c 200)"

DB="$T_TMP/s.db"
tui() { "$SHELLY_TUI" --db "$DB" --timeout 3 "$@"; }

# json_valid NAME FILE: Python's json reads FILE (strict UTF-8) and a string in it holds U+FFFD
# followed by "Lamp".
json_valid() {
	if python3 -c 'import json, sys
d = json.load(open(sys.argv[1], encoding="utf-8", errors="strict"))
assert "\ufffd\ufffdLamp" in json.dumps(d, ensure_ascii=False), d' "$2" 2>"$T_TMP/py.err"; then
		pass "$N: $1: valid UTF-8 JSON, U+FFFD in place of the bytes"
	else
		fail "$N: $1" "$(tail -2 "$T_TMP/py.err") $(od -c "$2" | grep -m2 '377')"
	fi
}

tui --probe "$(dv 0 HP)" --json >"$T_TMP/probe.json" 2>"$T_TMP/err"
json_valid "--probe --json" "$T_TMP/probe.json"
hl_add "$DB" 0 || { fail "$N: --add" "$(cat "$T_TMP/add.err")"; exit 1; }
tui --list --json >"$T_TMP/list.json" 2>"$T_TMP/err"
json_valid "--list --json" "$T_TMP/list.json"
tui --poll-once --json >"$T_TMP/poll.json" 2>"$T_TMP/err"
json_valid "--poll-once --json" "$T_TMP/poll.json"
exit $T_FAILED
