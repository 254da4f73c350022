#!/bin/sh
# Installs what is missing, only that; safe to run again.
#   tools/deps.sh [--print] [build|test]
# build (the default; `make run`, `make demo`): what building and running need, nothing from
#   the network but apt. test (`make check`, `make bench`, `make fuzz`): build's packages, the
#   test toolchain, and the npm models of tests/integration/k8s.sh.
# --print: print what would be installed (apt packages, and "npm ci tests/k8s"), install nothing.
set -eu
print=0
[ "${1:-}" = --print ] && { print=1; shift; }
profile=${1:-build}
case $profile in
build | test) ;;
*) echo "usage: tools/deps.sh [--print] [build|test]" >&2; exit 2 ;;
esac
# libcurl: the GnuTLS flavour (see the Makefile). A machine that has the OpenSSL flavour's -dev
# package keeps it (the same headers, and the two conflict) and gets the GnuTLS runtime beside it.
curl_dev="libcurl4-gnutls-dev"
if dpkg-query -W -f='${Status}' libcurl4-openssl-dev 2>/dev/null | grep -q 'install ok installed'; then
	curl_dev="libcurl4-openssl-dev libcurl3-gnutls"
fi
# The programs and the unit tests of `make all` (cmocka), and python3 for `make demo`.
pkgs="build-essential pkg-config libncurses-dev $curl_dev libgnutls28-dev libcjson-dev libsqlite3-dev
libavahi-client-dev libmicrohttpd-dev libcmocka-dev libssl-dev python3"
[ "$profile" = test ] && pkgs="$pkgs openssl sqlite3 dbus avahi-daemon avahi-utils iproute2
util-linux procps tmux mandoc curl clang libclang-rt-14-dev prometheus jq psmisc valgrind strace
isc-dhcp-server dnsmasq-base kea-dhcp4-server git man-db systemd debootstrap"
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
# Commands some machines have from elsewhere: the Debian package only when the command is missing
# (the deployment tests need kubectl kustomize, and node to validate the manifests).
if [ "$profile" = test ]; then
	command -v kubectl >/dev/null 2>&1 || missing="$missing kubernetes-client"
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"
fi

# The schema models for tests/integration/k8s.sh, from the npm registry into tests/k8s/node_modules
# (pinned by tests/k8s/package-lock.json).
top=$(cd "$(dirname "$0")/.." && pwd)
npm_needed() { [ "$profile" = test ] && [ ! -d "$top/tests/k8s/node_modules/kubernetes-models" ]; }
npm_deps() {
	npm_needed || return 0
	echo "deps: npm ci in tests/k8s" >&2
	(cd "$top/tests/k8s" && npm ci --no-audit --no-fund --loglevel=error)
}

if [ "$print" = 1 ]; then
	for p in $missing; do echo "$p"; done
	if npm_needed; then echo "npm ci tests/k8s"; fi
	exit 0
fi
if [ -z "$missing" ]; then
	npm_deps
	exit 0
fi
echo "deps: installing:$missing" >&2
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
else
	SUDO=
fi
# Never let the package scripts start avahi-daemon or dbus on the host: the tests start private
# instances inside namespaces of their own, and mDNS must not reach a real interface.
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
	printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
	$SUDO chmod 755 "$policy"
	made_policy=1
fi
trap '[ "$made_policy" = 1 ] && $SUDO rm -f "$policy"' EXIT
$SUDO apt-get update -q
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends $missing
npm_deps
