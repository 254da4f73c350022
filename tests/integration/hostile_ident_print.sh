# Escape sequences a device supplies never reach the terminal. A stand-in answers /shelly with
# an id or a model that carries ESC [2J (clear screen): --discover -v refuses it at
# identification and prints nothing raw. A registry row that holds such strings anyway (written
# by an older version) is printed sanitised by --list.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_stub.sh

N=hostile_ident_print
command -v sqlite3 >/dev/null 2>&1 || { skip "$N" "needs sqlite3"; exit 0; }
T_NET=$(test_net $N)
A=$T_NET.9
DB=$T_TMP/db
for bad in id model; do
	if [ $bad = id ]; then
		body='{\"id\":\"shellyplus1pm-\\u001b[2Jaabbccddeeff\",\"mac\":\"AABBCCDDEEFF\",\"model\":\"SNSW-001P16EU\",\"gen\":2,\"fw_id\":\"x\",\"ver\":\"1.4.4\"}'
	else
		body='{\"id\":\"shellyplus1pm-aabbccddeeff\",\"mac\":\"AABBCCDDEEFF\",\"model\":\"\\u001b[2JSNSW\",\"gen\":2,\"fw_id\":\"x\",\"ver\":\"1.4.4\"}'
	fi
	stub_start "$A" "[{\"path\": \"/shelly\", \"body\": \"$body\"}]"
	curl -s -m 5 "http://$A:$STUB_PORT/shelly" | grep -q '\\u001b' || fail "$N: $bad: stand-in body" "$(curl -s -m 5 "http://$A:$STUB_PORT/shelly")"
	"$SHELLY_TUI" --db "$DB" --discover --scan-only -v "$A" --port "$STUB_PORT" --timeout 3 </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	n=$("$SHELLY_TUI" --db "$DB" --list --json 2>/dev/null | jq '.devices | length')
	! has_ctl_bytes "$T_TMP/o" && ! has_ctl_bytes "$T_TMP/e" && [ "$n" = 0 ] &&
		pass "$N: $bad with an escape sequence: refused at identification, nothing raw printed (rc=$rc)" ||
		fail "$N: $bad" "rc=$rc devices $n $(od -c "$T_TMP/e" | head -5)"
	stub_stop
done

# A registry row with hostile strings (as an older version could have stored them).
sqlite3 -cmd ".timeout 5000" "$DB" "INSERT OR REPLACE INTO devices (mac, id, gen, model, name, host, port, scheme, first_seen, last_seen)
	VALUES ('aabbccddeeff', 'shellyplus1pm-' || char(27) || '[2Jaabbccddeeff', 2, char(27) || ']0;pwn' || char(7) || 'SNSW', 'K' || char(27) || '[31m', '$A', 80, 'http', 1, 1)" ||
	{ fail "$N: registry row" "insert failed"; exit 1; }
"$SHELLY_TUI" --db "$DB" --list </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && ! has_ctl_bytes "$T_TMP/o" && grep -q "aabbccddeeff" "$T_TMP/o" &&
	pass "$N: --list prints a hostile id, model and name sanitised" ||
	fail "$N: --list" "rc=$rc $(od -c "$T_TMP/o" | head -8)"
# A name in another script fills its column by characters, not bytes: the columns after it
# line up, and a long one is cut after its 20th character.
sqlite3 -cmd ".timeout 5000" "$DB" "INSERT OR REPLACE INTO devices (mac, id, gen, model, name, host, port, scheme, first_seen, last_seen)
	VALUES ('aabbccddee02', 'shellyplus1pm-aabbccddee02', 2, 'SNSW-001P16EU', 'Küche Süd Wohnzimmer Lampe', '$A', 80, 'http', 1, 1),
	('aabbccddee03', 'shellyplus1pm-aabbccddee03', 2, 'SNSW-001P16EU', 'Bad Ö', '$A', 80, 'http', 1, 1)" ||
	{ fail "$N: registry rows" "insert failed"; exit 1; }
"$SHELLY_TUI" --db "$DB" --list </dev/null >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && grep -qF 'Küche Süd Wohnzimmer SNSW-001P16EU ' "$T_TMP/o" &&
	grep -qF 'Bad Ö                SNSW-001P16EU ' "$T_TMP/o" &&
	pass "$N: --list: a UTF-8 name takes its column by characters" ||
	fail "$N: --list UTF-8 column" "rc=$rc $(grep -a aabbccddee0[23] "$T_TMP/o")"
exit 0
