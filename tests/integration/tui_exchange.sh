# Export and import from the console: F9 asks the format and the file (a default in the
# current directory), device passwords go in only after a second yes; the file is what
# --export writes. I imports it back: the dry run's counts first, nothing written until y;
# a broken file names its line and changes nothing.
. tests/lib.sh
. tests/integration/lib_tui.sh

N=tui_exchange
DB=$T_TMP/fleet.db
tui_registry "$DB"
# Devices straight into the registry: 192.168.20.x is data here, the guard refuses it.
for i in 1 2 3; do
	tui_row "$DB" 00000000000$i dev$i 192.168.20.3$i
done
tui_registry_console 120 30 'fleet 3' "$DB"

# toml to the default path in the current directory, passwords refused.
tui_export t '\./shelly-fleet\.toml'
tui_keys Enter
tui_wait 10 'Include device passwords\?' || fail "$N: passwords question" "$(tui_why 'passwords')"
tui_keys n
"$SHELLY_TUI" --db "$DB" --config "$T_TMP/conf" --export toml >"$T_TMP/cli.toml" 2>/dev/null
if tui_wait 10 'exported 3 devices as toml to \./shelly-fleet\.toml' && cmp -s "$T_TMP/work/shelly-fleet.toml" "$T_TMP/cli.toml"; then
	pass "$N: F9 t Enter n writes ./shelly-fleet.toml, the same file --export toml writes"
else
	fail "$N: export" "$(tui_why exported) $(ls -l "$T_TMP/work")"
fi
# Passwords: the first yes asks again; no there writes nothing.
tui_keys x j C-u
tui_type "$T_TMP/work/secret.json"
tui_keys Enter y
if tui_wait 10 'device passwords in clear text. Include them\? \[y/N\]'; then pass "$N: passwords take a second, explicit yes"; else fail "$N: second question" "$(tui_why 'clear text')"; fi
tui_keys n
if tui_wait 10 'nothing exported' && [ ! -e "$T_TMP/work/secret.json" ]; then pass "$N: refused at the second question: nothing written"; else fail "$N: refused" "$(ls "$T_TMP/work")"; fi

# Import the toml back after renaming a device in the file: the dry run first.
sed 's/"dev2"/"renamed"/' "$T_TMP/work/shelly-fleet.toml" >"$T_TMP/work/in.toml"
grep -q renamed "$T_TMP/work/in.toml" || fail "$N: edit the export" "$(head -30 "$T_TMP/work/in.toml")"
tui_import in.toml
if tui_wait 10 'Dry run \(toml\): add 0, update 1, remove 0 devices \(2 unchanged\)' &&
	[ "$(sqlite3 "$DB" "select name from devices where mac = '000000000002'")" = dev2 ]; then
	pass "$N: import shows the dry run's counts (only the renamed device updated) and writes nothing yet"
else
	fail "$N: dry run" "$(tui_why 'Dry run')"
fi
tui_keys y
if tui_wait 10 'imported in\.toml \(toml\): 3 devices' && tui_wait 10 'renamed' &&
	[ "$(sqlite3 "$DB" "select name from devices where mac = '000000000002'")" = renamed ]; then
	pass "$N: y applies it: the database and the table show the new name"
else
	fail "$N: apply" "$(tui_why imported)"
fi
# A broken file: file, line and field; nothing asked, nothing changed.
printf 'kind = "shelly-tui-fleet"\nformat_version = 1\n\n[devices.000000000001]\nport = "eighty"\n' >"$T_TMP/work/bad.toml"
tui_keys :
tui_type 'import bad.toml'
tui_keys Enter
if tui_wait 10 'import: bad\.toml: line [0-9]+' && ! grep -q '\[y/N\]' "$T_TMP/screen" &&
	[ "$(sqlite3 "$DB" "select port from devices where mac = '000000000001'")" = 80 ]; then
	pass "$N: a broken file names file and line and changes nothing"
else
	fail "$N: broken file" "$(tui_why 'import: bad.toml: line')"
fi
tui_keys q
tui_wait 20 'RESTORED rc=0' || fail "$N: q" "$(tui_why RESTORED)"
