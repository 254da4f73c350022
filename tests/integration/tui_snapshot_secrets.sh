# A snapshot row that holds secret fields (as an older version or another tool could have left
# it in the database; an --import of an --include-secrets file does too) never shows them: the
# console's snapshot fields view masks every one (********); its restore, like --config-restore,
# lists them masked in the dry run and sends them on the second yes (the simulated device shows
# what it received), never showing a value; --snapshots --snapshot (text and --json), --export
# json/toml/csv and --config-restore --dry-run never print them. A restore that fails after a
# secret was sent says "failed" and names it; offline at the second yes, nothing is queued.
# Planted in every form a template can write a secret: plain, quoted with escapes, after a
# vertical tab and without blanks, with a CR before the line end.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_snapshot_secrets
tui_sim_start $N --models gen2/plus-1pm
printf 'set connect-timeout 10s\nset request-timeout 15s\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
tui_add 0 plus
DB=$XDG_DATA_HOME/shelly-tui/shelly.db
MAC=$(dv 0 MAC | tr 'A-F' 'a-f')
SECRET=S3cr3t
nl="' || char(10) || '"
sqlite3 "$DB" "INSERT INTO config_snapshots (mac, ts, gen, cfg_rev, reason, body) VALUES ('$MAC',
 1700000000000, 2, 5, 'planted', 'sys.name = planted${nl}wifi.sta.pass = $SECRET-sta${nl}wifi.sta1.pass = \"$SECRET \\\"q\\\" \\\\ sta1\"${nl}' ||
 char(11) || ' wifi.ap.pass=$SECRET-ap${nl}mqtt.pass = $SECRET-mqtt' || char(13) || '${nl}switch:0.auto_off_delay_s = 5${nl}')" 2>"$T_TMP/e" ||
	fail "$N: plant" "$(cat "$T_TMP/e")"
id=$(sqlite3 "$DB" "SELECT id FROM config_snapshots WHERE reason = 'planted'")
[ "$(sqlite3 "$DB" "SELECT count(*) FROM config_snapshots WHERE body LIKE '%$SECRET%'")" = 1 ] ||
	fail "$N: the planted row" "$(sqlite3 "$DB" 'SELECT * FROM config_snapshots')"
# A newer snapshot of the device's own: the planted one is the oldest (G in the list).
"$SHELLY_TUI" --config-get plus >/dev/null 2>"$T_TMP/e" || fail "$N: --config-get" "$(cat "$T_TMP/e")"

# --config-restore --dry-run first (the console restores the snapshot below).
r0=$(curl -s -m 3 "http://$(dv 0 HP)/rpc/Sys.GetStatus" | jq -r .cfg_rev)
# (a planted WiFi key would change the network: allowed here so that the dry run lists it all)
"$SHELLY_TUI" --config-restore plus --snapshot "$id" --dry-run --allow-network-change >"$T_TMP/dry" 2>&1
rc=$?
if [ $rc = 0 ] && ! grep -q "$SECRET" "$T_TMP/dry" && grep -q 'sys.name: .* -> planted' "$T_TMP/dry" &&
	[ "$(grep -cE '^  (wifi\.(sta1?|ap)|mqtt)\.pass: \(write-only\) -> \*{8}$' "$T_TMP/dry")" = 4 ] &&
	[ "$(curl -s -m 3 "http://$(dv 0 HP)/rpc/Sys.GetStatus" | jq -r .cfg_rev)" = "$r0" ]; then
	pass "$N: --config-restore --dry-run prints no secret and sends nothing"
else
	fail "$N: --config-restore --dry-run" "rc=$rc $(cat "$T_TMP/dry")"
fi

# --- the console ---
tui_console_detail 130 50 'fleet 1 +online 1' 'switch:0'
tui_keys H
tui_wait 10 "$id +2023-11-14 22:13:20 UTC +cfg_rev 5 +planted" || fail "$N: list" "$(tui_why planted)"
tui_keys G Enter
masked() {
	for f in wifi.sta.pass wifi.sta1.pass wifi.ap.pass mqtt.pass; do
		grep -Eq "^.*$f +\*{8} *.?$" "$T_TMP/screen" || return 1
	done
}
if tui_wait 10 "Snapshot $id - plus" && tui_wait 10 'switch:0.auto_off_delay_s +5\b' &&
	tui_wait 10 'sys.name +planted' && masked && ! grep -q "$SECRET" "$T_TMP/screen"; then
	pass "$N: the fields view shows every planted secret as ******** and never its value"
else
	fail "$N: fields" "$(tui_why 'wifi.sta.pass ********')"
fi
# The restore's dry run lists what it would change as --config-restore does: each secret of the
# snapshot (it cannot be compared, so it is sent) masked, "(write-only) -> ********", and counted.
secrets_listed() {
	[ "$(grep -cE "^.*(wifi\.(sta1?|ap)|mqtt)\.pass +\(write-only\) -> \*{8} *.?$" "$T_TMP/screen")" = 4 ] &&
		! grep -q "$SECRET" "$T_TMP/screen"
}
# A WiFi key may cut the device off: asked on its own after the dry run.
netq="wifi.sta.pass may cut the device off the network.*Restore snapshot $id anyway\? .*\[y/N\]"
tui_keys r
tui_wait 10 "Restore snapshot $id on plus\?" || fail "$N: restore asks" "$(tui_why 'Restore snapshot')"
tui_keys y
if tui_wait 30 "dry run of snapshot $id \(actual -> snapshot\): [0-9]+ change" && tui_wait 10 'sys.name +.* -> planted' &&
	secrets_listed && n=$(sed -nE 's/.*\(actual -> snapshot\): ([0-9]+) change.*/\1/p' "$T_TMP/screen") &&
	[ "$n" = "$(grep -v 'actual -> snapshot' "$T_TMP/screen" | grep -c ' -> ')" ] && [ "$n" -ge 5 ] && tui_wait 30 "$netq"; then
	pass "$N: the restore's dry run lists and counts every secret masked, never its value, and asks the network question"
else
	fail "$N: dry run" "$(tui_why 'pass +\(write-only\) -> ********')"
fi
tui_keys n
if tui_wait 10 'nothing restored' && [ "$(ctl GET /devices/0/secrets)" = '{}' ]; then
	pass "$N: declining the network question sends no secret"
else
	fail "$N: declined" "$(ctl GET /devices/0/secrets | sed "s/$SECRET/<planted>/g"); $(tui_why 'nothing restored')"
fi
# The second yes sends them through the same apply path as --config-restore.
tui_keys r
tui_wait 10 "Restore snapshot $id on plus\?" || fail "$N: restore asks (2)" "$(tui_why 'Restore snapshot')"
tui_keys y
tui_wait 30 "$netq" || fail "$N: network question (2)" "$(tui_why 'may cut the device off the network')"
tui_keys y
received() {
	ctl GET /devices/0/secrets >"$T_TMP/secrets" &&
		[ "$(jq -r '."wifi.sta.pass", ."wifi.sta1.pass", ."wifi.ap.pass", ."mqtt.pass"' "$T_TMP/secrets")" = "$(
			printf '%s\n' "$SECRET-sta" "$SECRET \"q\" \\ sta1" "$SECRET-ap" "$SECRET-mqtt"
		)" ]
}
if wait_for 60 received && tui_wait 60 "restored: $((n - 4)) field\(s\) set and verified, 4 secret\(s\) sent" && secrets_listed &&
	! curl -s -m 3 "http://$(dv 0 HP)/rpc/Shelly.GetConfig" | grep -q "$SECRET"; then
	pass "$N: the restore sent every secret to the device; the screen never showed one"
else
	fail "$N: apply" "$(sed "s/$SECRET/<planted>/g" "$T_TMP/secrets"); $(tui_why "restored: " | sed "s/$SECRET/<planted>/g")"
fi

# A secret sent cannot be set back: a restore whose later write fails is "failed" and names the
# secrets already sent, never "restored". (Only the secrets differ now: WiFi, then MQTT.)
# (a wide pane: the whole result sentence fits on the status line)
tui_resize 300 50
restore_to_question() {
	tui_keys r
	tui_wait 10 "Restore snapshot $id on plus\?" || fail "$N: restore asks ($1)" "$(tui_why 'Restore snapshot')"
	tui_keys y
	tui_wait 30 "$netq" || fail "$N: network question ($1)" "$(tui_why 'may cut the device off the network')"
}
restore_to_question half-way
ctl POST /devices/0/config-fail '{"after":1}' >/dev/null
tui_keys y
if tui_wait 60 "failed: /rpc/[A-Za-z]+\.SetConfig failed: .*; [1-3] secret\(s\) already sent could not be restored \(their old value is unknown\)" &&
	! grep -q 'restored: \|was restored' "$T_TMP/screen" && ! grep -q "$SECRET" "$T_TMP/screen"; then
	pass "$N: a write failing after secrets were sent: failed, the secrets named as not restored"
else
	fail "$N: half-way" "$(tui_why 'already sent could not be restored' | sed "s/$SECRET/<planted>/g")"
fi
# Offline between the dry run and the second yes: nothing is queued (the database never holds a
# secret), and the screen says so instead of "queued".
restore_to_question offline
ctl POST /devices/0/fault '{"fault":"closed"}' >/dev/null
tui_keys y
if tui_wait 60 "unreachable: offline, and not queued: 4 secret\(s\) not queued: a queued change never holds a secret; apply again when the device is online" &&
	[ "$("$SHELLY_TUI" --pending --json 2>/dev/null | jq -r '.pending | length')" = 0 ]; then
	pass "$N: offline at the second yes: nothing queued, the screen says why"
else
	fail "$N: offline" "$(tui_why 'not queued' | sed "s/$SECRET/<planted>/g"); pending: $("$SHELLY_TUI" --pending 2>&1)"
fi
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
tui_keys q q q q
tui_wait 20 'RESTORED rc=0' || fail "$N: exit" "$(tui_why RESTORED)"
tui_stop
if ! grep -q "$SECRET" "$DB.console.log" "$SIM_ERR"; then
	pass "$N: neither the console's log nor the device's shows a secret"
else
	fail "$N: logs" "$(grep -c "$SECRET" "$DB.console.log" "$SIM_ERR")"
fi

# --- the other ways out ---
"$SHELLY_TUI" --snapshots plus --snapshot "$id" >"$T_TMP/one.txt" 2>&1 &&
	"$SHELLY_TUI" --snapshots plus --snapshot "$id" --json >"$T_TMP/one.json" 2>&1
rc=$?
if [ $rc = 0 ] && ! grep -q "$SECRET" "$T_TMP/one.txt" "$T_TMP/one.json" && grep -q '^sys.name = planted$' "$T_TMP/one.txt" &&
	! grep -q 'pass' "$T_TMP/one.txt" &&
	[ "$(jq -r '[.snapshot.config | to_entries[] | select(.key | endswith(".pass")) | .value] | unique | join(",")' "$T_TMP/one.json")" = '********' ] &&
	[ "$(jq -r '[.snapshot.config | keys[] | select(endswith(".pass"))] | length' "$T_TMP/one.json")" = 4 ]; then
	pass "$N: --snapshot ID leaves the secrets out (text) or masks them (--json)"
else
	fail "$N: --snapshot" "rc=$rc $(cat "$T_TMP/one.txt" "$T_TMP/one.json")"
fi
ok=1
for f in json toml csv; do
	"$SHELLY_TUI" --export $f -o "$T_TMP/x.$f" 2>"$T_TMP/e" || { ok=0; fail "$N: --export $f" "$(cat "$T_TMP/e")"; }
	! grep -q "$SECRET" "$T_TMP/x.$f" || { ok=0; fail "$N: --export $f prints a planted secret" "$(grep "$SECRET" "$T_TMP/x.$f")"; }
done
# (the snapshot is in the history: its other fields are exported)
[ $ok = 1 ] && grep -q 'sys.name = planted' "$T_TMP/x.toml" &&
	[ "$(jq -r "[.configs[\"$MAC\"].history[] | select(.reason == \"planted\")] | length" "$T_TMP/x.json")" = 1 ] &&
	pass "$N: --export json, toml and csv carry the planted snapshot without its secrets" ||
	fail "$N: export" "$(cat "$T_TMP/x.json")"
sim_stop
