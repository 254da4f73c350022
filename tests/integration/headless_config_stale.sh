# A queued change that leaves the queue while --headless runs (the device removed with --remove,
# which drops its queued changes, then added again) is not applied when the device is next
# seen: the queue is what the store holds, not what was read before. A change still queued for
# another device is applied as usual.
. tests/lib.sh
. tests/sim/simlib.sh
. tests/integration/lib_headless.sh

N=headless_config_stale
sim_up $N --models gen2/plus-1pm,gen2/plus-1pm --count 2
DB="$T_TMP/s.db"
hl_add "$DB" 0 --name a && hl_add "$DB" 1 --name b || { fail "$N: --add" "$(cat "$T_TMP/add.err")"; exit 1; }
tz() { curl -s -m 3 "$(hl_url "$1" /rpc/Sys.GetConfig)" | jq -r .location.tz; }
tz_a=$(tz 0)
now=$(($(date +%s) * 1000))
queue() { sq "$DB" "INSERT INTO config_pending (mac, ts, body, flags) VALUES ('$(mac_of "$1")', $now, 'sys.timezone = $2', 0)" ||
	fail "$N: queue for $1"; }
for i in 0 1; do ctl POST "/devices/$i/fault" '{"fault":"closed"}' >/dev/null; done
queue 0 Asia/Tokyo
queue 1 Europe/Oslo
hl_config "$T_TMP/conf" "set request-timeout 15s" "set connect-timeout 5s"
hl_start q "$DB" "$T_TMP/conf" || { fail "$N: headless start" "$(cat "$(hl_err q)")"; exit 1; }
wait_for 30 grep -q "config queue: 2 change(s) queued" "$(hl_err q)" ||
	fail "$N: the queue is read" "$(tail -5 "$(hl_err q)")"
"$SHELLY_TUI" --db "$DB" --remove "$(mac_of 0)" >"$T_TMP/rm" 2>&1 || fail "$N: --remove" "$(cat "$T_TMP/rm")"
[ "$(sq "$DB" "select count(*) from config_pending where mac = '$(mac_of 0)'")" = 0 ] ||
	fail "$N: --remove kept the queued change" "$(sq "$DB" 'select * from config_pending')"
wait_for 30 grep -q "config queue: 1 change(s) queued" "$(hl_err q)" ||
	fail "$N: the queue is read again" "$(tail -5 "$(hl_err q)")"
# a answers again and is added again (--add asks it); then b answers.
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
hl_add "$DB" 0 --name a || fail "$N: --add again" "$(cat "$T_TMP/add.err")"
ctl POST /devices/1/fault '{"fault":"none"}' >/dev/null
wait_for 60 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"select state from config_pending where mac = '$(mac_of 1)'\")\" = applied ]" &&
	[ "$(tz 1)" = Europe/Oslo ] && pass "$N: the change still queued is applied" ||
	fail "$N: b's change" "$(sq "$DB" 'select * from config_pending') $(tail -5 "$(hl_err q)")"
# a is polled again (it is seen), and two seconds more of its polls pass.
a_ts() { sq "$DB" "select coalesce(max(ts), 0) from status where mac = '$(mac_of 0)' and state = 'online'"; }
wait_for 30 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"select count(*) from status where mac = '$(mac_of 0)' and state = 'online'\")\" = 1 ]" ||
	fail "$N: a is polled after --add" "$(sq "$DB" "select * from status where mac = '$(mac_of 0)'")"
t1=$(a_ts)
wait_for 30 sh -c "[ \"\$(sqlite3 -cmd '.timeout 5000' '$DB' \"select coalesce(max(ts), 0) from status where mac = '$(mac_of 0)'\")\" -ge $((t1 + 2000)) ]" ||
	fail "$N: a polled on" "$(a_ts)"
[ "$(tz 0)" = "$tz_a" ] && [ "$(sq "$DB" "select count(*) from audit where action = 'config-queued' and target = '$(mac_of 0)'")" = 0 ] &&
	pass "$N: a change that left the queue is not applied" ||
	fail "$N: a's dropped change was applied" "tz=$(tz 0) $(grep "config queue" "$(hl_err q)" | tail -3)"
hl_stop q
sim_stop
exit $T_FAILED
