# The detail view shows readings beyond outputs: the Gen1 TRV's thermostat (target, current
# temperature, valve) and the Plus Uni's count input (total, frequency), as the device reports
# them.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_readings
tui_sim_start $N --fixtures tests/fixtures --models gen1/shelly-trv,gen2/plus-uni --auth none
tui_config 'set poll-interval-gen1 1s'
tui_add 0 trv
tui_add 1 uni
t=$(curl -s -m 3 "http://$(dv 0 HP)/status" | jq -r '.thermostats[0] | "target \(.target_t.value | tostring | sub("\\.0$"; "")).* current \(.tmp.value)"')
tui_console 100 30 'fleet 2 +online 2'
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
