# What --export and --import warn about, the console says too. A dnsmasq export that leaves
# devices out (an IPv6 address, no address) says so and lists each with why, names sanitised;
# an import whose file names password files (credentials file:PATH) holds them back unless the
# operator takes them: h holds them back (the dry run and the result say so), t takes them only
# after a second yes, and no there imports nothing.
. tests/lib.sh
. tests/integration/lib_tui.sh

N=tui_exchange_warn
NET=$(test_net "$N")
DB=$T_TMP/fleet.db
tui_registry "$DB"
tui_row "$DB" 000000000001 dev1 "$NET.1"
tui_row "$DB" 000000000002 dev2 ::1
# A hostile name: the escape sequence must reach the screen only as visible text.
tui_row "$DB" 000000000003 "$(printf 'evil\033[31mred')" ""
tui_registry_console 200 30 'fleet 3' "$DB"

# dnsmasq: one line for dev1; dev2 (IPv6) and the nameless-address device are left out.
tui_export d '\./shelly-fleet\.dnsmasq\.conf'
tui_keys Enter
if tui_wait 10 'exported 3 devices as dnsmasq to \./shelly-fleet\.dnsmasq\.conf, but 2 left out of the file' &&
	grep -q "$NET.1" "$T_TMP/work/shelly-fleet.dnsmasq.conf"; then
	pass "$N: the status line says how many devices the dnsmasq file leaves out"
else
	fail "$N: export status" "$(tui_why 'but 2 left out')"
fi
if tui_wait_all 10 '2 devices left out' '000000000002 \(dev2\): left out: host ::1: an IPv6 address' \
	'000000000003 \(evil.*red\): left out: host -: it has no address'; then
	pass "$N: a view lists each device left out and why"
else
	fail "$N: notes view" "$(tui_why '000000000002 (dev2): left out')"
fi
# The name's escape sequence never reaches the terminal: the pane's text with its attributes
# (capture-pane -e) has no colour change between "evil" and "red".
if tmux_ capture-pane -p -e | grep -Fq '000000000003 (evilred)'; then
	pass "$N: the hostile name in the notes is sanitised"
else
	fail "$N: sanitised" "$(tmux_ capture-pane -p -e | grep 000000000003 | od -c | head -20)"
fi
tui_keys q
tui_wait_not 10 'devices left out' || fail "$N: q closes the notes" "$(tui_why 'fleet 3')"

# An import file with a new device whose credentials are a password file.
printf 'secret\n' >"$T_TMP/pw"
"$SHELLY_TUI" --db "$DB" --config "$T_TMP/conf" --export toml >"$T_TMP/work/in.toml" 2>/dev/null ||
	fail "$N: cli export"
printf '\n[devices.000000000004]\nid = "shellyplus1-000000000004"\nname = "dev4"\ngen = 2\nhost = "%s.4"\nport = 80\nscheme = "http"\ncredentials = "file:%s"\n' \
	"$NET" "$T_TMP/pw" >>"$T_TMP/work/in.toml"
cred4() { sqlite3 "$DB" "select ifnull(cred_ref, 'none') from devices where mac = '000000000004'"; }
tui_import in.toml
tui_expect 10 'h hold back  t take \(asks again\)  other key cancels: 1 device \(first 000000000004\) names password files \(file:PATH\)' \
	"held question" "before the dry run the console says a password file is named and asks"
tui_keys h
tui_expect 10 'Dry run \(toml\): add 1, update 0, remove 0 devices \(3 unchanged\); .*1 password file held back\. Apply\?' \
	"held dry run" "h: the dry run counts what applying writes and says it is held back"
tui_keys y
if tui_wait 10 'imported in\.toml \(toml\): 4 devices .*password files \(file:PATH\) of 1 device held back, first 000000000004' &&
	[ "$(cred4)" = none ]; then
	pass "$N: the import holds the password file back and says so: the device has no credentials"
else
	fail "$N: held import" "$(tui_why 'held back, first') cred=$(cred4)"
fi

# Taking them needs a second yes; no there imports nothing.
tui_import in.toml
tui_step 10 'names password files' "held question again"
tui_keys t
tui_expect 10 'send them to the hosts the import file names\. Take them\? \[y/N\]' \
	"second question" "t asks again, saying where the files go"
tui_keys n
if tui_wait 10 'nothing imported' && [ "$(cred4)" = none ]; then
	pass "$N: no at the second question imports nothing"
else
	fail "$N: refused take" "$(tui_why 'nothing imported') cred=$(cred4)"
fi
tui_import in.toml
tui_step 10 'names password files' "held question, third"
tui_keys t
tui_step 10 'Take them\? \[y/N\]' "second question again"
tui_keys y
tui_expect 10 'Dry run \(toml\): add 0, update 1, remove 0 devices \(3 unchanged\); .*password files taken\. Apply\?' \
	"taken dry run" "taken: the dry run counts again, the device's credentials change"
tui_keys y
if tui_wait 10 'imported in\.toml \(toml\): 4 devices' && [ "$(cred4)" = "file:$T_TMP/pw" ] &&
	! grep -q 'held back' "$T_TMP/screen"; then
	pass "$N: y applies them: the device uses the file's password file"
else
	fail "$N: taken import" "$(tui_why 'imported in.toml') cred=$(cred4)"
fi
tui_keys q
tui_step 20 'RESTORED rc=0' "q"
