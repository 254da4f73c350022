#!/bin/sh
# An access point gone between the agent's scan and its claim costs a task no attempt, whether
# the task names the device by its access point (SSID) or by its MAC: the agent reported the
# AP (so the manager hands it the task), scans again before it begins, does not see it, and
# reports "access point not in range" with a retry; the task goes back to the queue, its
# attempts unused, and the radio never tried to join. A stand-in nmcli first in PATH lists the
# AP in its first scan only.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=provision_apgone
AGENT=${SHELLY_PROVISIONER:-$BUILD/shelly-provisioner}
NET=$(test_net $N)

# its scan lists the AP only while $T_TMP/in-range is there, and removes it
hl_nmcli "$T_TMP/bin" ": >\"$T_TMP/joined\"" "if [ -e \"$T_TMP/in-range\" ]; then
	rm -f \"$T_TMP/in-range\"; printf '%s:80\\n' \"\$(cat \"$T_TMP/ssid\")\"; fi"

# The lease need not run out here: a long one, so a loaded machine does not end the claimed task.
HL_AGENT_LEASE=30s hl_provision_one $N 1
tui --provision 0a0b0c0d0e51 --network home --attempts 1 >/dev/null || { fail "$N: --provision"; exit 1; }
agent() {
	PATH="$T_TMP/bin:$PATH" SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 "$AGENT" \
		--manager "http://127.0.0.1:$(hl_port a)" --wifi nm --enrol-secret-file "$T_TMP/secret" \
		--token-file "$T_TMP/token" --name gone --device "$NET.9" --once --timeout 10 \
		>>"$T_TMP/agent.log" 2>&1
}
field() { tui --tasks --json | jq -r ".tasks[] | select(.target == \"$1\") | .$2"; }

# by_target TARGET SSID WHAT: one --once round that sees SSID in its first scan only
by_target() {
	printf '%s\n' "$2" >"$T_TMP/ssid"
	: >"$T_TMP/in-range"
	rm -f "$T_TMP/joined"
	agent
	rc=$?
	if [ "$rc" = 0 ] && [ ! -e "$T_TMP/in-range" ] && [ ! -e "$T_TMP/joined" ] &&
		[ "$(field "$1" state)" = queued ] && [ "$(field "$1" attempts)" = 0 ] &&
		grep -q "access point not in range" "$T_TMP/agent.log"; then
		pass "$N: $3: an access point gone since the scan costs no attempt"
	else
		fail "$N: $3: an access point gone since the scan costs no attempt" \
			"rc $rc $(tui --tasks) $(cat "$T_TMP/agent.log")"
	fi
}
by_target shelly1-AABBCC shelly1-AABBCC "by SSID"
tui --task-cancel "$(field shelly1-AABBCC id)" >/dev/null
: >"$T_TMP/agent.log"
by_target 0a0b0c0d0e51 ShellyPlus1-0A0B0C0D0E51 "by MAC"
hl_stop a
exit 0
