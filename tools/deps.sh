#!/bin/sh
# Installs what the build, the tests and the benchmarks need, only when something is missing.
# Called by `make run`, `make check`, `make bench`; safe to run again.
set -eu
pkgs="build-essential pkg-config libncurses-dev libcurl4-openssl-dev libcjson-dev libsqlite3-dev
libavahi-client-dev libmicrohttpd-dev libcmocka-dev libssl-dev openssl sqlite3 dbus avahi-daemon
avahi-utils iproute2 util-linux procps tmux mandoc curl clang libclang-rt-14-dev prometheus jq
psmisc python3 valgrind strace isc-dhcp-server dnsmasq-base kea-dhcp4-server git"
missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0
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
