#!/bin/sh
# `device NAME HOST:PORT [user U password file:P]` lines of the configuration file become
# registered devices: --poll-once identifies them first (merged by MAC, discovered_via config),
# names them as configured, and polls them with the configured password; a device line for an
# address that does not answer is reported and polling goes on. SIGHUP registers new lines.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=headless_config_devices

if ! sim_start $N --models gen1/shelly-1,gen2/plus-1pm --count 2 --auth 1 --password cfgsecret; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
DB=$T_TMP/db
CONF=$T_TMP/config
secret_file "$T_TMP/pw" cfgsecret
hl_config "$CONF" "device garage $(dev_hp 0)" "device kitchen $(dev_hp 1) password file:$T_TMP/pw" \
	"device ghost $SIM_NET.250:$SIM_PORT" "set request-timeout 5s" "set connect-timeout 3s"
"$SHELLY_TUI" --db "$DB" --config "$CONF" --poll-once --json >"$T_TMP/p.json" 2>"$T_TMP/p.err"
rc=$?
[ $rc -eq 0 ] && pass "$N: --poll-once exit 0" || fail "$N: --poll-once" "rc=$rc $(head -c 300 "$T_TMP/p.err")"
j=$(jq -c '[.devices[] | [.name, .state, .mac]] | sort' "$T_TMP/p.json")
want=$(printf '[["garage","online","%s"],["kitchen","online","%s"]]' "$(mac_of 0)" "$(mac_of 1)")
[ "$j" = "$want" ] && pass "$N: configured devices registered, named and polled (auth with the configured password)" ||
	fail "$N: configured devices" "got $j want $want $(head -c 300 "$T_TMP/p.err")"
[ "$(sq "$DB" "SELECT discovered_via FROM devices WHERE mac='$(mac_of 0)'")" = config ] &&
	pass "$N: discovered_via config" || fail "$N: discovered_via" "$(sq "$DB" 'SELECT mac,discovered_via FROM devices')"
grep -q "device ghost at $SIM_NET.250 did not answer as a Shelly; not registered yet" "$T_TMP/p.err" &&
	pass "$N: a dead configured address is reported" || fail "$N: dead address" "$(cat "$T_TMP/p.err")"
# No password in the output or the database.
! grep -q cfgsecret "$T_TMP/p.json" "$T_TMP/p.err" && ! sqlite3 "$DB" .dump | grep -q cfgsecret &&
	pass "$N: the configured password is neither printed nor stored" || fail "$N: password leaked"

# --headless: a device line added later is registered on SIGHUP, without a restart.
DB2=$T_TMP/db2
hl_config "$CONF" "device garage $(dev_hp 0)" "set request-timeout 5s" "set connect-timeout 3s"
hl_start a "$DB2" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
one() { [ "$(sq "$DB2" 'SELECT count(*) FROM devices')" = 1 ]; }
wait_for 10 one && pass "$N: headless registers the configured device at start" || fail "$N: headless start registry" "$(sq "$DB2" 'SELECT mac,name FROM devices')"
printf 'device kitchen %s password file:%s\n' "$(dev_hp 1)" "$T_TMP/pw" >>"$CONF"
kill -HUP "$(hl_pid a)"
kitchen_online() { [ "$(sq "$DB2" "SELECT s.state FROM devices d JOIN status s ON s.mac = d.mac WHERE d.name = 'kitchen'")" = online ]; }
wait_for 15 kitchen_online && pass "$N: SIGHUP registers and polls a new device line" ||
	fail "$N: SIGHUP device" "$(sq "$DB2" 'SELECT d.name, s.state FROM devices d LEFT JOIN status s ON s.mac = d.mac') $(tail -3 "$(hl_err a)")"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$HL_RC"
