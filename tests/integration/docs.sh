#!/bin/sh
# The man page, --help and --list-options are kept in step: every option of --help and every
# configuration option is documented in shelly-tui.1, and the man page lints clean.
. tests/lib.sh

out=$(mandoc -Tlint -W warning shelly-tui.1 2>&1)
if [ -z "$out" ]; then pass "man page lints clean"; else fail "man page lints clean" "$out"; fi

missing=""
for o in $("$SHELLY_TUI" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
	name=${o#--}
	grep -qE "^\.It Fl (.* )?\\\\-$name( |$)" shelly-tui.1 || missing="$missing $o"
done
if [ -z "$missing" ]; then pass "every --help option is in the man page"; else fail "every --help option is in the man page" "missing:$missing"; fi

missing=""
for name in $("$SHELLY_TUI" --list-options | awk '{print $1}'); do
	grep -q "^\.It Cm $name Ar " shelly-tui.1 || missing="$missing $name"
done
if [ -z "$missing" ]; then pass "every config option is in the man page"; else fail "every config option is in the man page" "missing:$missing"; fi

# --force's scan limit reads the same in --help and the man page (the code refuses only more
# than a /16 without it).
h=$("$SHELLY_TUI" --help | grep -e '--force')
if printf '%s\n' "$h" | grep -q 'larger than a /16' && grep -q 'larger than a /16' shelly-tui.1
then pass "--help and the man page agree: --force for scans larger than a /16"
else fail "--help and the man page agree on --force" "$h"; fi

# The METRICS section is the family table: the same names and types, in page order.
want=$("$SHELLY_TUI" --list-metrics | awk '{print $1, $2}')
got=$(sed -n '/^\.Sh METRICS/,/^\.Sh /p' shelly-tui.1 | sed -n 's/^\.It Cm \(shelly_[a-z_]*\) Pq \([a-z]*\)$/\1 \2/p')
if [ -n "$want" ] && [ "$want" = "$got" ]; then pass "the man page's METRICS section lists every family of --list-metrics, in order"
else fail "METRICS section = --list-metrics" "$(printf '%s\n' "$want" >"$T_TMP/w"; printf '%s\n' "$got" | diff "$T_TMP/w" - | head -10)"; fi

# SYNOPSIS: every command starts with .Nm, so a mandatory flag (a .Fl line) follows .Nm or the
# command's other mandatory flags, never an optional one; and every mode of --help starts one.
synopsis_order() {
	sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' "$1" |
		awk -v f="$1" '/^\.Fl / && prev !~ /^\.(Nm|Fl )/ { print f ": " $0 } { prev = $0 }'
}
bad=$(synopsis_order shelly-tui.1; synopsis_order shelly-provisioner.1)
[ -z "$bad" ] && pass "SYNOPSIS: a mandatory flag only after .Nm or another mandatory flag" ||
	fail "SYNOPSIS: a command without .Nm" "$bad"
starts=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' shelly-tui.1 | awk 'nm { print } { nm = $0 == ".Nm" }')
missing=""
for o in $("$SHELLY_TUI" --help | sed -n '/^Modes:/,/^$/p' | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
	printf '%s\n' "$starts" | grep -qE "\\\\${o#-}( |\$)" || missing="$missing $o"
done
[ -z "$missing" ] && pass "SYNOPSIS: each mode of --help starts a command (.Nm, then the mode)" ||
	fail "SYNOPSIS: modes that start no command" "$missing"

# Usage errors exit 2, with a message.
"$SHELLY_TUI" --probe 127.0.0.1 --list >/dev/null 2>"$T_TMP/err"; rc=$?
if [ $rc -eq 2 ] && grep -q "two modes" "$T_TMP/err"; then pass "two modes are a usage error"; else fail "two modes are a usage error" "rc=$rc $(cat "$T_TMP/err")"; fi
"$SHELLY_TUI" --bogus >/dev/null 2>&1; rc=$?
if [ $rc -eq 2 ]; then pass "unknown option exits 2"; else fail "unknown option exits 2" "rc=$rc"; fi
"$SHELLY_TUI" --probe '127.0.0.1:99999' >/dev/null 2>&1; rc=$?
if [ $rc -eq 2 ]; then pass "bad port exits 2"; else fail "bad port exits 2" "rc=$rc"; fi
# Every exit status of the man page's EXIT STATUS is in --help's summary too (3: --drift)
man_codes=$(sed -n '/^\.Sh EXIT STATUS/,/^\.Sh/p' shelly-tui.1 | grep -oE '^[0-9]|[ (]([0-9]) (on|when)' | grep -oE '[0-9]' | sort -u | tr -d '\n')
help_codes=$("$SHELLY_TUI" --help | grep '^Exit status:' | grep -oE '[0-9] [a-z]' | grep -oE '^[0-9]' | sort -u | tr -d '\n')
if [ -n "$man_codes" ] && [ "$man_codes" = "$help_codes" ]; then pass "--help and EXIT STATUS name the same exit codes ($help_codes)"
else fail "--help and EXIT STATUS name the same exit codes" "man '$man_codes' help '$help_codes'"; fi

# SYNOPSIS names, in each mode's command, every option the parser ties to that mode (the modes
# an option goes with, as its refusal by --version lists them), so an option a mode takes is not
# missing from its line. --user, --password-file and --https, which every mode that reaches a
# device takes, are described once under OPTIONS; --provision-csv takes names from its file.
syn=$(sed -n '/^\.Sh SYNOPSIS/,/^\.Sh DESCRIPTION/p' shelly-tui.1 |
	awk '/^\.Nm$/ { if (c != "") print c; c = ""; next } /^\.Sh/ { next } { c = c " " $0 } END { print c }')
missing=""
"$SHELLY_TUI" --help | sed -n 's/^ *\(-\([a-zA-Z]\), \)\{0,1\}--\([a-z-]*\)\( [A-Z][^ ]*\)\{0,1\} .*/\3;\2;\4/p' >"$T_TMP/opts"
while IFS=';' read -r name short arg; do
	case $name in user | password-file | https) continue ;; esac
	if [ -n "$arg" ]; then "$SHELLY_TUI" --version "--$name" 1 >/dev/null 2>"$T_TMP/goes"
	else "$SHELLY_TUI" --version "--$name" >/dev/null 2>"$T_TMP/goes"; fi
	modes=$(sed -n "s/^shelly-tui: --$name goes with //p" "$T_TMP/goes" | sed 's/, / /g; s/ or / /g; s/the console/--console/')
	for m in $modes; do
		[ "$m/$name" = "--provision-csv/name" ] && continue
		if [ "$m" = --console ]; then line=$(printf '%s\n' "$syn" | head -n 1)
		else line=$(printf '%s\n' "$syn" | grep -E -- "^ \.Fl \\\\${m#-}( |\$)" | head -n 1); fi
		[ -n "$line" ] || continue
		printf '%s\n' "$line" | grep -qE -- "(\\\\-$name|Fl ${short:-@})( |\$)" ||
			missing="$missing $m:--$name"
	done
done <"$T_TMP/opts"
[ -z "$missing" ] && pass "SYNOPSIS: each mode's command names the options it takes" ||
	fail "SYNOPSIS: options a mode takes missing from its command" "$missing"

# Every variable of the man page's ENVIRONMENT is named in --help's Environment paragraph.
envs=$(sed -n '/^\.Sh ENVIRONMENT/,/^\.Sh /p' shelly-tui.1 | sed -n 's/^\.It Ev \([A-Z_]*\).*/\1/p')
helpenv=$("$SHELLY_TUI" --help | sed -n '/^Environment:/,/^Exit status:/p')
missing=""
for e in $envs; do printf '%s\n' "$helpenv" | grep -q "$e" || missing="$missing $e"; done
[ -n "$envs" ] && [ -z "$missing" ] && pass "--help names every variable of ENVIRONMENT" ||
	fail "--help names every variable of ENVIRONMENT" "missing:$missing (man: $envs)"
