#!/bin/sh
# Scheduled exports in --headless: every export-interval a file is written to export-dir, only
# the newest export-keep remain, and with export-git-dir the fleet is committed as fleet.toml
# when (and only when) it changed. A reload (SIGHUP) does not postpone the next export: a
# poller reloaded more often than export-interval still exports. git (and so its hooks) never
# gets the device password the poller was started with (SHELLY_TUI_PASSWORD). /metrics shows
# when the last export succeeded and counts those that failed.
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
# (the poller writes every 150 ms: the update is tried again until the database takes it)
wait_for 30 sq "$DB" "UPDATE devices SET name = 'Porch \"front\"' WHERE mac = 'aabbccddee01'"
has_new_name() { git -C "$REPO" show HEAD:fleet.toml | grep -q 'name = "Porch \\"front\\""'; }
wait_for 60 has_new_name && pass "$N: a changed fleet is committed" ||
	fail "$N: second commit" "$(git -C "$REPO" log --oneline | head -3)"
n_before=$(written)
wait_for 30 at_least written $((n_before + 3)) || fail "$N: exports go on"
# /metrics: both targets succeed, the last file written within the last minute
hl_metrics a "$T_TMP/a.m"
ts=$(mval "$T_TMP/a.m" 'shelly_export_last_success_timestamp_seconds{target="dir"}')
now=$(($(now_ms) / 1000))
[ "$(mval "$T_TMP/a.m" 'shelly_export_last_success{target="dir"}')" = 1 ] &&
	[ "$(mval "$T_TMP/a.m" 'shelly_export_last_success{target="git"}')" = 1 ] &&
	[ "$(mval "$T_TMP/a.m" 'shelly_export_failures_total{target="dir"}')" = 0 ] &&
	[ "$(mval "$T_TMP/a.m" 'shelly_export_failures_total{target="git"}')" = 0 ] &&
	fle "$((now - 60))" "$ts" && fle "$ts" "$((now + 1))" &&
	pass "$N: /metrics: exports succeed, the last one at $ts" ||
	fail "$N: export metrics" "$(grep shelly_export "$T_TMP/a.m")"
if command -v promtool >/dev/null 2>&1; then
	out=$(promtool check metrics <"$T_TMP/a.m" 2>&1) && pass "$N: promtool check metrics" ||
		fail "$N: promtool" "$out"
fi
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

# export-git-dir alone does nothing: the log says what is missing
hl_config "$T_TMP/config.git" "set export-interval 150ms" "set export-git-dir $REPO"
if hl_start g "$DB" "$T_TMP/config.git"; then
	wait_for 30 grep -q "export-git-dir $REPO is not used: scheduled exports need export-interval and export-dir" \
		"$(hl_err g)" && pass "$N: export-git-dir without export-dir is logged as unused" ||
		fail "$N: export-git-dir alone" "$(head -n 5 "$(hl_err g)")"
	hl_stop g
else
	fail "$N: headless start (git only)" "$(cat "$(hl_err g)")"
fi

# An export-dir (and export-git-dir) that cannot be written: each failure is counted by
# target, the last result is 0 and no success time is shown, so an operator can alert on
# backups that stop being written.
: >"$T_TMP/afile"
hl_config "$T_TMP/config.bad" "set export-interval 150ms" "set export-dir $T_TMP/afile/exports" \
	"set export-git-dir $T_TMP/afile"
if hl_start f "$DB" "$T_TMP/config.bad"; then
	failed() { [ "$(hl_metric f "shelly_export_failures_total{target=\"$1\"}")" -ge "$2" ] 2>/dev/null; }
	wait_for 30 failed dir 3 && wait_for 30 failed git 3 && hl_metrics f "$T_TMP/f.m" &&
		[ "$(mval "$T_TMP/f.m" 'shelly_export_last_success{target="dir"}')" = 0 ] &&
		[ "$(mval "$T_TMP/f.m" 'shelly_export_last_success{target="git"}')" = 0 ] &&
		! grep -q '^shelly_export_last_success_timestamp_seconds{' "$T_TMP/f.m" &&
		pass "$N: /metrics: failed exports are counted, the last result is 0" ||
		fail "$N: failed export metrics" "$(grep shelly_export "$T_TMP/f.m") $(grep export "$(hl_err f)" | tail -n 2)"
	hl_stop f
else
	fail "$N: headless start (unwritable export-dir)" "$(cat "$(hl_err f)")"
fi

# Reloads more often than the interval, each changing export-keep (the schedule starts again):
# it keeps counting from its last export (or start), so exports still happen; before, every
# SIGHUP started the interval again.
OUT2=$T_TMP/exports2
mkdir -p "$OUT2"
# an older export of another format whose name also ends in .json: not this format's to delete
KEA=shelly-fleet-20000101T000000.000Z.kea.json
echo '{}' >"$OUT2/$KEA"
hl_config "$T_TMP/config2" "set export-interval 2s" "set export-format json" "set export-dir $OUT2" \
	"set export-keep 1"
if ! hl_start b "$DB" "$T_TMP/config2"; then
	fail "$N: headless start (reloads)" "$(cat "$(hl_err b)")"
	exit 0
fi
n_json() { grep -c 'export: wrote ' "$(hl_err b)"; }
end=$(($(now_ms) + 30000))
keep=1
while [ "$(n_json)" -lt 2 ] && [ "$(now_ms)" -lt "$end" ] && hl_alive b; do
	keep=$((3 - keep))
	hl_config "$T_TMP/config2" "set export-interval 2s" "set export-format json" \
		"set export-dir $OUT2" "set export-keep $keep"
	kill -HUP "$(hl_pid b)"
	sleep 0.4
done
n=$(n_json)
hl_stop b
[ -f "$OUT2/$KEA" ] && [ "$(ls "$OUT2" | grep -vc 'kea')" -le 2 ] &&
	pass "$N: rotation keeps to its format (a .kea.json file is not a json export)" ||
	fail "$N: rotation by format" "$(ls "$OUT2")"

reloads=$(grep -c 'SIGHUP: configuration and registry reloaded' "$(hl_err b)")
[ "$n" -ge 2 ] && pass "$N: reloads every 0.4 s do not postpone a 2 s export ($reloads reloads)" ||
	fail "$N: exports under reloads" "$n files after $reloads reloads: $(grep export "$(hl_err b)" | tail -3)"
[ "$HL_RC" = 0 ] || fail "$N: headless exit (reloads)" "rc=$HL_RC"

# A reload while git commits (a pre-commit hook that takes 6 s) leaves the unchanged schedule
# and its git run alone: the commit lands. It used to stop the schedule, wait 5 s for git with
# the loop stalled, then kill it.
REPO3=$T_TMP/repo3
mkdir -p "$REPO3" "$T_TMP/exports3"
git -C "$REPO3" init -q && git -C "$REPO3" config user.name test && git -C "$REPO3" config user.email test@invalid
printf '#!/bin/sh\nsleep 6\n' >"$REPO3/.git/hooks/pre-commit" && chmod +x "$REPO3/.git/hooks/pre-commit"
hl_config "$T_TMP/config3" "set export-interval 500ms" "set export-dir $T_TMP/exports3" \
	"set export-git-dir $REPO3"
if ! hl_start c "$DB" "$T_TMP/config3"; then
	fail "$N: headless start (git reload)" "$(cat "$(hl_err c)")"
	exit 0
fi
wait_for 30 grep -q 'export: wrote ' "$(hl_err c)" || fail "$N: first export (git reload)" "$(tail -n 3 "$(hl_err c)")"
end=$(($(now_ms) + 40000))
while ! grep -q "export: committed $REPO3" "$(hl_err c)" && [ "$(now_ms)" -lt "$end" ] && hl_alive c; do
	kill -HUP "$(hl_pid c)"
	sleep 1
done
hl_stop c
grep -q "export: committed $REPO3" "$(hl_err c)" && ! grep -q 'git did not finish' "$(hl_err c)" &&
	pass "$N: reloads during a slow commit leave it alone (it lands)" ||
	fail "$N: commit under reloads" "$(grep -E 'export|git' "$(hl_err c)" | tail -n 4)"
exit 0
