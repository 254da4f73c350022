# --headless with opnsense-interval: syncs with the fake OPNsense on its own, the first sync
# writes, the later ones write and reconfigure nothing, and /metrics shows the last sync's time,
# result and counts by action. (The devices' 192.168.20.x addresses are refused by the guard,
# so the poller sends nothing there.)
. tests/lib.sh
. tests/integration/lib_opnsense.sh

N=opnsense_headless
op_init $N
cat >"$T_TMP/kea.json" <<'JSON'
{"subnets": [{"uuid": "3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10", "subnet": "192.168.20.0/24"}],
 "reservations": [{"uuid": "f0000001-0000-4000-8000-000000000001", "subnet": "3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10",
   "ip_address": "192.168.20.10", "hw_address": "de:ad:be:ef:00:01", "hostname": "printer", "description": ""}]}
JSON
DB=$T_TMP/db
op_db "$DB" "000000000001|Kitchen|192.168.20.31" "000000000002|Hall|192.168.20.32"
op_fake h "$T_TMP/kea.json"
op_conf h "$T_TMP/c" "set opnsense-interval 300ms" "set lease-heartbeat 200ms" "set request-timeout 500ms"
"$SHELLY_TUI" --headless --config "$T_TMP/c" --db "$DB" --listen 127.0.0.1:0 >"$T_TMP/hl.out" 2>"$T_TMP/hl.err" &
HL=$!
at_exit "kill_ours $HL"
wait_for 20 grep -q "^metrics: " "$T_TMP/hl.out" || { fail "$N: --headless starts" "$(cat "$T_TMP/hl.err")"; exit 1; }
URL=$(sed -n 's/^metrics: //p' "$T_TMP/hl.out")
metric() { curl -s -m 5 "$URL" | awk -v s="$1" '$1 == s { print $2 }'; }
synced() { v=$(metric 'shelly_opnsense_syncs_total{result="ok"}'); [ -n "$v" ] && [ "$v" -ge 3 ]; }
if wait_for 60 synced; then
	pass "$N: --headless syncs every opnsense-interval (3 syncs ok)"
else
	fail "$N: periodic syncs" "$(curl -s -m 5 "$URL" | grep opnsense) $(tail -n 5 "$T_TMP/hl.err")"
fi
[ "$(op_count h .writes)" = 3 ] && [ "$(op_count h .reconfigure.kea)" = 1 ] && [ "$(op_count h .reconfigure.alias)" = 1 ] &&
	pass "$N: only the first sync wrote (2 reservations, the alias) and reconfigured" ||
	fail "$N: idempotent in --headless" "$(op_get h /__fake/counts | jq -c '.writes, .reconfigure')"
now=$(date +%s)
ts=$(metric shelly_opnsense_last_sync_timestamp_seconds)
[ "$(metric shelly_opnsense_last_sync_success)" = 1 ] && [ "$(metric 'shelly_opnsense_last_sync_records{action="unchanged"}')" = 3 ] &&
	[ "$(metric 'shelly_opnsense_last_sync_records{action="added"}')" = 0 ] &&
	[ -n "$ts" ] && awk -v t="$ts" -v n="$now" 'BEGIN { exit !(t > n - 120 && t <= n + 5) }' &&
	pass "$N: /metrics: last sync time, success 1, records by action (3 unchanged)" ||
	fail "$N: metrics" "$(curl -s -m 5 "$URL" | grep opnsense)"
# The firewall goes away: each sync now fails, and /metrics says so.
op_stop h
failed() { v=$(metric 'shelly_opnsense_syncs_total{result="failed"}'); [ -n "$v" ] && [ "$v" -ge 1 ]; }
if wait_for 60 failed && [ "$(metric shelly_opnsense_last_sync_success)" = 0 ] &&
	grep -q "opnsense: sync failed" "$T_TMP/hl.err"; then
	pass "$N: a sync that cannot reach OPNsense counts as failed (success 0, failed total, logged)"
else
	fail "$N: failed sync" "$(curl -s -m 5 "$URL" | grep opnsense) $(tail -n 5 "$T_TMP/hl.err")"
fi
kill_ours $HL; wait $HL 2>/dev/null

# opnsense-interval without opnsense-url: a warning, and no sync.
printf 'set opnsense-interval 300ms\n' >"$T_TMP/c2"
"$SHELLY_TUI" --headless --config "$T_TMP/c2" --db "$DB" --listen 127.0.0.1:0 >"$T_TMP/hl2.out" 2>"$T_TMP/hl2.err" &
HL2=$!
at_exit "kill_ours $HL2"
if wait_for 20 grep -q "opnsense-interval is set but opnsense-url is not" "$T_TMP/hl2.err"; then
	pass "$N: opnsense-interval without opnsense-url is said, once started"
else
	fail "$N: interval without url" "$(cat "$T_TMP/hl2.err")"
fi
kill_ours $HL2; wait $HL2 2>/dev/null

# SIGTERM (a pod's rollout) while a write is in flight: the lease goes back, and the DHCP
# service is remembered as pending, since the firewall may finish that write. The write takes
# 10 s (and may take 20 s before it times out), so the stop comes while it is in flight however
# long a loaded machine takes to see it arrive.
DB3=$T_TMP/db3
op_db "$DB3" "000000000002|Hall|192.168.20.32"
op_fake hs "$T_TMP/kea.json" --slow addReservation --slow-seconds 10
op_conf hs "$T_TMP/c3" "set opnsense-interval 1h" "set lease-heartbeat 200ms" "set request-timeout 20s"
"$SHELLY_TUI" --headless --config "$T_TMP/c3" --db "$DB3" --listen 127.0.0.1:0 >"$T_TMP/hl3.out" 2>"$T_TMP/hl3.err" &
HL3=$!
at_exit "kill_ours $HL3"
wait_for 60 sh -c "curl -s -m 10 --cacert '$OP_CA' 'https://$OP_ADDR:$(op_port hs)/__fake/counts' | grep -q 'POST /api/kea/dhcpv4/addReservation'"
kill_ours $HL3; wait $HL3 2>/dev/null
[ "$(sqlite3 "$DB3" "select count(*) from lease where name = 'opnsense'")" = 0 ] &&
	sqlite3 "$DB3" "select value from settings where key = 'opnsense.pending_reconfigure'" | grep -qx 'dhcp\(,alias\)\?' &&
	pass "$N: stopped mid-write: the lease is given back and the DHCP reconfigure is left pending" ||
	fail "$N: stopped mid-write" "$(sqlite3 "$DB3" 'select * from lease; select * from settings') $(tail -n 5 "$T_TMP/hl3.err")"
op_stop hs

# SIGHUP while a sync writes: the sync goes on to its end (its write is not cancelled, no
# second sync starts at once), and the syncs' counts survive the reload.
DB4=$T_TMP/db4
op_db "$DB4" "000000000001|Kitchen|192.168.20.31" "000000000002|Hall|192.168.20.32"
op_fake hr "$T_TMP/kea.json" --slow addReservation --slow-seconds 3
op_conf hr "$T_TMP/c4" "set opnsense-interval 1h" "set lease-heartbeat 200ms"
"$SHELLY_TUI" --headless --config "$T_TMP/c4" --db "$DB4" --listen 127.0.0.1:0 >"$T_TMP/hl4.out" 2>"$T_TMP/hl4.err" &
HL4=$!
at_exit "kill_ours $HL4"
wait_for 20 grep -q "^metrics: " "$T_TMP/hl4.out" || { fail "$N: --headless 4 starts" "$(cat "$T_TMP/hl4.err")"; exit 1; }
URL=$(sed -n 's/^metrics: //p' "$T_TMP/hl4.out")
adding() { op_get hr /__fake/counts | jq -e '[.paths[] | select(test("addReservation"))] | length >= 1' >/dev/null; }
wait_for 60 adding || fail "$N: the sync writes" "$(tail -n 3 "$T_TMP/hl4.err")"
kill -HUP $HL4
wait_for 30 grep -q "SIGHUP: configuration and registry reloaded" "$T_TMP/hl4.err" || fail "$N: reload" "$(tail -n 3 "$T_TMP/hl4.err")"
wait_for 60 grep -q "opnsense: synced\|opnsense: sync failed" "$T_TMP/hl4.err"
nsync=$(op_get hr /__fake/counts | jq '[.paths[] | select(test("searchReservation"))] | length')
grep -q "opnsense: synced: 3 added" "$T_TMP/hl4.err" && ! grep -q "opnsense: sync failed" "$T_TMP/hl4.err" && [ "$nsync" = 1 ] &&
	pass "$N: SIGHUP during a sync: the sync ends as it would have (3 added: 2 reservations, the alias), no second sync" ||
	fail "$N: SIGHUP during a sync" "reads $nsync: $(grep opnsense "$T_TMP/hl4.err" | tail -n 4)"
kill -HUP $HL4
wait_for 30 sh -c "[ \$(grep -c 'SIGHUP: configuration and registry reloaded' '$T_TMP/hl4.err') -ge 2 ]"
[ "$(metric 'shelly_opnsense_syncs_total{result="ok"}')" = 1 ] && [ -n "$(metric shelly_opnsense_last_sync_timestamp_seconds)" ] &&
	pass "$N: the sync's metrics survive a reload" || fail "$N: metrics after a reload" "$(curl -s -m 5 "$URL" | grep opnsense)"
# A shorter opnsense-interval takes effect at the reload (the last sync was long enough ago).
sed -i 's/^set opnsense-interval 1h$/set opnsense-interval 300ms/' "$T_TMP/c4"
kill -HUP $HL4
synced3() { v=$(metric 'shelly_opnsense_syncs_total{result="ok"}'); [ -n "$v" ] && [ "$v" -ge 3 ]; }
wait_for 60 synced3 && pass "$N: a shorter opnsense-interval applies at the reload" ||
	fail "$N: interval after a reload" "$(curl -s -m 5 "$URL" | grep opnsense_syncs)"
kill_ours $HL4; wait $HL4 2>/dev/null
op_stop hr
exit $T_FAILED
