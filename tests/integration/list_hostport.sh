#!/bin/sh
# A device at a port that is not its scheme's default is shown with it: --add says
# "at HOST:PORT" and the --list HOST column reads HOST:PORT (the sim listens on high ports).
. tests/lib.sh
. tests/integration/lib_sim.sh

N=list_hostport
export XDG_DATA_HOME=$T_TMP/data XDG_CONFIG_HOME=$T_TMP/config
unset SHELLY_TUI_PASSWORD
if ! sim_start $N --fixtures tests/fixtures --models gen2/plus-1pm --count 1 --auth none; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
HP=$(dev_hp 0)
DB=$T_TMP/fleet.db
"$SHELLY_TUI" --db "$DB" --add "$HP" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && grep -qF " at $HP" "$T_TMP/o" && ! grep -qF " at $HP:" "$T_TMP/o" &&
	pass "$N: --add names host and port" ||
	fail "$N: --add" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e")"
"$SHELLY_TUI" --db "$DB" --list >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
[ $rc -eq 0 ] && grep -qF " $HP " "$T_TMP/o" &&
	pass "$N: --list HOST column has the port" ||
	fail "$N: --list" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e")"

# A long host:port (IPv6, a long name) is never cut: a cut one shows a wrong port.
"$SHELLY_TUI" --db "$DB" --export json >"$T_TMP/a.json" &&
	jq '.devices[0].host = "fd00:abcd:ef::12" | .devices[0].port = 8080' "$T_TMP/a.json" >"$T_TMP/v6.json" &&
	"$SHELLY_TUI" --db "$T_TMP/v6.db" --import "$T_TMP/v6.json" >/dev/null 2>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$T_TMP/v6.db" --list >"$T_TMP/o" 2>>"$T_TMP/e"
grep -qF " [fd00:abcd:ef::12]:8080 " "$T_TMP/o" &&
	pass "$N: --list shows a long host:port whole" ||
	fail "$N: --list long host:port" "$(cat "$T_TMP/o" "$T_TMP/e")"

# A link-local address with its zone is a device's address on a real LAN: --import takes it as
# --add does, --list shows it whole, json and toml exports keep it and import it back; the
# network guard still decides (127.0.0.0/8 refuses it, and nothing is sent).
jq '.devices[0].host = "fe80::1%lo" | .devices[0].port = 8080' "$T_TMP/a.json" >"$T_TMP/z.json"
"$SHELLY_TUI" --db "$T_TMP/z.db" --import "$T_TMP/z.json" >/dev/null 2>"$T_TMP/e" &&
	"$SHELLY_TUI" --db "$T_TMP/z.db" --list >"$T_TMP/o" 2>>"$T_TMP/e" &&
	grep -qF " [fe80::1%lo]:8080 " "$T_TMP/o" &&
	pass "$N: --import takes a zoned link-local host, --list shows it" ||
	fail "$N: zoned import" "$(cat "$T_TMP/o" "$T_TMP/e")"
for f in json toml; do
	"$SHELLY_TUI" --db "$T_TMP/z.db" --export $f -o "$T_TMP/z.$f" 2>"$T_TMP/e" &&
		grep -qF '"fe80::1%lo"' "$T_TMP/z.$f" &&
		"$SHELLY_TUI" --db "$T_TMP/z-$f.db" --import "$T_TMP/z.$f" >/dev/null 2>>"$T_TMP/e" &&
		[ "$(sqlite3 "$T_TMP/z-$f.db" "SELECT host || ' ' || port FROM devices")" = "fe80::1%lo 8080" ] &&
		pass "$N: a $f export keeps the zoned host and imports back" ||
		fail "$N: zoned $f round trip" "$(cat "$T_TMP/e"; grep -F fe80 "$T_TMP/z.$f")"
done
for a in 'fe80::1%lo' '[fe80::1%lo]:8080'; do
	"$SHELLY_TUI" --db "$T_TMP/g.db" --add "$a" >"$T_TMP/o" 2>"$T_TMP/e"; rc=$?
	[ $rc -eq 1 ] && grep -qF "refused: fe80::1%lo is outside SHELLY_TUI_ALLOW_NETS" "$T_TMP/e" &&
		pass "$N: --add $a: taken, and refused by the network guard" ||
		fail "$N: --add $a" "rc=$rc $(cat "$T_TMP/o" "$T_TMP/e")"
done

# The zoned address reaches the device: in a network namespace of this test's own, a veth end
# holds fe80::1 (nothing else exists there), a relay on [fe80::1%v0]:8080 forwards to the
# simulated device on loopback, and --add, --poll-once and --list with fe80::/10 allowed work.
if is_root && unshare --net true 2>/dev/null && ip link help 2>&1 | grep -q veth; then
	cat >"$T_TMP/relay.py" <<'PY'
import asyncio, socket, sys
addr, port, ifname, thost, tport = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
async def pipe(r, w):
    try:
        while True:
            b = await r.read(65536)
            if not b:
                break
            w.write(b)
            await w.drain()
    except OSError:
        pass
    finally:
        w.close()
async def handle(r, w):
    tr, tw = await asyncio.open_connection(thost, tport)
    await asyncio.gather(pipe(r, tw), pipe(tr, w))
async def main():
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port, 0, socket.if_nametoindex(ifname)))
    srv = await asyncio.start_server(handle, sock=s)
    open(sys.argv[6], "w").write("ready\n")
    async with srv:
        await srv.serve_forever()
asyncio.run(main())
PY
	cat >"$T_TMP/zone.sh" <<'NS'
ip link set lo up && ip link add v0 type veth peer name v1 && ip link set v0 up &&
	ip link set v1 up && ip -6 addr add fe80::1/64 dev v0 nodad || exit 3
"$SHELLY_SIM" --fixtures tests/fixtures --base "$SIM_NET.201" --port 28090 --count 1 \
	--models gen2/plus-1pm --auth none --manifest "$T_TMP/mz.json" 2>"$T_TMP/simz.err" &
sim=$!
python3 "$T_TMP/relay.py" fe80::1 8080 v0 "$SIM_NET.201" 28090 "$T_TMP/relay.ready" 2>"$T_TMP/relay.err" &
relay=$!
i=0
while { [ ! -s "$T_TMP/mz.json" ] || [ ! -s "$T_TMP/relay.ready" ]; } && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
rc=4
if [ -s "$T_TMP/mz.json" ] && [ -s "$T_TMP/relay.ready" ]; then
	export SHELLY_TUI_ALLOW_NETS="127.0.0.0/8,fe80::/10"
	"$SHELLY_TUI" --probe '[fe80::1%v0]:8080' >"$T_TMP/zn.out" 2>&1 &&
		"$SHELLY_TUI" --db "$T_TMP/zn.db" --add '[fe80::1%v0]:8080' >>"$T_TMP/zn.out" 2>&1 &&
		"$SHELLY_TUI" --db "$T_TMP/zn.db" --poll-once >/dev/null 2>>"$T_TMP/zn.out" &&
		"$SHELLY_TUI" --db "$T_TMP/zn.db" --list >>"$T_TMP/zn.out" 2>&1
	rc=$?
fi
kill $sim $relay 2>/dev/null
wait $sim $relay 2>/dev/null
exit $rc
NS
	SHELLY_SIM=$SHELLY_SIM SHELLY_TUI=$SHELLY_TUI T_TMP=$T_TMP SIM_NET=$(test_net $N) \
		timeout 120 unshare --net sh "$T_TMP/zone.sh"
	rc=$?
	[ $rc -eq 0 ] && grep -Eq ' \[fe80::1%v0\]:8080 +online ' "$T_TMP/zn.out" &&
		grep -qF ' ([fe80::1%v0]:8080)' "$T_TMP/zn.out" &&
		pass "$N: a device at [fe80::1%v0]:8080 is probed, added and polled (fe80::/10 allowed)" ||
		fail "$N: zoned device reached" "rc=$rc $(cat "$T_TMP/zn.out" "$T_TMP/relay.err" 2>/dev/null | head -c 600)"
else
	skip "$N: a device at a zoned address is polled" "needs root, a network namespace and veth"
fi
"$SHELLY_TUI" --db "$T_TMP/g.db" --add '2001:db8::1%lo' >/dev/null 2>"$T_TMP/e"; rc=$?
[ $rc -eq 2 ] && grep -qF 'invalid host' "$T_TMP/e" &&
	pass "$N: a zone on a global address is a usage error" ||
	fail "$N: --add global%zone" "rc=$rc $(cat "$T_TMP/e")"
exit 0
