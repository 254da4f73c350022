# A full disk under --headless: the DB on a 2 MiB tmpfs (mounted in a private mount namespace,
# so nothing leaks to the host) is filled up: the poller logs a clear error, keeps running and
# serving, /readyz says 503 with the database's message, /healthz 200, and it steps down as it
# cannot renew its lease; once a little space is freed it leads again (its held results still
# unwritten), once all is freed it is ready again and the results are written, with the one
# event of a device that went away just before.
. tests/lib.sh
N=headless_disk
if [ "${SHELLY_DISK_INSIDE:-}" != 1 ]; then
	if ! is_root; then skip "$N" "needs root (a tmpfs in a private mount namespace)"; exit 0; fi
	command -v unshare >/dev/null 2>&1 || { skip "$N" "needs unshare (util-linux)"; exit 0; }
	SHELLY_DISK_INSIDE=1 unshare --mount --propagation private sh "$0" "$@"
	exit $?
fi

D=$T_TMP/disk
mkdir -p "$D"
if ! mount -t tmpfs -o size=2m,mode=0700 shelly-test-disk "$D"; then
	skip "$N" "cannot mount a tmpfs in a mount namespace"
	exit 0
fi
# Registered first, so it runs after the helpers' own cleanup (which stops the processes).
at_exit "umount -l '$D' 2>/dev/null"
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh

if ! sim_start $N --fixtures tests/fixtures --models gen2/plus-1pm,gen1/shelly-plug-s,gen2/plus-plug-s \
	--count 10 --load 100; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
NDEV=10
DB=$D/shelly.db
CONF=$T_TMP/config
# Results are written every 3 s: a state change is still in memory when the disk fills.
hl_config "$CONF" 'set flush-interval 3s'
hl_add_all "$DB" || { fail "$N: --add" "$(tail -n 3 "$T_TMP/add.err")"; exit 1; }
hl_start a "$DB" "$CONF" || { fail "$N: --headless start" "$(cat "$(hl_err a)")"; exit 1; }
ready() { [ "$(hl_code a /readyz)" = 200 ]; }
wait_for 10 ready && pass "$N: ready on the small tmpfs" || fail "$N: ready" "$(hl_get a /readyz)"

# A device goes away just after a write: the poller sees it at once, and the disk is full
# before it is written.
stored() { [ "$(sq "$DB" "SELECT count(*) FROM status WHERE state = 'online'")" = "$NDEV" ]; }
wait_for 10 stored || fail "$N: first write" "$(sq "$DB" "SELECT count(*) FROM status")"
MAC0=$(mac_of 0)
EV0=$(sq "$DB" "SELECT count(*) FROM events WHERE mac = '$MAC0' AND kind = 'offline'")
set_fault 0 closed
off_in_memory() { [ "$(hl_state a "$MAC0" "$T_TMP/m0")" = offline ]; }
wait_for 10 off_in_memory || fail "$N: device 0 offline" "$(grep "$MAC0" "$T_TMP/m0")"
# Fill the file system (dd stops at ENOSPC).
dd if=/dev/zero of="$D/fill" bs=4096 >/dev/null 2>&1
free=$(df -k --output=avail "$D" | tail -n 1 | tr -d ' ')
[ "$free" -le 4 ] && pass "$N: tmpfs full (${free} KiB free)" || fail "$N: fill" "$free KiB free"
T_FULL=$(now_ms)

notready() { [ "$(hl_code a /readyz)" = 503 ]; }
if wait_for 30 notready; then
	b=$(hl_get a /readyz)
	echo "$b" | grep -q 'database' && pass "$N: /readyz 503 with a database message ($b)" || fail "$N: /readyz message" "$b"
else
	fail "$N: /readyz 503 when the disk is full" "$(hl_code a /readyz) $(hl_get a /readyz)"
fi
grep ' error ' "$(hl_err a)" | grep -i 'database' | grep -qi 'full' &&
	pass "$N: clear error in the log ($(grep ' error ' "$(hl_err a)" | grep -i 'full' | head -n 1 | cut -c 26-))" ||
	fail "$N: log" "$(tail -n 5 "$(hl_err a)")"
[ "$(hl_code a /healthz)" = 200 ] && pass "$N: /healthz 200 while the disk is full" || fail "$N: /healthz" "$(hl_code a /healthz)"
hl_metrics a "$T_TMP/m" && [ "$(mval "$T_TMP/m" shelly_store_healthy)" = 0 ] &&
	pass "$N: /metrics served, shelly_store_healthy 0" || fail "$N: metrics while full" "$(mval "$T_TMP/m" shelly_store_healthy)"
# It cannot renew the poller lease either: it steps down within lease-timeout (1 s) rather
# than poll on without a lease another poller could take, and keeps serving.
standby() { [ "$(hl_metric a shelly_poller_leader)" = 0 ]; }
wait_for 20 standby && hl_alive a && grep -q 'no lease heartbeat succeeded' "$(hl_err a)" &&
	pass "$N: steps down when no lease heartbeat succeeds, keeps serving" ||
	fail "$N: step down while full" "alive: $(hl_alive a && echo yes || echo no) $(grep -i lease "$(hl_err a)" | tail -n 3)"
# Still full and still running after many failed flushes.
hl_alive a && notready && pass "$N: no crash, still not ready" || fail "$N: after failed flushes" "$(tail -n 5 "$(hl_err a)")"

# A little space: the lease write fits again, the held results not yet. It leads again with
# the states it holds (the store's are older).
# (The lead may not last: each lease write grows the write-ahead log into the little space
# again. The log keeps that it led: "holding the poller lease" a second time.)
truncate -s -16K "$D/fill"
led_again() { [ "$(grep -c 'holding the poller lease as' "$(hl_err a)")" -ge 2 ]; }
wait_for 30 led_again && pass "$N: leads again with a little space" ||
	fail "$N: lead with little space" "$(hl_get a /readyz) $(grep -i lease "$(hl_err a)" | tail -n 3)"
# Free the space: ready again and the results land in the DB.
rm -f "$D/fill"
T_FREE=$(now_ms)
if wait_for 20 ready; then pass "$N: /readyz 200 again once space is freed"; else fail "$N: ready after freeing" "$(hl_get a /readyz)"; fi
written() { [ "$(sq "$DB" "SELECT count(*) FROM status WHERE ts > $T_FREE")" = "$NDEV" ]; }
wait_for 10 written && pass "$N: results written again" || fail "$N: writes after freeing" "$(sq "$DB" "SELECT count(*) FROM status WHERE ts > $T_FREE")"
went_off() { [ "$(sq "$DB" "SELECT state FROM status WHERE mac = '$MAC0'")" = offline ]; }
wait_for 20 went_off && pass "$N: the state change made while full is written" ||
	fail "$N: offline written" "$(sq "$DB" "SELECT state FROM status WHERE mac = '$MAC0'")"
# Its event too, once (every result since the poller led again is written by now): the reload
# when it leads again must not start from the older state in the store, or the device goes
# offline a second time.
ev=$(sq "$DB" "SELECT count(*) FROM events WHERE mac = '$MAC0' AND kind = 'offline'")
[ "$ev" = $((EV0 + 1)) ] && pass "$N: one offline event for the device that went away while full" ||
	fail "$N: offline events" "$EV0 before, $ev after: $(sq "$DB" "SELECT kind, detail FROM events WHERE mac = '$MAC0'")"
grep -q 'work again' "$(hl_err a)" && pass "$N: the log says writes work again" || fail "$N: recovery log" "$(tail -n 3 "$(hl_err a)")"
hl_stop a
[ "$HL_RC" = 0 ] && pass "$N: SIGTERM exits 0" || fail "$N: exit" "rc=$HL_RC $(tail -n 5 "$(hl_err a)")"
r=$(sq "$DB" 'PRAGMA integrity_check')
[ "$r" = ok ] && pass "$N: DB integrity_check ok" || fail "$N: integrity" "$r"
sim_stop
exit 0
