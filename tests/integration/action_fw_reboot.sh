# shelly-tui --action reboot, fw_check and fw_update against the sim, one device per generation.
# reboot: the sim counts a reboot and the uptime restarts. fw_check: with no stable release
# offered the result says none; after POST /devices/<i>/offer-update (control API) it says an
# update is available with the offered version (text and --json); on Gen1 it asks the device
# to look first (/ota/check). fw_update: started on a Gen2
# device with an offer (the sim marks the update pending and reboots); without an offer the
# result is "no update available", done and not failed. Gen1 fw_update_beta: nothing started
# and said so when no beta is offered; installed by the sim when one is.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=action_fw_reboot
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
# Handshakes and replies of the ASan tree on a loaded machine take seconds.
mkdir -p "$XDG_CONFIG_HOME/shelly-tui"
printf 'set connect-timeout 10s\nset request-timeout 15s\n' >"$XDG_CONFIG_HOME/shelly-tui/config"
unset SHELLY_TUI_PASSWORD
MODELS=gen1/shelly-1,gen2/plus-1pm,gen3/1pm-gen3,gen4/1pm-mini-gen4,gen2/plus-1pm
sim_up $N --models "$MODELS" --reboot-ms 300
ALL="0 1 2 3"
hps() { for _k in "$@"; do printf '%s ' "$(dv $_k HP)"; done; }

# --- fw_check with nothing offered (the fixtures' own stable offer, if any, is what the sim says) ---
"$SHELLY_TUI" --action fw_check --json $(hps $ALL) >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
bad="" n=0
for k in $ALL; do
	st=$(dev_state $k .updates.stable)
	got=$(jq -c ".results[$n] | [.ok, .update_available, .new_version]" "$T_TMP/j")
	if [ "$st" = null ]; then want='[true,false,null]'; else want="[true,true,\"$st\"]"; fi
	[ "$got" = "$want" ] || bad="$bad [$(dv $k FX): $got, sim offers $st]"
	n=$((n + 1))
done
[ $rc -eq 0 ] && [ -z "$bad" ] && pass "$N: fw_check on gen1-4: update_available/new_version as the sim offers" ||
	fail "$N: fw_check before an offer" "rc=$rc$bad $(head -c 300 "$T_TMP/e")"

# --- offer a stable release to each, then fw_check: available, with that version ---
for k in $ALL; do
	if [ "$(dv $k GEN)" = 1 ]; then v="20991231-235959/v9.$k.0-gtest$k"; else v="9.$k.0"; fi
	ctl POST "/devices/$k/offer-update" "{\"stable\":\"$v\"}" >/dev/null
done
"$SHELLY_TUI" --action fw_check --json $(hps $ALL) >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
"$SHELLY_TUI" --action fw_check $(hps $ALL) >"$T_TMP/o" 2>>"$T_TMP/e"; rct=$?
bad="" n=0
for k in $ALL; do
	st=$(dev_state $k .updates.stable)
	got=$(jq -c ".results[$n] | [.ok, .update_available, .new_version]" "$T_TMP/j")
	[ "$got" = "[true,true,\"$st\"]" ] || bad="$bad [$(dv $k FX): $got, sim offers $st]"
	n=$((n + 1))
	sed -n "${n}p" "$T_TMP/o" | grep -qF "update available: $st" || bad="$bad [line $n: $(sed -n "${n}p" "$T_TMP/o")]"
done
[ $rc -eq 0 ] && [ $rct -eq 0 ] && [ -z "$bad" ] && [ "$st" != null ] &&
	pass "$N: after offer-update, fw_check on gen1-4 says 'update available: <the offered version>'" ||
	fail "$N: fw_check after an offer" "rc=$rc/$rct$bad $(head -c 300 "$T_TMP/e")"

# --- Gen1 fw_check asks the device to look (GET /ota/check) before reading /ota, whose answer
# is cached: an offer the device has not seen yet ("unchecked") is found ---
ctl POST "/devices/0/offer-update" '{"stable":"20991231-000000/v9.9.8","unchecked":true}' >/dev/null
c0=$(dev_state 0 .updates.ota_checks)
[ "$(curl -s -m 5 "http://$(dv 0 HP)/ota" | jq -r .has_update)" = false ] ||
	fail "$N: the sim's Gen1 /ota hides an unchecked offer"
"$SHELLY_TUI" --action fw_check $(hps 0) >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
if [ $rc -eq 0 ] && grep -qE '^OK +[^ ]+ update available: 20991231-000000/v9\.9\.8 ' "$T_TMP/o" &&
	[ "$(dev_state 0 .updates.ota_checks)" = $((c0 + 1)) ]; then
	pass "$N: Gen1 fw_check calls /ota/check first and finds an offer /ota had not shown yet"
else
	fail "$N: Gen1 fw_check /ota/check" "rc=$rc checks $c0->$(dev_state 0 .updates.ota_checks) $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400)"
fi

# --- reboot: every device reboots once and its uptime restarts ---
# "Restarted" is uptime going back: let every device be up 2 s first (on a fast machine the
# snapshot could come in the sim's first second, uptime 0, and nothing is below 0).
for k in $ALL; do wait_for 10 sh -c '[ "$(curl -s -m 2 "http://$1/devices/$2/state" | jq ".uptime_s >= 2")" = true ]' sh "$SIM_CTL" "$k"; done
before=""
for k in $ALL; do before="$before $(dev_state $k '"\(.reboots):\(.uptime_s)"')"; done
"$SHELLY_TUI" --action reboot $(hps $ALL) >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
rebooted() { # I REBOOTS-BEFORE UPTIME-BEFORE
	[ "$(dev_state $1 "(.reboots == $2 + 1) and .online and (.rebooting | not) and .uptime_s < $3")" = true ]
}
bad="" n=0
for k in $ALL; do
	n=$((n + 1))
	b=$(echo $before | cut -d' ' -f$n)
	sed -n "${n}p" "$T_TMP/o" | grep -qE '^OK +[^ ]+ rebooting$' || bad="$bad [line: $(sed -n "${n}p" "$T_TMP/o")]"
	wait_for 10 rebooted $k "${b%%:*}" "${b#*:}" || bad="$bad [$(dv $k FX): before $b, now $(dev_state $k '"\(.reboots):\(.uptime_s) online \(.online)"')]"
done
[ $rc -eq 0 ] && [ -z "$bad" ] && pass "$N: reboot on gen1-4: OK lines, the sim counted one reboot each and uptime restarted" ||
	fail "$N: reboot" "rc=$rc$bad $(head -c 300 "$T_TMP/e")"

# --- fw_update: started where an update is offered; "no update available" where none is
# (Shelly.Update's -114 "FW stage stable not found!"): up to date is done, not failed (exit 0) ---
ctl POST "/devices/4/offer-update" '{"stable":null}' >/dev/null
"$SHELLY_TUI" --action fw_update $(hps 1 4) >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
l1=$(sed -n 1p "$T_TMP/o") l2=$(sed -n 2p "$T_TMP/o")
if [ $rc -eq 0 ] && echo "$l1" | grep -qE '^OK +[^ ]+ update to the stable firmware started$' &&
	echo "$l2" | grep -qE '^OK +[^ ]+ no update available: firmware is up to date$' &&
	wait_for 10 sh -c '[ "$(curl -s -m 2 "http://$1/devices/1/state" | jq -r ".reboots >= 2")" = true ]' sh "$SIM_CTL"; then
	pass "$N: fw_update: started on an offer (the sim installs and reboots), 'no update available' without one (exit 0)"
else
	fail "$N: fw_update" "rc=$rc '$l1' '$l2' $(dev_state 1 '[.updates, .reboots] | tojson') $(head -c 300 "$T_TMP/e")"
fi
"$SHELLY_TUI" --action fw_update --json $(hps 4) >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && [ "$(jq -c '[.summary, .results[0].update_available, .results[0].ok]' "$T_TMP/j")" = '[{"ok":1,"failed":0,"up_to_date":1},false,true]' ] &&
	pass "$N: fw_update --json on an up-to-date device: ok, update_available false, summary.up_to_date 1" ||
	fail "$N: fw_update --json up to date" "rc=$rc $(head -c 400 "$T_TMP/j") $(head -c 300 "$T_TMP/e")"

# --- Gen1 fw_update_beta (/ota?beta=true): nothing offered -> nothing to install, no reboot;
# a beta offered -> the sim installs it ---
ctl POST "/devices/0/offer-update" '{"stable":null,"beta":null}' >/dev/null
r0=$(dev_state 0 .reboots)
"$SHELLY_TUI" --action fw_update_beta $(hps 0) >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
if [ $rc -eq 0 ] && grep -qE '^OK +[^ ]+ no beta update available: nothing to install$' "$T_TMP/o" &&
	[ "$(dev_state 0 '.updates.pending')" = false ] && [ "$(dev_state 0 .reboots)" = "$r0" ]; then
	pass "$N: Gen1 fw_update_beta with no beta offered: 'no beta update available', nothing started"
else
	fail "$N: Gen1 fw_update_beta, none offered" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400)"
fi
ctl POST "/devices/0/offer-update" '{"beta":"20991231-000000/v9.9.9-beta1"}' >/dev/null
"$SHELLY_TUI" --action fw_update_beta $(hps 0) >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
if [ $rc -eq 0 ] && grep -qE '^OK +[^ ]+ update requested \(status: updating\)$' "$T_TMP/o" &&
	wait_for 10 sh -c '[ "$(curl -s -m 2 "http://$1/devices/0/state" | jq -r .fw)" = 20991231-000000/v9.9.9-beta1 ]' sh "$SIM_CTL"; then
	pass "$N: Gen1 fw_update_beta with a beta offered: started, the sim installs the beta"
else
	fail "$N: Gen1 fw_update_beta, offered" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400) $(dev_state 0 '[.fw, .updates] | tojson')"
fi
exit 0
