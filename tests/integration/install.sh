# make install / make uninstall into a temporary DESTDIR: programs, man pages, themes, systemd
# units land under PREFIX; the installed binary runs (--version names its data directory under
# PREFIX, --list-options, man -l); uninstall leaves no file behind. A second PREFIX is installed
# from a copy of the build tree, so the tree the other tests use is never rebuilt.
. tests/lib.sh
N=install

# The build tree must be up to date: an install that compiled here would race the other tests.
if ! make -s -q BUILD="$BUILD" "$BUILD/shelly-tui" 2>/dev/null; then
	fail "$N: $BUILD is up to date" "run make BUILD=$BUILD all first"
	exit 1
fi
# The real themes (when the tree has any) plus one of the test's own, so the rule is exercised.
mkdir -p "$T_TMP/themes"
printf '# test theme\n' >"$T_TMP/themes/zz-test"
THEMES_ARG="$(make -s --no-print-directory --eval 'print-themes: ; @echo $(THEMES)' print-themes) $T_TMP/themes/zz-test"

D=$T_TMP/dest
P=/usr/local
if make -s BUILD="$BUILD" DESTDIR="$D" THEMES="$THEMES_ARG" install >"$T_TMP/inst.out" 2>&1; then
	pass "$N: make install DESTDIR=... (PREFIX $P)"
else
	fail "$N: make install" "$(tail -n 5 "$T_TMP/inst.out")"
	exit 1
fi

missing=""
for m in *.1; do
	prog=${m%.1}
	[ -x "$D$P/bin/$prog" ] || missing="$missing bin/$prog"
	[ -f "$D$P/share/man/man1/$m" ] || missing="$missing man1/$m"
done
for t in $THEMES_ARG; do
	[ -f "$D$P/share/shelly-tui/themes/$(basename "$t")" ] || missing="$missing themes/$(basename "$t")"
done
for u in deploy/systemd/*.service; do
	[ -f "$D$P/lib/systemd/system/$(basename "$u")" ] || missing="$missing $(basename "$u")"
done
[ -z "$missing" ] && pass "$N: programs, man pages, themes and units installed" ||
	fail "$N: installed files" "missing:$missing"
grep -q "^ExecStart=$P/bin/shelly-tui " "$D$P/lib/systemd/system/shelly-tui.service" &&
	pass "$N: the installed unit runs $P/bin/shelly-tui" ||
	fail "$N: unit ExecStart" "$(grep ExecStart "$D$P/lib/systemd/system/shelly-tui.service")"

BIN=$D$P/bin/shelly-tui
"$BIN" --version >"$T_TMP/ver" 2>&1 && grep -q '^shelly-tui [0-9]' "$T_TMP/ver" &&
	grep -qx "data directory: $P/share/shelly-tui" "$T_TMP/ver" &&
	pass "$N: installed --version names $P/share/shelly-tui" ||
	fail "$N: installed --version" "$(cat "$T_TMP/ver")"
# Without any data directory (nothing is installed at $P here, and the override points nowhere)
# the binary still runs: the defaults are compiled in.
SHELLY_TUI_DATADIR=$T_TMP/nowhere "$BIN" --list-options >"$T_TMP/opts" 2>&1 &&
	"$SHELLY_TUI" --list-options | cmp -s - "$T_TMP/opts" && [ -s "$T_TMP/opts" ] &&
	pass "$N: installed --list-options runs without its data directory" ||
	fail "$N: installed --list-options" "$(head -n 3 "$T_TMP/opts")"
if command -v man >/dev/null 2>&1; then
	MANPAGER=cat MANWIDTH=80 man -l "$D$P/share/man/man1/shelly-tui.1" >"$T_TMP/man" 2>"$T_TMP/man.err" &&
		grep -q 'SYNOPSIS' "$T_TMP/man" && grep -q 'FILES' "$T_TMP/man" &&
		pass "$N: man -l renders the installed page" ||
		fail "$N: man -l" "$(head -n 3 "$T_TMP/man.err")"
else
	fail "$N: man -l" "man is not installed (tools/deps.sh installs man-db)"
fi

make -s BUILD="$BUILD" DESTDIR="$D" THEMES="$THEMES_ARG" uninstall >"$T_TMP/un.out" 2>&1
left=$(find "$D" -type f | sed "s|^$D||")
[ -z "$left" ] && [ ! -d "$D$P/share/shelly-tui" ] &&
	pass "$N: make uninstall removes every installed file" ||
	fail "$N: uninstall" "left:$left $(tail -n 3 "$T_TMP/un.out")"

# Another PREFIX, from a copy of the tree (only the data directory's object is rebuilt there,
# with the tree's own sanitizer flags when it has them).
P2=/opt/shelly-tui
cp -a "$BUILD" "$T_TMP/b2"
opt="-O2 -g"
nm "$BUILD/src/util/datadir.o" 2>/dev/null | grep -q __asan && opt='-O1 -g $(SAN)'
if make -s BUILD="$T_TMP/b2" OPT="$opt" PREFIX=$P2 DESTDIR="$T_TMP/d2" THEMES="$THEMES_ARG" install \
	>"$T_TMP/inst2.out" 2>&1; then
	"$T_TMP/d2$P2/bin/shelly-tui" --version >"$T_TMP/v2" 2>&1
	grep -qx "data directory: $P2/share/shelly-tui" "$T_TMP/v2" &&
		[ -f "$T_TMP/d2$P2/share/shelly-tui/themes/zz-test" ] &&
		grep -q "^ExecStart=$P2/bin/shelly-tui " "$T_TMP/d2$P2/lib/systemd/system/shelly-tui.service" &&
		pass "$N: PREFIX=$P2: binary, data directory and unit follow it" ||
		fail "$N: PREFIX=$P2" "$(cat "$T_TMP/v2")"
else
	fail "$N: make install PREFIX=$P2" "$(tail -n 5 "$T_TMP/inst2.out")"
fi
exit $T_FAILED
