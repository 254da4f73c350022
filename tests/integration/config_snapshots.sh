# A device's configuration history: --snapshots lists what the database keeps (id, time,
# cfg_rev, source; --json; a read equal to the newest snapshot adds none), --snapshot ID shows one, --config-restore brings the device back to
# it through the apply path (dry run first, then written and read back, audited). Gen1 and Gen2+.
. tests/lib.sh
. tests/sim/simlib.sh
. tests/integration/lib_headless.sh

N=config_snapshots
sim_up $N --fixtures tests/fixtures --models gen1/shelly-1,gen3/1pm-gen3 --count 2
DB="$T_TMP/s.db"
tui() { "$SHELLY_TUI" --db "$DB" --timeout 3 "$@"; }
hl_add "$DB" 0 --name g1 && hl_add "$DB" 1 --name plus || { fail "$N: --add" "$(cat "$T_TMP/add.err")"; exit 1; }
st() { curl -s -m 3 "$(hl_url "$1" "$2")"; }

tui --snapshots g1 >"$T_TMP/none"
[ $? = 0 ] && grep -q '^no snapshots$' "$T_TMP/none" && pass "$N: no snapshots yet" || fail "$N: empty" "$(cat "$T_TMP/none")"

# history_of I DEV FIELD NEW GETPATH JQ REVTYPE: read, change FIELD to NEW, list (cfg_rev of
# REVTYPE: Gen1 /settings carries none), show the first snapshot, restore it.
history_of() {
	i=$1 dev=$2 field=$3 new=$4 path=$5 q=$6 revtype=$7
	orig=$(st "$i" "$path" | jq -r "$q")
	tui --config-get "$dev" >/dev/null && tui --config-set "$field=$new" "$dev" >/dev/null 2>&1
	[ "$(st "$i" "$path" | jq -r "$q")" = "$new" ] || { fail "$N: $dev: set" "$(st "$i" "$path")"; return; }
	tui --snapshots "$dev" --json >"$T_TMP/$dev.json"
	rc=$?
	first=$(jq -r '.snapshots[-1].id' "$T_TMP/$dev.json")
	[ $rc = 0 ] && [ "$(jq -r '.mac' "$T_TMP/$dev.json")" = "$(mac_of "$i")" ] &&
		[ "$(jq -r '[.snapshots[].source] | join(",")' "$T_TMP/$dev.json")" = "read-back,config-get" ] &&
		[ "$(jq -r '[.snapshots[] | .cfg_rev | type] | unique | join(",")' "$T_TMP/$dev.json")" = "$revtype" ] &&
		[ "$(jq -r '[.snapshots[].time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$")] | all' "$T_TMP/$dev.json")" = true ] &&
		[ "$(jq -r '.snapshots[0].id > .snapshots[-1].id' "$T_TMP/$dev.json")" = true ] &&
		pass "$N: $dev: --snapshots --json lists id, time, cfg_rev and source, newest first" ||
		fail "$N: $dev: list" "rc=$rc $(cat "$T_TMP/$dev.json")"
	tui --snapshots "$dev" >"$T_TMP/$dev.txt"
	[ "$(wc -l <"$T_TMP/$dev.txt")" = 2 ] && grep -q "^$first .*config-get\$" "$T_TMP/$dev.txt" &&
		pass "$N: $dev: --snapshots text, one line each" || fail "$N: $dev: text" "$(cat "$T_TMP/$dev.txt")"
	# reading an unchanged configuration again (the set's "before" above too) adds no snapshot
	tui --config-get "$dev" >/dev/null && tui --config-get "$dev" >/dev/null &&
		tui --drift "$dev" >/dev/null 2>&1
	[ "$(tui --snapshots "$dev" --json | jq -r '[.snapshots[].id] | join(",")')" = "$(jq -r '[.snapshots[].id] | join(",")' "$T_TMP/$dev.json")" ] &&
		pass "$N: $dev: reads of an unchanged configuration add no snapshot" ||
		fail "$N: $dev: repeated reads" "$(tui --snapshots "$dev")"
	tui --snapshots "$dev" --snapshot "$first" >"$T_TMP/$dev.one"
	tui --snapshots "$dev" --snapshot "$first" --json >"$T_TMP/$dev.one.json"
	grep -q "^$field = $orig\$" "$T_TMP/$dev.one" &&
		[ "$(jq -r ".snapshot.config[\"$field\"] | tostring" "$T_TMP/$dev.one.json")" = "$orig" ] &&
		pass "$N: $dev: --snapshot ID shows that snapshot's fields" || fail "$N: $dev: show" "$(cat "$T_TMP/$dev.one")"
	tui --config-restore "$dev" --snapshot "$first" --dry-run >"$T_TMP/$dev.dry"
	[ $? = 0 ] && grep -q "$field: $new -> $orig" "$T_TMP/$dev.dry" &&
		[ "$(st "$i" "$path" | jq -r "$q")" = "$new" ] &&
		pass "$N: $dev: --config-restore --dry-run lists the change, sends nothing" || fail "$N: $dev: dry" "$(cat "$T_TMP/$dev.dry")"
	tui --config-restore "$dev" --snapshot "$first" >"$T_TMP/$dev.rs"
	rc=$?
	[ $rc = 0 ] && grep -q ": ok: 1 field(s) set and verified" "$T_TMP/$dev.rs" &&
		[ "$(st "$i" "$path" | jq -r "$q")" = "$orig" ] &&
		[ "$(sq "$DB" "select count(*) from audit where action = 'config-restore' and target = '$(mac_of "$i")' and result = 'ok'")" = 1 ] &&
		pass "$N: $dev: --config-restore writes, verifies and audits" || fail "$N: $dev: restore" "rc=$rc $(cat "$T_TMP/$dev.rs")"
}
history_of 0 g1 sntp.server ntp.example.lan /settings .sntp.server null
# (not a timer delay: the delay of a timer that is off is not compared, so not restored)
history_of 1 plus switch:0.power_limit_w 77 /rpc/Switch.GetConfig?id=0 .power_limit number

tui --snapshots g1 --snapshot 999999 2>"$T_TMP/e1"
[ $? = 1 ] && grep -q "has no snapshot 999999" "$T_TMP/e1" && pass "$N: unknown snapshot id" || fail "$N: unknown id" "$(cat "$T_TMP/e1")"
tui --config-restore g1 2>"$T_TMP/e2"
[ $? = 2 ] && grep -q "give --snapshot ID" "$T_TMP/e2" && pass "$N: --config-restore needs --snapshot" || fail "$N: no id" "$(cat "$T_TMP/e2")"
tui --snapshots nosuchdevice 2>/dev/null
[ $? = 2 ] && pass "$N: unknown device is a usage error" || fail "$N: unknown device"
tui --config-restore plus --snapshot "$(tui --snapshots g1 --json | jq -r '.snapshots[0].id')" 2>"$T_TMP/e3"
[ $? = 1 ] && grep -q "has no snapshot" "$T_TMP/e3" && pass "$N: another device's snapshot is refused" || fail "$N: cross-device" "$(cat "$T_TMP/e3")"
exit $T_FAILED
