# Gen1 HTTP Basic sends the password itself: the poller has a Gen1 device's address show its
# MAC (GET /shelly) before every poll with credentials, not every verify interval. A Gen2 device
# (digest: the password never travels) is re-verified only every verify interval. Counted
# after the fact from the sim's per-path counters, over many polls of --headless.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_gen1_verify
if ! sim_start $N --models gen1/shelly-plug-s,gen2/plus-1pm --count 2 --auth all; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
unset SHELLY_TUI_PASSWORD
G1=0 G2=1
DB=$T_TMP/db
CONF=$T_TMP/config
hl_config "$CONF" "set request-timeout 5s" "set connect-timeout 3s"
secret_file "$T_TMP/pw1" "$(dv $G1 PW)"
secret_file "$T_TMP/pw2" "$(dv $G2 PW)"
hl_add "$DB" $G1 --password-file "$T_TMP/pw1" </dev/null && hl_add "$DB" $G2 --password-file "$T_TMP/pw2" </dev/null ||
	{ fail "$N: --add" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
ctl POST /reset-counters >/dev/null
count() { dev_state "$1" "[.counters.by_path | to_entries[] | select(.key | startswith(\"$2\")) | .value] | add // 0"; }
hl_start a "$DB" "$CONF" || { fail "$N: --headless" "$(cat "$(hl_err a)")"; exit 1; }
polled() { [ "$(count $G1 /status)" -ge 8 ] && [ "$(count $G2 /rpc/Shelly.GetStatus)" -ge 8 ]; }
wait_for 30 polled || fail "$N: polls" "gen1 $(count $G1 /status), gen2 $(count $G2 /rpc/Shelly.GetStatus)"
hl_stop a
s1=$(count $G1 /status) v1=$(count $G1 /shelly)
s2=$(count $G2 /rpc/Shelly.GetStatus) v2=$(count $G2 /shelly)
[ "$s1" -ge 8 ] && [ "$v1" -ge "$s1" ] &&
	pass "$N: Gen1 with Basic auth: /shelly before every poll ($v1 /shelly for $s1 /status)" ||
	fail "$N: Gen1 verify per poll" "$v1 /shelly for $s1 /status"
[ "$s2" -ge 8 ] && [ "$v2" -lt "$s2" ] &&
	pass "$N: Gen2 digest: /shelly every verify interval ($v2 /shelly for $s2 status requests)" ||
	fail "$N: Gen2 verify interval" "$v2 /shelly for $s2 status requests"
exit 0
