# A stand-in HTTP server (stub_http.py) for tests that need something other than the simulated
# fleet to answer: a web server that is not a Shelly, a device that only wants a password, a
# manager with a reply of its own. Sourced after tests/lib.sh; tests/run.sh skips lib*.sh.
#
#   stub_start ADDR RULES_JSON [LOG]   starts it on ADDR, a port the kernel picks (bounded wait,
#                                      60 s: python starts slowly beside a second suite); sets
#                                      STUB_PORT and STUB_PID; FAIL "<test>: stand-in server"
#                                      and the test ends when it does not start. Stopped on exit.
#   stub_stop                          stops it (before starting another)
# RULES_JSON and LOG: see stub_http.py.
command -v python3 >/dev/null 2>&1 || { skip "$(basename "$0" .sh)" "needs python3"; exit 0; }

STUB_PID=""
stub_stop() {
	[ -n "$STUB_PID" ] || return 0
	kill_ours "$STUB_PID"
	wait "$STUB_PID" 2>/dev/null
	STUB_PID=""
}
at_exit stub_stop

stub_start() {
	rm -f "$T_TMP/stub.port"
	python3 tests/integration/stub_http.py "$1" "$T_TMP/stub.port" "$2" ${3:+"$3"} \
		2>"$T_TMP/stub.err" &
	STUB_PID=$!
	if ! wait_for 60 test -s "$T_TMP/stub.port"; then
		fail "$(basename "$0" .sh): stand-in server" "$(cat "$T_TMP/stub.err")"
		exit 1
	fi
	STUB_PORT=$(cat "$T_TMP/stub.port")
}
