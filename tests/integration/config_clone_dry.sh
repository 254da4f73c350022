#!/bin/sh
# --clone SOURCE --dry-run TARGET (in the SYNOPSIS, "as --apply does"): lists what would be
# written (the source's switch:0 auto_on delay) and sends the target no setter request; its configuration stays as it was.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=config_clone_dry
sim_up $N --models gen2/plus-1pm --count 2
DB=$T_TMP/db
: >"$T_TMP/config"
tui() { "$SHELLY_TUI" --db "$DB" --config "$T_TMP/config" --timeout 3 "$@"; }
hl_add "$DB" 0 --name src && hl_add "$DB" 1 --name dst || { fail "$N: --add" "$(cat "$T_TMP/add.err")"; exit 1; }
tui --config-set switch:0.auto_on=true switch:0.auto_on_delay_s=33 src >/dev/null 2>"$T_TMP/err" || fail "$N: config-set on the source" "$(cat "$T_TMP/err")"
before=$(curl -s -m 3 "$(hl_url 1 /rpc/Shelly.GetConfig)" | jq -c .)
ctl POST /devices/1/reset-counters >/dev/null
tui --clone src dst --dry-run --json >"$T_TMP/c.json" 2>"$T_TMP/err"; rc=$?
sets=$(dev_state 1 '[.counters.by_path | keys[] | select(test("Set|Reboot"))] | length')
after=$(curl -s -m 3 "$(hl_url 1 /rpc/Shelly.GetConfig)" | jq -c .)
[ $rc -eq 0 ] && [ "$(jq -r '.devices[0].result' "$T_TMP/c.json")" = dry-run ] &&
	jq -e '.devices[0].changes[] | select(.field == "switch:0.auto_on_delay_s")' "$T_TMP/c.json" >/dev/null &&
	[ "$sets" = 0 ] && [ "$before" = "$after" ] &&
	pass "$N: --clone --dry-run lists the auto_on delay and sends no setter request" ||
	fail "$N: --clone --dry-run lists the auto_on delay and sends no setter request" \
		"rc=$rc sets=$sets $(cat "$T_TMP/c.json" "$T_TMP/err") $(dev_state 1 .counters.by_path)"
tui --clone src dst >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 0 ] && [ "$(curl -s -m 3 "$(hl_url 1 /rpc/Shelly.GetConfig)" | jq -r '.["switch:0"].auto_on_delay')" = 33 ] &&
	pass "$N: without --dry-run the clone is written" || fail "$N: without --dry-run the clone is written" "rc=$rc $(cat "$T_TMP/err")"
