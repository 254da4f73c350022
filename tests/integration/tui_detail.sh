# The detail view's own actions against the simulated fleet, in a private tmux server: a
# cover moved to a position and a light set to a brightness through the value prompt (the
# sim's target and brightness follow), a reboot that asks first and does nothing on "n", and an
# HTTPS device whose certificate was rotated: refused until the operator accepts the new one
# with K (and y), then polled again.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_detail
tui_sim_start $N --models gen2/plus-2pm/cover-mode,gen2/pro-dimmer-1pm,gen2/plus-1pm \
	--tls 2 --tls-dir "$T_TMP/tls"
tui_config
tui_add 0 blind
tui_add 1 dimmer
tui_add 2 secure --https
tui_console 100 30 'fleet 3 +online 3'

# The cover: v, a position, Enter.
tui_keys /
tui_type blind
tui_keys Enter Enter
tui_wait 20 'cover:0' || fail "$N: cover detail" "$(tui_why 'cover:0')"
tui_keys v
tui_wait 10 'Position of cover:0' || fail "$N: position prompt" "$(tui_why 'Position of cover:0')"
tui_type 30
tui_keys Enter
target30() { [ "$(dev_state 0 '.covers[0].target')" = 30 ]; }
if wait_for 60 target30; then pass "$N: v 30 moves the cover to 30 %"; else fail "$N: cover position" "target $(dev_state 0 '.covers[0].target'); $(tui_screen)"; fi

# A reboot asks first; n does nothing.
tui_keys R
if tui_wait 10 'Restart this device\? \[y/N\]'; then pass "$N: R asks before restarting"; else fail "$N: reboot question" "$(tui_why 'Restart this device')"; fi
tui_keys n
tui_wait 10 'nothing done' || fail "$N: n answers no" "$(tui_why 'nothing done')"
tui_keys q

# The light: v, a brightness, Enter.
tui_keys /
tui_keys C-u
tui_type dimmer
tui_keys Enter Enter
tui_wait 20 'light:0' || fail "$N: light detail" "$(tui_why 'light:0')"
tui_keys v
tui_wait 10 'Brightness of light:0' || fail "$N: brightness prompt" "$(tui_why 'Brightness of light:0')"
tui_type 40
tui_keys Enter
bright40() { [ "$(dev_state 1 '.lights[0].brightness')" = 40 ]; }
if wait_for 60 bright40; then pass "$N: v 40 sets the light's brightness to 40 %"; else fail "$N: brightness" "$(dev_state 1 '.lights[0].brightness'); $(tui_screen)"; fi
# Out of range is refused before anything is sent.
tui_keys v
tui_type 140
tui_keys Enter
if tui_wait 10 "a whole number 0-100, not '140'"; then pass "$N: a value over 100 is refused"; else fail "$N: range" "$(tui_why '0-100')"; fi
tui_keys Escape

# The HTTPS device's certificate changes: polls fail ("certificate changed") until K, y.
ctl POST "/devices/2/tls/rotate" >/dev/null
tui_keys /
tui_keys C-u
tui_type secure
tui_keys Enter
if tui_wait 60 '^.  secure .* error '; then pass "$N: a rotated certificate puts the device in error"; else fail "$N: rotation" "$(tui_why 'secure .* error')"; fi
tui_keys Enter
tui_wait 20 'certificate changed' || fail "$N: the detail says why" "$(tui_why 'certificate changed')"
tui_keys K
if tui_wait 10 'Pin the certificate this device shows now\? \[y/N\]'; then pass "$N: K asks before pinning a new certificate"; else fail "$N: K asks" "$(tui_why 'Pin the certificate')"; fi
tui_keys y
if tui_wait 60 'accept certificate: ok' && tui_keys q && tui_wait 60 '^.  secure .* online '; then
	pass "$N: after K y the new certificate is pinned and the device is polled again"
else
	fail "$N: accept certificate" "$(tui_why 'secure .* online')"
fi
tui_keys q
if tui_wait 20 'RESTORED rc=0'; then pass "$N: q exits 0 with the terminal restored"; else fail "$N: quit" "$(tui_why RESTORED)"; fi
