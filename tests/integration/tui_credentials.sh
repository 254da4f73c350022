# P (credentials) in a device's detail view asks for the password when the stored one is
# refused: the sim's password changes behind the registry's back (the device turns auth
# failed), P opens the masked prompt, a wrong answer fails and the next P asks again (the
# session's answer is not reused), the right one is stored and the device polls online. The
# typed characters (t o f R are keys of the detail view) never act on the device and never
# show. P on a Gen1 device whose address another device answers sends that one nothing (no
# prompt, no Basic password) and registers nothing.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_credentials
tui_sim_start $N --models gen2/plus-1pm,gen1/shelly-1,gen1/shelly-1 --auth all
cat >"$XDG_CONFIG_HOME/shelly-tui/config" <<CFG
set poll-interval-gen2 1s
CFG
secret_file "$T_TMP/pw" "$(dv 0 PW)"
"$SHELLY_TUI" --add "$(dv 0 HP)" --name locked --password-file "$T_TMP/pw" -q </dev/null >/dev/null 2>"$T_TMP/add.err" ||
	fail "$N: add" "$(cat "$T_TMP/add.err")"
# "moved": Gen1 device 1, registered at device 2's address (another MAC answers there)
secret_file "$T_TMP/pw1" "$(dv 1 PW)"
"$SHELLY_TUI" --add "$(dv 1 HP)" --name moved --password-file "$T_TMP/pw1" -q </dev/null >/dev/null 2>"$T_TMP/add.err" ||
	fail "$N: add moved" "$(cat "$T_TMP/add.err")"
MAC1=$(dv 1 MAC | tr 'A-F' 'a-f') MAC2=$(dv 2 MAC | tr 'A-F' 'a-f')
sqlite3 "$XDG_DATA_HOME/shelly-tui/shelly.db" \
	"UPDATE devices SET host = '$(dv 2 ADDR)', port = $(dv 2 PORT) WHERE mac = '$MAC1'"
NEW=tofR-N3w-pw
ctl POST /devices/0/auth "{\"enable\":true,\"password\":\"$NEW\"}" >/dev/null

tui_start 140 30 "SHELLY_TUI_ALLOW_NETS=$SHELLY_TUI_ALLOW_NETS XDG_DATA_HOME=$XDG_DATA_HOME XDG_CONFIG_HOME=$XDG_CONFIG_HOME LC_ALL=C.UTF-8 $SHELLY_TUI"
tui_step 60 'locked .*auth' "the stored password is refused"
before=$(dev_state 0 '.switches[0].on')
tui_keys Enter
tui_step 20 'locked' "detail"
tui_keys P
tui_expect 60 'password for admin' "P prompt" "P asks for the password when the stored one is refused"
if tui_wait_all 20 'password for admin \(Esc: none\):' '!password for .*password for'; then
	pass "$N: the prompt says whose password once"
else
	fail "$N: prompt text" "$(cat "$T_TMP/screen")"
fi
tui_type "wrong-tofR"
tui_keys Enter
tui_step 60 'credentials: ' "wrong password reported"
tui_keys P
tui_expect 60 'password for admin' "P asks again" "after a wrong answer, P asks again"
tui_type "$NEW"
if tui_wait 30 'password for admin.*\*{11}' && ! grep -q "$NEW\|wrong-tofR" "$T_TMP/screen"; then
	pass "$N: the password is masked"
else
	fail "$N: masked" "$(cat "$T_TMP/screen")"
fi
tui_keys Enter
tui_expect 60 'credentials: ok: the password works and is stored' "stored" "the password that works is stored"
tui_keys q
if tui_wait 60 'locked .*online' && [ "$(dev_state 0 '.switches[0].on')" = "$before" ] &&
	[ "$(dev_state 0 '.counters.by_path["/rpc/Shell.Reboot"] // 0')" = 0 ]; then
	pass "$N: the device polls online with it; the typed keys did not switch or reboot it"
else
	fail "$N: online" "switch $before -> $(dev_state 0 '.switches[0].on') $(tui_why 'locked online')"
fi
tui_keys Down Enter
tui_step 20 "moved .*$MAC1" "detail of moved"
tui_keys P
tui_wait 30 'password for admin|credentials: ' || true
if tui_screen | grep -q 'password for admin'; then # asked for the other device: answer it
	tui_type "$(dv 1 PW)"
	tui_keys Enter
fi
tui_step 30 "credentials: .*mismatch.*nothing was sent" "P on the other device refused"
if [ "$(dev_state 2 '.counters.auth_failures')" = 0 ] &&
	[ "$(dev_state 2 '.counters.by_path["/status"] // 0')" = 0 ] &&
	[ "$(sqlite3 "$XDG_DATA_HOME/shelly-tui/shelly.db" "SELECT count(*) FROM devices WHERE mac = '$MAC2'")" = 0 ]; then
	pass "$N: P sends nothing to another device at the address and registers nothing"
else
	fail "$N: P at a MAC mismatch" "$(dev_state 2 .counters) $(sqlite3 "$XDG_DATA_HOME/shelly-tui/shelly.db" 'SELECT mac, host FROM devices')"
fi
tui_keys q
tui_keys F10
tui_step 20 'RESTORED rc=0' "quit"
