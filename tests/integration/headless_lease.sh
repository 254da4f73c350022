# The poller lease: a second --headless on the same DB stands by (no traffic of its own),
# --poll-once refuses while a live poller holds the lease unless --force, and after kill -9 of
# the leader the other one takes over once the lease timed out. --backup-db while polling. A
# poller whose lease another one took stands by and logs it once.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_lease
if ! sim_start $N --fixtures tests/fixtures --models gen2/plus-1pm,gen1/shelly-plug-s,gen3/1pm-gen3 \
	--count 6 --load 100; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
NDEV=6
DB=$T_TMP/shelly.db
CONF=$T_TMP/config
hl_config "$CONF" "set request-timeout 5s" "set connect-timeout 3s" # healthy devices: no timeouts from load
hl_add_all "$DB" || { fail "$N: --add" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }

hl_start a "$DB" "$CONF" || { fail "$N: first --headless" "$(cat "$(hl_err a)")"; exit 1; }
leader() { [ "$(hl_metric "$1" shelly_poller_leader)" = "$2" ]; }
wait_for 10 leader a 1 && pass "$N: first --headless holds the lease (shelly_poller_leader 1)" ||
	fail "$N: first leads" "$(hl_metric a shelly_poller_leader)"
wait_for 10 sh -c '[ "$(curl -s -m 2 -o /dev/null -w "%{http_code}" "$1")" = 200 ]' sh "http://127.0.0.1:$(hl_port a)/readyz" ||
	fail "$N: first ready" "$(hl_get a /readyz)"
n_lead=$(grep -c 'holding the poller lease' "$(hl_err a)")
[ "$n_lead" = 1 ] && pass "$N: taking the lease is logged once" ||
	fail "$N: taking the lease is logged once" "$n_lead lines: $(grep 'holding the poller lease' "$(hl_err a)")"
holder=$(sq "$DB" 'SELECT holder FROM lease')
echo "$holder" | grep -q ":$(hl_pid a):" && pass "$N: lease row names the first poller ($holder)" || fail "$N: lease holder" "'$holder' pid $(hl_pid a)"

hl_start b "$DB" "$CONF" || { fail "$N: second --headless" "$(cat "$(hl_err b)")"; exit 1; }
wait_for 5 grep -q 'standing by' "$(hl_err b)" && pass "$N: second --headless logs that it stands by" ||
	fail "$N: second stands by" "$(tail -n 3 "$(hl_err b)")"
leader b 0 && pass "$N: second: shelly_poller_leader 0" || fail "$N: second leader metric" "$(hl_metric b shelly_poller_leader)"
[ "$(hl_code b /healthz)" = 200 ] && pass "$N: second: /healthz 200" || fail "$N: second healthz" "$(hl_code b /healthz)"

# Traffic: over many of the leader's polls, the sim sees exactly the leader's status requests,
# and the stand-by poller counts none.
status_requests() {
	ctl GET /devices | jq '[.devices[].counters.by_path | to_entries[] |
		select(.key == "/status" or .key == "/rpc/Shelly.GetStatus") | .value] | add // 0'
}
pa0=$(hl_metric a shelly_polls_total)
ctl POST /reset-counters >/dev/null
pa1=$(hl_metric a shelly_polls_total)
wait_for 20 sh -c '[ "$(curl -s -m 2 "$1" | sed -n "s/^shelly_polls_total //p")" -ge "$2" ]' sh \
	"http://127.0.0.1:$(hl_port a)/metrics" $((pa1 + 20 * NDEV))
pa2=$(hl_metric a shelly_polls_total)
s=$(status_requests)
pa3=$(hl_metric a shelly_polls_total)
pb=$(hl_metric b shelly_polls_total)
# The polls the sim saw between its reset and the read are at least those the leader completed
# from pa1 to pa2 and at most those from pa0 to pa3 (+ one in flight per device at each end);
# a second poller would double them.
[ "$s" -ge $((pa2 - pa1 - NDEV)) ] && [ "$s" -le $((pa3 - pa0 + NDEV)) ] && [ "${pb:-x}" = 0 ] &&
	pass "$N: only the leader polls: sim saw $s status requests for the leader's $((pa2 - pa1)) polls, stand-by 0" ||
	fail "$N: one poller's traffic" "sim $s, leader polls $pa0/$pa1/$pa2/$pa3, stand-by polls '$pb'"

# The stand-by serves the leader's results from the store: its fleet totals count the
# leader's states (not its own idle poller's), its /readyz says it stands by, and a reading
# the leader takes after a change shows in the stand-by's /metrics.
online_b() { [ "$(hl_metric b 'shelly_devices{state="online"}')" = $NDEV ] && [ "$(hl_metric b 'shelly_devices{state="unknown"}')" = 0 ]; }
wait_for 20 online_b && pass "$N: second: shelly_devices counts the leader's $NDEV devices online" ||
	fail "$N: second: fleet totals" "$(curl -s -m 5 "http://127.0.0.1:$(hl_port b)/metrics" | grep '^shelly_devices')"
[ "$(hl_code b /readyz)" = 200 ] && hl_get b /readyz | grep -q "standing by" &&
	pass "$N: second: /readyz 200, standing by ($(hl_get b /readyz))" || fail "$N: second: /readyz" "$(hl_code b /readyz) $(hl_get b /readyz)"
out0="shelly_output{mac=\"$(mac_of 0)\",component=\"switch\",channel=\"0\"}"
was=$(hl_metric b "$out0")
[ "$was" = 1 ] && on=false want=0 || on=true want=1
curl -s -m 3 "$(hl_url 0)/rpc/Switch.Set?id=0&on=$on" >/dev/null
follows() { [ "$(hl_metric a "$out0")" = $want ] && [ "$(hl_metric b "$out0")" = $want ]; }
wait_for 20 follows && pass "$N: second: /metrics follows the leader's new reading ($out0 $was -> $want)" ||
	fail "$N: second: new reading" "leader '$(hl_metric a "$out0")' stand-by '$(hl_metric b "$out0")', want $want"
# A device the leader finds offline after the stand-by started is counted offline there too.
set_fault 1 closed
off_b() { [ "$(hl_metric b 'shelly_devices{state="offline"}')" = 1 ] && [ "$(hl_metric b 'shelly_devices{state="online"}')" = $((NDEV - 1)) ]; }
wait_for 20 off_b && pass "$N: second: shelly_devices follows the leader (1 offline, $((NDEV - 1)) online)" ||
	fail "$N: second: totals after a change" "$(curl -s -m 5 "http://127.0.0.1:$(hl_port b)/metrics" | grep '^shelly_devices')"
set_fault 1 none
wait_for 20 online_b || fail "$N: second: all online again" "$(curl -s -m 5 "http://127.0.0.1:$(hl_port b)/metrics" | grep '^shelly_devices')"
# A stand-by that cannot read the leader's results (here the registry's table is gone, as
# after a migration this binary does not know) is not ready, and says why; then ready again.
sq "$DB" 'ALTER TABLE devices RENAME TO devices_away'
unready_b() { [ "$(hl_code b /readyz)" = 503 ] && hl_get b /readyz | grep -q 'standing by.*devices'; }
wait_for 20 unready_b && pass "$N: second: /readyz 503 while the store cannot be read ($(hl_get b /readyz))" ||
	fail "$N: second: /readyz when the store cannot be read" "$(hl_code b /readyz) $(hl_get b /readyz)"
sq "$DB" 'ALTER TABLE devices_away RENAME TO devices'
ready_b() { [ "$(hl_code b /readyz)" = 200 ]; }
wait_for 20 ready_b && pass "$N: second: /readyz 200 again once it reads" || fail "$N: second: ready again" "$(hl_get b /readyz)"

# --poll-once refuses while the lease is held; --force polls anyway.
"$SHELLY_TUI" --poll-once --db "$DB" --config "$CONF" >"$T_TMP/once.out" 2>"$T_TMP/once.err"; rc=$?
[ $rc = 1 ] && grep -q 'holds the lease' "$T_TMP/once.err" && grep -q "$(hl_pid a)" "$T_TMP/once.err" &&
	pass "$N: --poll-once refuses while the lease is held (exit 1: $(head -n 1 "$T_TMP/once.err"))" ||
	fail "$N: --poll-once refusal" "rc=$rc $(cat "$T_TMP/once.err")"

"$SHELLY_TUI" --poll-once --force --json --db "$DB" --config "$CONF" >"$T_TMP/force.out" 2>"$T_TMP/force.err"; rc=$?
[ $rc = 0 ] && [ "$(jq '.devices | length' "$T_TMP/force.out")" = $NDEV ] &&
	[ "$(jq '[.devices[] | select(.state == "online")] | length' "$T_TMP/force.out")" = $NDEV ] &&
	pass "$N: --poll-once --force polls all $NDEV devices (exit 0)" ||
	fail "$N: --poll-once --force" "rc=$rc $(head -c 300 "$T_TMP/force.out") $(cat "$T_TMP/force.err")"
sw=$(jq -r --arg m "$(mac_of 1)" '.devices[] | select(.mac == $m) | .components.switch[0].output' "$T_TMP/force.out")
[ "$sw" = "$(sim_state 1 .switches[0].on)" ] && pass "$N: --poll-once --force reports the sim's output ($sw)" ||
	fail "$N: --poll-once output" "'$sw' vs sim $(sim_state 1 .switches[0].on)"
echo "$(sq "$DB" 'SELECT holder FROM lease')" | grep -q ":$(hl_pid a):" && leader a 1 &&
	pass "$N: --poll-once --force leaves the lease with the leader" || fail "$N: lease after --force" "$(sq "$DB" 'SELECT * FROM lease')"

# --backup-db while the leader writes.
"$SHELLY_TUI" --backup-db "$T_TMP/copy.db" --db "$DB" >"$T_TMP/bk.out" 2>&1; rc=$?
ic=$(sq "$T_TMP/copy.db" 'PRAGMA integrity_check' 2>&1)
macs=$(sq "$T_TMP/copy.db" 'SELECT group_concat(mac, " ") FROM (SELECT mac FROM devices ORDER BY mac)' 2>&1)
want=$(jq -r '[.devices[].mac | ascii_downcase] | sort | join(" ")' "$SIM_MANIFEST")
[ $rc = 0 ] && [ "$ic" = ok ] && [ "$macs" = "$want" ] && [ "$(sq "$T_TMP/copy.db" 'SELECT count(*) FROM status')" = $NDEV ] &&
	pass "$N: --backup-db while polling: integrity ok, all $NDEV devices and status rows" ||
	fail "$N: --backup-db" "rc=$rc ic=$ic macs='$macs' $(cat "$T_TMP/bk.out")"
[ "$(stat -c %a "$T_TMP/copy.db")" = 600 ] && pass "$N: the backup is 0600 (it holds secrets)" || fail "$N: backup mode" "$(stat -c %a "$T_TMP/copy.db")"
[ "$(sq "$T_TMP/copy.db" 'PRAGMA user_version')" = "$(sq "$DB" 'PRAGMA user_version')" ] &&
	pass "$N: the backup keeps the schema version" || fail "$N: backup user_version"
"$SHELLY_TUI" --list --json --db "$T_TMP/copy.db" >"$T_TMP/list.out" 2>&1 &&
	[ "$(jq '.devices | length' "$T_TMP/list.out")" = $NDEV ] && pass "$N: the backup opens with --list" ||
	fail "$N: --list on the backup" "$(head -c 300 "$T_TMP/list.out")"

# --- takeover: kill -9 the leader; the stand-by on this host sees its process is gone ---
hl_kill9 a
tk=$(now_ms)
wait_for 10 leader b 1; took=$(( $(now_ms) - tk ))
# On a loaded machine the leader's lease may have run out before the kill (its loop starved past
# the timeout); the stand-by then takes it as expired, not stale (test_lease covers the stale
# path alone). Either way the stand-by must lead now.
if leader b 1 && { grep -q "stale lease of headless:[^ ]*:$(hl_pid a):" "$(hl_err b)" ||
	grep -q "lost the poller lease" "$(hl_err a)" ||
	grep -q "holding the poller lease as headless:[^ ]*:$(hl_pid b):" "$(hl_err b)"; }; then
	how="the stale lease"
	grep -q "stale lease of headless:[^ ]*:$(hl_pid a):" "$(hl_err b)" || how="the lease (it had expired under load)"
	pass "$N: stand-by takes over $how $took ms after kill -9 (within 10 s, half the lease timeout)"
else
	fail "$N: takeover" "leader=$(hl_metric b shelly_poller_leader) after $took ms: $(tail -n 3 "$(hl_err b)")"
fi
grep -q 'holding the poller lease' "$(hl_err b)" && pass "$N: the new leader logs it" || fail "$N: takeover log" "$(tail -n 3 "$(hl_err b)")"
echo "$(sq "$DB" 'SELECT holder FROM lease')" | grep -q ":$(hl_pid b):" && pass "$N: lease row names the new leader" ||
	fail "$N: lease row after takeover" "$(sq "$DB" 'SELECT * FROM lease')"
ctl POST /reset-counters >/dev/null
t0=$(now_ms)
polled() { [ "$(status_requests)" -ge $((3 * NDEV)) ] && [ "$(hl_metric b shelly_polls_total)" -ge $((3 * NDEV)) ]; }
wait_for 10 polled && pass "$N: the new leader polls the fleet" || fail "$N: new leader polls" "sim $(status_requests), polls $(hl_metric b shelly_polls_total)"
newer() { [ "$(sq "$DB" "SELECT count(*) FROM status WHERE ts > $t0")" = $NDEV ]; }
wait_for 10 newer && pass "$N: the new leader writes every device's status" || fail "$N: new leader writes" "$(sq "$DB" "SELECT count(*) FROM status WHERE ts > $t0")"
wait_for 10 sh -c '[ "$(curl -s -m 2 -o /dev/null -w "%{http_code}" "$1")" = 200 ]' sh "http://127.0.0.1:$(hl_port b)/readyz" &&
	pass "$N: the new leader is ready" || fail "$N: new leader ready" "$(hl_get b /readyz)"
"$SHELLY_TUI" --poll-once --db "$DB" --config "$CONF" >/dev/null 2>"$T_TMP/once2.err"; rc=$?
[ $rc = 1 ] && grep -q "$(hl_pid b)" "$T_TMP/once2.err" && pass "$N: --poll-once now refuses for the new leader" ||
	fail "$N: --poll-once after takeover" "rc=$rc $(cat "$T_TMP/once2.err")"
hl_stop b TERM 90
[ "$HL_RC" = 0 ] && pass "$N: new leader exits 0 on SIGTERM" ||
	fail "$N: new leader exit" "rc=$HL_RC after $HL_MS ms${HL_STUCK:+ ($HL_STUCK)}: $(tail -n 5 "$(hl_err b)")"
[ "$(sq "$DB" 'PRAGMA integrity_check')" = ok ] && pass "$N: DB ok after takeover" || fail "$N: DB after takeover"

# --- a stale local lease (kill -9) with a long lease-timeout: nobody waits for it ---
LCONF=$T_TMP/config.long
hl_config "$LCONF" "set request-timeout 5s" "set connect-timeout 3s" "set lease-timeout 60s"
hl_start c "$DB" "$LCONF" || { fail "$N: --headless c" "$(cat "$(hl_err c)")"; exit 1; }
wait_for 10 leader c 1 || fail "$N: c leads" "$(tail -n 3 "$(hl_err c)")"
hl_kill9 c
"$SHELLY_TUI" --poll-once --db "$DB" --config "$LCONF" >"$T_TMP/once3.out" 2>"$T_TMP/once3.err"; rc=$?
[ $rc = 0 ] && grep -q "stale lease of headless:[^ ]*:$(hl_pid c):" "$T_TMP/once3.err" &&
	pass "$N: --poll-once after kill -9 takes over the stale lease at once (lease-timeout 60 s)" ||
	fail "$N: --poll-once after kill -9" "rc=$rc $(cat "$T_TMP/once3.err")"
hl_start d "$DB" "$LCONF" || { fail "$N: --headless d" "$(cat "$(hl_err d)")"; exit 1; }
hl_kill9 d
hl_start e "$DB" "$LCONF" || { fail "$N: --headless e" "$(cat "$(hl_err e)")"; exit 1; }
wait_for 10 leader e 1 && pass "$N: a new --headless leads at once after kill -9 of the last one" ||
	fail "$N: --headless after kill -9" "$(tail -n 3 "$(hl_err e)")"
# Another host's poller takes the lease over (its row replaces e's): e stands by and says why
# once, not once per layer.
t=$(now_ms)
sq "$DB" "UPDATE lease SET holder = 'headless:elsewhere:1:1', heartbeat_ts = $t, expires_ts = $((t + 60000)) WHERE name = 'poller'"
wait_for 10 leader e 0 || fail "$N: e stands by when the lease is taken" "$(tail -n 3 "$(hl_err e)")"
n_lost=$(grep -c 'lost the poller lease' "$(hl_err e)")
[ "$n_lost" = 1 ] && pass "$N: losing the lease is logged once" ||
	fail "$N: losing the lease is logged once" "$n_lost lines: $(grep 'lost the poller lease' "$(hl_err e)")"
hl_stop e
# Heartbeat must be shorter than half the timeout: a configuration error.
hl_config "$T_TMP/config.bad" "set lease-heartbeat 600ms" "set lease-timeout 1s"
"$SHELLY_TUI" --poll-once --db "$DB" --config "$T_TMP/config.bad" >/dev/null 2>"$T_TMP/bad.err"; rc=$?
[ $rc = 2 ] && grep -q "lease-heartbeat" "$T_TMP/bad.err" &&
	pass "$N: lease-heartbeat >= lease-timeout / 2 is refused ($(cat "$T_TMP/bad.err"))" ||
	fail "$N: heartbeat check" "rc=$rc $(cat "$T_TMP/bad.err")"

# --- --poll-once renews the lease while it polls: a poll longer than lease-timeout (a device
# that never answers, request-timeout 6 s, lease-timeout 1 s) keeps it; one that loses it stops ---
set_fault 2 noanswer
sq "$DB" "DELETE FROM lease WHERE name = 'poller'" # the other host's row above
OCONF=$T_TMP/config.once
hl_config "$OCONF" "set request-timeout 6s"
"$SHELLY_TUI" --poll-once --db "$DB" --config "$OCONF" >"$T_TMP/once4.out" 2>"$T_TMP/once4.err" &
OP=$!
OPS=$(pid_start $OP)
at_exit "kill_ours $OP"
wait_for 10 sh -c "[ \"\$(sqlite3 '$DB' 'SELECT holder FROM lease' 2>/dev/null | cut -d: -f1)\" = poll-once ]" ||
	fail "$N: --poll-once takes the lease" "$(sq "$DB" 'SELECT * FROM lease')"
hl_start f "$DB" "$OCONF" || { fail "$N: --headless f" "$(cat "$(hl_err f)")"; exit 1; }
# f leading counts against --poll-once only when its poll still runs after that reading (its
# request to device 2 still in flight at the sim): after its poll it gives the lease back and
# may take a while to exit on a loaded machine, and f may lead then.
polling() { [ "$(dev_state 2 '.counters.in_flight')" -ge 1 ]; }
led=0
while pid_alive $OP "$OPS"; do
	leader f 1 && polling && led=1 && break
	sleep 0.2
done
wait $OP; rc=$?
[ $led = 0 ] && [ $rc = 0 ] && grep -q "held by a live poller (poll-once:" "$(hl_err f)" &&
	pass "$N: a --headless stands by while a --poll-once longer than lease-timeout polls" ||
	fail "$N: --poll-once keeps the lease" "led=$led rc=$rc $(cat "$T_TMP/once4.err") $(tail -n 3 "$(hl_err f)")"
wait_for 10 leader f 1 && pass "$N: and leads once it is done" || fail "$N: --headless after --poll-once" "$(tail -n 3 "$(hl_err f)")"
hl_stop f
"$SHELLY_TUI" --poll-once --db "$DB" --config "$OCONF" >"$T_TMP/once5.out" 2>"$T_TMP/once5.err" &
OP=$!
at_exit "kill_ours $OP"
wait_for 10 sh -c "[ \"\$(sqlite3 '$DB' 'SELECT holder FROM lease' 2>/dev/null | cut -d: -f1)\" = poll-once ]" ||
	fail "$N: --poll-once takes the lease again" "$(sq "$DB" 'SELECT * FROM lease')"
t=$(now_ms)
sq "$DB" "UPDATE lease SET holder = 'headless:elsewhere:1:1', heartbeat_ts = $t, expires_ts = $((t + 60000)) WHERE name = 'poller'"
wait $OP; rc=$?
[ $rc = 1 ] && grep -q "lost the poller lease while polling" "$T_TMP/once5.err" &&
	pass "$N: a --poll-once that loses the lease stops, exit 1 ($(tail -n 1 "$T_TMP/once5.err"))" ||
	fail "$N: --poll-once losing the lease" "rc=$rc $(cat "$T_TMP/once5.err")"
sim_stop
exit 0
