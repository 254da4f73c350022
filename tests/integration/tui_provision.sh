#!/bin/sh
# The console's provisioning view, in a private tmux server: a --headless manager holds the
# poller lease and serves the agent API; a fake agent (curl) registers and reports two Shelly
# access points; the console, reading the same database, lists them (W), marks one (Space) and
# queues a task for it (p: network, WiFi key file, no template, device name, device password
# file, AP off) as --provision would; the claim reply carries them to the agent; the task's
# progress and its failure with the reason then show in the view as the agent reports. A second
# task is cancelled with c (asks the id, then confirms; n leaves it alone). Two marked access
# points, one of a device whose task has not ended, queue nothing; two names of one device,
# refused only when queued, queue nothing either (all or none).
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
. tests/integration/lib_tui.sh

N=tui_provision
unset SHELLY_TUI_PASSWORD NO_COLOR
DB=$T_TMP/db
CONF=$T_TMP/config
hl_config "$CONF" "set discover-mdns off" "set agent-lease 60s"
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }
URL="http://127.0.0.1:$(hl_port a)"
post() { curl -s -m 5 -X POST "$URL/api/v1/$1" ${3:+-H "Authorization: Bearer $3"} -d "$2"; }
secret=$("$SHELLY_TUI" --db "$DB" --config "$CONF" --agent-enrol 2>/dev/null)
TOKEN=$(post register "{\"secret\":\"$secret\",\"name\":\"fake-agent\"}" | jq -r .token)
[ -n "$TOKEN" ] && [ "$TOKEN" != null ] || { fail "$N: register" "no token"; exit 1; }
post aps '{"aps":[{"ssid":"shelly1-A1B2C3","rssi":-40},{"ssid":"ShellyPlus1PM-A8032AB12345","rssi":-60}]}' \
	"$TOKEN" >/dev/null
KEY='tui-key-24680'
printf '%s\n' "$KEY" >"$T_TMP/key"
chmod 600 "$T_TMP/key"
PASS='tui-dev-pass-97531'
printf '%s\n' "$PASS" >"$T_TMP/pass"
chmod 600 "$T_TMP/pass"

tui_console 130 34 'fleet 0' --db $DB --config $CONF
tui_keys W
if tui_wait 10 'access points seen by agents: 2' && tui_wait 5 'shelly1-A1B2C3 +agent ' &&
	tui_wait 5 'ShellyPlus1PM-A8032AB12345'; then
	pass "$N: W lists the access points the agent reported"
else
	fail "$N: W lists the access points the agent reported" "$(tui_why 'access points seen by agents: 2')"
fi
# The list is sorted by the store; mark the one named shelly1-A1B2C3 wherever it is.
row=$(grep -n 'shelly1-A1B2C3 *agent' "$T_TMP/screen" | head -1 | cut -d: -f1)
first=$(grep -n -E '(shelly1-A1B2C3|ShellyPlus1PM-A8032AB12345) +agent' "$T_TMP/screen" | head -1 | cut -d: -f1)
[ "$row" != "$first" ] && tui_keys Down
tui_keys Space
tui_wait 5 'marked 1' && tui_wait 5 '\* shelly1-A1B2C3' || fail "$N: Space marks" "$(tui_why 'marked 1')"
tui_keys p
tui_step 5 'Network \(SSID\)' "p asks the network"
tui_type home
tui_keys Enter
tui_step 5 'File with the WiFi key' "asks the key file"
tui_type "$T_TMP/key"
tui_keys Enter
tui_step 5 'Template' "asks the template"
tui_keys Enter
tui_step 5 'Device name' "asks the device name (one device)"
tui_type 'Kitchen Plug'
tui_keys Enter
tui_step 5 "File with the device's new password" "asks the password file"
tui_type "$T_TMP/pass"
tui_keys Enter
tui_step 5 'access point off afterwards' "asks about the AP"
tui_keys y
tui_step 10 '1 task\(s\) queued for home' "queued message"
"$SHELLY_TUI" --db "$DB" --config "$CONF" --tasks --json >"$T_TMP/tasks.json"
if [ "$(jq -r '.tasks | length' "$T_TMP/tasks.json")" = 1 ] &&
	[ "$(jq -r '.tasks[0].target' "$T_TMP/tasks.json")" = shelly1-A1B2C3 ] &&
	[ "$(jq -r '.tasks[0].network' "$T_TMP/tasks.json")" = home ] &&
	[ "$(jq -r '.tasks[0].state' "$T_TMP/tasks.json")" = queued ] &&
	[ "$(jq -r '.tasks[0].name' "$T_TMP/tasks.json")" = 'Kitchen Plug' ] &&
	[ "$(jq -r '.tasks[0].ap_off' "$T_TMP/tasks.json")" = true ] &&
	! grep -q "$PASS" "$T_TMP/tasks.json"; then
	pass "$N: p queued a task for the marked access point, as --provision does"
else
	fail "$N: p queued a task for the marked access point" "$(cat "$T_TMP/tasks.json")"
fi
tui_wait 5 'queued +shelly1-A1B2C3 +home' && pass "$N: the view shows the queued task" ||
	fail "$N: the view shows the queued task" "$(tui_why 'queued +shelly1-A1B2C3')"

# The agent claims it (the key travels in the claim reply), works, then fails it: the view follows.
claim=$(post claim '{}' "$TOKEN")
if [ "$(echo "$claim" | jq -r .task.key)" = "$KEY" ] && [ "$(echo "$claim" | jq -r .task.password)" = "$PASS" ] &&
	[ "$(echo "$claim" | jq -r .task.name)" = 'Kitchen Plug' ] && [ "$(echo "$claim" | jq -r .task.ap_off)" = true ]; then
	pass "$N: the agent gets the task with its key, password, name and AP off"
else
	fail "$N: the agent gets the task with its key, password, name and AP off" "$(echo "$claim" | jq -c 'del(.task.key, .task.password)')"
fi
ID=$(echo "$claim" | jq -r .task.id)
post progress "{\"task\":$ID,\"stage\":\"running\"}" "$TOKEN" >/dev/null
tui_wait 10 'running +shelly1-A1B2C3 +home +running' && pass "$N: the view shows the task running" ||
	fail "$N: the view shows the task running" "$(tui_why 'running')"
post result "{\"task\":$ID,\"reason\":\"failed: no device at 192.168.33.1\",\"retry\":false}" "$TOKEN" >/dev/null
tui_wait 10 'failed +shelly1-A1B2C3 .*failed: no device at 192.168.33.1' &&
	pass "$N: the view shows the failure and why" ||
	fail "$N: the view shows the failure and why" "$(tui_why 'failed')"
if grep -q -e "$KEY" -e "$PASS" "$T_TMP/screen"; then fail "$N: the secrets never show"; else pass "$N: the secrets never show"; fi

# c cancels a task: the newest one still open is offered, n keeps it, y cancels it.
"$SHELLY_TUI" --db "$DB" --config "$CONF" --provision ShellyPlus1PM-A8032AB12345 --network home >/dev/null
ID2=$("$SHELLY_TUI" --db "$DB" --config "$CONF" --tasks --json | jq -r '.tasks[] | select(.state == "queued") | .id')
tui_step 10 "queued +ShellyPlus1PM-A8032AB12345" "the second task shows"
tui_keys c
tui_step 5 "Cancel task \\(id\\): *$ID2" "c offers the open task"
tui_keys Enter
tui_step 5 "Cancel task $ID2 \\(ShellyPlus1PM-A8032AB12345, queued\\)\\? \\[y/N\\]" "c asks first"
tui_keys n
tui_wait_not 5 'Cancel task .*y/N' || fail "$N: n closes the question" "$(tui_why 'no question')"
state2() { "$SHELLY_TUI" --db "$DB" --config "$CONF" --tasks --json | jq -r ".tasks[] | select(.id == $ID2) | .state"; }
[ "$(state2)" = queued ] && pass "$N: answering n leaves the task alone" || fail "$N: answering n leaves the task alone" "$(state2)"
tui_keys c
tui_wait 5 "Cancel task \\(id\\): *$ID2" && tui_keys Enter
tui_wait 5 "Cancel task $ID2 .*\\[y/N\\]" && tui_keys y
if tui_wait 10 "task $ID2 cancelled" && [ "$(state2)" = cancelled ] && tui_wait 10 "cancelled +ShellyPlus1PM-A8032AB12345"; then
	pass "$N: c then y cancels the task, and the view shows it"
else
	fail "$N: c then y cancels the task" "$(state2) $(tui_why "task $ID2 cancelled")"
fi

# p for the marked access points (WHAT names them in the steps): network home, no key file, no
# template, no password file, the AP left on.
queue_marked() {
	tui_keys p
	tui_step 5 'Network \(SSID\)' "p asks the network for $1"
	tui_type home
	tui_keys Enter
	tui_step 5 'File with the WiFi key' "asks the key file for $1"
	tui_keys Enter
	tui_step 5 'Template' "asks the template for $1"
	tui_keys Enter
	tui_step 5 "File with the device's new password" "asks the password file for $1"
	tui_keys Enter
	tui_step 5 'access point off afterwards' "asks about the AP for $1"
	tui_keys n
}
# p checks every marked access point before it queues any, as --provision does: one whose
# device has a task that has not ended stops the batch, and nothing is queued.
"$SHELLY_TUI" --db "$DB" --config "$CONF" --provision ShellyPlus1PM-A8032AB12345 --network home >/dev/null
ntasks() { "$SHELLY_TUI" --db "$DB" --config "$CONF" --tasks --json | jq '.tasks | length'; }
before=$(ntasks)
tui_keys Home
tui_keys Space
tui_keys Space
tui_step 5 'marked 2' "Space marks both access points"
queue_marked two
tui_expect 10 'ShellyPlus1PM-A8032AB12345: task [0-9]+ for this device has not ended .*nothing queued' \
	"a batch with an open task's device is refused" \
	"a batch with an open task's device is refused" &&
	[ "$(ntasks)" = "$before" ] && pass "$N: ... and nothing of it is queued" ||
	fail "$N: ... and nothing of it is queued" "$before -> $(ntasks) $("$SHELLY_TUI" --db "$DB" --config "$CONF" --tasks)"

# A batch the store refuses only when it queues it (two access point names of one device, in
# other case: each is free on its own) is queued all or none: nothing, not the first of them.
"$SHELLY_TUI" --db "$DB" --config "$CONF" --task-cancel \
	"$("$SHELLY_TUI" --db "$DB" --config "$CONF" --tasks --json | jq -r '.tasks[] | select(.state == "queued") | .id')" >/dev/null
post aps '{"aps":[{"ssid":"ShellyPlus1PM-A8032AB12345","rssi":-60},{"ssid":"shellyplus1pm-a8032ab12345","rssi":-50}]}' \
	"$TOKEN" >/dev/null
tui_step 10 'access points seen by agents: 3' "the agent reports the device's AP name in other case"
before=$(ntasks)
# (newest first: the two names of the device, then shelly1-A1B2C3; marks are kept by name, so
# the device's first name and shelly1-A1B2C3 are marked from the batch above)
tui_keys Home
tui_keys Down
tui_keys Space
tui_keys Space
tui_step 5 'marked 2' "the device's two names are marked"
tui_wait 5 '\* shellyplus1pm-a8032ab12345' && tui_wait 5 '\* ShellyPlus1PM-A8032AB12345' ||
	fail "$N: the device's two names are marked" "$(tui_why 'marked 2')"
queue_marked 'the pair'
tui_expect 10 'task [0-9]+ for this device has not ended.*nothing queued' \
	"a batch naming one device twice is refused" \
	"a batch naming one device twice is refused" &&
	[ "$(ntasks)" = "$before" ] && pass "$N: ... and none of it is queued (not the first name)" ||
	fail "$N: ... and none of it is queued (not the first name)" "$before -> $(ntasks) $("$SHELLY_TUI" --db "$DB" --config "$CONF" --tasks)"
tui_keys q
tui_keys q
tui_step 10 'RESTORED rc=0' "console exit"
hl_stop a
