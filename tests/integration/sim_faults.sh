# shelly-sim fault injection: every kind, at start and at run time, seen by curl as a client
# sees a broken device (exit codes: 7 refused, 18 partial, 28 timeout, 56 reset).
. tests/lib.sh
. tests/sim/simlib.sh

N=sim_faults
# Device 0 starts silent, 1 closed; the rest are healthy Plus 1PM / Plug S.
if ! sim_start $N --models gen2/plus-1pm,gen1/shelly-plug-s --count 8 --fault 0:silent,1:closed \
	--reboot-ms 6000 --drip-ms 1500 --deep 10000; then
	fail "$N: start" "$(cat "$SIM_ERR")"
	exit 1
fi

# Silent: the SYN is never answered, so a connect with a 500 ms timeout times out (28).
set -- $(elapsed_ms curl -s --connect-timeout 0.5 -m 2 "$(dev_url 0)/shelly")
[ "$1" = 28 ] && [ "$2" -ge 450 ] && pass "$N: silent: connect times out after 500 ms (${2} ms)" ||
	fail "$N: silent" "rc=$1 after $2 ms"
[ "$(mf '.devices[0].fault')" = silent ] && [ "$(ctl GET /devices/0/state | jq -r .mode)" = silent ] &&
	pass "$N: silent in manifest and state" || fail "$N: silent manifest"
set -- $(elapsed_ms curl -s --connect-timeout 2 -m 3 "$(dev_url 1)/shelly")
[ "$1" = 7 ] && pass "$N: closed: refused (7)" || fail "$N: closed" "rc=$1"
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
ctl POST /devices/1/fault '{"fault":"none"}' >/dev/null
[ "$(curl -s -m 3 "$(dev_url 0)/shelly" | jq -r .id)" = "$(mf '.devices[0].id')" ] &&
	[ "$(curl -s -m 3 "$(dev_url 1)/shelly" | jq -r .type)" = SHPLG-S ] && pass "$N: healthy again after fault none" ||
	fail "$N: recovery"

G=$(dev_url 2)  # Plus 1PM
S="$G/rpc/Shelly.GetStatus"
fault() { ctl POST /devices/2/fault "{\"fault\":\"$1\"}" >/dev/null; }

fault noanswer
set -- $(elapsed_ms curl -s -m 1 "$S")
[ "$1" = 28 ] && [ "$2" -ge 900 ] && pass "$N: noanswer: accepted, no reply (28)" || fail "$N: noanswer" "rc=$1 $2 ms"
# Hold: the request waits (in flight) until the fault changes, then gets the answer it would
# have had; a request that comes after is answered at once.
fault hold
curl -s -m 60 "$S" >"$T_TMP/held" 2>/dev/null &
hc=$!
wait_json 20 "http://$SIM_CTL/devices/2/state" '.counters.in_flight == 1' &&
	sleep 1 && [ ! -s "$T_TMP/held" ] && pass "$N: hold: accepted, no reply while held" ||
	fail "$N: hold" "in flight: $(ctl GET /devices/2/state | jq -c .counters), reply '$(cat "$T_TMP/held")'"
fault none
wait $hc
r=$?
[ $r = 0 ] && [ "$(jq -r '.sys.mac | ascii_downcase' "$T_TMP/held")" = "$(mf '.devices[2].mac | ascii_downcase')" ] &&
	pass "$N: hold: answered once the fault changed" || fail "$N: hold release" "rc=$r '$(head -c 200 "$T_TMP/held")'"
fault reset
set -- $(elapsed_ms curl -s -m 3 "$S")
[ "$1" = 56 ] && pass "$N: reset: connection reset (56)" || fail "$N: reset" "rc=$1"
fault http500
r=$(curl -s -m 3 -w ' %{http_code}' "$S")
[ "$r" = '{"code":500,"message":"Internal Server Error"} 500' ] && pass "$N: http500" || fail "$N: http500" "$r"
fault malformed
b=$(curl -s -m 3 "$S")
[ -n "$b" ] && ! echo "$b" | jq . >/dev/null 2>&1 && [ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$S")" = 200 ] &&
	pass "$N: malformed: 200 with invalid JSON" || fail "$N: malformed" "$b"
fault truncated
set -- $(elapsed_ms curl -s -m 3 "$S")
[ "$1" = 18 ] && pass "$N: truncated: body shorter than Content-Length (18)" || fail "$N: truncated" "rc=$1"
fault oversized
sz=$(curl -s -m 5 "$S" -o "$T_TMP/big" -w '%{size_download}')
[ "$sz" -ge 2097152 ] && [ "$(jq -r .sys.mac "$T_TMP/big")" = "$(mf '.devices[2].mac')" ] &&
	pass "$N: oversized: $sz bytes of valid JSON" || fail "$N: oversized" "$sz"
fault slow
set -- $(elapsed_ms curl -s -m 0.5 "$S")
[ "$1" = 28 ] && pass "$N: slow: a 500 ms client gives up (28)" || fail "$N: slow short" "rc=$1"
t0=$(now_ms)
b=$(curl -s -m 5 "$S")
dt=$(( $(now_ms) - t0 ))
[ "$dt" -ge 1200 ] && [ "$(echo "$b" | jq -r .sys.mac)" = "$(mf '.devices[2].mac')" ] &&
	pass "$N: slow: complete JSON after ${dt} ms" || fail "$N: slow" "$dt ms"
fault wrongtypes
b=$(curl -s -m 3 "$G/rpc/Switch.GetStatus?id=0")
[ "$(echo "$b" | jq -c '[(.id|type), (.output|type), (.aenergy.total|type)]')" = '["string","object","string"]' ] &&
	pass "$N: wrongtypes" || fail "$N: wrongtypes" "$b"
fault deep
b=$(curl -s -m 3 "$S")
[ ${#b} -eq 20000 ] && [ "$(printf '%s' "$b" | tr -d '[' | wc -c)" -eq 10000 ] && pass "$N: deep: 10000 levels" || fail "$N: deep" "${#b}"
fault none
[ "$(curl -s -m 3 "$S" | jq -r .sys.mac)" = "$(mf '.devices[2].mac')" ] && pass "$N: fault none" || fail "$N: fault none"

# A fault limited to a path and to a number of requests.
ctl POST /devices/2/fault '{"fault":"http500","count":2,"path":"/rpc/Switch"}' >/dev/null
c1=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$G/rpc/Switch.GetStatus?id=0")
c2=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$S")
c3=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$G/rpc/Switch.GetStatus?id=0")
c4=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$G/rpc/Switch.GetStatus?id=0")
[ "$c1 $c2 $c3 $c4" = "500 200 500 200" ] && [ "$(mf '.devices[2].fault')" = none ] &&
	pass "$N: fault with count and path" || fail "$N: count/path" "$c1 $c2 $c3 $c4"

# Gen1 device faults too.
P=$(dev_url 3)  # Plug S
ctl POST /devices/3/fault '{"fault":"reset"}' >/dev/null
set -- $(elapsed_ms curl -s -m 3 "$P/status")
[ "$1" = 56 ] && pass "$N: gen1 reset" || fail "$N: gen1 reset" "rc=$1"
ctl POST /devices/3/fault '{"fault":"wrongtypes"}' >/dev/null
[ "$(curl -s -m 3 "$P/status" | jq -r '.relays[0].ison | type')" = object ] && pass "$N: gen1 wrongtypes" || fail "$N: gen1 wrongtypes"
ctl POST /devices/3/fault '{"fault":"none"}' >/dev/null

# Reboot: away (refused) for --reboot-ms (6 s), then back with uptime restarted. (Bounds are
# generous: a loaded machine may be slow to look.)
wait_json 5 "$S" '.sys.uptime >= 3' || true
u0=$(curl -s -m 3 "$S" | jq -r .sys.uptime)
[ "$(curl -s -m 3 "$G/rpc/Shelly.Reboot")" = null ] && pass "$N: Shelly.Reboot answers" || fail "$N: Shelly.Reboot"
wait_for 5 sh -c '! curl -s -m 1 -o /dev/null "$1"' sh "$G/shelly" && pass "$N: rebooting device is away" || fail "$N: reboot away"
wait_json 20 "$S" ".sys.uptime < $u0" && pass "$N: back after reboot with uptime reset" || fail "$N: reboot back" "$u0"
[ "$(ctl GET /devices/2/state | jq -r .reboots)" = 1 ] && pass "$N: reboot counted" || fail "$N: reboot count"
wait_json 5 "$P/status" '.uptime >= 3' || true
u0=$(curl -s -m 3 "$P/status" | jq -r .uptime)
ctl POST /devices/3/fault '{"fault":"reboot"}' >/dev/null
wait_json 20 "http://$SIM_CTL/devices/3/state" '.reboots == 1 and .online' && wait_json 20 "$P/status" ".uptime < $u0" &&
	pass "$N: reboot fault (gen1)" || fail "$N: gen1 reboot" "$u0"

# IP change: the device moves to the next free address; the manifest follows.
old=$(mf '.devices[4].addr')
new=$(ctl POST /devices/4/move '{}' | jq -r .addr)
[ "$new" = "$SIM_NET.9" ] && [ "$(mf '.devices[4].addr')" = "$new" ] && pass "$N: move: $old -> $new, manifest updated" ||
	fail "$N: move" "$old -> $new / $(mf '.devices[4].addr')"
set -- $(elapsed_ms curl -s -m 2 "http://$old:$SIM_PORT/shelly")
[ "$1" = 7 ] && pass "$N: old address refused" || fail "$N: old address" "rc=$1"
[ "$(curl -s -m 3 "$(dev_url 4)/rpc/Shelly.GetStatus" | jq -r .wifi.sta_ip)" = "$new" ] && pass "$N: new address answers, sta_ip follows" ||
	fail "$N: new address"

# SIGTERM while a request is parked (noanswer) and another drips: still a clean exit.
ctl POST /devices/5/fault '{"fault":"noanswer"}' >/dev/null
ctl POST /devices/6/fault '{"fault":"slow"}' >/dev/null
curl -s -m 5 "$(dev_url 5)/status" >/dev/null 2>&1 &
c1=$!
curl -s -m 5 "$(dev_url 6)/rpc/Shelly.GetStatus" >/dev/null 2>&1 &
c2=$!
wait_json 3 "http://$SIM_CTL/devices/5/state" '.counters.in_flight == 1' || true
sim_stop
rc=$?
wait $c1 $c2 2>/dev/null
[ $rc -eq 0 ] && pass "$N: clean exit with parked requests" || fail "$N: exit" "$rc $(tail -n 20 "$SIM_ERR")"
exit 0
