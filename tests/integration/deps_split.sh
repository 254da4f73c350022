#!/bin/sh
# `make run` and `make demo` install only what building and running need: no test toolchain
# and no npm (the network) for the k8s test; `make check` installs the build packages, the test
# toolchain and the npm models. `make run DB=path` opens the console on that database. Nothing
# is installed here: tools/deps.sh --print says what it would install on a machine where
# dpkg-query knows no package (a stand-in earlier on PATH).
. tests/lib.sh
N=deps_split
mkdir -p "$T_TMP/bin"
printf '#!/bin/sh\nexit 1\n' >"$T_TMP/bin/dpkg-query"
chmod 755 "$T_TMP/bin/dpkg-query"
PATH=$T_TMP/bin:$PATH sh tools/deps.sh --print build >"$T_TMP/build" 2>"$T_TMP/err" || fail "$N: --print build" "$(cat "$T_TMP/err")"
PATH=$T_TMP/bin:$PATH sh tools/deps.sh --print test >"$T_TMP/test" 2>"$T_TMP/err" || fail "$N: --print test" "$(cat "$T_TMP/err")"
grep -qx libcjson-dev "$T_TMP/build" && grep -qx libmicrohttpd-dev "$T_TMP/build" &&
	! grep -qE '^(jq|prometheus|valgrind|debootstrap|nodejs|npm|kubernetes-client)$|^npm ci' "$T_TMP/build" &&
	pass "$N: the build set has the libraries, no test tools and no npm" ||
	fail "$N: the build set has the libraries, no test tools and no npm" "$(tr '\n' ' ' <"$T_TMP/build")"
missing=$(grep -vxFf "$T_TMP/test" "$T_TMP/build")
[ -z "$missing" ] && grep -qx jq "$T_TMP/test" && grep -qx mandoc "$T_TMP/test" && grep -qx debootstrap "$T_TMP/test" &&
	pass "$N: the test set is the build set and the test toolchain" ||
	fail "$N: the test set is the build set and the test toolchain" "missing: $missing; $(tr '\n' ' ' <"$T_TMP/test")"
sh tools/deps.sh --print nosuch >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "$N: an unknown set is a usage error" || fail "$N: an unknown set is a usage error" "rc=$rc"

make -n --no-print-directory run DB="$T_TMP/my.db" >"$T_TMP/run" 2>&1
make -n --no-print-directory check >"$T_TMP/check" 2>&1
grep -q 'tools/deps.sh build' "$T_TMP/run" && ! grep -q 'deps.sh test' "$T_TMP/run" &&
	grep -q "shelly-tui --db '$T_TMP/my.db'" "$T_TMP/run" &&
	pass "$N: make run DB=path installs the build set and opens that database" ||
	fail "$N: make run DB=path installs the build set and opens that database" "$(cat "$T_TMP/run")"
grep -q 'tools/deps.sh test' "$T_TMP/check" &&
	pass "$N: make check installs the test set" || fail "$N: make check installs the test set" "$(head -5 "$T_TMP/check")"
