# Auto-on/auto-off timers move between generations by their meaning. Gen1 keeps a timer as one
# number (0 = off, else the delay in seconds); Gen2+ as a flag and a delay. A template saved
# from a Plus 1PM with both timers off (delays 60) leaves an idle Shelly 1 alone (drift 0, no
# write) and turns off a Shelly 1 timer that is on with auto_on=0, never 60. A template saved
# from a Shelly 1 with auto_off=120 turns the Plus 1PM's auto_off on with a delay of 120, and
# drift then sees the flag turned back off behind the tool's back. A delay alone is refused on
# a Gen1 relay whose timer is off (it would turn it on). Devices read back over their own API.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=config_timers
sim_up $N --fixtures tests/fixtures --models gen1/shelly-1,gen2/plus-1pm,gen2/plus-2pm \
	--count 3 --auth all --password test
G1=$(dev_by_fixture gen1/shelly-1)
P1=$(dev_by_fixture gen2/plus-1pm)
[ -n "$G1" ] && [ -n "$P1" ] || { fail "$N: manifest" "$(cat "$SIM_MANIFEST")"; exit 1; }
export SHELLY_TUI_PASSWORD=test XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
DB=$T_TMP/c.db
tui() { "$SHELLY_TUI" --db "$DB" --timeout 5 "$@"; }
# GET over the device's own API, with its password (Gen1 basic, Gen2 digest).
st() { curl -s -m 5 --anyauth -u admin:test "http://$(dv "$1" HP)$2"; }
g1_relay() { st "$G1" /settings/relay/0 | jq -c '{auto_on, auto_off}'; }
p1_switch() { st "$P1" '/rpc/Switch.GetConfig?id=0' | jq -c '{auto_on, auto_on_delay, auto_off, auto_off_delay}'; }
G1MAC=$(dv "$G1" MAC)
P1MAC=$(dv "$P1" MAC)

for i in $(seq 0 2); do
	tui --add "$(dv "$i" HP)" -u admin -q >/dev/null 2>"$T_TMP/e" || fail "$N: --add $i" "$(cat "$T_TMP/e")"
done
[ "$(g1_relay)" = '{"auto_on":0,"auto_off":0}' ] &&
	[ "$(p1_switch)" = '{"auto_on":false,"auto_on_delay":60,"auto_off":false,"auto_off_delay":60}' ] ||
	fail "$N: fixtures" "$(g1_relay) $(p1_switch)"

# --- Gen2 -> Gen1 ---
tui --template-save t1 --from "$P1MAC" -q >/dev/null 2>"$T_TMP/e" || fail "$N: --template-save t1" "$(cat "$T_TMP/e")"
tui --drift --template t1 "$G1MAC" --json >"$T_TMP/d1.json" 2>"$T_TMP/e"
rc=$?
timers=$(jq -r '.devices[0].fields[] | select(.field | test("^switch:0.auto_o")) | "\(.field) \(.state)"' "$T_TMP/d1.json" | tr '\n' ',')
{ [ $rc = 0 ] || [ $rc = 3 ]; } && [ "$timers" = "switch:0.auto_on same,switch:0.auto_on_delay_s same,switch:0.auto_off same,switch:0.auto_off_delay_s same," ] &&
	pass "$N: a Gen2 template with timers off: the idle Gen1 relay is in sync" ||
	fail "$N: drift t1 on Gen1" "rc=$rc $timers $(cat "$T_TMP/d1.json" "$T_TMP/e")"
tui --apply --template t1 "$G1MAC" >"$T_TMP/a1" 2>&1
[ "$(g1_relay)" = '{"auto_on":0,"auto_off":0}' ] &&
	pass "$N: applying it leaves the Gen1 timers off" || fail "$N: apply t1 (idle)" "$(g1_relay) $(cat "$T_TMP/a1")"

ctl POST "/devices/$G1/config" '{"patch":{"relays":{"0":{"auto_on":30}}}}' >/dev/null
tui --drift --template t1 "$G1MAC" --json >"$T_TMP/d2.json" 2>"$T_TMP/e"
rc=$?
[ $rc = 3 ] && [ "$(jq -r '.devices[0].fields[] | select(.state == "drift" and (.field | test("^switch:"))) | "\(.field) \(.actual) \(.desired)"' "$T_TMP/d2.json")" = "switch:0.auto_on true false" ] &&
	pass "$N: a Gen1 auto_on of 30 drifts from the template's auto_on=false" ||
	fail "$N: drift t1 (auto_on 30)" "rc=$rc $(cat "$T_TMP/d2.json" "$T_TMP/e")"
tui --apply --template t1 "$G1MAC" >"$T_TMP/a2" 2>&1
rc=$?
[ $rc = 0 ] && grep -q ': ok: ' "$T_TMP/a2" && [ "$(g1_relay)" = '{"auto_on":0,"auto_off":0}' ] &&
	pass "$N: apply turns the Gen1 timer off (auto_on 0, not 60)" || fail "$N: apply t1" "rc=$rc $(g1_relay) $(cat "$T_TMP/a2")"

# --- a delay alone never turns a Gen1 timer on ---
c0=$(st "$G1" /settings | jq -r .cfg_changed_cnt)
tui --config-set switch:0.auto_on_delay_s=60 "$G1MAC" >"$T_TMP/s1" 2>&1
rc=$?
[ $rc != 0 ] && grep -q 'turns the timer on; set switch:0.auto_on with it' "$T_TMP/s1" &&
	[ "$(g1_relay)" = '{"auto_on":0,"auto_off":0}' ] && [ "$(st "$G1" /settings | jq -r .cfg_changed_cnt)" = "$c0" ] &&
	pass "$N: --config-set of a Gen1 delay alone is refused, nothing sent" ||
	fail "$N: delay alone" "rc=$rc $(g1_relay) $(cat "$T_TMP/s1")"
tui --config-set switch:0.auto_on=true switch:0.auto_on_delay_s=60 "$G1MAC" >"$T_TMP/s2" 2>&1
rc=$?
[ $rc = 0 ] && [ "$(g1_relay)" = '{"auto_on":60,"auto_off":0}' ] &&
	pass "$N: the flag with its delay turns the Gen1 timer on" || fail "$N: flag and delay" "rc=$rc $(g1_relay) $(cat "$T_TMP/s2")"

# --- Gen1 -> Gen2 ---
ctl POST "/devices/$G1/config" '{"patch":{"relays":{"0":{"auto_on":0,"auto_off":120}}}}' >/dev/null
tui --template-save t2 --from "$G1MAC" -q >/dev/null 2>"$T_TMP/e" || fail "$N: --template-save t2" "$(cat "$T_TMP/e")"
TF=$XDG_CONFIG_HOME/shelly-tui/templates/t2.tmpl
grep -q '^switch:0.auto_off = true$' "$TF" && grep -q '^switch:0.auto_off_delay_s = 120$' "$TF" &&
	grep -q '^switch:0.auto_on = false$' "$TF" &&
	pass "$N: a Gen1 auto_off of 120 saves as auto_off = true with its delay" || fail "$N: t2 file" "$(cat "$TF")"
tui --apply --template t2 "$P1MAC" >"$T_TMP/a3" 2>&1
rc=$?
[ $rc = 0 ] && [ "$(p1_switch)" = '{"auto_on":false,"auto_on_delay":60,"auto_off":true,"auto_off_delay":120}' ] &&
	pass "$N: apply on Gen2 turns auto_off on with a delay of 120 (auto_on stays off)" ||
	fail "$N: apply t2" "rc=$rc $(p1_switch) $(cat "$T_TMP/a3")"
tui --drift --template t2 "$P1MAC" --json >"$T_TMP/d3.json" 2>&1
[ $? = 0 ] && [ "$(jq -r .drifted "$T_TMP/d3.json")" = 0 ] && pass "$N: no drift after apply" ||
	fail "$N: drift t2 after apply" "$(cat "$T_TMP/d3.json")"
ctl POST "/devices/$P1/config" '{"patch":{"switch:0":{"auto_off":false}}}' >/dev/null
tui --drift --template t2 "$P1MAC" --json >"$T_TMP/d4.json" 2>&1
rc=$?
[ $rc = 3 ] && [ "$(jq -r '.devices[0].fields[] | select(.state == "drift") | "\(.field) \(.actual) \(.desired)"' "$T_TMP/d4.json")" = "switch:0.auto_off false true" ] &&
	pass "$N: the Gen2 timer turned off behind the tool's back drifts" ||
	fail "$N: drift t2 (auto_off false)" "rc=$rc $(cat "$T_TMP/d4.json")"
