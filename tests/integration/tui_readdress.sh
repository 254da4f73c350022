# The console's config editor gives a Gen2+ device a static address in its own network: after the
# two confirmations the apply follows the device to the new address (MAC and generation shown
# there first), reads it back there and the registry takes the new address.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_readdress
tui_sim_start $N --models gen2/plus-1pm
tui_config 'set readdress-timeout 30s'
tui_add 0 plus
DB=$XDG_DATA_HOME/shelly-tui/shelly.db
MAC=$(dv 0 MAC | tr 'A-F' 'a-f')
NEW=$SIM_NET.60
PORT=$(dv 0 PORT)

tui_console 130 36 'fleet 1 +online 1'
tui_keys c
tui_wait 30 'wifi.sta.ipv4mode' || fail "$N: editor" "$(tui_why 'wifi.sta.ipv4mode')"
tui_keys /
tui_type wifi.sta.ipv4mode
tui_keys Enter Enter C-u
tui_type static
tui_keys Enter Down Enter C-u
tui_type "$NEW"
tui_keys Enter a
tui_wait 10 'Send 2 field\(s\) to plus' || fail "$N: apply asks" "$(tui_why 'Send 2 field')"
tui_keys y
if tui_wait 10 'may cut the device off the network.*\[y/N\]'; then
	tui_keys y
else
	fail "$N: network confirmation" "$(tui_why 'may cut the device off the network')"
fi
if tui_wait 60 "at the new address $NEW" &&
	[ "$(curl -s -m 3 "http://$NEW:$PORT/rpc/WiFi.GetConfig" | jq -r .sta.ip)" = "$NEW" ] &&
	wait_for 10 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"select host from devices where mac = '$MAC'\")\" = '$NEW' ]" &&
	[ "$(sqlite3 -cmd '.timeout 5000' "$DB" "select count(*) from audit where action = 'readdress' and who = 'console' and target = '$MAC'")" = 1 ]; then
	pass "$N: the console follows the device to its static address; the registry follows"
else
	fail "$N: console readdress" "host=$(sqlite3 "$DB" "select host from devices") $(tui_screen)"
fi
# The console polls it at its new address from now on.
tui_keys q
ctl POST /devices/0/reset-counters >/dev/null
polled() { [ "$(dev_state 0 .counters.requests)" -ge 3 ]; }
if tui_wait 30 "plus .*$NEW" && wait_for 30 polled && tui_wait 30 'fleet 1 +online 1'; then
	pass "$N: the console polls it at $NEW (the table shows it there, online)"
else
	fail "$N: table after move" "requests=$(dev_state 0 .counters.requests) $(tui_why "plus .*$NEW")"
fi
tui_keys q
exit $T_FAILED
