# shelly-tui --probe of devices with authentication on: Gen1 basic and Gen2+ digest in every
# challenge style of the sim (hex, decimal, wall, b64). Without a password: exit 1, state
# auth_required and no credentials sent; with SHELLY_TUI_PASSWORD or --password-file: exit 0;
# a wrong password: exit 1, auth_failed. The password never appears in the output, in argv or
# in the environment of a --password-file run (checked while the probe waits on the device).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=probe_auth
MODELS=gen2/plus-1pm,gen2/pro-3em,gen3/1pm-gen3,gen4/1pm-mini-gen4,gen1/shelly-plug-s
if ! sim_start $N --models "$MODELS" --auth all --digest mixed; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
unset SHELLY_TUI_PASSWORD

styles=$(mf '[.devices[].auth.digest // empty] | unique | join(",")')
[ "$styles" = "b64,decimal,hex,wall" ] && pass "$N: the sim serves every digest style (hex, decimal, wall, b64)" ||
	fail "$N: digest styles" "got $styles"
[ "$(mf '[.devices[] | .auth.password | length > 0] | all')" = true ] && pass "$N: every device has auth on" ||
	fail "$N: auth on" "$(mf '[.devices[].auth]' | jq -c .)"

# leaks PW FILE...: 0 when PW occurs in one of the files.
leaks() { _pw=$1; shift; grep -qF -- "$_pw" "$@"; }

k=0
while [ $k -lt "$D_COUNT" ]; do
	hp=$(dv $k HP) pw=$(dv $k PW) g=$(dv $k GEN)
	what="gen$g $(dv $k FX) ($(mf ".devices[$k].auth.digest // \"basic\""))"
	secret_file "$T_TMP/pw.$k" "$pw"

	# No password (no tty either): auth_required, and the device saw no credentials.
	ctl POST "/devices/$k/reset-counters" >/dev/null
	"$SHELLY_TUI" --probe "$hp" --json </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	c=$(dev_state $k '.counters | "\(.auth_failures) \(.by_path["/shelly"] // 0)"')
	if [ $rc -eq 1 ] && [ "$(jq -r .state "$T_TMP/o")" = auth_required ] && [ "${c%% *}" = 0 ] && [ "${c#* }" -ge 1 ]; then
		pass "$N: $what: no password -> exit 1, state auth_required, no credentials sent"
	else
		fail "$N: $what: no password" "rc=$rc $(jq -c '[.state,.error]' "$T_TMP/o" 2>&1) auth_failures,/shelly=$c $(head -c 300 "$T_TMP/e")"
	fi
	"$SHELLY_TUI" --probe "$hp" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	[ $rc -eq 1 ] && grep -qE '^state +auth_required' "$T_TMP/o" && pass "$N: $what: readable summary says auth_required" ||
		fail "$N: $what: readable auth_required" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400)"

	# SHELLY_TUI_PASSWORD.
	SHELLY_TUI_PASSWORD=$pw "$SHELLY_TUI" --probe "$hp" --json </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	if [ $rc -eq 0 ] && [ "$(jq -r '"\(.state) \(.mac) \(.auth_en)"' "$T_TMP/o")" = "online $(dv $k MAC | tr A-F a-f) true" ] &&
		[ "$(jq -r '.sys.uptime_s != null and .wifi.ip == "'"$(dv $k ADDR)"'"' "$T_TMP/o")" = true ] && ! leaks "$pw" "$T_TMP/o" "$T_TMP/e"; then
		pass "$N: $what: SHELLY_TUI_PASSWORD -> exit 0, online with its status, password not printed"
	else
		fail "$N: $what: SHELLY_TUI_PASSWORD" "rc=$rc $(jq -c '[.state,.error,.auth_en]' "$T_TMP/o" 2>&1) $(head -c 300 "$T_TMP/e")"
	fi

	# --password-file, readable and JSON output.
	"$SHELLY_TUI" --probe "$hp" --password-file "$T_TMP/pw.$k" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	"$SHELLY_TUI" --probe "$hp" --password-file "$T_TMP/pw.$k" --json </dev/null >"$T_TMP/oj" 2>>"$T_TMP/e"; rcj=$?
	if [ $rc -eq 0 ] && [ $rcj -eq 0 ] && grep -qE '^state +online$' "$T_TMP/o" && [ "$(jq -r .state "$T_TMP/oj")" = online ] &&
		! leaks "$pw" "$T_TMP/o" "$T_TMP/oj" "$T_TMP/e"; then
		pass "$N: $what: --password-file -> exit 0, online, password not printed"
	else
		fail "$N: $what: --password-file" "rc=$rc/$rcj $(jq -c '[.state,.error]' "$T_TMP/oj" 2>&1) $(head -c 300 "$T_TMP/e")"
	fi

	# A wrong password: auth_failed, and the device counted the failed attempt.
	f0=$(dev_state $k .counters.auth_failures)
	SHELLY_TUI_PASSWORD="x$pw" "$SHELLY_TUI" --probe "$hp" --json </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	f1=$(dev_state $k .counters.auth_failures)
	if [ $rc -eq 1 ] && [ "$(jq -r .state "$T_TMP/o")" = auth_failed ] && [ "$f1" -gt "$f0" ] && ! leaks "x$pw" "$T_TMP/o" "$T_TMP/e"; then
		pass "$N: $what: wrong password -> exit 1, state auth_failed (device counted $((f1 - f0)) failure(s))"
	else
		fail "$N: $what: wrong password" "rc=$rc $(jq -c '[.state,.error]' "$T_TMP/o" 2>&1) failures $f0 -> $f1"
	fi

	if [ "$g" = 1 ]; then
		"$SHELLY_TUI" --probe "$hp" --user "not$(mf ".devices[$k].auth.user")" --password-file "$T_TMP/pw.$k" --json \
			</dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
		[ $rc -eq 1 ] && [ "$(jq -r .state "$T_TMP/o")" = auth_failed ] && pass "$N: $what: wrong --user -> auth_failed" ||
			fail "$N: $what: wrong --user" "rc=$rc $(jq -c '[.state,.error]' "$T_TMP/o" 2>&1)"
		"$SHELLY_TUI" --probe "$hp" --user "$(mf ".devices[$k].auth.user")" --password-file "$T_TMP/pw.$k" --json \
			</dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
		[ $rc -eq 0 ] && [ "$(jq -r .state "$T_TMP/o")" = online ] && pass "$N: $what: --user from the manifest -> online" ||
			fail "$N: $what: --user" "rc=$rc $(jq -c '[.state,.error]' "$T_TMP/o" 2>&1)"
	fi
	k=$((k + 1))
done

# The password is not in argv or the environment of a --password-file run: the sim holds the
# status request of a Gen2 device (fault on that path only) while the test reads /proc of the
# probe, then lets it go. The probe gets 20 s to reach it on a loaded machine, and a request
# timeout that outlasts that wait and the read.
i=$(dev_by_fixture gen2/plus-1pm)
set_fault "$i" hold /rpc/Shelly.GetStatus
"$SHELLY_TUI" --probe "$(dv "$i" HP)" --password-file "$T_TMP/pw.$i" --timeout 60 </dev/null >"$T_TMP/o" 2>"$T_TMP/e" &
probe_pid=$!
if wait_for 20 sh -c 'curl -s -m 2 "http://$1/devices/$2/state" | jq -e ".counters.in_flight >= 1 and .counters.by_path[\"/rpc/Shelly.GetStatus\"] >= 1" >/dev/null' sh "$SIM_CTL" "$i" &&
	pid_alive $probe_pid; then
	# /proc first, ps after: the files are what the assertion needs most.
	tr '\0' '\n' <"/proc/$probe_pid/environ" >"$T_TMP/environ" 2>/dev/null
	tr '\0' ' ' <"/proc/$probe_pid/cmdline" >"$T_TMP/cmdline" 2>/dev/null
	args=$(ps -o args= -p $probe_pid)
	if [ -n "$args" ] && ! echo "$args" | grep -qF -- "$(dv "$i" PW)" && [ -s "$T_TMP/cmdline" ] &&
		! leaks "$(dv "$i" PW)" "$T_TMP/cmdline" "$T_TMP/environ"; then
		pass "$N: password not in ps/argv/environment of a running --password-file probe"
	else
		fail "$N: password in ps" "args=$args"
	fi
else
	fail "$N: password in ps" "the probe was not seen waiting on the status request: $(dev_state "$i" .counters | jq -c .)"
fi
set_fault "$i" none
wait $probe_pid; rc=$?
[ $rc -eq 0 ] && [ -s "$T_TMP/o" ] && ! leaks "$(dv "$i" PW)" "$T_TMP/o" "$T_TMP/e" &&
	pass "$N: the held --password-file probe completes (exit 0) without printing the password" ||
	fail "$N: held --password-file probe" "rc=$rc $(head -c 300 "$T_TMP/e")"

# A password file others can read is used, with a warning that does not show the password.
cp "$T_TMP/pw.$i" "$T_TMP/pw.open"
chmod 644 "$T_TMP/pw.open"
"$SHELLY_TUI" --probe "$(dv "$i" HP)" --password-file "$T_TMP/pw.open" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && grep -q 'chmod 600' "$T_TMP/e" && ! leaks "$(dv "$i" PW)" "$T_TMP/o" "$T_TMP/e" &&
	pass "$N: a world-readable password file works with a warning" ||
	fail "$N: world-readable password file" "rc=$rc $(cat "$T_TMP/e")"
exit 0
