#!/bin/sh
# Scheduled exports in --headless: every export-interval a file is written to export-dir, only
# the newest export-keep remain, and with export-git-dir the fleet is committed as fleet.toml
# when (and only when) it changed.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=exchange_schedule
command -v git >/dev/null 2>&1 || { fail "$N: needs git"; exit 0; }

NET=$(test_net $N)
DB=$T_TMP/db
CONF=$T_TMP/config
OUT=$T_TMP/exports
REPO=$T_TMP/repo
mkdir -p "$OUT" "$REPO"
"$SHELLY_TUI" --db "$DB" --poll-once >/dev/null 2>&1
# two devices on this test's loopback addresses, where nothing answers (they poll offline)
sq "$DB" "INSERT INTO devices (mac, id, gen, name, host, port) VALUES
 ('aabbccddee01', 'shellyplus1-aabbccddee01', 2, 'Porch', '$NET.1', 80),
 ('aabbccddee02', 'shellyplus1-aabbccddee02', 2, 'Cellar', '$NET.2', 80)"
# a desired configuration that no longer reads (a field renamed by an upgrade): left out of
# every export with a warning in the log, so that each export still imports
sq "$DB" "INSERT INTO config_desired (mac, body) VALUES ('aabbccddee02', 'gone.field = 1' || char(10))"
git -C "$REPO" init -q && git -C "$REPO" config user.name test && git -C "$REPO" config user.email test@invalid
hl_config "$CONF" "set export-interval 150ms" "set export-format toml" "set export-dir $OUT" \
	"set export-keep 3" "set export-git-dir $REPO"
if ! hl_start a "$DB" "$CONF"; then
	fail "$N: headless start" "$(cat "$(hl_err a)")"
	exit 0
fi
written() { grep -c 'export: wrote ' "$(hl_err a)"; }
commits() { git -C "$REPO" rev-list --count HEAD 2>/dev/null || echo 0; }
at_least() { [ "$($1)" -ge "$2" ]; }

wait_for 30 at_least written 6 && pass "$N: exports are written every interval" ||
	fail "$N: exports written" "$(written) $(tail -5 "$(hl_err a)")"
wait_for 30 at_least commits 1 && pass "$N: the first export is committed" ||
	fail "$N: first commit" "$(grep export "$(hl_err a)" | tail -5)"
# rename a device: the next export changes fleet.toml and is committed
sq "$DB" "UPDATE devices SET name = 'Porch \"front\"' WHERE mac = 'aabbccddee01'"
has_new_name() { git -C "$REPO" show HEAD:fleet.toml | grep -q 'name = "Porch \\"front\\""'; }
wait_for 30 has_new_name && pass "$N: a changed fleet is committed" ||
	fail "$N: second commit" "$(git -C "$REPO" log --oneline | head -3)"
n_before=$(written)
wait_for 30 at_least written $((n_before + 3)) || fail "$N: exports go on"
hl_stop a
[ "$HL_RC" = 0 ] || fail "$N: headless exit" "rc=$HL_RC"

# rotation: exactly the three newest files are left
ls "$OUT" | grep -c '^shelly-fleet-.*\.toml$' >"$T_TMP/count"
grep 'export: wrote ' "$(hl_err a)" | sed 's|.*export: wrote ||' | tail -n 3 | xargs -n1 basename >"$T_TMP/newest"
ls "$OUT" >"$T_TMP/left"
if [ "$(cat "$T_TMP/count")" = 3 ] && cmp -s "$T_TMP/newest" "$T_TMP/left"; then
	pass "$N: only the newest export-keep files remain ($(written) written)"
else
	fail "$N: rotation" "left: $(cat "$T_TMP/left") newest: $(cat "$T_TMP/newest")"
fi
# one commit per change, none for the unchanged exports in between
[ "$(commits)" = 2 ] && pass "$N: unchanged exports make no commit" || fail "$N: commit count" "$(commits)"
"$SHELLY_TUI" --db "$T_TMP/check.db" --import "$OUT/$(tail -n 1 "$T_TMP/newest")" --dry-run >/dev/null 2>&1 &&
	pass "$N: a scheduled export imports" || fail "$N: import of a scheduled export"
# logged once, not again by each of the exports (and commits) that leave out the same
[ "$(grep -c 'export: desired configuration of aabbccddee02: left out: line 1: gone.field' "$(hl_err a)")" = 1 ] &&
	pass "$N: what an export leaves out is logged, once" || fail "$N: left out logged" "$(grep export "$(hl_err a)" | tail -3)"
exit 0
