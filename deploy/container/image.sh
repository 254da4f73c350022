#!/bin/sh
# The build and run steps of the shelly-tui image, shared by deploy/container/Containerfile and
# tests/integration/container.sh (which runs them into a throw-away Debian root), so the test
# exercises what the recipe does.
#
#   image.sh build-deps            (build stage, as root) install the compilers and -dev packages
#   image.sh build SRC STAGE       make and `make install PREFIX=/usr DESTDIR=STAGE`; records the
#                                  Debian packages the installed binaries link against in
#                                  STAGE/usr/share/shelly-tui/runtime-packages
#                                  (env: BUILD, the build tree, default SRC/build-image; OPT)
#   image.sh runtime-deps PKGFILE  (run stage, as root, inside the root) apt-get install the
#                                  packages listed in PKGFILE plus ca-certificates and
#                                  $EXTRA_PACKAGES (network-manager for the WiFi agent's nmcli),
#                                  then drop apt's lists and caches
#   image.sh assemble ROOT STAGE   copy STAGE into ROOT, add the user shelly (UID/GID 10001,
#                                  no shell, no home) and the /data volume owned by it (0700)
#
# The image runs /usr/bin/shelly-tui as 10001 with no shell needed: the Containerfile's
# ENTRYPOINT, CMD and HEALTHCHECK are exec-form arrays.
set -eu

UID_GID=10001

build_deps() {
	apt-get update -q
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		build-essential pkg-config libncurses-dev libcurl4-gnutls-dev libcjson-dev \
		libsqlite3-dev libavahi-client-dev libmicrohttpd-dev libgnutls28-dev
}

# pkg_of LIB: the Debian package that ships the shared library LIB (a path from ldd).
pkg_of() {
	for _p in "$1" "$(readlink -f "$1")" "/usr$1" "${1#/usr}"; do
		_o=$(dpkg -S "$_p" 2>/dev/null | head -n 1) || continue
		[ -n "$_o" ] && { echo "${_o%%:*}"; return 0; }
	done
	echo "image.sh: no package ships $1" >&2
	return 1
}

build() {
	src=$1 stage=$2
	: "${BUILD:=$src/build-image}"
	: "${OPT:=-O2 -g}"
	make -C "$src" -s -j"$(nproc)" BUILD="$BUILD" OPT="$OPT" PREFIX=/usr DESTDIR="$stage" install
	list=$stage/usr/share/shelly-tui/runtime-packages
	mkdir -p "$(dirname "$list")"
	{
		for b in "$stage"/usr/bin/*; do
			ldd "$b" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
		done
		# Loaded with dlopen when mDNS is used (src/discovery/avahi_lib.c): ldd cannot see it.
		ldconfig -p | sed -n 's/.*libavahi-client\.so\.3 .*=> //p' | head -n 1
	} | sort -u | while read -r lib; do pkg_of "$lib"; done | sed 's/:[a-z0-9]*$//' |
		sort -u >"$list"
	[ -s "$list" ] || { echo "image.sh: no runtime packages found" >&2; exit 1; }
}

runtime_deps() {
	apt-get update -q
	# shellcheck disable=SC2046
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
		ca-certificates $(cat "$1") ${EXTRA_PACKAGES:-}
	apt-get clean
	rm -rf /var/lib/apt/lists/*
}

assemble() {
	root=$1 stage=$2
	cp -a "$stage"/. "$root"/
	grep -q "^shelly:" "$root/etc/group" || echo "shelly:x:$UID_GID:" >>"$root/etc/group"
	grep -q "^shelly:" "$root/etc/passwd" ||
		echo "shelly:x:$UID_GID:$UID_GID:shelly-tui:/data:/usr/sbin/nologin" >>"$root/etc/passwd"
	mkdir -p "$root/data"
	chown "$UID_GID:$UID_GID" "$root/data"
	chmod 0700 "$root/data"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case $cmd in
build-deps) build_deps ;;
build) [ $# -eq 2 ] || { echo "usage: image.sh build SRC STAGE" >&2; exit 2; }; build "$@" ;;
runtime-deps) [ $# -eq 1 ] || { echo "usage: image.sh runtime-deps PKGFILE" >&2; exit 2; }; runtime_deps "$@" ;;
assemble) [ $# -eq 2 ] || { echo "usage: image.sh assemble ROOT STAGE" >&2; exit 2; }; assemble "$@" ;;
*) sed -n '2,20s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
