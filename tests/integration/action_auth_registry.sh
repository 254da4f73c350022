# shelly-tui --action with credentials and the registry. Devices with auth on (Gen1 basic,
# Gen2/Gen3 digest): without a password the target fails auth_required and the device sees
# nothing but GET /shelly; with --password-file, SHELLY_TUI_PASSWORD or a configured
# `credentials` line the action is done; a wrong password fails auth_failed. Registered devices
# (--add) are found by id (any case), name or MAC and use their stored credentials (file: and
# store: references); a HOST target showing a registered MAC uses them too. A registered device
# whose address now answers with another MAC is not touched (nothing but /shelly is sent there).
# Every result is in the audit table.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=action_auth_registry
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
# Handshakes and replies of the ASan tree on a loaded machine take seconds.
mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
printf 'set connect-timeout 10s\nset request-timeout 15s\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
unset SHELLY_TUI_PASSWORD
PW="act-$(date +%s%N | cut -c10-)-pw"
MODELS=gen1/shelly-plug-s,gen2/plus-1pm,gen3/1pm-gen3,gen2/plus-1pm
sim_up $N --models "$MODELS" --auth 0-2 --digest mixed --password "$PW"
AUTH="0 1 2"
hps() { for _k in "$@"; do printf '%s ' "$(dv $_k HP)"; done; }
mac_of() { dv "$1" MAC | tr 'A-F' 'a-f'; }
on_all() { for _k in "$@"; do printf '%s ' "$(dev_state $_k '.switches[0].on')"; done; }
leaks() { grep -qF -- "$PW" "$@"; }
secret_file "$T_TMP/pw" "$PW"
secret_file "$T_TMP/bad" "x$PW"
DB=$T_TMP/shelly.db
sql() { sqlite3 "$DB" "$1"; }

[ "$(mf '[.devices[0:3][] | .auth.password] | unique | length')" = 1 ] && [ "$(mf '.devices[3].auth')" = null ] &&
	pass "$N: devices 0-2 have auth with one password, device 3 none" || fail "$N: sim auth" "$(mf '[.devices[].auth]' | jq -c .)"

# --- no password (no tty): auth_required, and only /shelly reached the devices ---
ctl POST /reset-counters >/dev/null
s0=$(on_all $AUTH)
"$SHELLY_TUI" --action switch_on --json $(hps $AUTH) </dev/null >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
paths=$(ctl GET /devices | jq -c '[.devices[0:3][] | .counters.by_path | keys] | unique')
if [ $rc -eq 1 ] && [ "$(jq -c '[.results[] | [.ok, .result]] | unique' "$T_TMP/j")" = '[[false,"auth_required"]]' ] &&
	[ "$paths" = '[["/shelly"]]' ] && [ "$(on_all $AUTH)" = "$s0" ]; then
	pass "$N: no password: every auth device fails auth_required (exit 1), only /shelly was requested"
else
	fail "$N: no password" "rc=$rc $(jq -c '[.results[] | [.result, .error]]' "$T_TMP/j" 2>&1 | head -c 400) paths=$paths"
fi

# --- --password-file: Gen1 basic, Gen2/3 digest, and a device without auth in the same run ---
"$SHELLY_TUI" --action switch_on --password-file "$T_TMP/pw" $(hps 0 1 2 3) </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c '^OK  .* switch:0 on$' "$T_TMP/o")" = 4 ] && [ "$(on_all 0 1 2 3)" = "true true true true " ] &&
	! leaks "$T_TMP/o" "$T_TMP/e"; then
	pass "$N: --password-file: basic (gen1) and digest (gen2, gen3) devices switch on, password not printed"
else
	fail "$N: --password-file" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400) sim $(on_all 0 1 2 3)"
fi

# --- SHELLY_TUI_PASSWORD ---
SHELLY_TUI_PASSWORD=$PW "$SHELLY_TUI" --action switch_off $(hps $AUTH) </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(grep -c '^OK  .* switch:0 off$' "$T_TMP/o")" = 3 ] && [ "$(on_all $AUTH)" = "false false false " ] &&
	pass "$N: SHELLY_TUI_PASSWORD: the auth devices switch off" || fail "$N: SHELLY_TUI_PASSWORD" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400)"

# --- a configured `credentials default` line ---
printf 'credentials default admin file:%s\n' "$T_TMP/pw" >"$T_TMP/cfg"
"$SHELLY_TUI" --config "$T_TMP/cfg" --action switch_on $(hps $AUTH) </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(on_all $AUTH)" = "true true true " ] &&
	pass "$N: credentials from the configuration file (credentials default admin file:...)" ||
	fail "$N: configured credentials" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400)"

# --- a wrong password: auth_failed, counted by the device ---
f0=$(dev_state 1 .counters.auth_failures)
"$SHELLY_TUI" --action switch_off --password-file "$T_TMP/bad" --json $(hps 0 1) </dev/null >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
f1=$(dev_state 1 .counters.auth_failures)
if [ $rc -eq 1 ] && [ "$(jq -c '[.results[] | .result]' "$T_TMP/j")" = '["auth_failed","auth_failed"]' ] && [ "$f1" -gt "$f0" ] &&
	[ "$(on_all 0 1)" = "true true " ] && ! grep -qF -- "x$PW" "$T_TMP/j" "$T_TMP/e"; then
	pass "$N: a wrong password fails auth_failed on basic and digest devices (exit 1)"
else
	fail "$N: wrong password" "rc=$rc $(jq -c '[.results[] | [.result, .error]]' "$T_TMP/j" 2>&1 | head -c 300) failures $f0 -> $f1"
fi

if ! command -v sqlite3 >/dev/null 2>&1; then
	skip "$N: registry" "needs sqlite3"
	exit 0
fi

# --- registered devices: by id, name and MAC, with stored credentials ---
"$SHELLY_TUI" --db "$DB" --add "$(dv 1 HP)" --name kitchen --password-file "$T_TMP/pw" </dev/null >/dev/null 2>"$T_TMP/e" &&
	SHELLY_TUI_PASSWORD=$PW "$SHELLY_TUI" --db "$DB" --add "$(dv 0 HP)" </dev/null >/dev/null 2>>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$DB" --add "$(dv 3 HP)" </dev/null >/dev/null 2>>"$T_TMP/e" || fail "$N: --add" "$(cat "$T_TMP/e")"
refs=$(sql "SELECT mac, substr(cred_ref, 1, 6) FROM devices ORDER BY mac" | tr '\n' ' ')
case $refs in
*"$(mac_of 0)|store:"*"$(mac_of 1)|file:/"*) pass "$N: registered with file: and store: credential references" ;;
*) fail "$N: registry credential refs" "$refs" ;;
esac
ID1=$(sql "SELECT id FROM devices WHERE mac = '$(mac_of 1)'" | tr 'a-z' 'A-Z')
MAC0=$(mac_of 0 | sed 's/\(..\)/\1:/g; s/:$//' | tr 'a-f' 'A-F')
s0=$(on_all 0 1)
"$SHELLY_TUI" --db "$DB" --action switch_toggle "$ID1" "$MAC0" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
"$SHELLY_TUI" --db "$DB" --action switch_toggle --json kitchen </dev/null >"$T_TMP/j" 2>>"$T_TMP/e"; rcj=$?
if [ $rc -eq 0 ] && [ $rcj -eq 0 ] && [ "$(on_all 0 1)" = "$(echo "$s0" | awk '{print ($1 == "true" ? "false" : "true"), $2}') " ] &&
	[ "$(jq -r '.results[0] | "\(.ok) \(.mac) \(.target)"' "$T_TMP/j")" = "true $(mac_of 1) kitchen" ] &&
	sed -n 1p "$T_TMP/o" | grep -qiF "OK   $ID1 switch:0"; then
	pass "$N: registered devices by id (upper case), MAC (colons) and name use their stored credentials"
else
	fail "$N: registered by id/name/MAC" "rc=$rc/$rcj sim $s0 -> $(on_all 0 1) $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400) $(jq -c .results "$T_TMP/j" 2>&1 | head -c 300)"
fi
# A HOST target that shows a registered MAC uses that device's stored credentials.
"$SHELLY_TUI" --db "$DB" --action switch_on "$(dv 1 HP)" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(dev_state 1 '.switches[0].on')" = true ] && pass "$N: HOST[:PORT] of a registered device uses its stored credentials" ||
	fail "$N: HOST of a registered device" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 300)"

# --- the registered address now answers with another MAC: nothing but /shelly is sent there ---
sql "UPDATE devices SET host = '$(dv 2 ADDR)', port = $(dv 2 PORT) WHERE mac = '$(mac_of 1)'"
ctl POST /devices/2/reset-counters >/dev/null
s2=$(dev_state 2 '.switches[0].on')
"$SHELLY_TUI" --db "$DB" --action switch_toggle kitchen "$(dv 3 HP)" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
c2=$(dev_state 2 '[.counters.by_path, .counters.auth_challenges, .counters.auth_failures] | tojson')
if [ $rc -eq 1 ] && sed -n 1p "$T_TMP/o" | grep -qE "^FAIL [^ ]+ error: MAC mismatch: $(mac_of 1) is registered at this address, the device there is $(mac_of 2)" &&
	sed -n 2p "$T_TMP/o" | grep -qE '^OK  ' && [ "$c2" = '[{"/shelly":1},0,0]' ] && [ "$(dev_state 2 '.switches[0].on')" = "$s2" ]; then
	pass "$N: a registered address answering with another MAC: FAIL 'MAC mismatch', only /shelly sent, others proceed"
else
	fail "$N: MAC mismatch" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400) device 2: $c2"
fi

# --- the audit table has one row per result ---
rows=$(sql "SELECT who, action, target, result FROM audit WHERE action LIKE 'switch_%' ORDER BY id" | tr '\n' ' ')
want="cli|switch_toggle|$(mac_of 1)|ok cli|switch_toggle|$(mac_of 0)|ok cli|switch_toggle|$(mac_of 1)|ok cli|switch_on|$(mac_of 1)|ok cli|switch_toggle|$(mac_of 1)|error cli|switch_toggle|$(mac_of 3)|ok "
[ "$rows" = "$want" ] && pass "$N: audit rows (who, action, MAC, result) for every target" || fail "$N: audit" "got '$rows' want '$want'"
d=$(sql "SELECT detail FROM audit WHERE result = 'error' ORDER BY id DESC LIMIT 1")
case $d in "MAC mismatch:"*) pass "$N: audit detail of a failure is its error" ;; *) fail "$N: audit detail" "$d" ;; esac
exit 0
