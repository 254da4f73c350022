#!/bin/sh
# A discover-range outside SHELLY_TUI_ALLOW_NETS: --headless logs which range the guard refused
# (once, for the provisioning verifier), does not claim that no range was configured, and a task
# waiting for its device ends not_seen with that refusal as its reason, in --tasks and
# --tasks --json. The agent is played with curl against the agent API; no device exists.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_agentapi.sh
N=provision_refused
NET=$(test_net $N)
DB=$T_TMP/db
CONF=$T_TMP/config
hl_config "$CONF" "set discover-mdns off" "set discover-timeout 1s" "set verify-interval 200ms" \
	"set verify-timeout 1s" "discover-range 127.250.0.0/30"
# Only this test's network (and the listener's address) is allowed: the range is outside.
GUARD_WAS=$SHELLY_TUI_ALLOW_NETS
export SHELLY_TUI_ALLOW_NETS="127.0.0.1/32,$NET.0/24"
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
export SHELLY_TUI_ALLOW_NETS="$GUARD_WAS"
aa_init "$DB" "$CONF" "http://127.0.0.1:$(hl_port a)" || { fail "$N: register" "no token"; exit 1; }
aa_waiting "$N" 0a0b0c0d0e0f

field() { aa_field "$ID" "$1"; }
notseen() { [ "$(field stage)" = not_seen ]; }
WHY="not verified: discover-range 127.250.0.0/30 refused by SHELLY_TUI_ALLOW_NETS"
if wait_for 40 notseen && [ "$(field reason)" = "$WHY" ]; then
	pass "$N: the task given up says the range was refused (--tasks --json)"
else
	fail "$N: the task given up says the range was refused (--tasks --json)" "$(tui --tasks --json)"
fi
tui --tasks | grep -qF "$WHY" && pass "$N: --tasks shows the reason" ||
	fail "$N: --tasks shows the reason" "$(tui --tasks)"
ERR=$(hl_err a)
[ "$(grep -cF "provisioning verifier: discover-range 127.250.0.0/30 refused by SHELLY_TUI_ALLOW_NETS" "$ERR")" = 1 ] &&
	pass "$N: the verifier logs the refusal once" || fail "$N: the verifier logs the refusal once" "$(cat "$ERR")"
grep -q "provisioning: the discover-ranges were refused and no mDNS" "$ERR" &&
	! grep -q "no discover-range and no mDNS" "$ERR" &&
	pass "$N: the info line says the ranges were refused" ||
	fail "$N: the info line says the ranges were refused" "$(cat "$ERR")"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$HL_RC"
