#!/bin/sh
# /metrics of a standing-by --headless (another --headless on the same database holds the
# lease and polls; the standby serves what the leader wrote to the store) against the
# leader's own /metrics, on a simulated fleet (default 1000 devices, every fixture model
# round-robin). Both processes run at once; once every device was polled the leader waits
# (poll intervals of 1 h from a reload), so that a scrape's CPU is the page's alone. Each round scrapes the leader, then
# writes to the database (as the leader's next flush would), then scrapes the standby twice:
# the first reads the store again, the second finds it unchanged. BENCH_REPEAT rounds
# (default 10) after one warm-up; the CPU each process spent serving one scrape (user + sys
# from /proc/PID/stat, ticks, before and after) is summed over the rounds.
#
#   cpu per scrape, store changed:    standby / leader (the standby reads and parses every
#                                     device once per page, not once per metric family)
#   cpu per scrape, store unchanged:  standby / leader (nothing read)
#   bytes:                            the two pages are about the same size
# usage: sh tests/bench/standby.sh [BUILD]   (BENCH_STANDBY_N, BENCH_REPEAT override the sizes)
. tests/bench/lib.sh

N=${BENCH_STANDBY_N:-1000}
R=${BENCH_REPEAT:-10}
NAME="standby$N"

cat >"$B_TMP/config" <<EOF
set poll-interval-gen1 2s
set poll-interval-gen2 2s
set flush-interval 1s
set lease-heartbeat 10s
set lease-timeout 30s
set log-level info
EOF

# hl_start TAG: starts --headless TAG on the fleet's database; sets TAG_pid and TAG_url.
hl_start() {
	"$SHELLY_TUI" --headless --db "$B_TMP/fleet.db" --listen 127.0.0.1:0 \
		--config "$B_TMP/config" >"$B_TMP/$1.out" 2>"$B_TMP/$1.err" &
	eval "$1_pid=$!"
	B_PIDS="$B_PIDS $!"
	_end=$(( $(now_ms) + 15000 ))
	_url=""
	while [ -z "$_url" ] && [ "$(now_ms)" -lt "$_end" ]; do
		sleep 0.05
		_url=$(sed -n 's/^metrics: //p' "$B_TMP/$1.out")
	done
	eval "$1_url=\$_url"
	[ -n "$_url" ]
}

# ticks PID: user + sys clock ticks of PID so far.
ticks() { awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"; }

# scrape PID URL: the ticks PID spent serving one scrape of URL (the page's size in $B_TMP/size).
scrape() {
	_t0=$(ticks "$1")
	curl -s -m 60 -o "$B_TMP/page" "$2" || return 1
	wc -c <"$B_TMP/page" >"$B_TMP/size"
	echo $(( $(ticks "$1") - _t0 ))
}

if ! sim_up 127.234.0 "$N" 30; then
	bench_fail "$NAME" "sim did not start: $(head -c 300 "$SIM_ERR")"
	exit 1
fi
n=$(db_fill "$B_TMP/fleet.db" 2>"$B_TMP/fill.err") && [ "$n" = "$N" ] ||
	{ bench_fail "$NAME" "cannot register $N devices: ${n:-} $(head -c 300 "$B_TMP/fill.err")"; exit 1; }
hl_start lead || { bench_fail "$NAME" "leader did not start: $(head -c 300 "$B_TMP/lead.err")"; exit 1; }
# The leader first: every device polled once, so the standby finds every reading in the store.
end=$(( $(now_ms) + 60000 ))
while [ "$($PY metric "$lead_url" shelly_poller_leader)" != 1 ] ||
	[ "$($PY metric "$lead_url" 'shelly_devices{state="online"}')" != "$N" ]; do
	[ "$(now_ms)" -lt "$end" ] || { bench_fail "$NAME" "the leader did not poll $N devices"; exit 1; }
	sleep 0.2
done
sed -i 's/ 2s$/ 1h/' "$B_TMP/config"
kill -HUP "$lead_pid"
end=$(( $(now_ms) + 30000 ))
until grep -q "SIGHUP: configuration and registry reloaded" "$B_TMP/lead.err"; do
	[ "$(now_ms)" -lt "$end" ] || { bench_fail "$NAME" "the leader did not reload"; exit 1; }
	sleep 0.1
done
hl_start stby || { bench_fail "$NAME" "standby did not start: $(head -c 300 "$B_TMP/stby.err")"; exit 1; }
end=$(( $(now_ms) + 30000 ))
while [ "$($PY metric "$stby_url" shelly_poller_leader)" != 0 ] ||
	[ "$(curl -s -m 30 "$stby_url" | grep -c '^shelly_device_up{')" != "$N" ]; do
	[ "$(now_ms)" -lt "$end" ] || { bench_fail "$NAME" "the standby does not serve $N devices"; exit 1; }
	sleep 0.2
done

# touch: one commit to the database by another connection, as the leader's flushes are.
touch_db() {
	python3 -c 'import sqlite3, sys
db = sqlite3.connect(sys.argv[1], timeout=10)
with db:
    db.execute("INSERT OR REPLACE INTO settings(key, value) VALUES (?, ?)", ("bench.touch", sys.argv[2]))' \
		"$B_TMP/fleet.db" "$1"
}

scrape "$lead_pid" "$lead_url" >/dev/null && scrape "$stby_pid" "$stby_url" >/dev/null
lt=0 ct=0 ut=0 i=0
while [ $i -lt "$R" ]; do
	l=$(scrape "$lead_pid" "$lead_url") || { bench_fail "$NAME" "leader scrape failed"; exit 1; }
	lb=$(cat "$B_TMP/size")
	touch_db $i || { bench_fail "$NAME" "cannot write to the database"; exit 1; }
	c=$(scrape "$stby_pid" "$stby_url") || { bench_fail "$NAME" "standby scrape failed"; exit 1; }
	sb=$(cat "$B_TMP/size")
	u=$(scrape "$stby_pid" "$stby_url") || { bench_fail "$NAME" "standby scrape failed"; exit 1; }
	lt=$((lt + l)) ct=$((ct + c)) ut=$((ut + u))
	i=$((i + 1))
done
hz=$(getconf CLK_TCK)
echo "# $NAME: $R rounds: leader $lt ticks, standby $ct ticks (store changed), $ut ticks" \
	"(unchanged) at $hz ticks/s; pages $lb / $sb bytes"
[ "$lt" -gt 0 ] || lt=1 # under one tick in all: the ratios are then upper bounds
bench_line "$NAME standby scrape cpu, store changed" "$(calc "$ct * 1000 / $hz / $R")" ms \
	"leader $(calc "$lt * 1000 / $hz / $R") ms" "$(calc "$ct / $lt")"
bench_line "$NAME standby scrape cpu, store unchanged" "$(calc "$ut * 1000 / $hz / $R")" ms \
	"leader $(calc "$lt * 1000 / $hz / $R") ms" "$(calc "$ut / $lt")"
bench_line "$NAME standby page size" "$sb" bytes "leader $lb bytes" "$(calc "$sb / $lb")"
