# shelly-tui --add through the registry service. A device whose /shelly identified it but whose
# status read then fails (HTTP 500, malformed JSON, on the status request only) is registered
# all the same: exit 0, a warning on stderr, the failure stored as its state. A registered
# device is spoken to with its registered generation: a server at its address claiming its MAC
# with another generation gets nothing but GET /shelly (--add, --probe and --action refuse it).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=registry_add
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
unset SHELLY_TUI_PASSWORD
if ! sim_start $N --models gen2/plus-1pm,gen1/shelly-plug-s --count 4; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
mf_load
DB=$T_TMP/shelly.db
O=$T_TMP/o E=$T_TMP/e
sql() { sqlite3 "$DB" "$1"; }

# add_faulty I FAULT: --add of device I while its status request answers FAULT.
add_faulty() {
	_i=$1 _f=$2
	if [ "$(dv $_i GEN)" = 1 ]; then _sp=/status; else _sp=/rpc/Shelly.GetStatus; fi
	set_fault $_i $_f $_sp
	"$SHELLY_TUI" --db "$DB" --add "$(dv $_i HP)" >"$O" 2>"$E"; _rc=$?
	_mac=$(dv $_i MAC | tr A-F a-f)
	_st=$(sql "SELECT state FROM status WHERE mac = '$_mac'")
	_reg=$(sql "SELECT count(*) FROM devices WHERE mac = '$_mac'")
	if [ $_rc -eq 0 ] && [ "$_reg" = 1 ] && [ "$_st" = error ] && grep -q 'warning' "$E"; then
		pass "$N: gen$(dv $_i GEN) $_f on $_sp: registered, state $_st, warned, exit 0"
	else
		fail "$N: gen$(dv $_i GEN) $_f on $_sp" "rc=$_rc registered=$_reg state=$_st $(head -c 300 "$E")"
	fi
	set_fault $_i none
}
add_faulty 0 http500
add_faulty 1 http500
add_faulty 2 malformed
add_faulty 3 malformed

# The devices answer again: --list shows them, and a second --add updates them online.
"$SHELLY_TUI" --db "$DB" --add "$(dv 0 HP)" >"$O" 2>"$E"; rc=$?
[ $rc -eq 0 ] && grep -q '^updated' "$O" && pass "$N: a healthy --add afterwards updates the device" ||
	fail "$N: healthy --add afterwards" "rc=$rc $(cat "$O" "$E" | head -c 300)"

# A registered Gen2 device whose registry row is rewritten to claim gen 1 (as a lying server at
# its address would): credentials would go out as Basic. Every mode refuses, nothing but /shelly.
mac2=$(dv 0 MAC | tr A-F a-f)
sql "UPDATE devices SET gen = 1 WHERE mac = '$mac2'"
ctl POST /reset-counters >/dev/null
"$SHELLY_TUI" --db "$DB" --probe "$(dv 0 HP)" --json >"$O" 2>"$E"; rc1=$?
"$SHELLY_TUI" --db "$DB" --action switch_on --channel 0 "$mac2" >"$O.a" 2>"$E"; rc2=$?
"$SHELLY_TUI" --db "$DB" --add "$(dv 0 HP)" >"$O.b" 2>"$E.b"; rc3=$?
other=$(dev_state 0 '[.counters.by_path | to_entries[] | select(.key != "/shelly") | .value] | add // 0')
if [ $rc1 -ne 0 ] && [ $rc2 -ne 0 ] && [ $rc3 -ne 0 ] && grep -q 'generation mismatch' "$O.a" &&
	grep -q 'generation mismatch' "$E.b" && [ "$other" = 0 ]; then
	pass "$N: registered gen 1, device says gen 2: --probe, --action, --add refuse; only /shelly was sent"
else
	fail "$N: generation mismatch" "rc=$rc1/$rc2/$rc3 other=$other $(head -c 200 "$O.a") $(head -c 200 "$E.b")"
fi
exit 0
