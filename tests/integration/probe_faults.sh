# shelly-tui --probe against every fault of shelly-sim, on a Gen2 (Plus 1PM) and a Gen1 (Plug S)
# device each: exit status, state and error class of --json, and the time taken (bounded by the
# --timeout given plus 2 s plus what a healthy probe of the device took just before; measured,
# never slept). What a real client should do:
#   silent, noanswer, slow (longer than the timeout)  exit 1, offline, timeout
#   closed                                            exit 1, offline, refused
#   reset                                             exit 1, offline, reset
#   http500                                           exit 1, error, http_status (Gen2 RPC: rpc_error)
#   malformed, deep                                   exit 1, error, bad_json
#   truncated                                         exit 1, error, truncated
#   oversized                                         exit 1, error, too_large
#   wrongtypes                                        exit 0, online: what has the wrong type is
#                                                     unknown (null), never invented
#   slow (within the timeout)                         exit 0, online
#   reboot                                            exit 1, offline, refused while away; then
#                                                     exit 0 with uptime restarted
#   auth (turned on), move (new address)              auth_required; refused at the old address,
#                                                     online at the new one
# Faults apply to every request (so /shelly fails first) and, for the body faults, to the
# status request only (so the status parser meets them).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=probe_faults
FAULTS="silent closed noanswer reset http500 malformed truncated oversized slow wrongtypes deep reboot"
NPAIR=15 # one Gen2/Gen1 pair per fault, then pairs for the status-path faults, auth, move
if ! sim_start $N --models gen2/plus-1pm,gen1/shelly-plug-s --count $((NPAIR * 2)) --drip-ms 1500 \
	--reboot-ms 10000; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load

# check_fault I KIND RC STATE CLASS_RE TIMEOUT [PATH]: probe device I with fault KIND (on PATH);
# CLASS_RE matches the error's class, "-" when the error is null.
check_fault() {
	_i=$1 _kind=$2 _rc=$3 _st=$4 _cls=$5 _to=$6 _path=${7:-}
	# What a healthy probe of this device costs right now (process start, a loaded machine, a
	# sanitizer build) is added to the bound: the bound is about waiting, not about CPU. (Its
	# own timeout is generous: a loaded machine may take longer than the fault's timeout.)
	timed "$O" "$E" "$SHELLY_TUI" --probe "$(dv "$_i" HP)" --json --timeout 30
	_base=$T_MS
	[ "$T_RC" -eq 0 ] || fail "$N: gen$(dv "$_i" GEN) $_kind: healthy before the fault" "exit $T_RC: $(head -c 200 "$O")"
	set_fault "$_i" "$_kind" "$_path"
	# The sim starts a reboot 50 ms after the request (its reply leaves first): wait for it.
	[ "$_kind" != reboot ] || wait_for 5 sh -c '[ "$(curl -s -m 2 "http://$1/devices/$2/state" | jq .rebooting)" = true ]' sh "$SIM_CTL" "$_i"
	timed "$O" "$E" "$SHELLY_TUI" --probe "$(dv "$_i" HP)" --json --timeout "$_to"
	# "-" for no error (null); else the error's class, the text before the first colon.
	_got=$(jq -r '"\(.state)|\(if .error == null then "-" else .error | split(":")[0] end)"' "$O" 2>/dev/null)
	_bound=$(( (_to + 5) * 1000 + 2 * _base ))
	_what="gen$(dv "$_i" GEN) $_kind${_path:+ on $_path}"
	if [ "$T_RC" -eq "$_rc" ] && [ "${_got%%|*}" = "$_st" ] && echo "${_got#*|}" | grep -qxE "$_cls" &&
		[ "$T_MS" -le $_bound ]; then
		pass "$N: $_what: exit $_rc, state $_st, error ${_got#*|} in $T_MS ms (bound $_bound: timeout + 5 s + twice the $_base ms of a healthy probe)"
	else
		fail "$N: $_what" "want exit $_rc $_st/$_cls within $_bound ms; got exit $T_RC in $T_MS ms: $(head -c 300 "$O") $(head -c 200 "$E")"
	fi
	case $_kind in reboot|auth|move) ;; *) set_fault "$_i" none ;; esac
}

# side S: every scenario on the devices of side S (0: the Gen2 device of each pair, 1: Gen1).
# Both sides run at once (their devices are distinct), each into its own log, printed in order.
side() {
	S=$1 O=$T_TMP/o.$1 E=$T_TMP/e.$1
	p=0
	for f in $FAULTS; do
		i=$((p * 2 + S))
		case $f in
		silent|noanswer|slow) check_fault $i $f 1 offline timeout 1 ;;
		closed) check_fault $i $f 1 offline refused 1 ;;
		reset) check_fault $i $f 1 offline reset 1 ;;
		http500) check_fault $i $f 1 error http_status 1 ;;
		malformed|deep) check_fault $i $f 1 error bad_json 1 ;;
		truncated) check_fault $i $f 1 error truncated 1 ;;
		oversized) check_fault $i $f 1 error too_large 4 ;;
		wrongtypes)
			check_fault $i $f 0 online - 1
			# The types were wrong, the identity is still the device's; a boolean sent as an
			# object is unknown, not true or false.
			set_fault $i $f
			"$SHELLY_TUI" --probe "$(dv $i HP)" --json >"$O" 2>"$E"
			ok=$(jq --arg mac "$(dv $i MAC | tr A-F a-f)" --argjson gen "$(dv $i GEN)" \
				'.mac == $mac and .gen == $gen and .components.switch[0].output == null' "$O" 2>&1)
			[ "$ok" = true ] && pass "$N: gen$(dv $i GEN) wrongtypes: identity kept, output sent as an object is null" ||
				fail "$N: gen$(dv $i GEN) wrongtypes: values" "$ok $(jq -c '[.mac,.gen,.components.switch]' "$O" 2>&1 | head -c 400)"
			set_fault $i none ;;
		reboot)
			u0=$(dev_state $i .uptime_s)
			check_fault $i $f 1 offline refused 1
			if wait_for 30 sh -c '"$1" --probe "$2" --timeout 1 >/dev/null' sh "$SHELLY_TUI" "$(dv $i HP)"; then
				"$SHELLY_TUI" --probe "$(dv $i HP)" --json >"$O" 2>"$E"; rc=$?
				u1=$(jq -r .sys.uptime_s "$O")
				r=$(dev_state $i .reboots)
				[ $rc -eq 0 ] && [ "$(jq -r .state "$O")" = online ] && [ "$u1" -lt "$u0" ] && [ "$r" = 1 ] &&
					pass "$N: gen$(dv $i GEN) reboot: back online, uptime restarted ($u0 s -> $u1 s)" ||
					fail "$N: gen$(dv $i GEN) reboot: back" "rc=$rc uptime $u0 -> $u1 reboots=$r"
			else
				fail "$N: gen$(dv $i GEN) reboot: back within 30 s" "$(dev_state $i '[.mode,.rebooting]' | jq -c .)"
			fi ;;
		esac
		p=$((p + 1))
	done

	# Body faults on the status request only: identification worked, the status parser meets them.
	i=$((p * 2 + S))
	if [ "$(dv $i GEN)" = 1 ]; then sp=/status h5=http_status; else sp=/rpc/Shelly.GetStatus h5='rpc_error|http_status'; fi
	check_fault $i http500 1 error "$h5" 1 $sp
	check_fault $i malformed 1 error bad_json 1 $sp
	check_fault $i truncated 1 error truncated 1 $sp
	check_fault $i oversized 1 error too_large 4 $sp
	check_fault $i deep 1 error bad_json 1 $sp
	check_fault $i reset 1 offline reset 1 $sp
	check_fault $i noanswer 1 offline timeout 1 $sp
	check_fault $i wrongtypes 0 online - 1 $sp
	# A slow answer that arrives within the timeout is an answer. The drip is 1.5 s alone, but
	# each of its 100 ms steps waits for the sim to run again: 10 s leaves a loaded machine room.
	check_fault $i slow 0 online - 10 $sp
	[ "$T_MS" -ge 1400 ] && pass "$N: gen$(dv $i GEN) slow on $sp: took $T_MS ms >= the 1400 ms drip" ||
		fail "$N: gen$(dv $i GEN) slow on $sp: not slow" "$T_MS ms"
	p=$((p + 1))

	# auth: authentication turned on at run time; then the readable summary of a failed probe
	# (closed) still names state and error.
	i=$((p * 2 + S))
	check_fault $i auth 1 auth_required '.+' 1
	pw=$(ctl GET /manifest | jq -r ".devices[$i].auth.password")
	SHELLY_TUI_PASSWORD=$pw "$SHELLY_TUI" --probe "$(dv $i HP)" --json </dev/null >"$O" 2>"$E"; rc=$?
	[ $rc -eq 0 ] && [ "$(jq -r .state "$O")" = online ] && pass "$N: gen$(dv $i GEN) auth: online with the new password" ||
		fail "$N: gen$(dv $i GEN) auth: with password" "rc=$rc $(head -c 300 "$O")"
	set_fault $i closed
	"$SHELLY_TUI" --probe "$(dv $i HP)" --timeout 1 >"$O" 2>"$E"; rc=$?
	[ $rc -eq 1 ] && grep -qE '^state +offline.*refused' "$O" &&
		pass "$N: gen$(dv $i GEN) readable summary of a refused probe: state offline, refused" ||
		fail "$N: gen$(dv $i GEN) readable refused" "rc=$rc $(cat "$O" "$E" | head -c 400)"
	p=$((p + 1))

	# move: the device leaves its address for the next free one of the pool.
	i=$((p * 2 + S))
	old=$(dv $i HP)
	check_fault $i move 1 offline refused 1
	new=$(dev_state $i '"\(.addr):\(.port)"')
	"$SHELLY_TUI" --probe "$new" --json >"$O" 2>"$E"; rc=$?
	[ "$new" != "$old" ] && [ $rc -eq 0 ] && [ "$(jq -r '"\(.state) \(.mac) \(.host)"' "$O")" = "online $(dv $i MAC | tr A-F a-f) ${new%:*}" ] &&
		pass "$N: gen$(dv $i GEN) move: same MAC online at $new" || fail "$N: gen$(dv $i GEN) move" "old=$old new=$new rc=$rc $(head -c 300 "$O")"
}

side 0 >"$T_TMP/side0.log" 2>&1 &
s0=$!
side 1 >"$T_TMP/side1.log" 2>&1 &
s1=$!
wait $s0 $s1
cat "$T_TMP/side0.log" "$T_TMP/side1.log"
exit 0
