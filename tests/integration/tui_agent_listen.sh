#!/bin/sh
# The console's agent API listener, as --headless has it. agent-tls-cert and agent-tls-key
# without agent-listen: the console serves nothing (not HTTPS on listen, as it once did) and
# its provisioning view says why, in the words --headless refuses to start with. agent-listen
# on an address another poller's agent API holds: the view says why and that it tries again;
# that poller stops, and the console serves there by itself (the view shows the address, and
# an agent's call is answered).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_tui.sh

N=tui_agent_listen
NET=$(test_net $N)
unset SHELLY_TUI_PASSWORD NO_COLOR
DB=$T_TMP/db
CONF=$T_TMP/config
A1=$NET.1:$(free_port $NET.1)
A2=$NET.2:$(free_port $NET.2)
printf 'not a certificate\n' >"$T_TMP/cert.pem"
printf 'not a key\n' >"$T_TMP/key.pem"
chmod 600 "$T_TMP/key.pem"
console() {
	tui_console 150 34 'fleet 0' --db $DB --config $CONF
	tui_keys W
}
console_quit() {
	tui_keys q
	tui_keys q
	tui_wait 10 'RESTORED rc=0' || fail "$N: console exit" "$(tui_why 'RESTORED')"
	tui_stop
}
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' -k -X POST -d '{}' "$1/api/v1/heartbeat"; }

# The TLS files without agent-listen: nothing on listen, the reason in the view.
hl_config "$CONF" "set discover-mdns off" "set console-agent-api on" "set listen $A1" \
	"set agent-tls-cert $T_TMP/cert.pem" "set agent-tls-key file:$T_TMP/key.pem"
console
if tui_wait 10 'Agent API: not served: agent-tls-cert and agent-tls-key need agent-listen' &&
	[ "$(code "http://$A1")" = 000 ] && [ "$(code "https://$A1")" = 000 ]; then
	pass "$N: the TLS files without agent-listen: not served, the view says why"
else
	fail "$N: the TLS files without agent-listen: not served, the view says why" "$(tui_why 'Agent API')"
fi
tui_wait_not 1 'trying again' && pass "$N: a configuration error is not tried again" ||
	fail "$N: a configuration error is not tried again" "$(tui_why 'Agent API')"
console_quit

# agent-listen taken by another poller's agent API (its own database, so it holds no lease
# of ours): the reason and the retry in the view; the poller stops, the console serves there.
hl_config "$T_TMP/config.b" "set discover-mdns off" "set agent-listen $A2"
hl_start b "$T_TMP/db.b" "$T_TMP/config.b" || { fail "$N: the holder starts" "$(cat "$(hl_err b)")"; exit 1; }
hl_config "$CONF" "set discover-mdns off" "set console-agent-api on" "set agent-listen $A2"
console
tui_wait 10 'Agent API: not served: .*Address already in use; trying again every 10 s' &&
	pass "$N: a taken agent-listen: the view says why and that it tries again" ||
	fail "$N: a taken agent-listen: the view says why and that it tries again" "$(tui_why 'Agent API')"
hl_stop b
if tui_wait 30 "Agent API: http://$(echo "$A2" | sed 's/\./\\./g')/api/v1/ \\(this console\\)" &&
	[ "$(code "http://$A2")" = 401 ]; then
	pass "$N: the address freed, the console serves there by itself"
else
	fail "$N: the address freed, the console serves there by itself" "$(tui_why 'Agent API')"
fi
console_quit
