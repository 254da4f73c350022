#!/bin/sh
# Scheduled exports in --headless: every export-interval a file is written to export-dir, only
# the newest export-keep remain, and with export-git-dir the fleet is committed as fleet.toml
# when (and only when) it changed. git (and so its hooks) never gets the device password the
# poller was started with (SHELLY_TUI_PASSWORD).
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
git -C "$REPO" init -q && git -C "$REPO" config user.name test && git -C "$REPO" config user.email test@invalid
# a hook of the repository sees what git was given
printf '#!/bin/sh\nenv >"%s"\n' "$T_TMP/hook.env" >"$REPO/.git/hooks/post-commit"
chmod 755 "$REPO/.git/hooks/post-commit"
hl_config "$CONF" "set export-interval 150ms" "set export-format toml" "set export-dir $OUT" \
	"set export-keep 3" "set export-git-dir $REPO"
if ! SHELLY_TUI_PASSWORD=Hook-zz-Pw9 hl_start a "$DB" "$CONF"; then
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
wait_for 30 test -s "$T_TMP/hook.env" && ! grep -q 'Hook-zz-Pw9' "$T_TMP/hook.env" &&
	pass "$N: git and its hooks never get SHELLY_TUI_PASSWORD" ||
	fail "$N: password in git's environment" "$(grep SHELLY_TUI "$T_TMP/hook.env")"
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
exit 0
