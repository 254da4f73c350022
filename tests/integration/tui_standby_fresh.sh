# The console standing by beside a --headless poller that polls no more after its first poll
# (it is stopped with SIGSTOP once its row is written: a long poll interval made certain, its
# lease held for an hour): after its own toggle the detail view and the table show the
# device's new state within a bounded wait (the console reads the device's status itself,
# once), not the poller's old row until its next poll; the console writes no status row (the
# store is the poller's), and the poller keeps the lease.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_tui.sh

N=tui_standby_fresh
sim_up $N --models gen2/plus-1pm --auth none
DB=$T_TMP/fleet.db
CONF=$T_TMP/config
hl_config "$CONF" 'set lease-timeout 1h' 'set connect-timeout 10s' 'set request-timeout 15s'
hl_add_all "$DB" || fail "$N: add" "$(cat "$T_TMP"/*.err 2>/dev/null)"
hl_start hl "$DB" "$CONF" || fail "$N: headless start" "$(cat "$(hl_err hl)")"
MAC=$(mac_of 0)
polled() { [ "$(sq "$DB" "select state from status where mac = '$MAC'")" = online ]; }
wait_for 30 polled || fail "$N: the poller's first poll" "$(sq "$DB" "select * from status")"
kill_ours -STOP "$(hl_pid hl)"
row0=$(sq "$DB" "select ts || ' ' || coalesce(reply_ts, '') || ' ' || outputs_on from status where mac = '$MAC'")

tui_start 120 30 "env $(tui_env) $SHELLY_TUI --db $DB --config $CONF"
tui_step 30 'poller: headless on ' 'the console stands by'
tui_step 30 'online 1' 'the poller'"'"'s row'
name0=$(sq "$DB" "select coalesce(name, id) from devices where mac = '$MAC'")
before=$(sim_state 0 '.switches[0].on')
[ "$before" = true ] && was=on want=off || was=off want=on
tui_keys Enter
tui_step 20 "switch:0 .* $was " 'detail before the toggle'
tui_keys t
flipped() { [ "$(sim_state 0 '.switches[0].on')" != "$before" ]; }
wait_for 60 flipped || fail "$N: toggle" "sim output still $before; $(tui_screen)"
tui_expect 30 "switch:0 .* $want " 'detail after the toggle' \
	"the detail view shows the toggled output ($want) without a poll of the poller"
tui_keys q
tui_expect 30 "$name0 .* $want " 'table after the toggle' "the table shows it too ($want)" \
	'poller: headless on '
row1=$(sq "$DB" "select ts || ' ' || coalesce(reply_ts, '') || ' ' || outputs_on from status where mac = '$MAC'")
if [ "$row1" = "$row0" ]; then pass "$N: the console wrote no status row (the poller's stays: $row0)"
else fail "$N: status row written" "before '$row0', after '$row1'"; fi
console=$(sq "$DB" "select count(*) from lease where holder like 'console:%'")
[ "$console" = 0 ] && pass "$N: the console did not take the lease" || fail "$N: lease" "the console holds it"
tui_keys F10
tui_step 20 'RESTORED rc=0' 'quit'
exit $T_FAILED
