# A device held after a MAC conflict gets no credentials from any front end until the operator
# confirms it: --action, --config-get and --probe (even with --password-file) stop after /shelly with "credentials held back after a
# MAC conflict: confirm with --add", the device sees nothing but /shelly; --add confirms it and
# both work again. Gen2 (digest) and Gen1 (Basic: the password itself).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=creds_held
command -v sqlite3 >/dev/null 2>&1 || { skip "$N" "needs sqlite3"; exit 0; }
sim_up $N --models gen2/plus-1pm,gen1/shelly-plug-s --count 2 --auth all
unset SHELLY_TUI_PASSWORD
DB=$T_TMP/db
sql() { sqlite3 -cmd ".timeout 5000" "$DB" "$1"; }
for i in 0 1; do
	secret_file "$T_TMP/pw$i" "$(dv $i PW)"
	"$SHELLY_TUI" --db "$DB" --add "$(dv $i HP)" --password-file "$T_TMP/pw$i" </dev/null >"$T_TMP/o" 2>"$T_TMP/e" ||
		{ fail "$N: --add $i" "$(cat "$T_TMP/e")"; exit 1; }
	M=$(dv $i MAC | tr A-F a-f)
	g=gen$(dv $i GEN)
	sql "INSERT OR REPLACE INTO settings (key, value) VALUES ('hold:$M', 'a test holds it')"
	ctl POST /reset-counters >/dev/null
	"$SHELLY_TUI" --db "$DB" --action switch_on "$M" </dev/null >"$T_TMP/a" 2>&1; rca=$?
	"$SHELLY_TUI" --db "$DB" --config-get "$M" </dev/null >"$T_TMP/c" 2>&1; rcc=$?
	"$SHELLY_TUI" --db "$DB" --probe "$(dv $i HP)" --password-file "$T_TMP/pw$i" </dev/null >"$T_TMP/p" 2>&1; rcp=$?
	paths=$(dev_state $i '.counters.by_path | keys | join(",")')
	[ $rca -ne 0 ] && [ $rcc -ne 0 ] && [ $rcp -ne 0 ] && grep -q "credentials held back after a MAC conflict: confirm with --add" "$T_TMP/a" &&
		grep -q "credentials held back after a MAC conflict" "$T_TMP/c" && grep -q "credentials held back" "$T_TMP/p" && [ "$paths" = /shelly ] &&
		[ "$(dev_state $i '.counters.auth_challenges')" = 0 ] &&
		pass "$N: $g: held: --action, --config-get and --probe send no credentials (the device saw $paths)" ||
		fail "$N: $g: held" "rc=$rca/$rcc/$rcp paths $paths $(cat "$T_TMP/a" "$T_TMP/c" "$T_TMP/p" | head -c 900)"
	"$SHELLY_TUI" --db "$DB" --add "$(dv $i HP)" --password-file "$T_TMP/pw$i" </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	"$SHELLY_TUI" --db "$DB" --action switch_on "$M" </dev/null >"$T_TMP/a" 2>&1; rca=$?
	"$SHELLY_TUI" --db "$DB" --config-get "$M" </dev/null >"$T_TMP/c" 2>&1; rcc=$?
	[ $rc -eq 0 ] && [ $rca -eq 0 ] && [ $rcc -eq 0 ] && [ -z "$(sql "SELECT value FROM settings WHERE key = 'hold:$M'")" ] &&
		pass "$N: $g: --add confirms it: --action and --config-get work again" ||
		fail "$N: $g: confirmed" "rc=$rc/$rca/$rcc $(cat "$T_TMP/e" "$T_TMP/a" "$T_TMP/c" | head -c 600)"
done
exit 0
