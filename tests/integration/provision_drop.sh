#!/bin/sh
# A device the provisioning verifier of --headless found keeps the password its task gave it
# although the scan that found it never ends: it is still going (another task waits, and a
# listener in the range holds the probe and never answers; both checked before each signal)
# when SIGHUP drops it, and the scan after it is dropped by SIGTERM. Both times the registry
# holds the device with the password's reference. The agent is played with curl; the device is
# a simulated one on loopback.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_agentapi.sh
N=provision_drop

sim_start $N --models gen2/plus-1pm --count 1 || { fail "$N: sim start" "$(cat "$SIM_ERR")"; exit 1; }
# Beside the device (.1), on its port: a listener that takes every connection and never answers,
# so a probe that reached it hangs (discover-timeout 5m); it writes a line per connection
# ("conn") and one when the prober closes it ("gone").
python3 -c 'import select, socket, sys
s = socket.socket()
s.bind((sys.argv[1], int(sys.argv[2])))
s.listen(16)
open(sys.argv[3], "w").close()
def note(what):
    with open(sys.argv[3], "a") as f:
        f.write(what + "\n")
held = []
while True:
    for x in select.select([s] + held, [], [])[0]:
        if x is s:
            held.append(s.accept()[0])
            note("conn")
        elif not x.recv(4096):
            held.remove(x)
            x.close()
            note("gone")' "$SIM_NET.6" "$SIM_PORT" "$T_TMP/silent.log" 2>"$T_TMP/silent.err" &
SILENT=$!
at_exit "kill_ours $SILENT"
wait_for 30 test -e "$T_TMP/silent.log" || { fail "$N: silent listener" "listener: $(ps -o stat=,etime=,wchan= -p $SILENT 2>/dev/null || echo gone) $(cat "$T_TMP/silent.err")"; exit 1; }

DB=$T_TMP/db
CONF=$T_TMP/config
MAC=$(mac_of 0)
hl_config "$CONF" "set discover-mdns off" "set discover-port $SIM_PORT" "set discover-timeout 5m" \
	"set verify-interval 200ms" "set verify-timeout 1h" "set agent-lease 1h" \
	"discover-range $SIM_NET.0/29"
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
aa_init "$DB" "$CONF" "http://127.0.0.1:$(hl_port a)" || { fail "$N: register" "no token"; exit 1; }
secret_file "$T_TMP/devpw" drop-pw-3
tui --provision "$MAC" --network home --password-file "$T_TMP/devpw" >/dev/null &&
	tui --provision 0a0b0c0d0e0f --network home >/dev/null || { fail "$N: --provision"; exit 1; }
s1=$(aa_configure "$MAC"); s2=$(aa_configure 0a0b0c0d0e0f)
T1=$(cat "$T_TMP/id.$MAC")
T2=$(cat "$T_TMP/id.0a0b0c0d0e0f")
[ "$s1" = verifying ] && [ "$s2" = verifying ] || fail "$N: both tasks wait" "$s1 $s2"
verified() { [ "$(aa_field "$T1" state)" = "done" ]; }
wait_for 40 verified && pass "$N: the device is verified" ||
	fail "$N: the device is verified" "$(tui --tasks) $(tail -5 "$(hl_err a)")"

WANT="admin file:$(cd "$T_TMP" && pwd -P)/devpw"
creds() { sq "$DB" "SELECT username || ' ' || cred_ref FROM devices WHERE mac = '$MAC'"; }
# The scan is still going when a signal drops it: its probe has reached the silent listener
# (more than $1 connections so far), a connection is still open, and the other task still waits.
conns() { grep -c conn "$T_TMP/silent.log"; }
reached() { [ "$(conns)" -gt "$1" ] && [ "$(conns)" -gt "$(grep -c gone "$T_TMP/silent.log")" ]; }
hanging() {
	wait_for 30 reached "$1" && [ "$(aa_field "$T2" state)" = verifying ] &&
		pass "$N: before $2 the scan hangs at the silent listener" ||
		fail "$N: before $2 the scan hangs at the silent listener" \
			"listener: $(tr '\n' ' ' <"$T_TMP/silent.log"), other task $(aa_field "$T2" state) $(tail -5 "$(hl_err a)")"
}
hanging 0 SIGHUP
BEFORE=$(conns)
kill -HUP "$(hl_pid a)"
reloaded() { grep -q "verifier and agent lease follow the reloaded configuration" "$(hl_err a)"; }
wait_for 20 reloaded && [ "$(creds)" = "$WANT" ] &&
	pass "$N: after SIGHUP dropped the scan, the device has its password" ||
	fail "$N: after SIGHUP dropped the scan, the device has its password" "got '$(creds)'"
hanging "$BEFORE" SIGTERM
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$HL_RC"
[ "$(creds)" = "$WANT" ] && pass "$N: after SIGTERM dropped the scan, the device has its password" ||
	fail "$N: after SIGTERM dropped the scan, the device has its password" "got '$(creds)'"
grep -q drop-pw-3 "$(hl_err a)" "$T_TMP/hl.a.out" && fail "$N: the password is in no log" ||
	pass "$N: the password is in no log"
