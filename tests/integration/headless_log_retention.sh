# --headless deletes events and audit records older than events-retention (default 90 days)
# and audit-retention (default 365 days) with its history pruning; 0 keeps them forever.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

N=headless_log_retention
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm --count 1
# Pruning runs once per history-bucket: 1s, so that a late lease costs a second, not minutes.
hl_fleet "set history-bucket 1s"
DAY=86400000
ago() { echo $(( $(now_ms) - $1 * DAY )); }
old_event() { sq "$DB" "INSERT INTO events (ts, mac, kind, detail) VALUES ($(ago "$1"), '$(mac_of 0)', 'online', '$2')"; }
old_audit() { sq "$DB" "INSERT INTO audit (ts, who, action, target, result) VALUES ($(ago "$1"), 'cli', 'rename', '$(mac_of 0)', '$2')"; }
n_event() { sq "$DB" "SELECT count(*) FROM events WHERE detail = '$1'"; }
n_audit() { sq "$DB" "SELECT count(*) FROM audit WHERE result = '$1'"; }

# Defaults: events of 100 days go, of 10 days stay; audit of 400 days goes, of 100 days stays.
old_event 100 e100
old_event 10 e10
old_audit 400 a400
old_audit 100 a100
hl_start a "$DB" "$CONF" || { fail "$N: --headless" "$(cat "$(hl_err a)")"; exit 1; }
pruned() { [ "$(n_event e100)" = 0 ] && [ "$(n_audit a400)" = 0 ]; }
wait_for 20 pruned && pass "$N: events older than 90 days and audit older than 365 days are deleted" ||
	fail "$N: default retention" "e100 $(n_event e100), a400 $(n_audit a400)"
[ "$(n_event e10)" = 1 ] && [ "$(n_audit a100)" = 1 ] &&
	pass "$N: newer events and audit records stay" ||
	fail "$N: newer rows" "e10 $(n_event e10), a100 $(n_audit a100)"
hl_stop a

# events-retention 0 keeps events forever: once an old audit record is gone (pruning ran),
# an event of 1000 days is still there.
hl_config "$CONF" "set history-bucket 1s" "set events-retention 0" "set audit-retention 30d"
old_event 1000 e1000
old_audit 40 a40
hl_start b "$DB" "$CONF" || { fail "$N: second --headless" "$(cat "$(hl_err b)")"; exit 1; }
ran() { [ "$(n_audit a40)" = 0 ]; }
wait_for 20 ran && [ "$(n_event e1000)" = 1 ] && [ "$(n_audit a100)" = 0 ] &&
	pass "$N: events-retention 0 keeps events; audit-retention 30d deletes older audit" ||
	fail "$N: configured retention" "e1000 $(n_event e1000), a40 $(n_audit a40), a100 $(n_audit a100)"
hl_stop b
[ "$HL_RC" = 0 ] && pass "$N: SIGTERM exits 0" || fail "$N: exit" "rc=$HL_RC"
sim_stop
exit 0
