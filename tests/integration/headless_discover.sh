#!/bin/sh
# --headless runs scheduled discovery of the configured discover-ranges: devices appear in the
# registry on their own, are polled, and a device that moves is updated (ip_changed), not
# duplicated. mDNS obeys the guard (off under 127.0.0.0/8, logged). A reload that leaves
# discovery's settings alone lets a scan in flight finish (it used to be dropped and started
# again, so a poller reloaded more often than a scan lasts never stored one).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=headless_discover

if ! sim_start $N --models gen1/shelly-1,gen2/plus-1pm,gen3/1pm-gen3 --count 3; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
DB=$T_TMP/db
CONF=$T_TMP/config
hl_config "$CONF" "discover-range $SIM_NET.1-20" "set discover-interval 1s" \
	"set discover-port $SIM_PORT" "set discover-timeout 2s"
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }

count_devices() { [ "$(sq "$DB" 'SELECT count(*) FROM devices')" = "$1" ]; }
if wait_for 30 count_devices 3; then
	pass "$N: scheduled discovery registers the 3 devices"
else
	fail "$N: scheduled discovery" "devices=$(sq "$DB" 'SELECT count(*) FROM devices') $(tail -5 "$(hl_err a)")"
fi
via=$(sq "$DB" "SELECT discovered_via FROM devices WHERE mac='$(mac_of 0)'")
[ "$via" = scan ] && pass "$N: discovered_via scan" || fail "$N: discovered_via" "got '$via'"

online() { [ "$(sq "$DB" "SELECT count(*) FROM status WHERE state='online'")" = 3 ]; }
if wait_for 15 online; then pass "$N: discovered devices are polled"; else
	fail "$N: discovered devices are polled" "$(sq "$DB" 'SELECT mac,state,error FROM status')"; fi

grep -q 'mDNS is off: SHELLY_TUI_ALLOW_NETS does not include the mDNS group 224.0.0.251' "$(hl_err a)" &&
	pass "$N: mDNS kept off by the guard" || fail "$N: mDNS guard" "$(head -5 "$(hl_err a)")"

# Move device 1 to another address of the pool: the next run updates it, no duplicate.
old=$(dev_addr 1)
ctl POST /devices/1/move >/dev/null
new=$(dev_state 1 .addr)
moved() { [ "$(sq "$DB" "SELECT host FROM devices WHERE mac='$(mac_of 1)'")" = "$new" ]; }
if [ -n "$new" ] && [ "$new" != "$old" ] && wait_for 15 moved; then
	pass "$N: a moved device is updated ($old -> $new)"
else
	fail "$N: moved device" "old=$old new=$new db=$(sq "$DB" "SELECT host FROM devices WHERE mac='$(mac_of 1)'")"
fi
count_devices 3 && pass "$N: no duplicate after the move" || fail "$N: duplicate" "$(sq "$DB" 'SELECT mac,host FROM devices')"
ev() { [ "$(sq "$DB" "SELECT count(*) FROM events WHERE kind='ip_changed' AND mac='$(mac_of 1)'")" -ge 1 ]; }
wait_for 5 ev && pass "$N: ip_changed event" || fail "$N: ip_changed event" "$(sq "$DB" 'SELECT kind,detail FROM events')"

hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$HL_RC"

# A scan that lasts (device 2 never answers a SYN: its probe waits discover-timeout), reloads
# every 0.4 s: device 0 is still registered.
set_fault 2 silent
hl_config "$T_TMP/config.b" "discover-range $(dev_addr 0) $(dev_addr 2)" "set discover-interval 1h" \
	"set discover-port $SIM_PORT" "set discover-timeout 3s"
hl_start b "$T_TMP/db.b" "$T_TMP/config.b" || { fail "$N: headless start (reloads)" "$(cat "$(hl_err b)")"; exit 1; }
found0() { [ "$(sq "$T_TMP/db.b" "SELECT count(*) FROM devices WHERE mac='$(mac_of 0)'")" = 1 ]; }
end=$(($(now_ms) + 30000))
while ! found0 && [ "$(now_ms)" -lt "$end" ] && hl_alive b; do
	kill -HUP "$(hl_pid b)"
	sleep 0.4
done
reloads=$(grep -c 'SIGHUP: configuration and registry reloaded' "$(hl_err b)")
found0 && pass "$N: reloads every 0.4 s do not drop a scan in flight ($reloads reloads)" ||
	fail "$N: scan under reloads" "device 0 not registered after $reloads reloads"
hl_stop b
[ "$HL_RC" = 0 ] || fail "$N: clean stop (reloads)" "rc=$HL_RC"
