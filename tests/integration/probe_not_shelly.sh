# A web server that is not a Shelly is not taken for one, though its JSON has a "mac" or a
# "type": a python listener on this test's own loopback address answers every GET with such a
# body; --discover --scan-only stores nothing, --add adds nothing and --probe says it is not a
# Shelly (exit non-zero) instead of showing a Gen1 model "error".
. tests/lib.sh
. tests/integration/lib_stub.sh

N=probe_not_shelly
NET=$(test_net $N)
ADDR=$NET.1
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
DB=$T_TMP/n.db

# serve BODY: (re)starts the listener answering 200 BODY; sets PORT.
serve() {
	stub_stop
	stub_start "$ADDR" "$(jq -cn --arg b "$1" '[{status: 200, body: $b}]')"
	PORT=$STUB_PORT
}

for body in '{"status":"ok","mac":"AA:BB:CC:DD:EE:FF"}' '{"type":"error","message":"not found"}' \
	'{"gen":2,"mac":"AABBCCDDEEFF"}'; do
	serve "$body"
	"$SHELLY_TUI" --db "$DB" --discover --scan-only -p "$PORT" --json "$ADDR/32" >"$T_TMP/d" 2>"$T_TMP/de"; rcd=$?
	"$SHELLY_TUI" --db "$DB" --add "$ADDR:$PORT" </dev/null >"$T_TMP/a" 2>"$T_TMP/ae"; rca=$?
	"$SHELLY_TUI" --db "$T_TMP/p.db" --probe "$ADDR:$PORT" >"$T_TMP/p" 2>"$T_TMP/pe"; rcp=$?
	n=$("$SHELLY_TUI" --db "$DB" --list --json 2>/dev/null | jq '.devices | length' 2>/dev/null)
	if [ "$n" = 0 ] && [ $rcd -eq 0 ] && [ "$(jq .summary.devices "$T_TMP/d")" = 0 ] && [ $rca -ne 0 ] && [ $rcp -ne 0 ] && grep -q "not a Shelly" "$T_TMP/pe" &&
		! grep -qi "gen1\|error.*model" "$T_TMP/p" && ! grep -q "AA:BB\|aabbcc" "$T_TMP/d"; then
		pass "$N: $body: not stored by --discover, not added, --probe says not a Shelly"
	else
		fail "$N: $body" "list=$n rc=$rcd/$rca/$rcp $(cat "$T_TMP/d" "$T_TMP/de" "$T_TMP/a" "$T_TMP/ae" "$T_TMP/p" "$T_TMP/pe" | head -c 800)"
	fi
done
t_exit
