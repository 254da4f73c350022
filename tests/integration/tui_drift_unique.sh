# The drift view's apply refuses, before anything is sent, the devices whose stored desired
# configurations give the same MQTT client id to two of them (a value that must differ per
# device, as the command line refuses it): the dry run names the clash for both, the apply
# reports both failed with it and neither device's client id changes; a third device of the
# same run, with no clash, is changed. A fourth whose desired static address is where another
# registered device is now is refused too, as the headless queue refuses it (engine/cfgpeers),
# and keeps its address mode.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_drift_unique
tui_sim_start $N --models gen2/plus-1pm,gen2/plus-1pm,gen2/plus-1pm,gen2/plus-1pm
printf 'set poll-interval-gen2 1h\nset connect-timeout 10s\nset request-timeout 15s\n' \
	>"$XDG_CONFIG_HOME/shelly-tui/config"
DB=$XDG_DATA_HOME/shelly-tui/shelly.db
for i in 0 1 2 3; do
	tui_add $i "p$i"
	"$SHELLY_TUI" --config-get "p$i" >/dev/null 2>"$T_TMP/e" || fail "$N: --config-get p$i" "$(cat "$T_TMP/e")"
done
mac() { sqlite3 "$DB" "SELECT mac FROM devices WHERE name = 'p$1'"; }
# Each device's own desired fields, as --config-set keeps them one device at a time.
for i in 0 1; do
	sqlite3 "$DB" "INSERT INTO config_desired (mac, body) VALUES ('$(mac $i)', 'mqtt.client_id = \"shared-id\"')" ||
		fail "$N: desired p$i"
done
sqlite3 "$DB" "INSERT INTO config_desired (mac, body) VALUES ('$(mac 2)', 'sys.timezone = \"Pacific/Chatham\"')" ||
	fail "$N: desired p2"
P2_ADDR=$(sqlite3 "$DB" "SELECT host FROM devices WHERE name = 'p2'")
sqlite3 "$DB" "INSERT INTO config_desired (mac, body) VALUES ('$(mac 3)', 'wifi.sta.ipv4mode = \"static\"
wifi.sta.ip = \"$P2_ADDR\"
wifi.sta.netmask = \"255.0.0.0\"')" || fail "$N: desired p3"
client_id() { "$SHELLY_TUI" --config-get "p$1" --json 2>/dev/null | jq -r '.devices[0].config["mqtt.client_id"]'; }
before0=$(client_id 0)
before1=$(client_id 1)

tui_console 150 40 'fleet 4 '
tui_keys d
tui_wait 30 'p2 +sys.timezone' || fail "$N: drift view" "$(tui_why 'p2 sys.timezone')"
tui_keys a
if tui_wait 60 'p0 .*mqtt.client_id: shared-id would be given to 2 devices' &&
	tui_wait 10 'p1 .*mqtt.client_id: shared-id would be given to 2 devices' &&
	tui_wait 30 "p3 .*wifi.sta.ip: $P2_ADDR is the current address of another registered device \\(p2\\)" &&
	tui_wait 30 'Apply to 1 device\(s\) .*\[y/N\]'; then
	pass "$N: the dry run refuses both devices given one client id and the one given p2's address, and counts only the third"
else
	fail "$N: dry run" "$(tui_why 'would be given to 2 devices')"
fi
tui_keys y
tui_wait 60 'apply done' || fail "$N: apply ends" "$(tui_why 'apply done')"
if tui_wait 10 'FAILED +p0 +mqtt.client_id: shared-id would be given' &&
	tui_wait 10 'FAILED +p1 +mqtt.client_id: shared-id would be given' &&
	tui_wait 10 "FAILED +p3 +wifi.sta.ip: $P2_ADDR is the current address" &&
	tui_wait 10 'OK +p2 '; then
	pass "$N: the apply refuses the three, and changes the other one"
else
	fail "$N: apply" "$(tui_why 'FAILED p0/p1, OK p2')"
fi
tui_keys q q q
tui_stop
after0=$(client_id 0)
after1=$(client_id 1)
mode3=$("$SHELLY_TUI" --config-get p3 --json 2>/dev/null | jq -r '.devices[0].config["wifi.sta.ipv4mode"]')
tz2=$("$SHELLY_TUI" --config-get p2 --json 2>/dev/null | jq -r '.devices[0].config["sys.timezone"]')
if [ "$after0" = "$before0" ] && [ "$after1" = "$before1" ] && [ "$after0" != shared-id ] &&
	[ "$tz2" = Pacific/Chatham ] && [ "$mode3" = dhcp ]; then
	pass "$N: no refused device changed; the third has its time zone"
else
	fail "$N: devices" "p0 $before0 -> $after0, p1 $before1 -> $after1, p2 tz $tz2, p3 mode $mode3"
fi
sim_stop
exit $T_FAILED
