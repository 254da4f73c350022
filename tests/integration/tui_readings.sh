# The detail view shows readings beyond outputs: the Gen1 TRV's thermostat (target, current
# temperature, valve) and the Plus Uni's count input (total, frequency), as the device reports
# them.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_readings
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
unset SHELLY_TUI_PASSWORD NO_COLOR
if ! sim_start $N --fixtures tests/fixtures --models gen1/shelly-trv,gen2/plus-uni --auth none; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
printf 'set poll-interval-gen1 1s\nset poll-interval-gen2 1s\nset connect-timeout 10s\nset request-timeout 15s\n' \
	>"$XDG_CONFIG_HOME/shelly-tui/config"
"$SHELLY_TUI" --add "$(dv 0 HP)" --name trv -q >/dev/null 2>"$T_TMP/e" || fail "$N: add trv" "$(cat "$T_TMP/e")"
"$SHELLY_TUI" --add "$(dv 1 HP)" --name uni -q >/dev/null 2>"$T_TMP/e" || fail "$N: add uni" "$(cat "$T_TMP/e")"
t=$(curl -s -m 3 "http://$(dv 0 HP)/status" | jq -r '.thermostats[0] | "target \(.target_t.value | tostring | sub("\\.0$"; "")).* current \(.tmp.value)"')
tui_start 100 30 "SHELLY_TUI_ALLOW_NETS=$SHELLY_TUI_ALLOW_NETS XDG_DATA_HOME=$XDG_DATA_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME LC_ALL=C.UTF-8 $SHELLY_TUI"
tui_wait 60 'fleet 2 +online 2' || fail "$N: start" "$(tui_why 'online 2')"
tui_keys /
tui_type trv
tui_keys Enter Enter
if tui_wait 20 "thermostat:0 +on +$t C +valve [0-9]+ %"; then pass "$N: the TRV's thermostat row ($t)"
else fail "$N: thermostat row" "$(tui_why "thermostat:0 .*$t")"; fi
tui_keys q
tui_keys /
tui_keys C-u
tui_type uni
tui_keys Enter Enter
if tui_wait 20 'input:2 +count total [0-9]+ +frequency [0-9.]+ Hz'; then pass "$N: the Plus Uni's count input row"
else fail "$N: count input row" "$(tui_why 'input:2 ')"; fi
tui_keys q q
if tui_wait 20 'RESTORED rc=0'; then pass "$N: q exits 0"; else fail "$N: quit" "$(tui_why RESTORED)"; fi
