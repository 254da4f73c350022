# The console's OPNsense view against a fake OPNsense (Kea): it shows the plan --opnsense-sync
# --dry-run prints and writes nothing; a applies exactly that plan after a confirmation and
# shows each record's result (the fake holds the reservations); r reads again and finds
# nothing to change; closing the view gives the writer's lease back. Without opnsense-url the
# view says what to configure.
. tests/lib.sh
. tests/integration/lib_opnsense.sh
. tests/integration/lib_tui.sh

N=tui_opnsense
op_init $N
op_kea_empty "$T_TMP/kea.json"
DB=$T_TMP/db
op_db "$DB" "000000000001|Kitchen|192.168.20.31" "000000000002|Hall|192.168.20.32"
op_console "$T_TMP/kea.json" "$DB" 120 40 2
plan_line=$OP_PLAN_LINE
tui_keys F11
# (the plan line of one capture with the title: the firewall's answer follows the title)
plan_shown() { _tui_match 'OPNsense - plan' && grep -qF "$plan_line" "$T_TMP/screen"; }
if wait_for 30 plan_shown && [ "$(op_count k .writes)" = 0 ]; then
	pass "$N: the view shows the plan --dry-run prints ($plan_line) and writes nothing"
else
	fail "$N: plan" "$(tui_why "$plan_line")"
fi
# refused WHY TEXT: a then y writes nothing and the message says why (TEXT names the case)
refused() {
	tui_keys a
	tui_wait 20 'Apply this plan' && tui_keys y
	if tui_wait 20 "$1; nothing applied" && [ "$(op_count k .writes)" = 0 ]; then
		pass "$N: $2 stops the apply: nothing written"
	else
		fail "$N: $2" "$(tui_why "$1") writes $(op_count k .writes)"
	fi
}
# the plan was shown so long that the lease ran out and another process took it: no apply
mine=$(sqlite3 "$DB" "select holder from lease where name = 'opnsense'")
sqlite3 "$DB" "update lease set holder = 'opnsense:elsewhere:1', expires_ts = 9999999999999 where name = 'opnsense'"
refused 'another sync \(opnsense:elsewhere:1\) is writing to the firewall; try later' \
	"a lease another process took while the plan was shown"
# another process took the lease meanwhile, wrote and gave it back: the plan is stale
sqlite3 "$DB" "delete from lease where name = 'opnsense'"
refused 'another sync may have written since this plan was read: r reads again' \
	"a lease another process took and gave back while the plan was shown"
sqlite3 "$DB" "update lease set holder = '$mine' where name = 'opnsense'"
tui_keys a
if tui_wait 20 'Apply this plan \(3 changes\) to OPNsense\? \[y/N\]'; then pass "$N: a asks first, naming the changes"; else fail "$N: apply question" "$(tui_why 'Apply this plan')"; fi
tui_keys y
if tui_wait 30 'OPNsense - applied' && tui_wait 5 '│ added +reservation +Kitchen +192\.168\.20\.31 ' &&
	[ "$(op_get k /__fake/state | jq '.reservations | length')" = 2 ] &&
	[ "$(op_get k /__fake/state | jq -r '.aliases[] | select(.name == "shelly_devices") | .name')" = shelly_devices ]; then
	pass "$N: the plan is applied: the fake holds both reservations and the alias; the table shows each record's result"
else
	fail "$N: apply" "$(tui_why 'OPNsense - applied') fake: $(op_get k /__fake/state | head -c 600)"
fi
writes=$(op_count k .writes)
tui_keys r
if tui_wait 30 'OPNsense - plan' && tui_wait 10 '^│ *0 to add, 0 to update, 0 to remove, 3 unchanged'; then
	pass "$N: r reads again: nothing left to change"
else
	fail "$N: refresh" "$(tui_why '0 to add')"
fi
held=$(sqlite3 "$DB" "select count(*) from lease where name = 'opnsense'")
tui_keys q
gone() { [ "$(sqlite3 "$DB" "select count(*) from lease where name = 'opnsense'")" = 0 ]; }
if [ "$held" = 1 ] && wait_for 20 gone && [ "$(op_count k .writes)" = "$writes" ]; then
	pass "$N: the view holds the writer's lease while it shows a plan and gives it back when closed"
else
	fail "$N: lease" "held=$held now: $(sqlite3 "$DB" 'select * from lease')"
fi
tui_keys q
tui_wait 20 'RESTORED rc=0' || fail "$N: q" "$(tui_why RESTORED)"
tui_stop

# Not configured.
printf 'set poll-interval-gen2 1h\n' >"$T_TMP/plain"
tui_console 120 40 'fleet 2' --config $T_TMP/plain --db $DB
tui_keys F11
if tui_wait_all 20 'OPNsense - not configured' 'set opnsense-url'; then
	pass "$N: without opnsense-url the view says what to configure"
else
	fail "$N: not configured" "$(tui_why 'not configured')"
fi
