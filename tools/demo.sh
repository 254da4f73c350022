#!/bin/sh
# make demo: the simulated fleet on loopback, in isolation. Starts shelly-sim with one device
# per fixture folder on 127.88.0.x (every fourth with a password, two faulty), registers them
# in a throw-away database and opens the console on them (q leaves). Without a terminal, or
# with DEMO_SECONDS=N, it runs the headless poller instead (stopped after N s).
# Nothing leaves 127.0.0.0/8: SHELLY_TUI_ALLOW_NETS guards every request.
set -eu
build=${1:-build}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/shelly-demo.XXXXXX")
export SHELLY_TUI_ALLOW_NETS=127.0.0.0/8
export XDG_DATA_HOME=$tmp XDG_CONFIG_HOME=$tmp
port=${DEMO_PORT:-18080}
sim_pid=""
cleanup() {
	[ -n "$sim_pid" ] && kill "$sim_pid" 2>/dev/null && wait "$sim_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"$build/shelly-sim" --base 127.88.0.1 --port "$port" --manifest "$tmp/manifest.json" \
	--auth every:4 --password demo 2>"$tmp/sim.log" &
sim_pid=$!
i=0
while [ ! -s "$tmp/manifest.json" ]; do
	i=$((i + 1))
	[ $i -gt 200 ] && { echo "demo: the simulator did not start:" >&2; cat "$tmp/sim.log" >&2; exit 1; }
	kill -0 "$sim_pid" 2>/dev/null || { cat "$tmp/sim.log" >&2; exit 1; }
	sleep 0.05
done
hosts=$(python3 -c 'import json,sys
for d in json.load(open(sys.argv[1]))["devices"]: print("%s:%s" % (d["addr"], d["port"]))' "$tmp/manifest.json")
echo "== $(echo "$hosts" | wc -l) simulated devices on 127.88.0.x:$port"
printf demo >"$tmp/password"
chmod 600 "$tmp/password"
echo "== registering them (the ones with a password use $tmp/password)"
for hp in $hosts; do
	"$build/shelly-tui" --add "$hp" --password-file "$tmp/password" --timeout 2 -q \
		>/dev/null 2>&1 || true
done
"$build/shelly-tui" --list | tail -n +2 | wc -l | sed 's/$/ devices registered/'
# Two devices turn faulty once registered: one stops answering, one answers HTTP 500.
python3 -c 'import json,sys,urllib.request
c = json.load(open(sys.argv[1]))["control"]
for i, kind in ((5, "silent"), (9, "http500")):
    urllib.request.urlopen(urllib.request.Request("http://%s/devices/%d/fault" % (c, i),
        data=json.dumps({"fault": kind}).encode(), method="POST"))' "$tmp/manifest.json" || true
cat >"$tmp/config" <<CFG
set poll-interval-gen1 5s
set poll-interval-gen2 2s
set listen 127.0.0.1:0
credentials default admin file:$tmp/password
CFG
if [ -z "${DEMO_SECONDS:-}" ] && [ -t 0 ] && [ -t 1 ]; then
	"$build/shelly-tui" --config "$tmp/config"
	exit 0
fi
echo
echo "== headless poller (Ctrl-C to stop)"
if [ -n "${DEMO_SECONDS:-}" ]; then
	timeout -s TERM "$DEMO_SECONDS" "$build/shelly-tui" --headless --config "$tmp/config" || true
else
	"$build/shelly-tui" --headless --config "$tmp/config"
fi
