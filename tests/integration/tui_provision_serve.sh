#!/bin/sh
# The console serves the agent API while it runs the fleet itself (console-agent-api on). First a
# --headless poller holds the lease: the console's provisioning view says the poller serves
# agents, and the console serves nothing. The poller stops; the console takes the lease and
# serves on the configured listen address (port 0: the view shows the real one). A fake agent
# (curl) registers with the console, reports an access point, claims a task queued for a
# simulated device and reports it configured; the console's verifier finds the device in the
# discover-range, the task is done, the device is registered, and the view shows it. Then
# agent-listen on a taken address (the view says why nothing is served), and agent-listen with
# a self-signed certificate (the console serves HTTPS; the agent's heartbeat verifies it).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_tui.sh

N=tui_provision_serve
unset SHELLY_TUI_PASSWORD NO_COLOR
sim_up $N --models gen2/plus-1pm --count 1
DB=$T_TMP/db
CONF=$T_TMP/config
MAC=$(mac_of 0)
ADDR=$(mf '.devices[0].addr')
hl_config "$CONF" "set discover-mdns off" "set discover-timeout 1s" "set discover-port $SIM_PORT" \
	"set verify-interval 200ms" "set verify-timeout 1h" "discover-range $ADDR/32" \
	"set console-agent-api on" "set listen 127.0.0.1:0"
tui() { "$SHELLY_TUI" --db "$DB" --config "$CONF" "$@"; }

hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
tui_console 130 34 'fleet 0' --db $DB --config $CONF
tui_keys W
if tui_wait 10 'Agent API: served by a live poller \(headless:'; then
	pass "$N: standing by, the view says the poller serves agents"
else
	fail "$N: standing by, the view says the poller serves agents" "$(tui_why 'Agent API: served by')"
fi

# The poller stops (its lease is given back): the console leads and serves.
hl_stop a
if tui_wait 20 'Agent API: http://127\.0\.0\.1:[0-9]+/api/v1/ \(this console\)'; then
	pass "$N: leading, the console serves the agent API on the listen address"
else
	fail "$N: leading, the console serves the agent API" "$(tui_why 'this console')"
	exit 1
fi
PORT=$(sed -n 's|.*Agent API: http://127\.0\.0\.1:\([0-9]*\)/api/v1/.*|\1|p' "$T_TMP/screen" | head -1)
URL="http://127.0.0.1:$PORT"
post() { curl -s -m 5 -X POST "$URL/api/v1/$1" ${3:+-H "Authorization: Bearer $3"} -d "$2"; }
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST "$URL/api/v1/$1" ${3:+-H "Authorization: Bearer $3"} -d "$2"; }

[ "$(code heartbeat '{}' not-a-token)" = 401 ] && pass "$N: a bad token gets 401 from the console" ||
	fail "$N: a bad token gets 401 from the console"
secret=$(tui --agent-enrol 2>/dev/null)
TOKEN=$(post register "{\"secret\":\"$secret\",\"name\":\"console-agent\"}" | jq -r .token)
if [ -n "$TOKEN" ] && [ "$TOKEN" != null ]; then
	pass "$N: an agent registers with the console"
else
	fail "$N: an agent registers with the console" "no token"
	exit 1
fi
[ "$(code register "{\"secret\":\"$secret\",\"name\":\"again\"}")" = 401 ] &&
	pass "$N: the used enrolment secret is refused" || fail "$N: the used enrolment secret is refused"
post aps '{"aps":[{"ssid":"ShellyPlus1PM-A8032AB12345","rssi":-50}]}' "$TOKEN" >/dev/null
tui_wait 10 'ShellyPlus1PM-A8032AB12345 +agent ag-' &&
	pass "$N: the view lists the access point reported to the console" ||
	fail "$N: the view lists the access point reported to the console" "$(tui_why 'ShellyPlus1PM')"

KEY='serve-key-13579'
printf '%s\n' "$KEY" >"$T_TMP/key"
chmod 600 "$T_TMP/key"
tui --provision "$MAC" --network home --wifi-key-file "$T_TMP/key" >/dev/null ||
	{ fail "$N: --provision"; exit 1; }
# the agent sees the device's access point (Gen2+ name: the MAC ends it), so it gets the task
post aps "{\"aps\":[{\"ssid\":\"ShellyPlus1-$(echo "$MAC" | tr a-f A-F)\"}]}" "$TOKEN" >/dev/null
claim=$(post claim '{}' "$TOKEN")
ID=$(echo "$claim" | jq -r .task.id)
[ "$(echo "$claim" | jq -r .task.key)" = "$KEY" ] && pass "$N: the console hands the claimed task with its key" ||
	fail "$N: the console hands the claimed task with its key" "$(echo "$claim" | jq -c 'del(.task.key)')"
post progress "{\"task\":$ID,\"stage\":\"running\"}" "$TOKEN" >/dev/null
st=$(post progress "{\"task\":$ID,\"stage\":\"configured\",\"mac\":\"$MAC\"}" "$TOKEN" | jq -r .state)
[ "$st" = verifying ] && pass "$N: the configured device waits for the console's verifier" ||
	fail "$N: the configured device waits for the console's verifier" "state $st"
field() { tui --tasks --json | jq -r ".tasks[] | select(.id == $ID) | .$1"; }
isdone() { [ "$(field state)" = done ]; }
if wait_for 40 isdone && [ "$(field result)" = "$ADDR" ]; then
	pass "$N: the console's verifier finds the device on the home network (done)"
else
	fail "$N: the console's verifier finds the device" "$(tui --tasks)"
fi
tui_wait 10 "done +$MAC +home" && pass "$N: the view shows the task done" ||
	fail "$N: the view shows the task done" "$(tui_why "done +$MAC")"
tui --list --json | jq -e --arg m "$MAC" '.devices[] | select(.mac == $m)' >/dev/null &&
	pass "$N: the verified device is registered" || fail "$N: the verified device is registered" "$(tui --list)"
tui_wait 20 'fleet 1' && pass "$N: the console's fleet follows the registration" ||
	fail "$N: the console's fleet follows the registration" "$(tui_why 'fleet 1')"
if grep -q "$KEY" "$T_TMP/screen" "$T_TMP"/*.err 2>/dev/null; then fail "$N: the key never shows"; else pass "$N: the key never shows"; fi
tui_keys q
tui_keys q
tui_wait 10 'RESTORED rc=0' || fail "$N: console exit" "$(tui_why 'RESTORED')"
code heartbeat '{}' "$TOKEN" >"$T_TMP/after" 2>&1
[ "$(cat "$T_TMP/after")" = 000 ] && pass "$N: the console stops serving when it ends" ||
	fail "$N: the console stops serving when it ends" "$(cat "$T_TMP/after")"

# agent-listen on an address that is taken (the simulated device's): the view says why the
# console does not serve. Then agent-listen with a certificate: the console serves HTTPS.
tui_stop
hl_config "$CONF" "set discover-mdns off" "set console-agent-api on" \
	"set agent-listen $ADDR:$SIM_PORT"
tui_start 130 34 "SHELLY_TUI_ALLOW_NETS=$SHELLY_TUI_ALLOW_NETS XDG_DATA_HOME=$XDG_DATA_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME LC_ALL=C.UTF-8 $SHELLY_TUI --db $DB --config $CONF"
tui_wait 30 'fleet 1' && tui_keys W
tui_wait 10 'Agent API: not served: ' && pass "$N: a taken agent-listen address is shown as the reason" ||
	fail "$N: a taken agent-listen address is shown as the reason" "$(tui_why 'not served')"
tui_keys q
tui_keys q
tui_wait 10 'RESTORED rc=0' || fail "$N: console exit (address taken)" "$(tui_why 'RESTORED')"
if command -v openssl >/dev/null 2>&1; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
		-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
		-keyout "$T_TMP/tls.key" -out "$T_TMP/tls.crt" >"$T_TMP/openssl.log" 2>&1 ||
		fail "$N: a self-signed certificate" "$(cat "$T_TMP/openssl.log")"
	chmod 600 "$T_TMP/tls.key"
	tui_stop
	hl_config "$CONF" "set discover-mdns off" "set console-agent-api on" \
		"set agent-listen 127.0.0.1:0" "set agent-tls-cert $T_TMP/tls.crt" "set agent-tls-key file:$T_TMP/tls.key"
	tui_start 130 34 "SHELLY_TUI_ALLOW_NETS=$SHELLY_TUI_ALLOW_NETS XDG_DATA_HOME=$XDG_DATA_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME LC_ALL=C.UTF-8 $SHELLY_TUI --db $DB --config $CONF"
	tui_wait 30 'fleet 1' && tui_keys W
	tui_wait 10 'Agent API: https://127\.0\.0\.1:[0-9]+/api/v1/ \(this console\)' ||
		fail "$N: the console serves HTTPS on agent-listen" "$(tui_why 'https')"
	PORT=$(sed -n 's|.*Agent API: https://127\.0\.0\.1:\([0-9]*\)/api/v1/.*|\1|p' "$T_TMP/screen" | head -1)
	c=$(curl -s -m 5 -o /dev/null -w '%{http_code}' --cacert "$T_TMP/tls.crt" -X POST -H "Authorization: Bearer $TOKEN" \
		-d '{}' "https://127.0.0.1:$PORT/api/v1/heartbeat")
	[ "$c" = 200 ] && pass "$N: the console serves HTTPS on agent-listen (the agent's heartbeat: 200)" ||
		fail "$N: the console serves HTTPS on agent-listen" "heartbeat $c"
	tui_keys q
	tui_keys q
	tui_wait 10 'RESTORED rc=0' || fail "$N: console exit (HTTPS)" "$(tui_why 'RESTORED')"
else
	fail "$N: the console serves HTTPS" "needs openssl"
fi
