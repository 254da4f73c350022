# A standby --headless that takes the lease over (after kill -9 of the leader) works from what
# the database holds, not from what it loaded at its start: no second "offline" event for a
# device the leader already recorded offline, the stored state at once. An asleep battery
# sensor's last readings are served by the standby, by the new leader and after a restart.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_takeover_store
sim_up $N --fixtures tests/fixtures --models gen1/shelly-ht,gen2/plus-1pm --count 2
hl_fleet
M0=$(mac_of 0) M1=$(mac_of 1)
hl_start a "$DB" "$CONF" || { fail "$N: first --headless" "$(cat "$(hl_err a)")"; exit 1; }
both_online() { [ "$(hl_online a "$T_TMP/a.m")" = 2 ]; }
wait_for 20 both_online || { fail "$N: both online" "$(grep '^shelly_device_state' "$T_TMP/a.m")"; exit 1; }
# B loads the fleet now, while the database holds both online; then it stands by.
stored_online() { [ "$(sq "$DB" "SELECT count(*) FROM status WHERE state = 'online'")" = 2 ]; }
wait_for 10 stored_online || fail "$N: both stored online" "$(sq "$DB" 'SELECT mac, state FROM status')"
hl_start b "$DB" "$CONF" || { fail "$N: second --headless" "$(cat "$(hl_err b)")"; exit 1; }
wait_for 10 grep -q 'standing by' "$(hl_err b)" || fail "$N: second stands by" "$(tail -n 3 "$(hl_err b)")"

# The H&T falls asleep, the Plus 1PM goes away: the leader records both.
for i in 0 1; do ctl POST "/devices/$i/fault" '{"fault":"noanswer"}' >/dev/null; done
ev() { sq "$DB" "SELECT count(*) FROM events WHERE mac = '$1' AND kind = '$2'"; }
recorded() { [ "$(ev "$M1" offline)" = 1 ] && [ "$(sq "$DB" "SELECT state FROM status WHERE mac = '$M0'")" = asleep ]; }
wait_for 20 recorded && pass "$N: the leader records the Plus 1PM offline, the H&T asleep" ||
	fail "$N: leader's record" "offline events $(ev "$M1" offline), H&T $(sq "$DB" "SELECT state FROM status WHERE mac = '$M0'")"

# The standby serves the H&T's last readings from the database.
temp_of() { [ "$(hl_state "$1" "$M0" "$2")" = asleep ] && grep -q "^shelly_temperature_celsius{.*mac=\"$M0\"" "$2"; }
wait_for 10 temp_of b "$T_TMP/b.m" && pass "$N: the standby serves the asleep H&T's temperature" ||
	fail "$N: standby readings" "$(grep -F "$M0" "$T_TMP/b.m" | head -n 5)"

# kill -9 of the leader: B takes over (a dead holder on this host: at once).
hl_kill9 a
leads() { [ "$(hl_metric b shelly_poller_leader)" = 1 ]; }
wait_for 15 leads && pass "$N: the standby takes the lease over" ||
	{ fail "$N: takeover" "$(tail -n 3 "$(hl_err b)")"; exit 1; }
hl_state b "$M1" "$T_TMP/b.m" >"$T_TMP/b1.state"
[ "$(cat "$T_TMP/b1.state")" = offline ] && pass "$N: the new leader shows the stored state (offline)" ||
	fail "$N: state after takeover" "'$(cat "$T_TMP/b1.state")', not offline"
# B polls the Plus 1PM (its requests reach the sim) and fails: no second offline event.
ctl POST /devices/1/reset-counters >/dev/null
polled() { [ "$(sim_state 1 .counters.requests)" -ge 3 ]; }
wait_for 20 polled || fail "$N: the new leader polls" "$(sim_state 1 .counters.requests) requests"
p0=$(hl_metric b shelly_polls_total)
wait_for 20 sh -c '[ "$(curl -s -m 2 "$1" | sed -n "s/^shelly_polls_total //p")" -ge "$2" ]' sh \
	"http://127.0.0.1:$(hl_port b)/metrics" $((p0 + 4))
n=$(ev "$M1" offline)
[ "$n" = 1 ] && [ "$(hl_state b "$M1" "$T_TMP/b.m")" = offline ] &&
	pass "$N: no offline event recorded again after the takeover" ||
	fail "$N: duplicate events" "$n offline events: $(sq "$DB" "SELECT kind, detail FROM events WHERE mac = '$M1'")"
temp_of b "$T_TMP/b.m" && pass "$N: the new leader serves the asleep H&T's temperature" ||
	fail "$N: readings after takeover" "$(grep -F "$M0" "$T_TMP/b.m" | head -n 5)"

# A restart: the asleep H&T's last readings are served again, before and after its polls.
hl_stop b
hl_start c "$DB" "$CONF" || { fail "$N: third --headless" "$(cat "$(hl_err c)")"; exit 1; }
wait_for 10 temp_of c "$T_TMP/c.m" && pass "$N: after a restart the asleep H&T's temperature is served" ||
	fail "$N: readings after restart" "$(grep -F "$M0" "$T_TMP/c.m" | head -n 5)"
hl_stop c
[ "$HL_RC" = 0 ] && pass "$N: SIGTERM exits 0" || fail "$N: exit" "rc=$HL_RC"
sim_stop
exit 0
