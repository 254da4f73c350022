#!/bin/sh
# Installs what the build, the tests and the benchmarks need, only when something is missing.
# Called by `make run`, `make check`, `make bench`; safe to run again.
set -eu
# libcurl: the GnuTLS flavour (see the Makefile). A machine that has the OpenSSL flavour's -dev
# package keeps it (the same headers, and the two conflict) and gets the GnuTLS runtime beside it.
curl_dev="libcurl4-gnutls-dev"
if dpkg-query -W -f='${Status}' libcurl4-openssl-dev 2>/dev/null | grep -q 'install ok installed'; then
	curl_dev="libcurl4-openssl-dev libcurl3-gnutls"
fi
pkgs="build-essential pkg-config libncurses-dev $curl_dev libgnutls28-dev libcjson-dev libsqlite3-dev
libavahi-client-dev libmicrohttpd-dev libcmocka-dev libssl-dev openssl sqlite3 dbus avahi-daemon
avahi-utils iproute2 util-linux procps tmux mandoc curl clang libclang-rt-14-dev prometheus jq
psmisc python3 valgrind strace isc-dhcp-server dnsmasq-base kea-dhcp4-server git man-db systemd
debootstrap"
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
# Commands some machines have from elsewhere: the Debian package only when the command is missing
# (the deployment tests need kubectl kustomize, and node to validate the manifests).
command -v kubectl >/dev/null 2>&1 || missing="$missing kubernetes-client"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"

# The schema models for tests/integration/k8s.sh, from the npm registry into tests/k8s/node_modules
# (pinned by tests/k8s/package-lock.json).
npm_deps() {
	top=$(cd "$(dirname "$0")/.." && pwd)
	[ -d "$top/tests/k8s/node_modules/kubernetes-models" ] && return 0
	echo "deps: npm ci in tests/k8s" >&2
	(cd "$top/tests/k8s" && npm ci --no-audit --no-fund --loglevel=error)
}

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
