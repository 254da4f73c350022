# The console's discovery view, golden against the simulated fleet: a scan of the sim's whole
# 127.x.y.0/24 typed at the F2 prompt shows probed = addresses = 254 and found = the sim's
# device count, and one row per sim device (registered ones "known", the others "NEW" first)
# with its id, model and address, exactly as the sim's manifest says; nothing is registered
# by the scan itself. i ignores one new device (listed last, never added by A), a adds another
# (ADDED; the registry holds it, not the ignored one), and the table shows it after q.
. tests/lib.sh
. tests/integration/lib_sim.sh
. tests/integration/lib_tui.sh

N=tui_discover
tui_sim_start $N --models gen1/shelly-1,gen2/plus-1pm,gen3/1pm-gen3,gen4/1pm-mini-gen4,gen2/plus-2pm,gen2/plus-plug-it
NDEV=$(mf '.devices | length')
tui_discover_config 'set poll-interval-gen1 1h' 'set poll-interval-gen2 1h'
# Two devices are registered before the scan.
tui_add_plain 0 1
registered() { "$SHELLY_TUI" --list --json 2>/dev/null | jq -r '.devices[].id' | sort; }
# The found rows on screen, one per line, blanks squeezed: STATE ID MODEL gen G ADDR:PORT.
rows() { grep -E '^│ (NEW|known|ignored|ADDED|FAILED) ' "$T_TMP/screen" | sed 's/^│ //; s/ *│$//' | tr -s ' '; }

tui_console 130 $((NDEV + 14)) 'fleet 2 '
tui_keys F2
tui_wait 10 'Scan \(' || fail "$N: scan prompt" "$(tui_why 'Scan')"
tui_type "$SIM_NET.0/24"
tui_keys Enter
if tui_wait 120 "done: 254 probed / 254 addresses, $NDEV found"; then
	pass "$N: the scan of $SIM_NET.0/24 counts 254 probed of 254 addresses and the sim's $NDEV devices found"
else
	fail "$N: counts" "$(tui_why "done: 254 probed / 254 addresses, $NDEV found")"
fi
# Golden: the rows are the manifest's devices, the two registered ones known.
{
	k=0
	while [ $k -lt "$NDEV" ]; do
		[ $k -lt 2 ] && st=known || st=NEW
		printf '%s %s %s gen %s %s:%s\n' $st "$(dv $k ID)" "$(dv $k MODEL)" "$(dv $k GEN)" "$(dv $k ADDR)" "$(dv $k PORT)"
		k=$((k + 1))
	done
} | sort >"$T_TMP/want"
# (every row of one capture: a frame's rows can follow its header on a loaded machine)
all_rows() { tui_screen >"$T_TMP/screen" && rows | sort >"$T_TMP/got" && cmp -s "$T_TMP/want" "$T_TMP/got"; }
wait_for 20 all_rows
order=$(rows | cut -d' ' -f1 | uniq | tr '\n' ' ')
# The address column starts at one place on every row, the longest id (29 characters) too.
cols=$(grep -E '^│ (NEW|known) ' "$T_TMP/screen" | awk -v a=" $SIM_NET." '{ print index($0, a) }' | sort -u | wc -l)
if [ "$cols" = 1 ]; then pass "$N: the address column is aligned on every row"; else fail "$N: aligned" "$(cat "$T_TMP/screen")"; fi
if cmp -s "$T_TMP/want" "$T_TMP/got" && [ "$order" = "NEW known " ] && [ "$(registered | wc -l)" = 2 ]; then
	pass "$N: one row per sim device with its id, model, generation and address; new ones first; nothing registered by the scan"
else
	fail "$N: found rows" "order=$order want:
$(cat "$T_TMP/want")
got:
$(cat "$T_TMP/got")"
fi

# i ignores the selected (first) new device: it goes last, marked ignored.
ign=$(rows | head -n 1 | cut -d' ' -f2)
tui_keys i
ignored_last() { _tui_match "ignored +$ign" && [ "$(rows | tail -n 1 | cut -d' ' -f1-2)" = "ignored $ign" ]; }
if wait_for 10 ignored_last; then
	pass "$N: i ignores the selected new device for the session (listed last)"
else
	fail "$N: ignore" "$(tui_why "ignored +$ign")"
fi
# a adds the device now selected (the next new one: the cursor stayed on the first row).
add=$(rows | head -n 1 | cut -d' ' -f2)
tui_keys a
if [ -n "$add" ] && [ "$add" != "$ign" ] && tui_wait 60 "ADDED +$add" &&
	registered | grep -qx "$add" && ! registered | grep -qx "$ign" && [ "$(registered | wc -l)" = 3 ]; then
	pass "$N: a adds the selected device to the registry (ADDED), the ignored one stays out"
else
	fail "$N: add" "add=$add ign=$ign registered: $(registered | tr '\n' ' ') $(tui_why "ADDED +$add")"
fi
tui_keys q
if tui_wait 30 'fleet 3 '; then pass "$N: the devices table shows the added device"; else fail "$N: table" "$(tui_why 'fleet 3')"; fi
tui_keys q
tui_wait 20 'RESTORED rc=0' || fail "$N: q" "$(tui_why RESTORED)"
