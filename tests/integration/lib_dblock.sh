# Helpers for tests whose database another process holds write-locked (sourced after
# tests/lib.sh; DB names the database):
#   lock     sqlite3 takes the write lock (BEGIN EXCLUSIVE) and holds it until unlock (120 s
#            at most); 0 once it holds it (waited for up to 30 s), else 1 ($T_TMP/lock.err)
#   unlock   ends the lock and waits for sqlite3 to exit
# The lock is released at exit.
LOCK_PID=""
lock() {
	rm -f "$T_TMP/locked" "$T_TMP/release"
	{
		printf '.timeout 10000\nBEGIN EXCLUSIVE;\n.system touch %s\n' "$T_TMP/locked"
		_i=0
		while [ ! -e "$T_TMP/release" ] && [ $_i -lt 1200 ]; do sleep 0.1; _i=$((_i + 1)); done
		printf 'COMMIT;\n'
	} | sqlite3 -bail "$DB" >/dev/null 2>"$T_TMP/lock.err" &
	LOCK_PID=$!
	wait_for 30 test -e "$T_TMP/locked"
}
unlock() { touch "$T_TMP/release"; wait "$LOCK_PID"; }
at_exit 'touch "$T_TMP/release"'
