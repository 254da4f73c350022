# Secrets in a configuration apply (they are write-only: a device never returns them): a write
# that fails after a secret was sent is not "restored" (the secret's old value is unknown), a
# secret in the request that failed is not counted as sent, the result sentence reads well when
# only a secret changed, and an offline device never gets a change with a secret queued (the
# queue is in the database, which never holds a secret).
. tests/lib.sh
. tests/sim/simlib.sh

N=config_secrets
export XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
if ! sim_start $N --fixtures tests/fixtures --models gen3/1pm-gen3 --count 2; then
	fail "$N: start" "$(cat "$SIM_ERR")"
	exit 1
fi
G0=$(mf '.devices[0] | "\(.addr):\(.port)"')
G1=$(mf '.devices[1] | "\(.addr):\(.port)"')
DB=$XDG_DATA_HOME/shelly-tui/shelly.db
st() { curl -s -m 3 "http://$1$2"; }
tui() { "$SHELLY_TUI" --timeout 5 "$@"; }
tz_delay() { st "$1" /rpc/Shelly.GetConfig | jq -r '.sys.location.tz, .["switch:0"].auto_off_delay' | tr '\n' ' '; }
secret_of() { ctl GET "/devices/$1/secrets" | jq -r ".\"$2\""; }

tui --add "$G0" --name plus0 -q >/dev/null 2>"$T_TMP/add.err" || fail "$N: --add" "$(cat "$T_TMP/add.err")"

# --- a write that fails after the secret was sent: failed, not restored ---
before=$(tz_delay "$G0")
ctl POST /devices/0/config-fail '{"after":2}' >/dev/null
tui --config-set mqtt.pass=s3cretNEW sys.timezone=Asia/Tokyo switch:0.auto_off_delay_s=45 "$G0" --json \
	>"$T_TMP/h1.json" 2>"$T_TMP/h1.err"
rc=$?
msg=$(jq -r '.devices[0].message' "$T_TMP/h1.json")
if [ $rc = 1 ] && [ "$(jq -r '.devices[0].result' "$T_TMP/h1.json")" = failed ] &&
	printf '%s' "$msg" | grep -q '; the other fields were restored; 1 secret(s) already sent could not be restored (their old value is unknown)$' &&
	! printf '%s' "$msg" | grep -q 'previous configuration was restored' &&
	[ "$(secret_of 0 mqtt.pass)" = s3cretNEW ] && [ "$(tz_delay "$G0")" = "$before" ]; then
	pass "$N: a secret sent before the failing write: result failed, the message says it could not be restored"
else
	fail "$N: half-way after a secret" "rc=$rc $(cat "$T_TMP/h1.json" "$T_TMP/h1.err") secret=$(secret_of 0 mqtt.pass)"
fi
grep -q s3cretNEW "$T_TMP/h1.json" "$T_TMP/h1.err" && fail "$N: the secret was printed" || pass "$N: the secret is never printed"
[ "$(sqlite3 "$DB" "SELECT group_concat(result) FROM audit WHERE action = 'config-set' AND detail LIKE '%Switch.SetConfig failed%'" 2>&1)" = failed ] &&
	pass "$N: audited as failed" || fail "$N: audit" "$(sqlite3 "$DB" 'SELECT action, result, detail FROM audit' 2>&1)"

# --- the secret is in the request that fails: not sent, so the rest is restored ---
ctl POST /devices/0/config-fail '{"after":1}' >/dev/null
tui --config-set mqtt.pass=s3cretTWO sys.timezone=Asia/Tokyo switch:0.auto_off_delay_s=45 "$G0" --json \
	>"$T_TMP/h2.json" 2>"$T_TMP/h2.err"
rc=$?
if [ $rc = 1 ] && [ "$(jq -r '.devices[0].result' "$T_TMP/h2.json")" = restored ] &&
	jq -r '.devices[0].message' "$T_TMP/h2.json" | grep -q '; the previous configuration was restored$' &&
	[ "$(secret_of 0 mqtt.pass)" = s3cretNEW ] && [ "$(tz_delay "$G0")" = "$before" ]; then
	pass "$N: a secret in the failing request was not sent: the previous configuration is restored"
else
	fail "$N: half-way at the secret" "rc=$rc $(cat "$T_TMP/h2.json" "$T_TMP/h2.err") secret=$(secret_of 0 mqtt.pass)"
fi

# --- only a secret changes: no "0 field(s) set and verified" ---
tui --config-set mqtt.pass=s3cretONE "$G0" >"$T_TMP/s1" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q ': ok: 1 secret(s) sent (a device never reads them back)' "$T_TMP/s1" &&
	! grep -q 'field(s) set' "$T_TMP/s1" && [ "$(secret_of 0 mqtt.pass)" = s3cretONE ]; then
	pass "$N: only a secret: '1 secret(s) sent', no field count"
else
	fail "$N: only a secret" "rc=$rc $(cat "$T_TMP/s1")"
fi
tui --config-set mqtt.pass=s3cretONE switch:0.auto_off_delay_s=46 "$G0" >"$T_TMP/s2" 2>&1
rc=$?
[ $rc = 0 ] && grep -q ': ok: 1 field(s) set and verified, 1 secret(s) sent (a device never reads them back)' "$T_TMP/s2" &&
	pass "$N: a field and a secret: both counted, apart" || fail "$N: field and secret" "rc=$rc $(cat "$T_TMP/s2")"

# --- offline: a change with a secret is not queued, and says so ---
tui --add "$G1" --name plus1 -q >/dev/null 2>"$T_TMP/add.err" || fail "$N: --add" "$(cat "$T_TMP/add.err")"
ctl POST /devices/1/fault '{"fault":"closed"}' >/dev/null
tui --config-set mqtt.pass=s3cretOFF sys.timezone=Asia/Tokyo plus1 --json >"$T_TMP/q1.json" 2>"$T_TMP/q1.err"
rc=$?
tui --pending --json >"$T_TMP/p1.json" 2>&1
if [ $rc = 1 ] && [ "$(jq -r '.devices[0].result' "$T_TMP/q1.json")" != queued ] &&
	jq -r '.devices[0].message' "$T_TMP/q1.json" |
	grep -q '1 secret(s) not queued: a queued change never holds a secret; apply again when the device is online' &&
	[ "$(jq -r '.pending | length' "$T_TMP/p1.json")" = 0 ]; then
	pass "$N: offline with a secret: nothing queued, the message says why"
else
	fail "$N: offline with a secret" "rc=$rc $(cat "$T_TMP/q1.json" "$T_TMP/q1.err" "$T_TMP/p1.json")"
fi
tui --config-set mqtt.pass=s3cretOFF plus1 >"$T_TMP/q2" 2>&1
rc=$?
[ $rc = 1 ] && grep -q '1 secret(s) not queued' "$T_TMP/q2" && ! grep -q 'is queued' "$T_TMP/q2" &&
	[ "$(tui --pending --json 2>&1 | jq -r '.pending | length')" = 0 ] &&
	pass "$N: offline, only a secret: nothing queued" || fail "$N: offline, only a secret" "rc=$rc $(cat "$T_TMP/q2")"
# (without a secret the change still waits in the queue)
tui --config-set sys.timezone=Asia/Tokyo plus1 >"$T_TMP/q3" 2>&1
rc=$?
[ $rc = 0 ] && grep -q 'queued' "$T_TMP/q3" && [ "$(tui --pending --json 2>&1 | jq -r '.pending | length')" = 1 ] &&
	pass "$N: offline without a secret: queued" || fail "$N: offline, no secret" "rc=$rc $(cat "$T_TMP/q3")"
ctl POST /devices/1/fault '{"fault":"none"}' >/dev/null
n=$(sqlite3 "$DB" ".dump" 2>&1 | grep -c 's3cret')
[ "$n" = 0 ] && pass "$N: no secret in the database" || fail "$N: the database holds a secret" "$n line(s)"
sim_stop
