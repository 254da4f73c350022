# A device's configuration snapshots in the console: H in the detail view (or the editor) lists what the store
# holds (id, time UTC, cfg_rev, source; newest first), Enter shows a snapshot's fields, r asks,
# shows the dry run's changes (actual -> snapshot) and applies them on a second yes through the
# editor's apply path: the sim's value comes back; declining either question changes nothing;
# a restore that would cut the device off the network asks that on its own.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_snapshots
tui_sim_start $N --models gen2/plus-1pm
tui_config
tui_add 0 plus
st() { curl -s -m 3 "http://$(dv 0 HP)$1"; }
delay() { st '/rpc/Switch.GetConfig?id=0' | jq -r .auto_off_delay; }
ssid() { st /rpc/Shelly.GetConfig | jq -r .wifi.sta.ssid; }
rev() { st /rpc/Sys.GetStatus | jq -r .cfg_rev; }

# The auto-off timer on: the delay of a timer that is off is not compared, so not restored.
ctl POST /devices/0/config '{"patch":{"switch:0":{"auto_off":true}}}' >/dev/null
[ "$(st '/rpc/Switch.GetConfig?id=0' | jq -r .auto_off)" = true ] || fail "$N: auto_off on" "$(st '/rpc/Switch.GetConfig?id=0')"
# Two snapshots: config-get (the original value), then config-set's read-back (77); the set's
# own read before it equals the first and adds none.
orig=$(delay)
"$SHELLY_TUI" --config-get plus >/dev/null 2>"$T_TMP/e" || fail "$N: --config-get" "$(cat "$T_TMP/e")"
"$SHELLY_TUI" --config-set switch:0.auto_off_delay_s=77 plus >/dev/null 2>"$T_TMP/e" || fail "$N: --config-set" "$(cat "$T_TMP/e")"
[ "$(delay)" = 77 ] || fail "$N: set 77" "$(delay)"
"$SHELLY_TUI" --snapshots plus --json >"$T_TMP/snaps.json" || fail "$N: --snapshots" "$(cat "$T_TMP/snaps.json")"
first=$(jq -r '.snapshots[-1].id' "$T_TMP/snaps.json")
newest=$(jq -r '.snapshots[0].id' "$T_TMP/snaps.json")
[ "$(jq -r '.snapshots | length' "$T_TMP/snaps.json")" = 2 ] || fail "$N: 2 snapshots" "$(cat "$T_TMP/snaps.json")"

tui_console_detail 130 60 'fleet 1 +online 1' 'switch:0'
tui_keys H
row() { printf '%s +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:]{8} UTC +cfg_rev +[0-9]+ +%s' "$1" "$2"; }
# (The console's poller may add a "cfg_rev changed" one of its own.)
if tui_wait 10 'Snapshots - plus - [0-9]+, newest first' && tui_wait 10 "$(row "$newest" read-back)" &&
	tui_wait_all 10 "$(row "$first" config-get)" "$(row "$newest" read-back)" &&
	[ "$(grep -nE " $newest +[0-9]{4}-" "$T_TMP/screen" | cut -d: -f1)" -lt "$(grep -nE " $first +[0-9]{4}-" "$T_TMP/screen" | cut -d: -f1)" ]; then
	pass "$N: H lists the store's snapshots: id, time UTC, cfg_rev, source, newest first"
else
	fail "$N: list" "$(tui_why "$(row "$first" config-get)")"
fi

# Enter: the oldest snapshot's fields (the value before the change).
tui_keys G Enter
if tui_wait 10 "Snapshot $first - plus" && tui_wait 10 "switch:0.auto_off_delay_s +$orig\b"; then
	pass "$N: Enter shows the snapshot's fields"
else
	fail "$N: fields" "$(tui_why "switch:0.auto_off_delay_s $orig")"
fi

# r, n: nothing read, nothing sent.
r0=$(rev)
tui_keys r
tui_wait 10 "Restore snapshot $first on plus\? .*\[y/N\]" || fail "$N: restore asks" "$(tui_why 'Restore snapshot')"
tui_keys n
tui_wait 10 'nothing restored' || fail "$N: first no" "$(tui_why 'nothing restored')"
# r, y: the dry run's changes, then n at the second question: still nothing sent.
tui_keys r
tui_wait 10 "Restore snapshot $first on plus\?" || fail "$N: restore asks again" "$(tui_why 'Restore snapshot')"
tui_keys y
if tui_wait 30 "switch:0.auto_off_delay_s +77 -> $orig\b" &&
	tui_wait 30 "Apply 1 change\(s\) of snapshot $first to plus \(reboot not allowed\)\? .*\[y/N\]"; then
	pass "$N: the restore shows the dry run's changes (actual -> snapshot) and asks again"
else
	fail "$N: dry run" "$(tui_why "77 -> $orig")"
fi
tui_keys n
if tui_wait 10 'nothing restored' && [ "$(delay)" = 77 ] && [ "$(rev)" = "$r0" ]; then
	pass "$N: declining changes nothing on the device"
else
	fail "$N: declined" "delay=$(delay) rev=$(rev) (was $r0); $(tui_screen)"
fi

# The second yes applies it through the editor's path: written, read back.
tui_keys r
tui_wait 10 "Restore snapshot $first on plus\?" || fail "$N: restore asks (3)" "$(tui_why 'Restore snapshot')"
tui_keys y
tui_wait 30 "Apply 1 change\(s\) of snapshot $first" || fail "$N: second question" "$(tui_why 'Apply 1 change')"
tui_keys y
back() { [ "$(delay)" = "$orig" ]; }
if wait_for 60 back && tui_wait 30 'restored: ' && [ "$("$SHELLY_TUI" --config-get plus --json 2>/dev/null | jq -r '.devices[0].config["switch:0.auto_off_delay_s"]')" = "$orig" ]; then
	pass "$N: the restore puts the snapshot's value back on the device"
else
	fail "$N: restore" "delay=$(delay); $(tui_screen)"
fi
tui_keys q
tui_wait 10 'Snapshots - plus - [0-9]+, newest first' || fail "$N: back to the list" "$(tui_why 'Snapshots - plus')"
# The list follows the store (the restore's read-back, and any the poller takes; the restore's
# read before the write equals the newest snapshot and adds none).
listed() {
	n=$("$SHELLY_TUI" --snapshots plus --json | jq -r '.snapshots | length')
	_tui_match "Snapshots - plus - $n, newest first"
}
if wait_for 30 listed && [ "$n" -gt 2 ] && tui_wait 10 "$(row '[0-9]+' read-back)" &&
	[ "$("$SHELLY_TUI" --snapshots plus --json | jq -r '.snapshots[0].id')" -gt "$newest" ]; then
	pass "$N: the list follows the store: the restore's snapshots are listed"
else
	fail "$N: list after" "n=$n; $(tui_why "Snapshots - plus - $n")"
fi

# A restore that would change the WiFi network asks that on its own; n sends nothing.
ctl POST /devices/0/config '{"patch":{"wifi":{"sta":{"ssid":"elsewhere"}}}}' >/dev/null
[ "$(ssid)" = elsewhere ] || fail "$N: ssid patched" "$(ssid)"
r1=$(rev)
tui_keys G r
tui_wait 10 "Restore snapshot $first on plus\?" || fail "$N: restore asks (net)" "$(tui_why 'Restore snapshot')"
tui_keys y
if tui_wait 30 'wifi.sta.ssid +elsewhere -> ' &&
	tui_wait 30 "wifi.sta.ssid may cut the device off the network.*Restore snapshot $first anyway\? .*\[y/N\]"; then
	tui_keys n
	if tui_wait 10 'nothing restored' && [ "$(ssid)" = elsewhere ] && [ "$(rev)" = "$r1" ]; then
		pass "$N: a network-cutting restore asks its own question; n sends nothing"
	else
		fail "$N: network declined" "ssid=$(ssid) rev=$(rev); $(tui_screen)"
	fi
else
	fail "$N: network question" "$(tui_why 'may cut the device off the network')"
fi

# The editor opens the same view.
tui_keys q q
tui_wait 10 'switch:0' || fail "$N: back to detail" "$(tui_why 'switch:0')"
tui_keys c
tui_wait 30 'Config - plus' || fail "$N: editor" "$(tui_why 'Config - plus')"
tui_keys H
if tui_wait 10 'Snapshots - plus - [0-9]+, newest first' && tui_wait 10 "$(row "$first" config-get)"; then
	pass "$N: H in the config editor opens the snapshots too"
else
	fail "$N: from the editor" "$(tui_why 'Snapshots - plus')"
fi

# Like --config-restore, the restore leaves the desired fields alone (--config-set made 77
# desired): the DRIFT column shows the difference.
tui_keys q q q
if tui_wait 60 '^.  plus .*online +1 '; then pass "$N: the desired field stays; DRIFT shows the restored difference"; else fail "$N: drift after restore" "$(tui_why 'plus online 1')"; fi

tui_keys q
if tui_wait 20 'RESTORED rc=0'; then pass "$N: q closes the views and exits 0"; else fail "$N: exit" "$(tui_why RESTORED)"; fi
sim_stop
