#!/bin/sh
# make demo: the simulated fleet on loopback, in isolation. Starts shelly-sim with one device
# per fixture folder on 127.88.0.x, probes each, registers them in a throw-away database and
# runs the headless poller against them until Ctrl-C (DEMO_SECONDS=N stops it after N s).
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
	--auth none 2>"$tmp/sim.log" &
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
for hp in $hosts; do
	echo
	"$build/shelly-tui" --probe "$hp" || true
	"$build/shelly-tui" --add "$hp" -q >/dev/null || true
done
echo
"$build/shelly-tui" --list
cat >"$tmp/config" <<CFG
set poll-interval-gen1 5s
set poll-interval-gen2 2s
set listen 127.0.0.1:0
CFG
echo
echo "== headless poller (Ctrl-C to stop)"
if [ -n "${DEMO_SECONDS:-}" ]; then
	timeout -s TERM "$DEMO_SECONDS" "$build/shelly-tui" --headless --config "$tmp/config" || true
else
	"$build/shelly-tui" --headless --config "$tmp/config"
fi
