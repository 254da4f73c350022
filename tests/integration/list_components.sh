#!/bin/sh
# --list --json tells of a polled device what --probe --json does for the same reading: the
# names of its switches, inputs, covers, lights (of every type) and meters, the types of its inputs (from the
# stored configuration snapshot), sleep_mode (a Gen1 H&T's stored status says it sleeps) and
# auth_en and profile (stored from /shelly when the device was added), read from the database
# alone: the simulator is stopped before --list runs. Device 0 has authentication on.
. tests/lib.sh
. tests/integration/lib_sim.sh

N=list_components
PW="lc-$(date +%s%N | cut -c10-)-pw"
sim_up $N --fixtures tests/fixtures --auth 0 --password "$PW" \
	--models gen2/plus-1pm,gen2/plus-2pm/cover-mode,gen2/pro-dual-cover-pm,gen2/plus-uni,gen1/shelly-ht,gen1/shelly-rgbw2,gen2/plus-ht,gen3/pm-mini-gen3,gen2/pro-3em/aioshelly-fw-1.1.0,gen2/pro-rgbww-pm,gen3/1pm-gen3
cli_private
secret_file "$T_TMP/pw" "$PW"
DB=$T_TMP/db
tui() { "$SHELLY_TUI" --db "$DB" "$@"; }
sq() { sqlite3 "$DB" "$1"; }
mac() { dv "$1" MAC | tr 'A-F' 'a-f'; }
i=0
while [ $i -lt "$D_COUNT" ]; do
	tui --add "$(dv $i HP)" --password-file "$T_TMP/pw" >/dev/null 2>"$T_TMP/err" || fail "$N: --add $(dv $i FX)" "$(cat "$T_TMP/err")"
	tui --probe "$(dv $i HP)" --password-file "$T_TMP/pw" --json >"$T_TMP/probe$i.json" 2>"$T_TMP/err" ||
		fail "$N: --probe $(dv $i FX)" "$(cat "$T_TMP/err")"
	i=$((i + 1))
done
# Lights of other types than "light" are named by their own component (rgb:0, cct:0).
W=$(dev_by_fixture gen2/pro-rgbww-pm)
tui --config-set cct:0.name=Desk rgb:0.name=Shelf "$(dv $W HP)" >/dev/null 2>"$T_TMP/err" &&
	tui --probe "$(dv $W HP)" --json >"$T_TMP/probe$W.json" 2>>"$T_TMP/err" ||
	fail "$N: light names set" "$(cat "$T_TMP/err")"
tui --poll-once >/dev/null 2>"$T_TMP/err" || fail "$N: --poll-once" "$(cat "$T_TMP/err")"
[ "$(sq "SELECT count(DISTINCT mac) FROM config_snapshots")" = "$D_COUNT" ] &&
	pass "$N: --poll-once kept a configuration snapshot of every device" ||
	fail "$N: snapshots" "$(sq "SELECT mac, reason FROM config_snapshots")"
# A device that turns authentication on after it was added asks for credentials at the next
# poll: its auth_en is true from then on (the last device, a 1PM Gen3, not compared with
# --probe).
L=$((D_COUNT - 1))
ctl POST "/devices/$L/auth" '{"enable":true}' >/dev/null
tui --poll-once >/dev/null 2>&1
sim_stop
tui --list --json >"$T_TMP/list.json" 2>"$T_TMP/err" || fail "$N: --list --json" "$(cat "$T_TMP/err")"

# What a script reading the fleet compares: every component's id, name, input type.
SHAPE='{sleep_mode, auth_en, profile, c: (.components | with_entries(select(.value | type == "array") |
	.value |= map({id, name, type})))}'
i=0
while [ $i -lt "$L" ]; do
	jq -S "$SHAPE" "$T_TMP/probe$i.json" >"$T_TMP/p$i"
	jq -S --arg m "$(mac $i)" ".devices[] | select(.mac == \$m) | $SHAPE" "$T_TMP/list.json" >"$T_TMP/l$i"
	cmp -s "$T_TMP/p$i" "$T_TMP/l$i" && [ -s "$T_TMP/l$i" ] &&
		pass "$N: $(dv $i FX): --list --json as --probe --json (names, input types, sleep_mode, auth_en, profile)" ||
		fail "$N: $(dv $i FX): --list vs --probe" "$(diff "$T_TMP/p$i" "$T_TMP/l$i")"
	i=$((i + 1))
done

# The comparison above holds something: names, input types and sleep_mode the devices set.
dj() { jq -r --arg m "$(mac "$1")" ".devices[] | select(.mac == \$m) | $2" "$T_TMP/list.json"; }
C=$(dev_by_fixture gen2/pro-dual-cover-pm) U=$(dev_by_fixture gen2/plus-uni) H=$(dev_by_fixture gen1/shelly-ht)
[ "$(dj "$C" '[.components.cover[].name] | join(",")')" = "Pro2cover 1st,Pro2cover 2nd" ] &&
	[ "$(dj "$C" '[.components.input[].type] | unique | join(",")')" = switch ] &&
	[ "$(dj "$U" '[.components.input[].type] | map(. // "null") | join(",")')" != "" ] &&
	[ "$(dj "$U" '[.components.input[] | select(.type == null)] | length')" = 0 ] &&
	pass "$N: --list --json: cover names and input types from the stored settings" ||
	fail "$N: names and types" "$(dj "$C" .components.cover) $(dj "$U" .components.input)"
P=$(dev_by_fixture gen3/pm-mini-gen3) E=$(dev_by_fixture gen2/pro-3em/aioshelly-fw-1.1.0)
[ "$(dj "$P" '.components.meter[0].name')" = "PMmini Gen3" ] &&
	[ "$(dj "$E" '.components.meter[0].name')" = "Energy Monitor Test Name 0" ] &&
	pass "$N: --list --json: meter names (pm1, em)" ||
	fail "$N: meter names" "$(dj "$P" .components.meter) $(dj "$E" .components.meter)"
[ "$(dj "$W" '[.components.light[] | "\(.kind):\(.name)"] | sort | join(",")')" = "cct:Desk,rgb:Shelf" ] &&
	pass "$N: --list --json: rgb and cct light names" ||
	fail "$N: light names" "$(dj "$W" .components.light)"
[ "$(dj "$L" '.state + " " + (.auth_en | tostring)')" = "auth_required true" ] &&
	pass "$N: --list --json: a device that asks for credentials since has auth_en true" ||
	fail "$N: auth turned on" "$(dj "$L" '{state, auth_en}')"
C2=$(dev_by_fixture gen2/plus-2pm/cover-mode)
[ "$(dj 0 .auth_en)" = true ] && [ "$(dj "$C" .auth_en)" = false ] &&
	[ "$(dj "$C2" .profile)" = cover ] &&
	pass "$N: --list --json: auth_en and profile as /shelly said them" ||
	fail "$N: auth_en, profile" "$(dj 0 '{auth_en, profile}') $(dj "$C2" '{auth_en, profile}')"
[ "$(dj "$H" .sleep_mode)" = true ] &&
	pass "$N: --list --json: a Gen1 H&T's sleep_mode is true" ||
	fail "$N: H&T sleep_mode" "$(dj "$H" '{sleep_mode, model}')"
exit 0
