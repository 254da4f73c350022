# The console's OPNsense plan as a table against a fake OPNsense (Kea): one row per record
# (action, kind, device, address, MAC, host name, reason) under the count line --dry-run
# prints, conflicts first, then the changes; a hostile device name reaches the screen
# sanitised (its host name is derived safely); a plan longer than the screen scrolls with the shared list keys (End, Home);
# a asks first and n writes nothing.
. tests/lib.sh
. tests/integration/lib_opnsense.sh
. tests/integration/lib_tui.sh

N=tui_opnsense_table
op_init $N
cat >"$T_TMP/kea.json" <<'JSON'
{"subnets": [{"uuid": "3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10", "subnet": "192.168.20.0/24", "description": "iot"}],
 "reservations": [
  {"uuid": "f0000001-0000-4000-8000-000000000001", "subnet": "3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10", "ip_address": "192.168.20.10",
   "hw_address": "de:ad:be:ef:00:01", "hostname": "printer", "description": "office printer"},
  {"uuid": "09000009-0000-4000-8000-000000000009", "subnet": "3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10", "ip_address": "192.168.20.99",
   "hw_address": "00:00:00:00:00:ff", "hostname": "gone", "description": "shelly-tui:0000000000ff Gone"}],
 "aliases": []}
JSON
DB=$T_TMP/db
esc=$(printf '\033')
bel=$(printf '\007')
set -- "000000000003|Porch|192.168.20.10" "0000000000ee|Evil${esc}]0;pwned${bel}x|192.168.20.200"
i=1
while [ $i -le 40 ]; do
	set -- "$@" "$(printf '0000000001%02x|Dev%02d|192.168.20.%d' $i $i $((100 + i)))"
	i=$((i + 1))
done
op_db "$DB" "$@"
op_console "$T_TMP/kea.json" "$DB" 160 30 42
plan_line=$OP_PLAN_LINE
tui_keys F11
# The view's title comes before the firewall's answer: wait for the whole table, rows included.
plan_shown() {
	_tui_match 'OPNsense - plan' && grep -qF "$plan_line" "$T_TMP/screen" &&
		grep -Eq 'ACTION +KIND +DEVICE +ADDRESS +MAC +HOSTNAME +REASON' "$T_TMP/screen" &&
		grep -Eq '│ conflict ' "$T_TMP/screen" && grep -Eq '│ add +reservation +Dev01 +192\.168\.20\.101 +00:00:00:00:01:01 ' "$T_TMP/screen"
}
if wait_for 60 plan_shown; then
	pass "$N: the plan is a table with the count line --dry-run prints ($plan_line)"
else
	fail "$N: table" "$(tui_why "$plan_line")"
fi
# Rows in order: the conflict first, then the changes by device name.
rows=$(grep -E '│ (conflict|add|remove|update) ' "$T_TMP/screen" | sed 's/^│ *//')
first=$(printf '%s\n' "$rows" | head -n 1)
second=$(printf '%s\n' "$rows" | sed -n 2p)
if printf '%s\n' "$first" | grep -Eq '^conflict +reservation +Porch +192\.168\.20\.10 +00:00:00:00:00:03 .*[a-z]' &&
	printf '%s\n' "$second" | grep -Eq '^add +reservation +Dev01 +192\.168\.20\.101 +00:00:00:00:01:01 '; then
	pass "$N: the conflict comes first with its reason, then each change: action, kind, device, address, MAC"
else
	fail "$N: rows" "$(tui_why 'conflict reservation Porch')"
fi
tui_keys End
if tui_wait_all 30 '│ add +alias +shelly_devices' '!Porch' '│ remove +reservation .*192\.168\.20\.99'; then
	pass "$N: End scrolls to the plan's last rows (the removal and the alias)"
else
	fail "$N: scroll" "$(tui_why 'add alias shelly_devices')"
fi
if tui_wait_all 20 '│ add +reservation +Evilx +192\.168\.20\.200 ' &&
	! grep -qF ']0;' "$T_TMP/screen" && [ "$(tmux_ display -p '#{pane_title}')" != pwned ]; then
	pass "$N: the hostile name is shown without its escape sequence"
else
	fail "$N: hostile" "title=$(tmux_ display -p '#{pane_title}') $(tui_why 'Evilx')"
fi
tui_keys Home
if tui_wait_all 10 'conflict +reservation +Porch' \
	'│ Porch: address 192\.168\.20\.10 is reserved for de:ad:be:ef:00:01'; then
	pass "$N: Home goes back to the first row; the selected row's whole reason is shown above the table"
else
	fail "$N: home" "$(tui_why 'conflict reservation Porch')"
fi
tui_keys a
if tui_wait 20 'Apply this plan \([0-9]+ changes\) to OPNsense\? \[y/N\]'; then
	pass "$N: a asks first"
else
	fail "$N: question" "$(tui_why 'Apply this plan')"
fi
tui_keys n
if tui_wait 20 'nothing applied' && [ "$(op_count k .writes)" = 0 ]; then
	pass "$N: n answers no: nothing is written"
else
	fail "$N: declined" "writes=$(op_count k .writes) $(tui_why 'nothing applied')"
fi
tui_keys q
tui_keys q
tui_wait 20 'RESTORED rc=0' || fail "$N: q" "$(tui_why RESTORED)"
