# shelly-tui --action on HTTPS devices (shelly-sim --tls): --https on first contact (trust on
# first use) switches the device; a registered HTTPS device (--add --https pins its key) is
# reached over HTTPS by id without --https; after the device's certificate changes the action
# fails tls_error (certificate changed) and the output stays as it was, until --accept-cert.
# Digest auth over TLS with the stored password file.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=action_https
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
# TLS handshakes with the ASan tree on a loaded machine take seconds.
mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
printf 'set connect-timeout 10s\nset request-timeout 15s\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
unset SHELLY_TUI_PASSWORD
TLS=$T_TMP/tls
sim_up $N --models gen2/plus-1pm,gen3/1pm-gen3 --tls 0,1 --auth 1 --tls-dir "$TLS"
secret_file "$T_TMP/pw" "$(dv 1 PW)"
DB=$T_TMP/shelly.db
on() { dev_state "$1" '.switches[0].on'; }

"$SHELLY_TUI" --action switch_on --https "$(dv 0 HP)" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && grep -qE '^OK +[^ ]+ switch:0 on$' "$T_TMP/o" && [ "$(on 0)" = true ] &&
	pass "$N: --https on first contact: the device switches on" || fail "$N: --https first contact" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 300)"
"$SHELLY_TUI" --action switch_off "$(dv 0 HP)" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 1 ] && grep -qE '^FAIL ' "$T_TMP/o" && [ "$(on 0)" = true ] &&
	pass "$N: plain HTTP to an HTTPS-only device fails (exit 1)" || fail "$N: plain HTTP to HTTPS" "rc=$rc $(cat "$T_TMP/o" | head -c 300)"

# Registered HTTPS devices (pinned), one with digest auth and its password file.
"$SHELLY_TUI" --db "$DB" --add "$(dv 0 HP)" --https >/dev/null 2>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$DB" --add "$(dv 1 HP)" --https --password-file "$T_TMP/pw" </dev/null >/dev/null 2>>"$T_TMP/e" ||
	fail "$N: --add --https" "$(cat "$T_TMP/e")"
"$SHELLY_TUI" --db "$DB" --action switch_toggle "$(dv 0 ID)" "$(dv 1 ID)" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(on 0) $(on 1)" = "false true" ] && [ "$(grep -c '^OK  ' "$T_TMP/o")" = 2 ] &&
	pass "$N: registered HTTPS devices by id: pinned key, stored scheme and password (digest over TLS)" ||
	fail "$N: registered HTTPS" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400) sim $(on 0) $(on 1)"

# A changed certificate: refused before any request byte, the output stays.
ctl POST /devices/0/tls/rotate '{}' >/dev/null
"$SHELLY_TUI" --db "$DB" --action switch_on "$(dv 0 ID)" "$(dv 1 ID)" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
if [ $rc -eq 1 ] && sed -n 1p "$T_TMP/o" | grep -qE '^FAIL [^ ]+ tls_error: .*certificate changed' &&
	sed -n 2p "$T_TMP/o" | grep -qE '^OK  ' && [ "$(on 0)" = false ]; then
	pass "$N: a changed certificate fails tls_error 'certificate changed' (device untouched), the other target proceeds"
else
	fail "$N: changed certificate" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400) sim $(on 0)"
fi
"$SHELLY_TUI" --db "$DB" --action switch_on --accept-cert "$(dv 0 ID)" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(on 0)" = true ] && pass "$N: --accept-cert lets the action through" ||
	fail "$N: --accept-cert" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 300)"
exit 0
