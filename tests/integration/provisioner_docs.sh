#!/bin/sh
# shelly-provisioner's man page lints clean and documents every option of its --help; usage
# errors exit 2; the agent obeys the network guard before it sends anything; an https manager
# is verified.
. tests/lib.sh
AGENT=${SHELLY_PROVISIONER:-$BUILD/shelly-provisioner}

out=$(mandoc -Tlint -W warning shelly-provisioner.1 2>&1)
if [ -z "$out" ]; then pass "provisioner man page lints clean"; else fail "provisioner man page lints clean" "$out"; fi

missing=""
for o in $("$AGENT" --help | grep -oE '^ +(-[a-zA-Z], )?--[a-z-]+' | grep -oE -- '--[a-z-]+'); do
	name=${o#--}
	grep -qE "^\.It Fl (.* )?\\\\-$name( |$)" shelly-provisioner.1 || missing="$missing $o"
done
if [ -z "$missing" ]; then pass "every provisioner option is in its man page"; else fail "every provisioner option is in its man page" "missing:$missing"; fi

"$AGENT" --version | grep -q '^shelly-provisioner ' && pass "--version" || fail "--version"
"$AGENT" --bogus >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "unknown option exits 2" || fail "unknown option exits 2" "rc=$rc"
# the manager's URL left out: the next option is not taken as it ("unexpected argument" of the
# secret file's name was all it said)
"$AGENT" --manager --enrol-secret-file "$T_TMP/secret" --once >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'option --manager needs an argument (--enrol-secret-file is an option of its own)' "$T_TMP/err" &&
	pass "--manager without its URL exits 2 naming both options" ||
	fail "--manager without its URL exits 2 naming both options" "rc=$rc $(cat "$T_TMP/err")"
"$AGENT" --manager ftp://x >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'http://HOST\[:PORT\]' "$T_TMP/err" && pass "bad manager URL exits 2" || fail "bad manager URL exits 2" "rc=$rc"
for url in 'http://a b:80' http://127.0.0.1:0 http://:80 'http://h:80/x' 'http://h:80/api/v2/'; do
	"$AGENT" --manager "$url" >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc -eq 2 ] && grep -q 'http://HOST\[:PORT\]' "$T_TMP/err" && pass "manager URL '$url' exits 2" ||
		fail "manager URL '$url' exits 2" "rc=$rc"
done
# A good URL (one trailing '/' allowed, IPv6 in brackets, the agents' URL the manager prints
# with its /api/v1/ path, no port: the scheme's) gets past --manager to --wifi.
for url in http://127.0.0.1:9/ 'http://[::1]:9' https://host.example:8443 http://127.0.0.1:9/api/v1/ \
	http://127.0.0.1:9/api/v1 http://127.0.0.1 https://host.example/api/v1/; do
	"$AGENT" --manager "$url" --wifi bogus >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc -eq 2 ] && grep -q 'unknown WiFi backend' "$T_TMP/err" && pass "manager URL '$url' is taken" ||
		fail "manager URL '$url' is taken" "rc=$rc $(cat "$T_TMP/err")"
done
"$AGENT" --manager http://127.0.0.1:9 --wifi bogus >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc -eq 2 ] && grep -q 'unknown WiFi backend' "$T_TMP/err" && pass "unknown backend exits 2" || fail "unknown backend exits 2" "rc=$rc"

# The guard: a manager outside SHELLY_TUI_ALLOW_NETS is never contacted. The run naming
# 192.0.2.1 happens inside an empty network namespace: nothing could leave it.
mkdir -p "$T_TMP/w/aps"
printf '00ff\n' > "$T_TMP/secret"
if empty_ns_detect; then
	SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 $EMPTY_NS "$AGENT" --manager http://192.0.2.1:9464 --once \
		--enrol-secret-file "$T_TMP/secret" --token-file "$T_TMP/tok" --wifi "test:$T_TMP/w" \
		>/dev/null 2>"$T_TMP/err"; rc=$?
	if [ $rc -eq 1 ] && grep -q 'not allowed by the network guard' "$T_TMP/err" && [ ! -e "$T_TMP/tok" ]; then
		pass "a manager outside the allowed networks is refused"
	else
		fail "a manager outside the allowed networks is refused" "rc=$rc $(cat "$T_TMP/err")"
	fi
else
	skip "a manager outside the allowed networks is refused" "no empty network namespace here (not root, no user namespaces)"
fi

# --once is one round: when the manager does not answer it (a registered agent, a loopback
# port nobody serves) the round failed, and the exit status says so.
printf '%064d' 0 >"$T_TMP/tok1"
chmod 600 "$T_TMP/tok1"
SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 "$AGENT" --manager http://127.0.0.1:9 --once \
	--token-file "$T_TMP/tok1" --wifi "test:$T_TMP/w" >/dev/null 2>"$T_TMP/err"; rc=$?
if [ $rc -eq 1 ] && grep -q 'not answering heartbeats (127.0.0.1:9: ' "$T_TMP/err"; then
	pass "--once exits 1 when the manager does not answer, and says why"
else
	fail "--once exits 1 when the manager does not answer" "rc=$rc $(cat "$T_TMP/err")"
fi

# The same round at each log level: -q keeps only the error, -vv adds the debug lines (the
# request to the manager), by default information and warnings come too.
lines() { # lines LEVEL OPTION...: how many of the round's log lines are at LEVEL
	lv=$1
	shift
	SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 "$AGENT" "$@" --manager http://127.0.0.1:9 --once \
		--token-file "$T_TMP/tok1" --wifi "test:$T_TMP/w" >/dev/null 2>"$T_TMP/err.$lv"
	grep -c "^[^ ]* $lv " "$T_TMP/err.$lv"
}
if [ "$(lines error -q)" = 1 ] && [ "$(wc -l <"$T_TMP/err.error")" = 1 ] &&
	[ "$(lines info)" -ge 1 ] && [ "$(lines warn)" -ge 1 ] && [ "$(lines debug)" = 0 ] &&
	[ "$(lines debug -vv)" -ge 1 ] && grep -q ' debug http .*127\.0\.0\.1:9' "$T_TMP/err.debug"; then
	pass "-q logs only errors, -vv debug messages too"
else
	fail "-q logs only errors, -vv debug messages too" "$(cat "$T_TMP"/err.*)"
fi

# An https manager (here a simulated device serving HTTPS with the test CA, which answers the
# registration with 404): verified with --ca-file, refused without it, before any secret goes.
. tests/integration/lib_sim.sh
N=provisioner_tls
TLS="$T_TMP/tls"; mkdir -p "$TLS"
if sim_start $N --models gen2/plus-1pm --count 1 --tls all --tls-dir "$TLS"; then
	at_exit sim_stop
	HP=$(dev_hp 0)
	"$AGENT" --manager "https://$HP" --ca-file "$TLS/ca.pem" --once --enrol-secret-file "$T_TMP/secret" \
		--token-file "$T_TMP/tok" --wifi "test:$T_TMP/w" >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc -eq 1 ] && grep -q 'registration failed: HTTP 404' "$T_TMP/err" &&
		pass "an https manager is verified with --ca-file" ||
		fail "an https manager is verified with --ca-file" "rc=$rc $(cat "$T_TMP/err")"
	"$AGENT" --manager "https://$HP" --once --enrol-secret-file "$T_TMP/secret" \
		--token-file "$T_TMP/tok" --wifi "test:$T_TMP/w" >/dev/null 2>"$T_TMP/err"; rc=$?
	[ $rc -eq 1 ] && ! grep -q 'HTTP 404' "$T_TMP/err" && grep -qi 'certificate\|tls\|ssl' "$T_TMP/err" &&
		pass "an https manager with an unknown CA is refused" ||
		fail "an https manager with an unknown CA is refused" "rc=$rc $(cat "$T_TMP/err")"
else
	fail "$N: sim with TLS" "did not start"
fi
