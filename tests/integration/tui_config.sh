# Configuration in the console against the simulated fleet (Gen2+ and Gen1), in a private tmux
# server: the typed editor reads a device without blocking the keys, an edit is sent and the
# sim's configuration follows (read back), an invalid value is refused before anything is
# sent, a secret is typed masked and never shows; a change made behind the tool's back shows in
# the DRIFT column and in the drift view (desired, actual); the apply from the drift view (dry
# run, confirmation, results) fixes it; groups: marked devices join a group. An edit giving
# another registered device's desired client id is refused before anything is sent.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_config
tui_sim_start $N --models gen2/plus-1pm,gen1/shelly-1
tui_config 'set poll-interval-gen1 1s'
tui_add 0 plus
tui_add 1 one
st() { curl -s -m 3 "http://$1$2"; }
tz2() { st "$(dv 0 HP)" /rpc/Shelly.GetConfig | jq -r .sys.location.tz; }
tz1() { st "$(dv 1 HP)" /settings | jq -r .timezone; }

tui_console 130 36 'fleet 2 +online 2'
# Nothing desired yet: the DRIFT column says '-'.
if tui_wait 10 'DRIFT' && tui_wait 10 '^.  plus .*online +- '; then pass "$N: DRIFT is '-' without a desired configuration"; else fail "$N: drift -" "$(tui_why 'plus .* online -')"; fi

# --- the editor (Gen2+): open from the detail view with c, edit sys.timezone ---
tui_keys /
tui_type plus
tui_keys Enter Enter
tui_wait 20 'switch:0' || fail "$N: detail" "$(tui_why 'switch:0')"
tui_keys c
tui_wait 20 'Config - plus' || fail "$N: editor opens" "$(tui_why 'Config - plus')"
if tui_wait 30 'sys.timezone +string'; then pass "$N: the editor reads the device's typed fields"; else fail "$N: editor read" "$(tui_why 'sys.timezone')"; fi
tui_keys /
tui_type sys.timezone
tui_keys Enter Enter
tui_wait 10 'sys.timezone \(string' || fail "$N: edit prompt" "$(tui_why 'sys.timezone (string')"
tui_keys C-u
tui_type America/Chicago
tui_keys Enter
tui_wait 10 '-> America/Chicago' || fail "$N: edit shown" "$(tui_why '-> America/Chicago')"
tui_keys a
tui_wait 10 'Send 1 field\(s\) to plus .*\[y/N\]' || fail "$N: apply asks" "$(tui_why 'Send 1 field')"
tui_keys y
chicago() { [ "$(tz2)" = America/Chicago ]; }
if wait_for 60 chicago && tui_wait 30 'ok, read back'; then
	pass "$N: an edit is sent, the sim's configuration follows and the read-back verifies it"
else
	fail "$N: edit applied" "tz=$(tz2); $(tui_screen)"
fi

# An invalid value is refused before anything is sent.
r0=$(st "$(dv 0 HP)" /rpc/Sys.GetStatus | jq -r .cfg_rev)
tui_keys /
tui_type auto_off_delay
tui_keys Enter Enter C-u
tui_type 99999999
tui_keys Enter
if tui_wait 10 'switch:0.auto_off_delay_s: .*nothing changed' && [ "$(st "$(dv 0 HP)" /rpc/Sys.GetStatus | jq -r .cfg_rev)" = "$r0" ]; then
	pass "$N: an out-of-range value is refused before anything is sent"
else
	fail "$N: invalid value" "$(tui_why 'nothing changed')"
fi

# A secret: typed masked, shown as stars, never in clear.
tui_keys /
tui_type mqtt.pass
tui_keys Enter Enter
tui_wait 10 'mqtt.pass .*new secret, typed masked' || fail "$N: secret prompt" "$(tui_why 'typed masked')"
tui_type hunter2
tui_wait 10 'typed masked: \*\*\*\*\*\*\*' || fail "$N: stars" "$(tui_why 'stars')"
seen=$(tui_screen | grep -c hunter2)
tui_keys Enter
tui_wait 10 'mqtt.pass .*-> \*\*\*\*\*\*\*\*' || fail "$N: secret edit" "$(tui_why 'mqtt.pass -> stars')"
seen=$((seen + $(tui_screen | grep -c hunter2)))
[ "$seen" = 0 ] && pass "$N: a secret is typed masked and never shown in clear" || fail "$N: secret shown" "$(tui_screen)"
tui_keys u

# A write that fails half-way: what was written is set back, and the editor says so.
ctl POST /devices/0/config-fail '{"after":1}' >/dev/null
tui_keys /
tui_type sys.timezone
tui_keys Enter Enter C-u
tui_type Asia/Tokyo
tui_keys Enter /
tui_type auto_off_delay
tui_keys Enter Enter C-u
tui_type 45
tui_keys Enter a
tui_wait 10 'Send 2 field\(s\) to plus' || fail "$N: apply 2 asks" "$(tui_why 'Send 2 field')"
tui_keys y
if tui_wait 60 'FAILED, the snapshot taken before was restored: .*failed' && [ "$(tz2)" = America/Chicago ]; then
	pass "$N: a failure half-way says why and that the previous configuration was restored"
else
	fail "$N: restore" "tz=$(tz2); $(tui_screen)"
fi
tui_keys u /
tui_type sys.timezone
tui_keys Enter u

# A change that may cut the device off the network asks its own question; n sends nothing.
r1=$(st "$(dv 0 HP)" /rpc/Sys.GetStatus | jq -r .cfg_rev)
tui_keys /
tui_type wifi.sta.ssid
tui_keys Enter Enter C-u
tui_type elsewhere
tui_keys Enter a
tui_wait 10 'Send 1 field\(s\)' || fail "$N: apply asks (network)" "$(tui_why 'Send 1 field')"
tui_keys y
if tui_wait 10 'wifi.sta.ssid may cut the device off the network.*\[y/N\]'; then
	tui_keys n
	tui_wait 10 'nothing sent' || fail "$N: after n" "$(tui_why 'nothing sent')"
	[ "$(st "$(dv 0 HP)" /rpc/Sys.GetStatus | jq -r .cfg_rev)" = "$r1" ] &&
		pass "$N: a network-cutting change asks its own confirmation; n sends nothing" ||
		fail "$N: network change sent" "$(st "$(dv 0 HP)" /rpc/Shelly.GetConfig | jq -c .wifi)"
else
	fail "$N: network confirmation" "$(tui_why 'may cut the device off the network')"
fi
tui_keys u

# A value another registered device's desired configuration holds is refused before anything
# is sent, as the queue and the command line refuse it.
DB=$XDG_DATA_HOME/shelly-tui/shelly.db
ONE=$(sqlite3 "$DB" "SELECT mac FROM devices WHERE name = 'one'")
[ "$(sqlite3 "$DB" "SELECT count(*) FROM config_desired WHERE mac = '$ONE'")" = 0 ] ||
	fail "$N: one has no desired fields yet"
sqlite3 -cmd '.timeout 5000' "$DB" "INSERT INTO config_desired (mac, body) VALUES ('$ONE', 'mqtt.client_id = \"one-id\"')
	ON CONFLICT(mac) DO UPDATE SET body = excluded.body" || fail "$N: one's desired client id"
r2=$(st "$(dv 0 HP)" /rpc/Sys.GetStatus | jq -r .cfg_rev)
tui_keys /
tui_type mqtt.client_id
tui_keys Enter Enter C-u
tui_type one-id
tui_keys Enter a
tui_wait 10 'Send 1 field\(s\)' || fail "$N: apply asks (client id)" "$(tui_why 'Send 1 field')"
tui_keys y
if tui_wait 30 'mqtt.client_id: one-id is the desired value of another registered device \(one\)' &&
	[ "$(st "$(dv 0 HP)" /rpc/Sys.GetStatus | jq -r .cfg_rev)" = "$r2" ]; then
	pass "$N: another registered device's desired client id is refused, nothing sent"
else
	fail "$N: client id of another device" "$(tui_why 'desired value of another registered device')"
fi
sqlite3 -cmd '.timeout 5000' "$DB" "DELETE FROM config_desired WHERE mac = '$ONE'" ||
	fail "$N: one's desired fields back"
tui_keys u q q
tui_wait 10 'Devices' || fail "$N: back" "$(tui_why 'Devices')"

# The edit became the device's desired field: no drift now.
if tui_wait 20 '^.  plus .*online +0 '; then pass "$N: after the edit the DRIFT column says 0"; else fail "$N: drift 0" "$(tui_why 'plus online 0')"; fi

# --- the editor on Gen1 ---
tui_keys /
tui_keys C-u
tui_type one
tui_keys Enter c
tui_wait 30 'sys.timezone +string' || fail "$N: gen1 editor" "$(tui_why 'sys.timezone')"
tui_keys /
tui_type sys.timezone
tui_keys Enter Enter C-u
tui_type Europe/Sofia
tui_keys Enter a
tui_wait 10 '\[y/N\]' || fail "$N: gen1 apply asks" "$(tui_why 'y/N')"
tui_keys y
sofia() { [ "$(tz1)" = Europe/Sofia ]; }
if wait_for 60 sofia && tui_wait 30 'ok, read back'; then pass "$N: Gen1: an edit is sent and read back"; else fail "$N: gen1 edit" "tz=$(tz1); $(tui_screen)"; fi
tui_keys q
tui_keys /
tui_keys C-u Enter

# --- drift behind the tool's back ---
ctl POST /devices/0/config '{"patch":{"sys":{"location":{"tz":"UTC"}}}}' >/dev/null
ctl POST /devices/1/config '{"patch":{"timezone":"UTC"}}' >/dev/null
if tui_wait 60 '^.  plus .*online +1 ' && tui_wait 60 '^.  one .*online +1 '; then
	pass "$N: a change behind the tool's back shows in the DRIFT column (Gen2+ and Gen1)"
else
	fail "$N: drift column" "$(tui_why 'online 1')"
fi
tui_keys d
if tui_wait 10 'DEVICE +FIELD +DESIRED +ACTUAL' && tui_wait 10 'plus +sys.timezone +America/Chicago +UTC' &&
	tui_wait 10 'one +sys.timezone +Europe/Sofia +UTC'; then
	pass "$N: the drift view lists device, field, desired and actual"
else
	fail "$N: drift view" "$(tui_why 'sys.timezone desired actual')"
fi

# --- apply from the drift view: dry run, confirmation, results ---
tui_keys a
if tui_wait 30 'plus +sys.timezone +UTC -> America/Chicago' && tui_wait 30 'Apply to 2 device\(s\) .*\[y/N\]'; then
	pass "$N: the apply shows its dry run (actual -> desired) and asks"
else
	fail "$N: dry run" "$(tui_why 'UTC -> America/Chicago')"
fi
tui_keys y
fixed() { [ "$(tz2)" = America/Chicago ] && [ "$(tz1)" = Europe/Sofia ]; }
if wait_for 60 fixed && tui_wait 30 'OK +plus' && tui_wait 30 'OK +one'; then
	pass "$N: the apply from the console fixes the drift, per-device results shown"
else
	fail "$N: apply" "tz2=$(tz2) tz1=$(tz1); $(tui_screen)"
fi
tui_keys q
if tui_wait 30 '^.  plus .*online +0 ' && tui_wait 30 '^.  one .*online +0 '; then pass "$N: the DRIFT column returns to 0"; else fail "$N: drift after apply" "$(tui_why 'online 0')"; fi

# --- an offline device: the apply queues its change, applied when it is seen again ---
ctl POST /devices/0/config '{"patch":{"sys":{"location":{"tz":"UTC"}}}}' >/dev/null
tui_wait 60 '^.  plus .*online +1 ' || fail "$N: drift again" "$(tui_why 'plus online 1')"
ctl POST /devices/0/fault '{"fault":"closed"}' >/dev/null
tui_wait 60 '^.  plus .*offline ' || fail "$N: offline" "$(tui_why 'plus offline')"
tui_keys d
tui_wait 10 'plus +sys.timezone +America/Chicago +UTC' || fail "$N: drift view (offline)" "$(tui_why 'plus sys.timezone')"
tui_keys a
if tui_wait 60 'plus .*\(queued on apply\)' && tui_wait 30 '\(1 offline: queued;.*\[y/N\]'; then
	pass "$N: the dry run shows an offline device as queued"
else
	fail "$N: dry run offline" "$(tui_why 'queued on apply')"
fi
tui_keys y
if tui_wait 60 'QUEUED +plus'; then pass "$N: the apply queues the offline device's change"; else fail "$N: queued" "$(tui_why 'QUEUED plus')"; fi
"$SHELLY_TUI" --pending >"$T_TMP/pending" 2>&1
grep -q queued "$T_TMP/pending" && pass "$N: the queued change is in --pending" || fail "$N: --pending" "$(cat "$T_TMP/pending")"
tui_keys q d
tui_wait 10 'plus +queued since' || fail "$N: queue in drift view" "$(tui_why 'queued since')"
ctl POST /devices/0/fault '{"fault":"none"}' >/dev/null
if wait_for 90 chicago; then pass "$N: the queued change is applied when the device is seen again"; else fail "$N: queued applied" "tz=$(tz2)"; fi
tui_keys q

# --- groups: marked devices join a new group ---
tui_keys a m
tui_wait 10 'Groups and templates' || fail "$N: groups view" "$(tui_why 'Groups')"
tui_keys n
tui_type lab
tui_keys Enter
if tui_wait 10 'lab +2 member'; then pass "$N: marked devices join a new group"; else fail "$N: group" "$(tui_why 'lab 2 member')"; fi
"$SHELLY_TUI" --group-list >"$T_TMP/groups" 2>&1
grep -q lab "$T_TMP/groups" && pass "$N: the group is in the store" || fail "$N: group stored" "$(cat "$T_TMP/groups")"
# A template attached to the group (the template files are listed).
mkdir -p "$XDG_CONFIG_HOME/shelly-tui/templates"
printf 'sys.timezone = America/Chicago\n' >"$XDG_CONFIG_HOME/shelly-tui/templates/base.tmpl"
tui_keys q m
tui_wait 10 'templates: base' || fail "$N: templates listed" "$(tui_why 'templates: base')"
tui_keys t C-u
tui_type base
tui_keys Enter
if tui_wait 10 'lab +2 member.*template: base'; then pass "$N: a template is attached to a group"; else fail "$N: group template" "$(tui_why 'template: base')"; fi
"$SHELLY_TUI" --group-list >"$T_TMP/groups" 2>&1
grep -q base "$T_TMP/groups" && pass "$N: the group's template is in the store" || fail "$N: group template stored" "$(cat "$T_TMP/groups")"
tui_keys q q
if tui_wait 20 'RESTORED rc=0'; then pass "$N: q exits 0 with the terminal restored"; else fail "$N: exit" "$(tui_why RESTORED)"; fi
tui_screen | grep -q hunter2 && fail "$N: secret on screen at the end" || true
sim_stop
