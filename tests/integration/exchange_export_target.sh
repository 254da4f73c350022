#!/bin/sh
# --export -o onto what is not a plain file. A symbolic link is followed: its target gets the
# document and the link stays. A FIFO or character device is written in place, never replaced
# by a regular file (root once lost /dev/full that way); a FIFO without a reader is an error,
# not a hang. A link to a missing file is refused. Every target lives in the test's own
# directory: a mknod'd null device and a link to /proc/self/fd/1 stand for /dev/null and
# /dev/stdout, so a regression cannot remove the machine's nodes.
. tests/lib.sh
. tests/integration/lib_exchange.sh

N=exchange_export_target
DB=$T_TMP/fleet.db
D=$T_TMP/d
mkdir -p "$D/etc" "$D/srv"
if ! hostile_fleet "$DB"; then
	fail "$N: hostile fleet" "could not create it"
	exit 0
fi
export_to() { timeout 30 "$SHELLY_TUI" --db "$DB" --export csv -o "$1" 2>"$T_TMP/err"; }
export_to "$T_TMP/ref.csv" || fail "$N: reference export" "$(cat "$T_TMP/err")"
size=$(wc -c <"$T_TMP/ref.csv")
no_tmp() { ! ls -A "$D/etc" "$D/srv" | grep -q '\.tmp\.'; }

# a link to a file in another directory: the target is replaced, the link kept
echo old >"$D/srv/x.csv"
ln -s ../srv/x.csv "$D/etc/x.csv"
if export_to "$D/etc/x.csv" && [ -L "$D/etc/x.csv" ] && cmp -s "$D/srv/x.csv" "$T_TMP/ref.csv" &&
	no_tmp; then
	pass "$N: a symbolic link is followed, its target replaced"
else
	fail "$N: symbolic link" "$(ls -la "$D/etc" "$D/srv"; cat "$T_TMP/err")"
fi

# a link to a missing file: refused, nothing created
ln -s ../srv/missing.csv "$D/etc/dangling.csv"
if ! export_to "$D/etc/dangling.csv" && grep -q 'symbolic link to a missing file' "$T_TMP/err" &&
	[ -L "$D/etc/dangling.csv" ] && [ ! -e "$D/srv/missing.csv" ] && no_tmp; then
	pass "$N: a link to a missing file is refused"
else
	fail "$N: dangling link" "$(ls -la "$D/etc" "$D/srv"; cat "$T_TMP/err")"
fi

# a FIFO with a reader gets the document; the test holds both ends, so no race with a reader
mkfifo "$D/fifo"
exec 3<>"$D/fifo"
if export_to "$D/fifo"; then
	if [ ! -p "$D/fifo" ]; then
		fail "$N: FIFO replaced" "$(ls -la "$D")"
		mv "$D/fifo" "$D/fifo.was" && mkfifo "$D/fifo"
	elif head -c "$size" <&3 >"$T_TMP/fifo.out" && cmp -s "$T_TMP/fifo.out" "$T_TMP/ref.csv"; then
		pass "$N: a FIFO is written in place"
	else
		fail "$N: FIFO content" "$(od -c "$T_TMP/fifo.out" | head)"
	fi
else
	fail "$N: FIFO with a reader" "$(cat "$T_TMP/err")"
fi
exec 3<&-
# without a reader: an error at once, the FIFO kept
if ! export_to "$D/fifo" && grep -q 'FIFO with no reader' "$T_TMP/err" && [ -p "$D/fifo" ]; then
	pass "$N: a FIFO without a reader is an error, not a wait"
else
	fail "$N: FIFO without reader" "$(ls -la "$D"; cat "$T_TMP/err")"
fi

# a link to /proc/self/fd/1, as /dev/stdout is: the document goes to standard output
ln -s /proc/self/fd/1 "$D/stdout"
if timeout 30 "$SHELLY_TUI" --db "$DB" --export csv -o "$D/stdout" 2>"$T_TMP/err" |
	cat >"$T_TMP/stdout.out" && [ -L "$D/stdout" ] && cmp -s "$T_TMP/stdout.out" "$T_TMP/ref.csv"; then
	pass "$N: a link to standard output writes to the pipe"
else
	fail "$N: stdout link" "$(ls -la "$D"; cat "$T_TMP/err")"
fi

# a character device (the null device's numbers, in our own directory)
if [ "$(id -u)" != 0 ]; then
	skip "$N: character device" "mknod needs root"
elif mknod "$D/null" c 1 3 && export_to "$D/null" && [ -c "$D/null" ] && [ ! -s "$D/null" ] &&
	! ls -A "$D" | grep -q '\.tmp\.'; then
	pass "$N: a character device is written, not replaced"
else
	fail "$N: character device" "$(ls -la "$D"; cat "$T_TMP/err")"
fi

# a directory is refused with the reason
mkdir "$D/dir"
export_to "$D/dir" && fail "$N: a directory is refused" ||
	{ grep -q 'not a regular file' "$T_TMP/err" && pass "$N: a directory is refused" ||
		fail "$N: directory" "$(cat "$T_TMP/err")"; }
exit 0
