#!/bin/sh
# The agent API over HTTPS: --headless serves it on its own address (agent-listen) with a
# certificate and key (agent-tls-cert, agent-tls-key) made here (a self-signed certificate for
# 127.0.0.1), while /metrics stays plain HTTP on listen. shelly-provisioner with --ca-file
# registers, claims and reports its result over TLS (a stand-in nmcli; no device answers, so
# its own result is recorded); without the CA it is refused by certificate verification, and
# plain HTTP to the TLS port gets no answer. --ca-file with an http:// manager, or one that
# cannot be read, is a usage error. A certificate without agent-listen is a configuration error.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=provision_tls
AGENT=${SHELLY_PROVISIONER:-$BUILD/shelly-provisioner}
NET=$(test_net $N)
command -v openssl >/dev/null 2>&1 || { skip "$N" "needs openssl"; exit 0; }

if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$T_TMP/key.pem" -out "$T_TMP/cert.pem" >"$T_TMP/openssl.log" 2>&1; then
	fail "$N: a self-signed certificate" "$(cat "$T_TMP/openssl.log")"
	exit 1
fi
chmod 600 "$T_TMP/key.pem"

BIN=$T_TMP/bin
hl_nmcli "$BIN"

DB=$T_TMP/db
CONF=$T_TMP/config
tui() { "$SHELLY_TUI" --db "$DB" --config "$CONF" "$@"; }

# A certificate without the agent API's own address: refused at start, with the reason.
hl_config "$CONF" "set discover-mdns off" "set agent-tls-cert $T_TMP/cert.pem" "set agent-tls-key file:$T_TMP/key.pem"
if ! hl_start bad "$DB" "$CONF" && wait_for 10 pid_gone "$(hl_pid bad)" "$(hl_start_time bad)" &&
	grep -q "need agent-listen" "$(hl_err bad)"; then
	pass "$N: agent-tls-cert without agent-listen is refused at start"
else
	fail "$N: agent-tls-cert without agent-listen is refused at start" "$(cat "$(hl_err bad)")"
fi

hl_config "$CONF" "set discover-mdns off" "set agent-lease 5s" "set verify-interval 200ms" \
	"set agent-listen 127.0.0.1:0" "set agent-tls-cert $T_TMP/cert.pem" "set agent-tls-key file:$T_TMP/key.pem"
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
APORT=$(sed -n 's|^agents: https://127\.0\.0\.1:\([0-9]*\)/api/v1/$|\1|p' "$T_TMP/hl.a.out")
if [ -n "$APORT" ] && [ "$APORT" != "$(hl_port a)" ]; then
	pass "$N: --headless prints the agent API's own https address"
else
	fail "$N: --headless prints the agent API's own https address" "$(cat "$T_TMP/hl.a.out")"
	exit 1
fi
AURL="https://127.0.0.1:$APORT"
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code --cacert "$T_TMP/cert.pem" -X POST -H 'Authorization: Bearer nope' -d '{}' "$AURL/api/v1/heartbeat")" = 401 ] &&
	pass "$N: the agent API answers over TLS (a bad token: 401)" || fail "$N: the agent API answers over TLS"
curl -s -m 5 -o /dev/null -X POST -d '{}' "$AURL/api/v1/heartbeat"
rc=$?
[ "$rc" = 60 ] && pass "$N: a client without the CA refuses the certificate" ||
	fail "$N: a client without the CA refuses the certificate" "curl rc=$rc"
[ "$(code -X POST -d '{}' "http://127.0.0.1:$APORT/api/v1/heartbeat")" = 000 ] &&
	pass "$N: plain HTTP to the TLS port gets no answer" || fail "$N: plain HTTP to the TLS port gets no answer"
[ "$(hl_code a /metrics)" = 200 ] && [ "$(code -X POST -d '{}' "http://127.0.0.1:$(hl_port a)/api/v1/heartbeat")" = 404 ] &&
	pass "$N: /metrics stays plain HTTP on listen, without the agent API" ||
	fail "$N: /metrics stays plain HTTP on listen, without the agent API"

# The agent with the CA: registers, claims, reports; without it: refused, nothing registered.
tui --agent-enrol >"$T_TMP/secret" 2>/dev/null
run_agent() { # run_agent NAME [ARGS]
	_n=$1; shift
	PATH="$BIN:$PATH" SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 timeout 60 "$AGENT" --manager "$AURL" \
		--wifi nm --enrol-secret-file "$T_TMP/secret" --token-file "$T_TMP/token.$_n" --name "$_n" \
		--device "$NET.9" --poll 0.2 --timeout 20 --once "$@" >"$T_TMP/agent.$_n.log" 2>&1
}
run_agent nocert
rc=$?
if [ "$rc" != 0 ] && [ ! -s "$T_TMP/token.nocert" ] && [ "$(tui --agents --json | jq '.agents | length')" = 0 ]; then
	pass "$N: an agent without --ca-file is refused (certificate not verified)"
else
	fail "$N: an agent without --ca-file is refused" "rc=$rc $(cat "$T_TMP/agent.nocert.log")"
fi
tui --provision shelly1-AABBCC --network home --attempts 1 >/dev/null || { fail "$N: --provision"; exit 1; }
run_agent tls --ca-file "$T_TMP/cert.pem"
rc=$?
field() { tui --tasks --json | jq -r ".tasks[0].$1"; }
if [ "$rc" = 0 ] && [ "$(tui --agents --json | jq -r '.agents[0].name')" = tls ] &&
	[ "$(field state)" = failed ] && [ "$(field attempts)" = 1 ] &&
	case "$(field reason)" in "failed: no device at $NET.9"*) true;; *) false;; esac; then
	pass "$N: an agent with --ca-file registers, claims and reports over TLS"
else
	fail "$N: an agent with --ca-file registers, claims and reports over TLS" \
		"rc=$rc $(tui --tasks) $(cat "$T_TMP/agent.tls.log")"
fi
# --ca-file with a plain http:// manager is a usage error (the operator meant TLS; the token and
# keys would cross in clear), and so is a CA file the agent cannot read: both before any request.
usage_error() { # usage_error MANAGER CA-FILE WANT WHAT: the agent exits 2 saying WANT
	PATH="$BIN:$PATH" SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 "$AGENT" --manager "$1" --ca-file "$2" \
		--wifi nm --token-file "$T_TMP/token.tls" --once >/dev/null 2>"$T_TMP/usage.err"
	rc=$?
	[ "$rc" = 2 ] && grep -q -- "$3" "$T_TMP/usage.err" && pass "$N: $4" ||
		fail "$N: $4" "rc=$rc $(cat "$T_TMP/usage.err")"
}
usage_error "http://127.0.0.1:$APORT" "$T_TMP/cert.pem" '--ca-file goes with an https:// --manager' \
	"--ca-file with an http:// manager is a usage error"
usage_error "$AURL" "$T_TMP/no-such.pem" "--ca-file $T_TMP/no-such.pem: No such file or directory" \
	"a --ca-file the agent cannot read is named, a usage error"
grep -q -- '-----BEGIN' "$(hl_err a)" "$T_TMP/hl.a.out" && fail "$N: the key is never logged" ||
	pass "$N: the key is never logged"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$HL_RC"
