# shelly-tui --action on switches: switch_on/off/toggle on a Gen1 relay (Shelly 1), Gen2 Plus
# 1PM, Gen3 1PM and Gen4 1PM Mini in one run each; the sim's output state (control API) and the
# printed result (text and --json) must agree with what was asked. Then: a channel the device
# lacks (exit 1 with a readable RPC / HTTP error), a device that is down (refused) next to ones
# that succeed, and usage errors (unknown action, missing or out-of-range --value, a --channel
# for an action without one) that exit 2 and send nothing (the sim's request counters).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=action_switch
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
# Handshakes and replies of the ASan tree on a loaded machine take seconds.
mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
printf 'set connect-timeout 10s\nset request-timeout 15s\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
unset SHELLY_TUI_PASSWORD
MODELS=gen1/shelly-1,gen2/plus-1pm,gen3/1pm-gen3,gen4/1pm-mini-gen4
sim_up $N --models "$MODELS"
ALL="0 1 2 3"
hps() { for _k in "$@"; do printf '%s ' "$(dv $_k HP)"; done; }
mac_of() { dv "$1" MAC | tr 'A-F' 'a-f'; }

# A run where every target succeeds: per device, the sim's output equals the expectation, the
# text line says "OK <id> switch:0 on|off", the JSON result carries the same output and MAC.
for act in switch_on switch_off switch_toggle switch_toggle switch_on; do
	exp=""
	for k in $ALL; do
		before=$(dev_state $k '.switches[0].on')
		case $act in
		switch_on) e=true ;;
		switch_off) e=false ;;
		*) if [ "$before" = true ]; then e=false; else e=true; fi ;;
		esac
		exp="$exp $e"
	done
	# shellcheck disable=SC2046
	"$SHELLY_TUI" --action $act $(hps $ALL) >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	"$SHELLY_TUI" --action switch_toggle --json $(hps $ALL) >"$T_TMP/j" 2>>"$T_TMP/e"; rcj=$?
	bad=""
	n=0
	for k in $ALL; do
		n=$((n + 1))
		e=$(echo $exp | cut -d' ' -f$n)
		# The text run left the output at e; the JSON run toggled it again.
		now=$(dev_state $k '.switches[0].on')
		[ "$e" = true ] && word=on || word=off
		[ "$e" = true ] && ne=false || ne=true
		line=$(sed -n "${n}p" "$T_TMP/o")
		id=$(jq -r ".results[$((n - 1))].id" "$T_TMP/j")
		ok=$(jq -r --arg mac "$(mac_of $k)" --arg hp "$(dv $k HP)" --argjson ne "$ne" ".results[$((n - 1))] |
			.ok == true and .result == \"ok\" and .error == null and .mac == \$mac and .target == \$hp and .output == \$ne" "$T_TMP/j")
		case $line in
		"OK   $id switch:0 $word") ;;
		*) bad="$bad [$(dv $k FX): line '$line' want 'OK   $id switch:0 $word']" ;;
		esac
		[ "$now" = "$ne" ] && [ "$ok" = true ] || bad="$bad [$(dv $k FX): sim $now, json $(jq -c ".results[$((n - 1))]" "$T_TMP/j")]"
	done
	if [ $rc -eq 0 ] && [ $rcj -eq 0 ] && [ -z "$bad" ] && [ "$(jq -c .summary "$T_TMP/j")" = '{"ok":4,"failed":0}' ]; then
		pass "$N: $act on gen1/2/3/4: the sim's outputs, the text lines and --json agree (exit 0)"
	else
		fail "$N: $act on gen1/2/3/4" "rc=$rc/$rcj$bad $(head -c 300 "$T_TMP/e")"
	fi
done

# A channel the device does not have: exit 1, a readable error per generation, output unchanged.
s0=$(dev_state 1 '.switches[0].on')
"$SHELLY_TUI" --action switch_on --channel 7 $(hps 0 1) >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
"$SHELLY_TUI" --action switch_on --channel 7 --json $(hps 1) >"$T_TMP/j" 2>>"$T_TMP/e"; rcj=$?
l1=$(sed -n 1p "$T_TMP/o") l2=$(sed -n 2p "$T_TMP/o")
if [ $rc -eq 1 ] && [ $rcj -eq 1 ] &&
	echo "$l1" | grep -qE '^FAIL [^ ]+ http_status: HTTP 404 ' &&
	echo "$l2" | grep -qE "^FAIL [^ ]+ rpc_error: not found: the device has no such component \(Argument 'id', value 7 not found!\)$" &&
	[ "$(jq -r '.results[0] | "\(.ok) \(.result) \(.output)"' "$T_TMP/j")" = "false rpc_error null" ] &&
	[ "$(jq -c .summary "$T_TMP/j")" = '{"ok":0,"failed":1}' ] && [ "$(dev_state 1 '.switches[0].on')" = "$s0" ]; then
	pass "$N: --channel 7 on one-channel devices: exit 1, 'http_status: HTTP 404' (gen1) and 'rpc_error: not found' (gen2)"
else
	fail "$N: --channel 7" "rc=$rc/$rcj '$l1' '$l2' $(jq -c .results "$T_TMP/j" 2>&1 | head -c 300)"
fi

# A device that is down (nothing listens): FAIL refused, the others in the same run succeed.
set_fault 2 closed
"$SHELLY_TUI" --action switch_on --timeout 3 $(hps 0 2 1) >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
"$SHELLY_TUI" --action switch_off --timeout 3 --json $(hps 0 2 1) >"$T_TMP/j" 2>>"$T_TMP/e"; rcj=$?
if [ $rc -eq 1 ] && [ $rcj -eq 1 ] && sed -n 1p "$T_TMP/o" | grep -qE '^OK  ' &&
	sed -n 2p "$T_TMP/o" | grep -qF "FAIL $(dv 2 HP) refused: " && sed -n 3p "$T_TMP/o" | grep -qE '^OK  ' &&
	[ "$(jq -c '[.results[] | [.ok, .result]]' "$T_TMP/j")" = '[[true,"ok"],[false,"refused"],[true,"ok"]]' ] &&
	[ "$(jq -c .summary "$T_TMP/j")" = '{"ok":2,"failed":1}' ] &&
	[ "$(dev_state 0 '.switches[0].on') $(dev_state 1 '.switches[0].on')" = "false false" ]; then
	pass "$N: a closed device fails 'refused' (exit 1) while the other targets of the run switch"
else
	fail "$N: closed device" "rc=$rc/$rcj $(cat "$T_TMP/o") $(jq -c .results "$T_TMP/j" 2>&1 | head -c 400)"
fi
set_fault 2 none

# Usage errors: exit 2 with a message, and not one request reaches any device.
ctl POST /reset-counters >/dev/null
before=$(ctl GET /devices | jq -c '[.devices[].counters.requests]')
usage() { # WHAT EXPECTED-STDERR-REGEX ARGS...
	_w=$1 _re=$2; shift 2
	"$SHELLY_TUI" "$@" >"$T_TMP/o" 2>"$T_TMP/e"; _rc=$?
	if [ $_rc -eq 2 ] && grep -qE -e "$_re" "$T_TMP/e" && [ ! -s "$T_TMP/o" ]; then
		pass "$N: $_w: exit 2"
	else
		fail "$N: $_w" "rc=$_rc $(cat "$T_TMP/e" "$T_TMP/o" | head -c 300)"
	fi
}
usage "unknown action" "unknown action 'switch_sideways'" --action switch_sideways $(hps $ALL)
usage "cover_position without --value" "needs --value" --action cover_position $(hps $ALL)
usage "cover_position --value 101" "--value wants a whole number from 0 to 100, not" --action cover_position --value 101 $(hps $ALL)
usage "light_brightness --value -1" "--value wants a whole number from 0 to 100, not" --action light_brightness --value -1 $(hps $ALL)
usage "light_brightness --value 4x" "--value wants a whole number from 0 to 100, not" --action light_brightness --value 4x $(hps $ALL)
usage "switch_on --value 5" "takes no --value" --action switch_on --value 5 $(hps $ALL)
usage "reboot --channel 1" "takes no --channel" --action reboot --channel 1 $(hps $ALL)
usage "--channel 256" "--channel wants a whole number from 0 to 255, not" --action switch_on --channel 256 $(hps $ALL)
usage "no TARGET" "give at least one TARGET" --action switch_on
usage "a TARGET that is no address" "neither a registered device nor HOST" --action switch_on "$(dv 0 HP)" 'bad/host'
# Hostile TARGETs naming an address outside 127/8 run inside an empty network namespace.
if empty_ns_detect; then
	$EMPTY_NS "$SHELLY_TUI" --action "$(printf 'switch\033]0;x\007_on')" "$(printf '10.0.0.1\033[31m')" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	[ $rc -eq 2 ] && ! has_ctl_bytes "$T_TMP/e" && grep -q "unknown action 'switch" "$T_TMP/e" &&
		pass "$N: an action name with escape sequences: exit 2, message printed without them" ||
		fail "$N: hostile action name" "rc=$rc $(od -c "$T_TMP/e" | head -3)"
	$EMPTY_NS "$SHELLY_TUI" --action switch_on "$(printf '10.0.0.1\033[31m')" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	[ $rc -eq 2 ] && ! has_ctl_bytes "$T_TMP/e" && grep -q "neither a registered device nor HOST" "$T_TMP/e" &&
		pass "$N: a TARGET with escape sequences: exit 2, message printed without them" ||
		fail "$N: hostile TARGET" "rc=$rc $(od -c "$T_TMP/e" | head -3)"
else
	skip "$N: hostile names" "no empty network namespace here (not root, no user namespaces)"
fi
after=$(ctl GET /devices | jq -c '[.devices[].counters.requests]')
[ "$before" = "$after" ] && [ "$after" = "[0,0,0,0]" ] && pass "$N: the usage errors sent no request (sim counters $after)" ||
	fail "$N: usage errors sent requests" "counters $before -> $after"

# @GROUP names the group's members, as wherever a TARGET is taken (README); an unknown group
# is a usage error that sends nothing.
"$SHELLY_TUI" --add "$(dv 1 HP)" -q >/dev/null 2>&1 && "$SHELLY_TUI" --add "$(dv 2 HP)" -q >/dev/null 2>&1 &&
	"$SHELLY_TUI" --group-add lab "$(mac_of 1)" "$(mac_of 2)" >/dev/null 2>&1 ||
	fail "$N: group set-up" "$(cat "$T_TMP/e")"
for k in 1 2; do ctl POST "/devices/$k/fault" '{"fault":"none"}' >/dev/null; done
"$SHELLY_TUI" --action switch_off "$(dv 1 HP)" "$(dv 2 HP)" >/dev/null 2>&1
"$SHELLY_TUI" --action switch_on @lab >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(dev_state 1 '.switches[0].on') $(dev_state 2 '.switches[0].on')" = "true true" ] &&
	[ "$(grep -c '^OK ' "$T_TMP/o")" = 2 ] && pass "$N: --action on @GROUP runs on every member" ||
	fail "$N: --action @GROUP" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e")"
"$SHELLY_TUI" --action switch_on @nosuch >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 2 ] && grep -q 'no such group' "$T_TMP/e" && pass "$N: an unknown @GROUP exits 2" ||
	fail "$N: unknown @GROUP" "rc=$rc $(cat "$T_TMP/e")"

# Interrupted (SIGTERM) while one device's answer is awaited: the others' results stand, that
# one is reported as possibly reached (not as not sent), and every target is audited.
DB=$XDG_DATA_HOME/shelly-tui/shelly.db
a0=$(sqlite3 "$DB" "select count(*) from audit where action = 'switch_off'")
ctl POST /devices/1/reset-counters >/dev/null
ctl POST /devices/1/fault '{"fault":"noanswer","path":"/rpc/Switch.Set"}' >/dev/null
"$SHELLY_TUI" --action switch_off @lab >"$T_TMP/o" 2>"$T_TMP/e" &
apid=$!
pst=$(pid_start $apid)
if wait_for 60 sh -c "[ \"\$(curl -s -m 3 http://$SIM_CTL/devices/1/state | jq -r '.counters.by_path[\"/rpc/Switch.Set\"] // 0')\" -ge 1 ] &&
	[ \"\$(curl -s -m 3 http://$SIM_CTL/devices/2/state | jq -r '.switches[0].on')\" = false ]"; then
	kill_ours -TERM $apid
fi
wait_for 30 pid_gone $apid "$pst" || kill_ours -KILL $apid
wait $apid
rc=$?
ctl POST /devices/1/fault '{"fault":"none"}' >/dev/null
a1=$(sqlite3 "$DB" "select count(*) from audit where action = 'switch_off'")
[ $rc -eq 1 ] && [ "$(grep -c '^OK ' "$T_TMP/o")" = 1 ] && grep -q '^FAIL .*interrupted.*may have reached' "$T_TMP/o" &&
	[ "$a1" = $((a0 + 2)) ] && pass "$N: interrupted: results so far kept, the unanswered one said so, all audited" ||
	fail "$N: interrupted" "rc=$rc audit $a0/$a1 $(cat "$T_TMP/o" "$T_TMP/e")"

# Interrupted while the target is still being identified: nothing was sent, and the result
# says so (not "may have reached"); the device's output is untouched.
ctl POST /devices/1/reset-counters >/dev/null
before=$(dev_state 1 '.switches[0].on')
interrupted 1 /shelly "$T_TMP/o" "$T_TMP/e" "$SHELLY_TUI" --action switch_toggle "$(dv 1 HP)"
rc=$T_RC
sets=$(curl -s -m 3 "http://$SIM_CTL/devices/1/state" | jq -r '.counters.by_path["/rpc/Switch.Set"] // 0')
[ $rc -eq 1 ] && grep -q '^FAIL .*interrupted before anything was sent' "$T_TMP/o" &&
	[ "$sets" = 0 ] && [ "$(dev_state 1 '.switches[0].on')" = "$before" ] &&
	pass "$N: interrupted while identifying: reported as not sent, nothing sent" ||
	fail "$N: interrupted while identifying" "rc=$rc sets=$sets $(cat "$T_TMP/o" "$T_TMP/e")"

# Operands belong to --discover and --action only.
"$SHELLY_TUI" --list "$(dv 0 HP)" >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "$N: operands after --list are still a usage error" || fail "$N: --list operand" "rc=$rc"
exit 0
