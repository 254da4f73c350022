# The console's snapshot restore with a secret in the snapshot (write-only: a device never
# returns it): a write that fails after the secret was sent is shown as failed with the secrets
# that could not be restored, not as restored; a device that goes offline between the dry run
# and the second yes gets nothing queued (a queued change never holds a secret), and the screen
# says so instead of "queued".
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_config_secrets
tui_sim_start $N --models gen2/plus-1pm
printf 'set connect-timeout 3s\nset request-timeout 5s\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
"$SHELLY_TUI" --add "$(dv 0 HP)" --name plus -q >/dev/null 2>"$T_TMP/e" || fail "$N: add plus" "$(cat "$T_TMP/e")"
DB=$XDG_DATA_HOME/shelly-tui/shelly.db
MAC=$(dv 0 MAC | tr 'A-F' 'a-f')
SECRET=S3cr3t-mqtt
nl="' || char(10) || '"
# Written in the order the requests go: Sys, MQTT (the secret), Switch.
sqlite3 "$DB" "INSERT INTO config_snapshots (mac, ts, gen, cfg_rev, reason, body) VALUES ('$MAC',
 1700000000000, 2, 5, 'planted', 'sys.name = planted${nl}mqtt.pass = $SECRET${nl}switch:0.auto_off_delay_s = 5${nl}')" 2>"$T_TMP/e" ||
	fail "$N: plant" "$(cat "$T_TMP/e")"
id=$(sqlite3 "$DB" "SELECT id FROM config_snapshots WHERE reason = 'planted'")
name() { curl -s -m 3 "http://$(dv 0 HP)/rpc/Sys.GetConfig" | jq -r .device.name; }
name0=$(name)

# A wide pane: the whole result sentence fits on the status line.
tui_start 300 50 "SHELLY_TUI_ALLOW_NETS=$SHELLY_TUI_ALLOW_NETS XDG_DATA_HOME=$XDG_DATA_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME LC_ALL=C.UTF-8 $SHELLY_TUI"
tui_wait 60 'fleet 1 +online 1' || fail "$N: start" "$(tui_why 'online 1')"
tui_keys Enter
tui_wait 20 'switch:0' || fail "$N: detail" "$(tui_why 'switch:0')"
tui_keys H
tui_wait 10 "$id +2023-11-14 22:13:20 UTC +cfg_rev 5 +planted" || fail "$N: list" "$(tui_why planted)"
tui_keys G
# restore_to_question: r, y, then the dry run and the second question.
restore_to_question() {
	tui_keys r
	tui_wait 10 "Restore snapshot $id on plus\?" || fail "$N: restore asks ($1)" "$(tui_why 'Restore snapshot')"
	tui_keys y
	tui_wait 30 "Apply 3 change\(s\) of snapshot $id to plus" || fail "$N: dry run ($1)" "$(tui_why 'Apply 3 change')"
}

# --- the write after the secret fails: failed, and the secret is named as not restored ---
restore_to_question half-way
ctl POST /devices/0/config-fail '{"after":2}' >/dev/null
tui_keys y
if tui_wait 60 "failed: /rpc/Switch.SetConfig failed: .*; the other fields were restored; 1 secret\(s\) already sent could not be restored \(their old value is unknown\)" &&
	! grep -q 'restored: \|was restored' "$T_TMP/screen" && [ "$(name)" = "$name0" ] &&
	[ "$(ctl GET /devices/0/secrets | jq -r '."mqtt.pass"')" = "$SECRET" ]; then
	pass "$N: a failure after the secret was sent: failed, the secret named as not restored"
else
	fail "$N: half-way" "$(tui_why 'already sent could not be restored')"
fi

# --- offline between the dry run and the second yes: nothing queued ---
restore_to_question offline
ctl POST /devices/0/fault '{"fault":"closed"}' >/dev/null
tui_keys y
if tui_wait 60 "unreachable: offline, and not queued: 1 secret\(s\) not queued: a queued change never holds a secret; apply again when the device is online" &&
	! grep -q 'queued:  *offline: queued' "$T_TMP/screen" &&
	[ "$("$SHELLY_TUI" --pending --json 2>/dev/null | jq -r '.pending | length')" = 0 ]; then
	pass "$N: offline at the second yes: nothing queued, the screen says why"
else
	fail "$N: offline" "$(tui_why 'not queued'); pending: $("$SHELLY_TUI" --pending 2>&1)"
fi
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
tui_keys q q q q
tui_wait 20 'RESTORED rc=0' || fail "$N: exit" "$(tui_why RESTORED)"
tui_stop
if ! grep -q "$SECRET" "$DB.console.log" "$SIM_ERR" && [ "$(sqlite3 "$DB" .dump | grep -c "$SECRET")" = 1 ]; then
	pass "$N: no secret logged; the database holds only the planted one"
else
	fail "$N: secret kept" "$(sqlite3 "$DB" .dump | grep -c "$SECRET")"
fi
sim_stop
