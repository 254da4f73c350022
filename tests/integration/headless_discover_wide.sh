#!/bin/sh
# --headless scans the configured discover-ranges whatever their size: a discover-range larger
# than a /16 (which --discover refuses without --force) is the operator's explicit choice. One
# sweep of 65,537 loopback addresses (one more than a /16 holds; above every test's
# 127.x.y.0/24, nobody listening but one simulated device at its far end) must reach that
# device and register it. One sweep only (discover-interval 1h), of the smallest range the /16
# rule refuses: closed loopback ports answer at once, so it takes seconds, and tens of seconds
# with both builds of two suites running it side by side on a busy machine.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_headless.sh
N=headless_discover_wide
WIDE=127.240.255.254-127.241.255.254
SIM_NET=127.241.255

# The device is the last address of the range (a later --base wins). The other addresses
# refuse the connection at once, so the per-address timeout costs nothing; it is long enough
# for the device's reply on a loaded machine.
sim_up $N --models gen2/plus-1pm --count 1 --base "$SIM_NET.254"
ADDR=$(mf '.devices[0].addr')
[ "$ADDR" = "$SIM_NET.254" ] || { fail "$N: the device is at the far end of $WIDE" "addr=$ADDR"; exit 1; }
DB=$T_TMP/db
CONF=$T_TMP/config
hl_config "$CONF" "discover-range $WIDE" "set discover-interval 1h" \
	"set discover-port $SIM_PORT" "set discover-timeout 5s"
T0=$(now_ms)
hl_start a "$DB" "$CONF" || { fail "$N: headless start" "$(cat "$(hl_err a)")"; exit 1; }

# The run stores what it found once it has covered the whole range. The bound is far above
# what a loaded machine takes (see above: a run beside a busy build once passed 120 s under
# the sanitizers); a refusal ends the wait at once.
found() { [ "$(sq "$DB" "SELECT host FROM devices WHERE mac='$(mac_of 0)'")" = "$ADDR" ]; }
refused() { grep -Eq 'more than a /16|--force' "$(hl_err a)"; }
found_or_refused() { found || refused; }
if wait_for 400 found_or_refused && found; then
	pass "$N: one sweep of $WIDE registers the device at its far end ($ADDR) in $(( $(now_ms) - T0 )) ms"
else
	fail "$N: one sweep of $WIDE registers the device at its far end ($ADDR)" \
		"devices=$(sq "$DB" 'SELECT host FROM devices') $(tail -5 "$(hl_err a)")"
fi
refused &&
	fail "$N: $WIDE is scanned, not refused" "$(grep -E 'more than a /16|--force' "$(hl_err a)" | head -3)" ||
	pass "$N: $WIDE is scanned, not refused"
hl_stop a TERM 60
[ "$HL_RC" = 0 ] && pass "$N: clean stop" || fail "$N: clean stop" "rc=$HL_RC"
exit $T_FAILED
