# A device that asks for a restart and is rebooted (--allow-reboot) is read back once it is up
# again, as long as a real one takes to boot and rejoin its network (here 8 s of refused
# connections), not given up after a few quick tries: the apply is ok, not verify-failed. One
# that reboots half-way is waited for by the restore the same way.
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

# A device that reboots half-way through an apply (the connection of its second write cut) is
# (the second write is never answered, so the reboot below comes while it is in flight however
# long a loaded machine takes to see the request arrive; the fault goes once the reboot began)
# away while the fields already written are set back: the restore waits for it as the read-back
# does, so the device ends as it was (restored), not half-changed (failed).
tz0=$(st "$G2" /rpc/Sys.GetConfig | jq -r .location.tz)
mq0=$(st "$G2" /rpc/MQTT.GetConfig | jq -r .server)
ctl POST /devices/0/reset-counters >/dev/null
ctl POST /devices/0/fault '{"fault":"noanswer","path":"/rpc/MQTT.SetConfig"}' >/dev/null
"$SHELLY_TUI" --timeout 10 --config-set sys.timezone=Asia/Dubai mqtt.server=mid.lan:1883 "$G2" --json \
	>"$T_TMP/mid.json" 2>"$T_TMP/mid.err" &
mpid=$!
pst=$(pid_start $mpid)
if wait_for 30 sh -c "[ \"\$(curl -s -m 3 http://$SIM_CTL/devices/0/state | jq -r '.counters.by_path[\"/rpc/MQTT.SetConfig\"] // 0')\" -ge 1 ]"; then
	ctl POST /devices/0/reboot '{}' >/dev/null
	ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
fi
wait_for 120 pid_gone $mpid "$pst" || kill_ours -KILL $mpid
wait $mpid
rc=$?
[ $rc = 1 ] && [ "$(jq -r '.devices[0].result' "$T_TMP/mid.json")" = restored ] &&
	[ "$(st "$G2" /rpc/Sys.GetConfig | jq -r .location.tz)" = "$tz0" ] &&
	[ "$(st "$G2" /rpc/MQTT.GetConfig | jq -r .server)" = "$mq0" ] &&
	pass "$N: rebooted half-way: the restore waits for the device, which ends as it was" ||
	fail "$N: reboot half-way" "rc=$rc $(cat "$T_TMP/mid.json" "$T_TMP/mid.err")"
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
sim_stop
exit 0
