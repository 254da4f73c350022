# The key an HTTPS device showed when it was identified is required of the requests with
# credentials that follow: the sim swaps its certificate right after answering /shelly
# (tls/rotate "after"), and --probe --https with a password then stops with a TLS error before
# the status request (with its credentials) reaches the device. A pin the poller learns on
# first contact is stored in the database, not kept in memory only.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=probe_tls_swap
TLS=$T_TMP/tls
mkdir -p "$TLS"
# 0: Gen3 HTTPS with auth, 1: Gen2 HTTPS without
if ! sim_start $N --models gen3/1pm-gen3,gen2/plus-1pm --count 2 --tls all --auth 0 --tls-dir "$TLS"; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
unset SHELLY_TUI_PASSWORD
HA=0 H=1
status_reqs() { dev_state "$1" '[.counters.by_path | to_entries[] | select(.key | startswith("/rpc/Shelly.GetStatus")) | .value] | add // 0'; }
secret_file "$T_TMP/pw" "$(dv $HA PW)"

# Control: without a swap the probe works.
"$SHELLY_TUI" --probe "$(dv $HA HP)" --https --password-file "$T_TMP/pw" --json </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(jq -r .state "$T_TMP/o")" = online ] && pass "$N: --probe --https with a password: online" ||
	fail "$N: probe without swap" "rc=$rc $(head -c 300 "$T_TMP/o") $(head -c 300 "$T_TMP/e")"

ctl POST "/devices/$HA/tls/rotate" '{"after":"/shelly"}' >/dev/null
ctl POST "/devices/$HA/reset-counters" >/dev/null
f0=$(dev_state $HA .tls.fingerprint_sha256)
"$SHELLY_TUI" --probe "$(dv $HA HP)" --https --password-file "$T_TMP/pw" --json </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
f1=$(dev_state $HA .tls.fingerprint_sha256)
[ -n "$f0" ] && [ "$f0" != null ] && [ "$f1" != "$f0" ] && [ "$(dev_state $HA '.counters.by_path["/shelly"] // 0')" -ge 1 ] &&
	pass "$N: the sim swapped its certificate after answering /shelly" || fail "$N: swap" "$f0 -> $f1"
n=$(status_reqs $HA)
[ $rc -eq 1 ] && [ "$(jq -r '.error | split(":")[0]' "$T_TMP/o")" = tls_error ] && [ "$n" = 0 ] &&
	pass "$N: certificate swapped between identify and credentials: tls_error, no status request reached the device" ||
	fail "$N: swap between identify and credentials" "rc=$rc status requests $n $(jq -c '[.state,.error]' "$T_TMP/o" 2>&1)"

# The same for an action on a bare HOST: the switch request (with its credentials) never
# reaches a device whose certificate changed after /shelly.
ctl POST "/devices/$HA/tls/rotate" '{"after":"/shelly"}' >/dev/null
ctl POST "/devices/$HA/reset-counters" >/dev/null
"$SHELLY_TUI" --action switch_on --https "$(dv $HA HP)" --password-file "$T_TMP/pw" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
n=$(dev_state $HA '[.counters.by_path | to_entries[] | select(.key | startswith("/rpc/Switch")) | .value] | add // 0')
[ $rc -ne 0 ] && [ "$(dev_state $HA '.counters.by_path["/shelly"] // 0')" -ge 1 ] && [ "$n" = 0 ] &&
	grep -q tls_error "$T_TMP/o" "$T_TMP/e" &&
	pass "$N: --action: certificate swapped after /shelly: tls_error, no switch request reached the device" ||
	fail "$N: --action swap" "rc=$rc switch requests $n $(head -c 300 "$T_TMP/o") $(head -c 300 "$T_TMP/e")"

# The poller learns a pin on first contact and stores it.
command -v sqlite3 >/dev/null 2>&1 || { skip "$N: pin stored" "needs sqlite3"; exit 0; }
DB=$T_TMP/db
m=$(dv $H MAC | tr A-F a-f)
"$SHELLY_TUI" --db "$DB" --add "$(dv $H HP)" --https >"$T_TMP/o" 2>"$T_TMP/e" || fail "$N: --add" "$(cat "$T_TMP/e")"
pin0=$(sqlite3 "$DB" "SELECT tls_pin FROM devices WHERE mac = '$m'")
sqlite3 "$DB" "UPDATE devices SET tls_pin = NULL WHERE mac = '$m'"
"$SHELLY_TUI" --db "$DB" --poll-once >/dev/null 2>"$T_TMP/e"; rc=$?
pin1=$(sqlite3 "$DB" "SELECT tls_pin FROM devices WHERE mac = '$m'")
[ $rc -eq 0 ] && [ -n "$pin0" ] && [ "$pin1" = "$pin0" ] &&
	pass "$N: a pin learned by --poll-once is stored" || fail "$N: learned pin" "rc=$rc '$pin0' -> '$pin1' $(cat "$T_TMP/e")"
exit 0
