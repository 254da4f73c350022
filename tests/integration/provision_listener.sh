#!/bin/sh
# SIGHUP moves the agent API of --headless to the listener the configuration names, and never
# leaves it unserved: from the main server (listen) to agent-listen; to an address another
# process holds (the old one keeps serving, the reason is logged, and once the address is
# free the API moves there by itself, without another SIGHUP); to HTTPS on the same address;
# to a broken certificate or a key of another certificate (refused, the old certificate keeps
# serving); to the TLS files without agent-listen (refused, as at start); back to the main
# server. An agent's token registered at the start proves which process answers (200 from this
# one, 401 elsewhere).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=provision_listener
NET=$(test_net $N)
command -v openssl >/dev/null 2>&1 || { fail "$N" "needs openssl (tools/deps.sh installs it)"; exit 1; }
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=$NET.2" -addext "subjectAltName=IP:$NET.2" \
	-keyout "$T_TMP/key.pem" -out "$T_TMP/cert.pem" >"$T_TMP/openssl.log" 2>&1; then
	fail "$N: a self-signed certificate" "$(cat "$T_TMP/openssl.log")"
	exit 1
fi
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj "/CN=$NET.2" -keyout "$T_TMP/key2.pem" -out "$T_TMP/cert2.pem" >>"$T_TMP/openssl.log" 2>&1 ||
	{ fail "$N: a second certificate" "$(cat "$T_TMP/openssl.log")"; exit 1; }
chmod 600 "$T_TMP/key.pem"
printf -- '-----BEGIN CERTIFICATE-----\nbroken\n-----END CERTIFICATE-----\n' >"$T_TMP/broken.pem"

DB=$T_TMP/db
CONF=$T_TMP/config
A1=$NET.1:$(free_port $NET.1)
A2=$NET.2:$(free_port $NET.2)
TLS="set agent-tls-cert $T_TMP/cert.pem|set agent-tls-key file:$T_TMP/key.pem"
conf() { # conf [LINE|LINE...]: the configuration with these extra lines
	IFS='|'
	# shellcheck disable=SC2086
	hl_config "$CONF" "set discover-mdns off" ${1:-}
	unset IFS
}
hups=0
hup() { # sends SIGHUP and waits until it was handled
	hups=$((hups + 1))
	kill -HUP "$(hl_pid a)"
	wait_for 10 sh -c "[ \$(grep -c 'SIGHUP: configuration and registry reloaded' '$(hl_err a)') -ge $hups ]" ||
		fail "$N: SIGHUP $hups handled" "$(tail -3 "$(hl_err a)")"
}
logged() { grep -qF -- "$1" "$(hl_err a)"; }
# beat URL [CURL ARGS]: the status of a heartbeat with the token
beat() { _u=$1; shift; curl -s -m 5 -o /dev/null -w '%{http_code}' "$@" -X POST \
	-H "Authorization: Bearer $TOKEN" -d '{}' "$_u/api/v1/heartbeat"; }
is() { [ "$(beat "$@")" = "$EXPECT" ]; }
expect() { EXPECT=$1; shift; wait_for "$WAIT" is "$@"; }
WAIT=10

conf
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
MAIN=http://127.0.0.1:$(hl_port a)
grep -qx "agents: $MAIN/api/v1/" "$T_TMP/hl.a.out" &&
	pass "$N: without agent-listen the agent API is on listen (printed)" ||
	fail "$N: without agent-listen the agent API is on listen" "$(cat "$T_TMP/hl.a.out")"
secret=$("$SHELLY_TUI" --db "$DB" --config "$CONF" --agent-enrol 2>/dev/null)
TOKEN=$(curl -s -m 5 -X POST -d "{\"secret\":\"$secret\",\"name\":\"a\"}" "$MAIN/api/v1/register" | jq -r .token)
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] && [ "$(beat "$MAIN")" = 200 ] &&
	pass "$N: an agent registers on listen" || { fail "$N: an agent registers on listen"; exit 1; }

# 1. agent-listen appears: the API moves there, and listen answers 404 for it.
conf "set agent-listen $A1"
hup
if expect 200 "http://$A1" && [ "$(beat "$MAIN")" = 404 ] && logged "agent API on http://$A1/api/v1/"; then
	pass "$N: SIGHUP moves the agent API from listen to agent-listen"
else
	fail "$N: SIGHUP moves the agent API from listen to agent-listen" "$(tail -3 "$(hl_err a)")"
fi

# 2. An address another poller's agent API holds: the old listener keeps serving, the reason
# is logged; the holder stops and the API moves there without another SIGHUP.
hl_config "$T_TMP/config.b" "set discover-mdns off" "set agent-listen $A2"
hl_start b "$T_TMP/db.b" "$T_TMP/config.b" || { fail "$N: the holder starts" "$(cat "$(hl_err b)")"; exit 1; }
conf "set agent-listen $A2"
hup
if logged "agent API still on http://$A1/api/v1/, the configured listener cannot start" &&
	[ "$(beat "http://$A1")" = 200 ] && [ "$(beat "http://$A2")" = 401 ]; then
	pass "$N: a taken agent-listen address: the old listener keeps serving, the reason is logged"
else
	fail "$N: a taken agent-listen address: the old listener keeps serving" "$(tail -3 "$(hl_err a)")"
fi
hl_stop b
WAIT=30 # the listener is tried again every 10 s (PROVSERVE_RETRY_S)
if expect 200 "http://$A2" && expect 000 "http://$A1"; then
	pass "$N: once the address is free the API moves there by itself"
else
	fail "$N: once the address is free the API moves there by itself" "$(tail -3 "$(hl_err a)")"
fi
WAIT=10

# 3. The same address with a certificate: HTTPS there.
conf "set agent-listen $A2|$TLS"
hup
if expect 200 "https://$A2" --cacert "$T_TMP/cert.pem" && [ "$(beat "http://$A2")" = 000 ]; then
	pass "$N: SIGHUP with agent-tls-cert: HTTPS on the same address"
else
	fail "$N: SIGHUP with agent-tls-cert: HTTPS on the same address" "$(tail -3 "$(hl_err a)")"
fi

# 4. A broken certificate, then a certificate with another certificate's key (which only the
# TLS library finds, on a spare port): refused, the old one keeps serving.
kept() { # kept NAME CERT REASON: SIGHUP with CERT (and key.pem) is refused for REASON
	conf "set agent-listen $A2|set agent-tls-cert $2|set agent-tls-key file:$T_TMP/key.pem"
	hup
	if logged "agent API still on https://$A2/api/v1/, the configured listener cannot start: $3" &&
		[ "$(beat "https://$A2" --cacert "$T_TMP/cert.pem")" = 200 ]; then
		pass "$N: $1 is refused, the old one keeps serving"
	else
		fail "$N: $1 is refused, the old one keeps serving" "$(tail -3 "$(hl_err a)")"
	fi
}
kept "a broken certificate" "$T_TMP/broken.pem" "agent-tls-cert $T_TMP/broken.pem: no PEM certificate"
kept "a key that does not match the certificate" "$T_TMP/cert2.pem" \
	"the new certificate or key starts no server"

# 5. The TLS files without agent-listen: refused (as at start), HTTPS stays.
conf "$TLS"
hup
if logged "need agent-listen" && [ "$(beat "https://$A2" --cacert "$T_TMP/cert.pem")" = 200 ] &&
	[ "$(beat "$MAIN")" = 404 ]; then
	pass "$N: the TLS files without agent-listen are refused, HTTPS stays"
else
	fail "$N: the TLS files without agent-listen are refused, HTTPS stays" "$(tail -3 "$(hl_err a)")"
fi

# 6. Back to listen.
conf
hup
if expect 200 "$MAIN" && expect 000 "https://$A2" --cacert "$T_TMP/cert.pem"; then
	pass "$N: SIGHUP without agent-listen brings the API back to listen"
else
	fail "$N: SIGHUP without agent-listen brings the API back to listen" "$(tail -3 "$(hl_err a)")"
fi
grep -q -- '-----BEGIN' "$(hl_err a)" "$T_TMP/hl.a.out" && fail "$N: no key or certificate is logged" ||
	pass "$N: no key or certificate is logged"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$HL_RC"
