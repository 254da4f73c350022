# Helpers for tests that play a provisioning agent with curl against the agent API of a
# running --headless, sourced after tests/lib.sh. Not a test itself (tests/run.sh skips lib*.sh).
#
#   aa_start N CONF-LINE... manager "a" (lib_headless) on $DB=$T_TMP/db with $CONF (no mDNS
#                         and the lines given), then aa_init; exits the test N when it cannot
#   aa_init DB CONF URL   tui (shelly-tui on DB and CONF) and post; enrols and registers an
#                         agent, its bearer token into TOKEN (returns 1 when that fails)
#   post PATH BODY [TOKEN] POST BODY to URL/api/v1/PATH, the reply on stdout
#   aa_seen TARGET...     reports the access points of TARGETs (an SSID, or a MAC: the Gen2+
#                         SSID ending in it) seen: the manager hands an agent only those tasks
#   aa_configure MAC      reports MAC's access point, claims the next task and reports it running, then configured as MAC;
#                         prints the state the manager answered, the task id into $T_TMP/id.MAC
#   aa_field ID KEY       KEY of task ID in --tasks --json
#   aa_waiting NAME MAC   a task for MAC (--provision), claimed and configured: its id into ID;
#                         pass/fail "NAME: the configured task waits (verifying)"; exits when
#                         --provision fails

aa_init() {
	AA_DB=$1 AA_CONF=$2 AA_URL=$3
	_secret=$(tui --agent-enrol 2>/dev/null)
	TOKEN=$(post register "{\"secret\":\"$_secret\",\"name\":\"curl\"}" | jq -r .token)
	[ -n "$TOKEN" ] && [ "$TOKEN" != null ]
}
aa_start() {
	_n=$1; shift
	DB=$T_TMP/db CONF=$T_TMP/config
	hl_config "$CONF" "set discover-mdns off" "$@"
	hl_start a "$DB" "$CONF" || { fail "$_n: headless start" "$(cat "$(hl_err a)")"; exit 1; }
	aa_init "$DB" "$CONF" "http://127.0.0.1:$(hl_port a)" || { fail "$_n: register" "no token"; exit 1; }
}
tui() { "$SHELLY_TUI" --db "$AA_DB" --config "$AA_CONF" "$@"; }
post() { curl -s -m 5 -X POST "$AA_URL/api/v1/$1" ${3:+-H "Authorization: Bearer $3"} -d "$2"; }
aa_seen() {
	_aps=""
	for _t in "$@"; do
		case "$_t" in
		[Ss][Hh][Ee][Ll][Ll][Yy]*) _s=$_t ;;
		*) _s="ShellyPlus1-$(printf '%s' "$_t" | tr -d ':-' | tr a-f A-F)" ;;
		esac
		_aps="$_aps${_aps:+,}{\"ssid\":\"$_s\"}"
	done
	post aps "{\"aps\":[$_aps]}" "$TOKEN" >/dev/null
}
aa_configure() {
	aa_seen "$1"
	_id=$(post claim '{}' "$TOKEN" | jq -r .task.id)
	post progress "{\"task\":$_id,\"stage\":\"running\"}" "$TOKEN" >/dev/null
	post progress "{\"task\":$_id,\"stage\":\"configured\",\"mac\":\"$1\"}" "$TOKEN" | jq -r .state
	echo "$_id" >"$T_TMP/id.$1"
}
aa_field() { tui --tasks --json | jq -r ".tasks[] | select(.id == $1) | .$2"; }
aa_waiting() {
	tui --provision "$2" --network home >/dev/null || { fail "$1: --provision"; exit 1; }
	_st=$(aa_configure "$2")
	ID=$(cat "$T_TMP/id.$2")
	if [ "$_st" = verifying ]; then
		pass "$1: the configured task waits (verifying)"
	else
		fail "$1: the configured task waits (verifying)" "$_st"
	fi
}
