# shelly-tui --action acts on each device once, however many targets name it: a group and a
# MAC of one of its members, the MAC + the registered name + the bare HOST:PORT of one device,
# the same HOST:PORT twice, and the device's MAC plus another address that forwards to it (merged
# by the MAC it shows); --config-set over a group and a member. The sim's output state shows one toggle per device, the duplicates
# print SKIP (--json: duplicate_of, summary.duplicates) and do not count as failures (exit 0).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=action_dup
cli_private
sim_up $N --models gen1/shelly-1,gen2/plus-1pm
mac_of() { dv "$1" MAC | tr 'A-F' 'a-f'; }

for k in 0 1; do
	"$SHELLY_TUI" --add "$(dv $k HP)" --name "dev$k" </dev/null >/dev/null 2>>"$T_TMP/e" ||
		fail "$N: --add $k" "$(cat "$T_TMP/e")"
done
"$SHELLY_TUI" --group-add g1 "$(mac_of 0)" "$(mac_of 1)" >/dev/null 2>>"$T_TMP/e" ||
	fail "$N: --group-add" "$(cat "$T_TMP/e")"

# @g1 and a member's MAC again: each device toggles once.
a0=$(dev_state 0 '.switches[0].on')
b0=$(dev_state 1 '.switches[0].on')
"$SHELLY_TUI" --action switch_toggle @g1 "$(mac_of 1)" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
a1=$(dev_state 0 '.switches[0].on')
b1=$(dev_state 1 '.switches[0].on')
if [ $rc -eq 0 ] && [ "$a1" != "$a0" ] && [ "$b1" != "$b0" ] && [ "$(grep -c '^OK ' "$T_TMP/o")" = 2 ] &&
	grep -q "^SKIP .* the same device as $(mac_of 1)" "$T_TMP/o" &&
	grep -q '^1 duplicate target(s) merged' "$T_TMP/o"; then
	pass "$N: @group plus a member's MAC toggles each device once (one SKIP line, exit 0)"
else
	fail "$N: @group + MAC" "rc=$rc $a0->$a1 $b0->$b1 $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400)"
fi

# MAC, registered name and the bare address of one device: one toggle, two duplicates.
b0=$b1
"$SHELLY_TUI" --action switch_toggle --json "$(mac_of 1)" dev1 "$(dv 1 HP)" >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
b1=$(dev_state 1 '.switches[0].on')
sum=$(jq -c .summary "$T_TMP/j")
dups=$(jq -r '[.results[] | select(.duplicate_of != null) | .duplicate_of] | unique | join(",")' "$T_TMP/j")
if [ $rc -eq 0 ] && [ "$b1" != "$b0" ] && [ "$sum" = '{"ok":1,"failed":0,"duplicates":2}' ] &&
	[ "$dups" = "$(mac_of 1)" ]; then
	pass "$N: MAC, name and HOST:PORT of one device toggle it once (--json duplicates 2)"
else
	fail "$N: MAC+name+address" "rc=$rc $b0->$b1 $sum dups=$dups $(head -c 400 "$T_TMP/j") $(head -c 300 "$T_TMP/e")"
fi

# An unregistered address given twice (different spellings of the port-less default are not
# guessed): the same HOST:PORT twice is one toggle.
a0=$(dev_state 0 '.switches[0].on')
"$SHELLY_TUI" --db "$T_TMP/none.db" --action switch_toggle "$(dv 0 HP)" "$(dv 0 HP)" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
a1=$(dev_state 0 '.switches[0].on')
if [ $rc -eq 0 ] && [ "$a1" != "$a0" ] && [ "$(grep -c '^OK ' "$T_TMP/o")" = 1 ] && [ "$(grep -c '^SKIP ' "$T_TMP/o")" = 1 ]; then
	pass "$N: the same HOST:PORT twice is acted on once"
else
	fail "$N: HOST:PORT twice" "rc=$rc $a0->$a1 $(cat "$T_TMP/o" "$T_TMP/e" | head -c 400)"
fi
# The same device behind another address (a TCP forwarder on this test's own loopback address):
# nothing matches before sending, the MAC it shows does. One toggle, one duplicate.
FWD_ADDR=$(test_net $N).77
rm -f "$T_TMP/fport"
python3 -c 'import socket, sys, threading
up = (sys.argv[2], int(sys.argv[3]))
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind((sys.argv[1], 0))
ls.listen(16)
open(sys.argv[4] + ".tmp", "w").write(str(ls.getsockname()[1]))
__import__("os").rename(sys.argv[4] + ".tmp", sys.argv[4])
def pump(a, b):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = ls.accept()
    u = socket.create_connection(up)
    threading.Thread(target=pump, args=(c, u), daemon=True).start()
    threading.Thread(target=pump, args=(u, c), daemon=True).start()' \
	"$FWD_ADDR" "$(dv 1 HP | cut -d: -f1)" "$(dv 1 HP | cut -d: -f2)" "$T_TMP/fport" &
FWD=$!
at_exit "kill_ours $FWD"
if wait_for 60 test -s "$T_TMP/fport"; then
	b0=$(dev_state 1 '.switches[0].on')
	"$SHELLY_TUI" --action switch_toggle --json "$(mac_of 1)" "$FWD_ADDR:$(cat "$T_TMP/fport")" >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
	b1=$(dev_state 1 '.switches[0].on')
	sum=$(jq -c .summary "$T_TMP/j")
	if [ $rc -eq 0 ] && [ "$b1" != "$b0" ] && [ "$sum" = '{"ok":1,"failed":0,"duplicates":1}' ]; then
		pass "$N: the same device behind another address is merged by the MAC it shows (one toggle)"
	else
		fail "$N: same MAC, other address" "rc=$rc $b0->$b1 $sum $(head -c 500 "$T_TMP/j") $(head -c 300 "$T_TMP/e")"
	fi
else
	fail "$N: forwarder start"
fi

# --config-set over @g1 and a member's MAC and address: configured once each, the others
# reported as duplicates (not failures: exit 0).
"$SHELLY_TUI" --config-set sys.timezone=Asia/Tokyo --json @g1 "$(mac_of 1)" "$(dv 0 HP)" >"$T_TMP/j" 2>"$T_TMP/e"; rc=$?
res=$(jq -r '[.devices[].result] | join(",")' "$T_TMP/j" 2>/dev/null)
if [ $rc -eq 0 ] && [ "$res" = ok,ok,duplicate,duplicate ] &&
	jq -e '.devices[2].error | test("same device as")' "$T_TMP/j" >/dev/null; then
	pass "$N: --config-set over a group, a member's MAC and address configures each device once ($res)"
else
	fail "$N: --config-set duplicates" "rc=$rc res=$res $(head -c 600 "$T_TMP/j") $(head -c 300 "$T_TMP/e")"
fi
t_exit
