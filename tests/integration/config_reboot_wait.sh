# A device that asks for a restart and is rebooted (--allow-reboot) is read back once it is up
# again, as long as a real one takes to boot and rejoin its network (here 8 s of refused
# connections), not given up after a few quick tries: the apply is ok, not verify-failed.
. tests/lib.sh
. tests/sim/simlib.sh

N=config_reboot_wait
export XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
sim_up $N --fixtures tests/fixtures --models gen3/1pm-gen3,gen1/shelly-1 --count 2 --reboot-ms 8000
G2=$(mf '.devices[0] | "\(.addr):\(.port)"')
G1=$(mf '.devices[1] | "\(.addr):\(.port)"')
st() { curl -s -m 3 "http://$1$2"; }

b0=$(dev_state 0 .reboots) b1=$(dev_state 1 .reboots)
"$SHELLY_TUI" --timeout 10 --config-set mqtt.server=boot.lan:1883 "$G2" "$G1" --allow-reboot --json \
	>"$T_TMP/rb.json" 2>"$T_TMP/rb.err"
rc=$?
[ $rc = 0 ] && [ "$(jq -r '[.devices[] | "\(.result) \(.rebooted)"] | join(",")' "$T_TMP/rb.json")" = "ok true,ok true" ] &&
	[ "$(dev_state 0 .reboots)" -gt "$b0" ] && [ "$(dev_state 1 .reboots)" -gt "$b1" ] &&
	[ "$(st "$G2" /rpc/MQTT.GetConfig | jq -r .server)" = boot.lan:1883 ] &&
	[ "$(st "$G1" /settings | jq -r .mqtt.server)" = boot.lan:1883 ] &&
	pass "$N: rebooted for 8 s (Gen1, Gen2+): read back once up, ok" ||
	fail "$N: reboot wait" "rc=$rc $(cat "$T_TMP/rb.json" "$T_TMP/rb.err")"
sim_stop
exit 0
