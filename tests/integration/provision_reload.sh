#!/bin/sh
# The provisioning verifier of --headless follows SIGHUP: a discover-range added to the
# configuration lets a waiting task be verified (also beside a range larger than /16, which is
# scanned as scheduled discovery scans it, not refused), and a shorter verify-timeout ends
# another wait, without a restart. The agent is played with curl against the agent API (register,
# claim, progress); the device is a simulated one on loopback.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_agentapi.sh
N=provision_reload

sim_up $N --models gen2/plus-1pm --count 1
DB=$T_TMP/db
CONF=$T_TMP/config
MAC=$(mac_of 0)
# The agent played here never heartbeats: a long agent-lease keeps its tasks with it however
# long a loaded machine takes over the scans (the default 60 s once ran out mid-test). A probe
# of the one live address (the sim's device) gets 10 s: with 1 s a loaded machine could miss it,
# and the device was then only seen by the next run, after the whole /15 below (16 s under the
# sanitizers alone, minutes beside a second suite). Every other address is on loopback with
# nobody listening: refused at once, whatever the timeout.
base="set discover-mdns off|set discover-timeout 10s|set discover-port $SIM_PORT|set verify-interval 200ms|set agent-lease 30m"
IFS='|'
# shellcheck disable=SC2086
hl_config "$CONF" $base "set verify-timeout 1h"
unset IFS
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
aa_init "$DB" "$CONF" "http://127.0.0.1:$(hl_port a)" || { fail "$N: register" "no token"; exit 1; }

# Two tasks: the simulated device, and one whose device never shows up.
tui --provision "$MAC" --network home >/dev/null &&
	tui --provision 0a0b0c0d0e0f --network home >/dev/null || { fail "$N: --provision"; exit 1; }
s1=$(aa_configure "$MAC"); s2=$(aa_configure 0a0b0c0d0e0f)
T1=$(cat "$T_TMP/id.$MAC"); T2=$(cat "$T_TMP/id.0a0b0c0d0e0f")
field() { aa_field "$@"; }
[ "$s1" = verifying ] && [ "$s2" = verifying ] && [ "$(field "$T1" state)" = verifying ] &&
	pass "$N: without a range the configured device waits (verifying)" ||
	fail "$N: without a range the configured device waits (verifying)" "$s1 $s2 $(tui --tasks)"

# First SIGHUP: the range arrives (the timeout stays 1 h, so a loaded machine's slow scan cannot
# end the wait); second SIGHUP: a 1 s timeout, shorter than the wait so far, ends T2's wait.
# Beside the device's range comes a /15 (more than the 65536 addresses a run scans unforced):
# it lies above every test's 127.x.y.0/24, so the scan, in address order, reaches the device
# first; the rest of the sweep (loopback addresses nobody listens on, 16 at a time) is dropped
# by the second SIGHUP.
IFS='|'
# shellcheck disable=SC2086
hl_config "$CONF" $base "set verify-timeout 1h" "set scan-concurrency 16" \
	"discover-range $(mf '.devices[0].addr')/32" "discover-range 127.240.0.0/15"
unset IFS
kill -HUP "$(hl_pid a)"
done1() { [ "$(field "$T1" state)" = done ]; }
if wait_for 120 done1 && [ "$(field "$T1" result)" = "$(mf '.devices[0].addr')" ]; then
	pass "$N: after SIGHUP the new discover-ranges (one of them a /15) verify the device"
else
	fail "$N: after SIGHUP the new discover-ranges (one of them a /15) verify the device" "$(tui --tasks) $(tail -5 "$(hl_err a)")"
fi
grep -q -- "--force" "$(hl_err a)" && fail "$N: the /15 is scanned, not refused" "$(grep -- --force "$(hl_err a)")" ||
	pass "$N: the /15 is scanned, not refused"
IFS='|'
# shellcheck disable=SC2086
hl_config "$CONF" $base "set verify-timeout 1s" "discover-range $(mf '.devices[0].addr')/32"
unset IFS
kill -HUP "$(hl_pid a)"
notseen2() { [ "$(field "$T2" stage)" = not_seen ]; }
wait_for 40 notseen2 && pass "$N: after SIGHUP the shorter verify-timeout ends the other wait (not_seen)" ||
	fail "$N: after SIGHUP the shorter verify-timeout ends the other wait (not_seen)" "$(tui --tasks --json)"
grep -q "provisioning: verifier and agent lease follow the reloaded configuration" "$(hl_err a)" &&
	pass "$N: the reload is logged" || fail "$N: the reload is logged" "$(tail -5 "$(hl_err a)")"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$HL_RC"
