# Private world for tests that need mDNS (sourced after tests/lib.sh; not run by tests/run.sh).
#
# A test re-executes itself inside new network, mount and PID namespaces:
#     . tests/lib.sh
#     . tests/integration/netns.sh
#     netns_reexec mdns_e2e "$0" "$@"     # not root: prints SKIP and exits 0; outside: runs the
#                                         # script again inside and exits with its status
#     ... from here on we are inside, with dbus-daemon and avahi-daemon running on lo only ...
#     netns_avahi_stop; netns_avahi_start  # restart test
# or runs one command there:  netns_run NAME avahi-browse -art
#
# Inside: only `lo` exists (up, MULTICAST on, all of 127/8 is local), a tmpfs hides the host's
# /run (so /run/dbus and /run/avahi-daemon are private), /etc/avahi/services and
# /etc/avahi/hosts are hidden, a private dbus-daemon (system bus, runs as root, allow-all policy)
# listens on /run/dbus/system_bus_socket and avahi-daemon (-f private config, --no-chroot
# --no-drop-root) uses lo only. Nothing is started outside; the host's dbus and avahi are never
# touched. The shell inside is PID 1 of its PID namespace, so when it exits the kernel kills
# whatever is left (the exit trap also stops both daemons cleanly).

NETNS_SH=${NETNS_SH:-tests/integration/netns.sh}
NETNS_DIR=/run/shelly-netns

# netns_reexec NAME SCRIPT [ARGS]: outside, run SCRIPT again inside a private world and exit
# with its status (or skip NAME); inside, set the world up and return.
netns_reexec() {
	_n=$1; shift
	if [ "${SHELLY_NETNS_INSIDE:-}" = 1 ]; then
		netns_setup || { fail "$_n" "private avahi did not start: $(netns_log_tail)"; exit 1; }
		at_exit netns_cleanup
		return 0
	fi
	netns_check "$_n" || exit 0
	SHELLY_NETNS_INSIDE=1 unshare --net --mount --pid --fork --kill-child --propagation private --mount-proc \
		sh "$@"
	exit $?
}

# netns_run NAME CMD...: run CMD inside a fresh private world, return its status.
netns_run() {
	_n=$1; shift
	netns_check "$_n" || return 0
	SHELLY_NETNS_INSIDE=1 NETNS_SH=$NETNS_SH \
		unshare --net --mount --pid --fork --kill-child --propagation private --mount-proc \
		sh -c '. "$NETNS_SH"; netns_setup || { netns_log_tail >&2; exit 1; };
			trap netns_cleanup EXIT; trap "exit 130" INT TERM; "$@"' sh "$@"
}

# netns_check NAME: 0 if namespaces and the daemons are usable, else prints SKIP (returns 1).
netns_check() {
	if [ "$(id -u)" -ne 0 ]; then
		skip "$1" "needs root: network/mount namespaces and a private avahi-daemon"
		return 1
	fi
	for _t in unshare ip mount dbus-daemon dbus-send avahi-daemon; do
		if ! command -v "$_t" >/dev/null 2>&1; then
			skip "$1" "needs $_t"
			return 1
		fi
	done
	if ! unshare --net --mount --pid --fork --propagation private true 2>/dev/null; then
		skip "$1" "unshare --net --mount --pid is not permitted here"
		return 1
	fi
	return 0
}

# netns_setup: inside the namespaces, bring lo up and start private dbus and avahi daemons.
netns_setup() {
	[ "${SHELLY_NETNS_INSIDE:-}" = 1 ] || { echo "netns_setup: not inside" >&2; return 1; }
	ip link set lo up || return 1
	ip link set lo multicast on || return 1
	mount -t tmpfs -o mode=0755,size=16m shelly-run /run || return 1
	mkdir -p /run/dbus /run/avahi-daemon "$NETNS_DIR" || return 1
	[ -d /etc/avahi/services ] && mount -t tmpfs -o size=1m shelly-svc /etc/avahi/services
	if [ -f /etc/avahi/hosts ]; then
		: >"$NETNS_DIR/hosts"
		mount --bind "$NETNS_DIR/hosts" /etc/avahi/hosts
	fi
	netns_write_conf
	export DBUS_SYSTEM_BUS_ADDRESS=unix:path=/run/dbus/system_bus_socket
	unset DBUS_SESSION_BUS_ADDRESS
	dbus-daemon --config-file="$NETNS_DIR/dbus.conf" --fork --nosyslog \
		>"$NETNS_DIR/dbus.log" 2>&1 || return 1
	netns_wait 5 netns_dbus_up || return 1
	netns_avahi_start
}

netns_write_conf() {
	cat >"$NETNS_DIR/dbus.conf" <<-'EOF'
	<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
	 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
	<busconfig>
	  <type>system</type>
	  <listen>unix:path=/run/dbus/system_bus_socket</listen>
	  <pidfile>/run/dbus/pid</pidfile>
	  <auth>EXTERNAL</auth>
	  <policy context="default">
	    <allow user="*"/>
	    <allow own="*"/>
	    <allow send_type="method_call"/>
	    <allow send_destination="*"/>
	    <allow receive_sender="*"/>
	  </policy>
	</busconfig>
	EOF
	# Loopback only, IPv4 only, generous limits (a simulated fleet publishes many records from
	# one client), no rate limit (ratelimit-interval-usec=0 disables it), nothing of the host.
	cat >"$NETNS_DIR/avahi-daemon.conf" <<-'EOF'
	[server]
	host-name=shelly-netns
	domain-name=local
	use-ipv4=yes
	use-ipv6=no
	allow-interfaces=lo
	enable-dbus=yes
	disallow-other-stacks=no
	check-response-ttl=no
	cache-entries-max=65535
	clients-max=1024
	objects-per-client-max=65535
	entries-per-entry-group-max=1024
	ratelimit-interval-usec=0
	ratelimit-burst=65535
	[wide-area]
	enable-wide-area=no
	[publish]
	disable-publishing=no
	publish-addresses=yes
	publish-hinfo=no
	publish-workstation=no
	publish-domain=no
	publish-aaaa-on-ipv4=no
	publish-a-on-ipv6=no
	[reflector]
	enable-reflector=no
	[rlimits]
	EOF
}

# netns_wait SECONDS CMD...: retry CMD every 50 ms until it succeeds or the bound passes.
netns_wait() {
	_lim=$1; shift
	_end=$(( $(date +%s%N) / 1000000 + _lim * 1000 ))
	while ! "$@" >/dev/null 2>&1; do
		[ $(( $(date +%s%N) / 1000000 )) -ge $_end ] && return 1
		sleep 0.05
	done
	return 0
}

# netns_pid_alive PID: 0 while PID exists and is not a zombie.
netns_pid_alive() {
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	! grep -q '^[0-9]* (.*) Z' "/proc/$1/stat" 2>/dev/null
}

netns_dbus_up() {
	dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.GetId >/dev/null 2>&1
}

# 0 when avahi-daemon owns its bus name and has finished probing its host name (state 2).
netns_avahi_up() {
	dbus-send --system --print-reply --dest=org.freedesktop.Avahi / \
		org.freedesktop.Avahi.Server.GetState 2>/dev/null | grep -q 'int32 2'
}

netns_avahi_pid() {
	cat /run/avahi-daemon/pid 2>/dev/null
}

# netns_avahi_start: start the private avahi-daemon and wait (bounded) until it runs.
netns_avahi_start() {
	# In the background of a subshell: the daemon is reparented to the namespace's PID 1 and
	# its log goes to a file (-D would send it to syslog, which does not exist in here).
	( avahi-daemon -f "$NETNS_DIR/avahi-daemon.conf" --no-chroot --no-drop-root --no-rlimits \
		--no-proc-title >>"$NETNS_DIR/avahi.log" 2>&1 </dev/null & )
	netns_wait 10 netns_avahi_up
}

# netns_avahi_stop: stop the private avahi-daemon and wait (bounded) until it is gone.
netns_avahi_stop() {
	_p=$(netns_avahi_pid)
	[ -n "$_p" ] || return 0
	kill -TERM "$_p" 2>/dev/null
	netns_wait 10 sh -c '! { [ -r /proc/'"$_p"'/stat ] && ! grep -q "^[0-9]* (.*) Z" /proc/'"$_p"'/stat; }'
}

netns_log_tail() {
	tail -n 5 "$NETNS_DIR/dbus.log" "$NETNS_DIR/avahi.log" 2>/dev/null | tr '\n' ' '
}

# netns_cleanup: stop both private daemons (PID namespace teardown would kill them anyway).
netns_cleanup() {
	netns_avahi_stop
	_p=$(cat /run/dbus/pid 2>/dev/null)
	if [ -n "$_p" ]; then
		kill -TERM "$_p" 2>/dev/null
		netns_wait 5 sh -c '! [ -r /proc/'"$_p"'/stat ] || grep -q "^[0-9]* (.*) Z" /proc/'"$_p"'/stat'
	fi
	return 0
}
