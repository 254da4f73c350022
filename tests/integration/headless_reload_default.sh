# SIGHUP without a configuration file: a missing default file is an empty configuration at
# start and on every reload alike, so the registry is read again (a device --added meanwhile
# is polled); a missing file given with --config stays an error and the old configuration
# stays.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_reload_default
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm --count 2
DB=$T_TMP/shelly.db
DEF=$XDG_CONFIG_HOME/shelly-tui/config
hl_add "$DB" 0 || { fail "$N: --add 0" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
[ ! -e "$DEF" ] || { fail "$N: the default configuration file exists" "$DEF"; exit 1; }

# --- no --config, the default file missing ---
hl_start a "$DB" "" || { fail "$N: --headless without a configuration file" "$(cat "$(hl_err a)")"; exit 1; }
hl_add "$DB" 1 || fail "$N: --add 1 while running" "$(tail -n 3 "$T_TMP/add.err")"
kill -HUP "$(hl_pid a)"
wait_for 10 grep -q 'SIGHUP' "$(hl_err a)"
if grep -q 'SIGHUP: configuration and registry reloaded' "$(hl_err a)" && ! grep -q 'not reloaded' "$(hl_err a)"; then
	pass "$N: SIGHUP with the default file missing reloads"
else
	fail "$N: SIGHUP with the default file missing" "$(grep SIGHUP "$(hl_err a)")"
fi
M1=$(mac_of 1)
known() { hl_metrics a "$T_TMP/m" && grep -q "^shelly_device_info{mac=\"$M1\"" "$T_TMP/m"; }
wait_for 10 known && pass "$N: the device --added before SIGHUP is in the registry" ||
	fail "$N: new device after SIGHUP" "not in /metrics"
# poll-interval-gen2 is 10 s by default: its first poll comes within that.
polled() { [ "$(hl_metric a "shelly_device_up{mac=\"$M1\"}")" = 1 ]; }
wait_for 30 polled && pass "$N: and it is polled" ||
	fail "$N: new device polled after SIGHUP" "$(grep "$M1" "$T_TMP/hl.a.m" | head -n 3)"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: exits 0" || fail "$N: exit" "rc=$HL_RC"

# --- an explicit --config that went missing: an error, the daemon keeps going ---
CONF=$T_TMP/given.config
hl_config "$CONF"
hl_start b "$DB" "$CONF" || { fail "$N: --headless --config" "$(cat "$(hl_err b)")"; exit 1; }
rm -f "$CONF"
kill -HUP "$(hl_pid b)"
wait_for 10 grep -q 'not reloaded' "$(hl_err b)" &&
	grep 'not reloaded' "$(hl_err b)" | grep -qF "$CONF: cannot read" &&
	pass "$N: SIGHUP with the given --config file missing: error ($(grep -o 'cannot read.*' "$(hl_err b)" | head -n 1))" ||
	fail "$N: given file missing on SIGHUP" "$(tail -n 3 "$(hl_err b)")"
hl_alive b && pass "$N: still running after the failed reload" || fail "$N: died after a failed reload"
hl_stop b
sim_stop
exit 0
