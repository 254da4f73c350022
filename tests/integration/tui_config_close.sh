#!/bin/sh
# Closing a console view stops the configuration job it started. While an apply still runs
# (the device's configuration reads never answer), closing the editor asks first and n keeps
# it open; quitting asks too, and y quits with the terminal restored.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_config_close
tui_sim_start $N --models gen2/plus-1pm
tui_config 'set poll-interval-gen2 60s' 'set request-timeout 120s'
tui_add 0 plus

tui_console 130 36 'fleet 1 +online 1' || exit 1
tui_keys Enter
tui_step 20 'switch:0' "detail"
tui_keys c
tui_step 60 'sys.timezone +string' "the editor reads the device"
tui_keys /
tui_type sys.timezone
tui_keys Enter Enter
tui_step 10 'sys.timezone \(string' "edit prompt"
tui_keys C-u
tui_type America/Chicago
tui_keys Enter
tui_step 10 '-> America/Chicago' "edit shown"
# From now on the device never answers a configuration read (within the 120 s timeout): the
# apply is still running however long a loaded machine takes over these keys.
set_fault 0 noanswer /rpc/Shelly.GetConfig
tui_keys a
tui_step 10 'Send 1 field\(s\) to plus .*\[y/N\]' "apply asks"
tui_keys y
tui_keys q
tui_expect 20 'configuration still being written to 1 device: close and stop\? \[y/N\]' \
	"close asks" "closing the editor while its apply runs asks first"
tui_keys n
tui_expect 20 'not closed: the configuration is still being written' "n" \
	"n keeps the editor open and the apply running" 'Config - plus'
tui_keys F10
tui_expect 20 'configuration still being written to 1 device: quit and stop\? \[y/N\]' \
	"quit asks" "quitting while an apply runs asks first"
tui_keys y
tui_expect 30 'RESTORED rc=0' "y quits" "y quits and restores the terminal"
exit 0
