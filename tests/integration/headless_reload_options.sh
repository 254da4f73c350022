#!/bin/sh
# SIGHUP applies every option a running poller can change without a restart (the man page
# lists those that need one): here log-level, flush-interval and json-max-depth, each of which
# used to be read once at start. A file that a start refuses (lease-heartbeat not under half
# of lease-timeout, a bind line naming an unknown view) is refused by the reload too, with the
# old configuration kept, instead of being taken and failing the next start. An option that
# needs a restart says so when a reload changes it (not when the command line sets it). A
# shorter poll interval applies at once: no device waits out the old, longer one first.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=headless_reload_options
sim_up $N --models gen2/plus-1pm --count 1
DB=$T_TMP/shelly.db
CONF=$T_TMP/config
hl_add "$DB" 0 || { fail "$N: --add" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
M0=$(mac_of 0)
hl_config "$CONF" "set flush-interval 10m" "set log-level error"
hl_start a "$DB" "$CONF" || { fail "$N: --headless start" "$(cat "$(hl_err a)")"; exit 1; }
up() { [ "$(hl_metric a "shelly_device_up{mac=\"$M0\"}")" = "$1" ]; }
wait_for 30 up 1 || fail "$N: polled" "$(cat "$(hl_err a)")"
stored() { [ "$(sq "$DB" "SELECT count(*) FROM status WHERE mac = '$M0' AND state = '$1'")" = 1 ]; }
stored online && fail "$N: flush-interval 10m: nothing is written before the reload" "a status row"

# json-max-depth comes in a second reload: with both at once a poll under the new depth could
# replace the queued online result before the first flush, as a loaded machine orders it.
hl_config "$CONF" "set flush-interval 100ms" "set log-level debug"
kill -HUP "$(hl_pid a)"
wait_for 30 stored online && pass "$N: SIGHUP applies flush-interval (results written)" ||
	fail "$N: SIGHUP applies flush-interval (results written)" "$(sq "$DB" 'SELECT mac, state FROM status')"
wait_for 30 grep -q 'SIGHUP: configuration and registry reloaded' "$(hl_err a)" &&
	pass "$N: SIGHUP applies log-level (info lines appear)" ||
	fail "$N: SIGHUP applies log-level (info lines appear)" "$(cat "$(hl_err a)")"
hl_config "$CONF" "set flush-interval 100ms" "set log-level debug" "set json-max-depth 1"
kill -HUP "$(hl_pid a)"
wait_for 40 stored error && sq "$DB" "SELECT error FROM status WHERE mac = '$M0'" | grep -q 'nested deeper than 1' &&
	pass "$N: SIGHUP applies json-max-depth (the status is bad_json)" ||
	fail "$N: SIGHUP applies json-max-depth (the status is bad_json)" "$(sq "$DB" 'SELECT mac, state, error FROM status')"

# each bad file: refused by a start (usage error), then by the reload, which says so
refused() {
	hl_config "$CONF" "set flush-interval 100ms" "set log-level debug" "set json-max-depth 1" "$1"
	"$SHELLY_TUI" --db "$DB" --config "$CONF" --headless --listen 127.0.0.1:0 >/dev/null 2>&1
	[ $? = 2 ] || fail "$N: a start refuses \"$1\"" "exit status not 2"
	kill -HUP "$(hl_pid a)"
	wait_for 30 grep -q "SIGHUP: configuration not reloaded: .*$2" "$(hl_err a)" &&
		pass "$N: SIGHUP refuses what a start refuses: $1" ||
		fail "$N: SIGHUP refuses \"$1\"" "$(grep SIGHUP "$(hl_err a)" | tail -n 2)"
}
refused "set lease-heartbeat 600ms" "lease-heartbeat (600 ms) must be shorter"
refused "bind nosuchview x quit" "bind: unknown view"
hl_config "$CONF" "set flush-interval 100ms" "set log-level debug" "set json-max-depth 1" \
	"set lease-timeout 3s" "set db $T_TMP/other.db"
kill -HUP "$(hl_pid a)"
wait_for 30 grep -q 'SIGHUP: lease-timeout changed: restart to apply' "$(hl_err a)" &&
	! grep -q 'SIGHUP: db changed' "$(hl_err a)" &&
	pass "$N: a reload that changes lease-timeout says it needs a restart (db: --db wins)" ||
	fail "$N: restart-only options" "$(grep SIGHUP "$(hl_err a)" | tail -n 3)"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: exits 0" || fail "$N: exit" "rc=$HL_RC $(tail -3 "$(hl_err a)")"

# 1 h between polls (the first one somewhere in the first half hour), then a reload to 200 ms
hl_config "$CONF" "set poll-interval-gen1 1h" "set poll-interval-gen2 1h"
hl_start b "$DB" "$CONF" || { fail "$N: --headless start (intervals)" "$(cat "$(hl_err b)")"; exit 1; }
hl_config "$CONF"
kill -HUP "$(hl_pid b)"
polled() { [ "$(hl_metric b shelly_polls_total)" -ge 2 ] 2>/dev/null; }
wait_for 30 polled && pass "$N: SIGHUP applies a shorter poll interval at once" ||
	fail "$N: shorter poll interval" "polls: $(hl_metric b shelly_polls_total)"
hl_stop b
[ "$HL_RC" = 0 ] || fail "$N: exit (intervals)" "rc=$HL_RC"
