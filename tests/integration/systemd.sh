# The systemd units as `make install` writes them: `systemd-analyze verify` is clean (the
# ExecStart binaries and the Documentation= man pages resolve), every unit carries the hardening
# the deployment promises, and `systemd-analyze security --offline=yes` scores each at or below a
# threshold (the poller, which needs no privilege at all, lower than the WiFi agent).
. tests/lib.sh
N=systemd
command -v systemd-analyze >/dev/null 2>&1 || { fail "$N" "needs systemd-analyze (package systemd)"; exit 1; }

D=$T_TMP/dest
P=/usr/local
if ! make -s -q BUILD="$BUILD" "$BUILD/shelly-tui" 2>/dev/null; then
	fail "$N: $BUILD is up to date" "run make BUILD=$BUILD all first"
	exit 1
fi
make -s BUILD="$BUILD" DESTDIR="$D" THEMES= install >"$T_TMP/inst.out" 2>&1 ||
	{ fail "$N: make install" "$(tail -n 5 "$T_TMP/inst.out")"; exit 1; }

# Exposure thresholds, in tenths (systemd-analyze security --threshold).
threshold() {
	case $1 in
	shelly-tui.service) echo 20 ;;
	*) echo 30 ;;
	esac
}

for u in "$D$P"/lib/systemd/system/*.service; do
	name=$(basename "$u")
	# Run from the staging tree: ExecStart and friends point into DESTDIR.
	sed "s|$P/bin/|$D$P/bin/|g" "$u" >"$T_TMP/$name"
	note=""
	for b in $(sed -n "s|^Exec[A-Za-z]*=[-@+!:]*\\($D$P/bin/[^ ]*\\).*|\\1|p" "$T_TMP/$name"); do
		if [ ! -x "$b" ]; then
			# A unit written ahead of its program (the agent before it is merged).
			cp /bin/true "$b"
			note=" ($(basename "$b") not built here: stub binary)"
		fi
	done
	# The flags ExecStart passes are ones the program documents in its --help (the agent's unit
	# was written before the agent: this catches a flag that changed on the way in).
	exe=$(sed -n "s|^ExecStart=\\($D$P/bin/[^ ]*\\).*|\\1|p" "$T_TMP/$name")
	if [ -z "$note" ] && [ -n "$exe" ]; then
		"$exe" --help >"$T_TMP/help" 2>&1
		unknown=""
		for f in $(sed -n 's/^ExecStart=//p' "$T_TMP/$name" | grep -oE -- '--[a-z][a-z-]*'); do
			grep -qE -- "(^|[ ,])$f([ =]|$)" "$T_TMP/help" || unknown="$unknown $f"
		done
		[ -z "$unknown" ] && pass "$N: $name: ExecStart's flags are in $(basename "$exe") --help" ||
			fail "$N: $name ExecStart flags" "not in --help:$unknown"
	elif [ -n "$note" ]; then
		echo "note: $name: ExecStart's flags are checked against --help once $(basename "$exe") is built"
	fi
	man=$(sed -n 's/^Documentation=man:\([^(]*\)(1)$/\1/p' "$T_TMP/$name")
	manopt=""
	[ -n "$man" ] && [ ! -f "$D$P/share/man/man1/$man.1" ] && manopt=--man=no
	MANPATH=$D$P/share/man systemd-analyze verify $manopt "$T_TMP/$name" >"$T_TMP/v.out" 2>&1
	rc=$?
	[ $rc -eq 0 ] && [ ! -s "$T_TMP/v.out" ] &&
		pass "$N: systemd-analyze verify $name is clean$note${manopt:+ (man page not built here)}" ||
		fail "$N: verify $name" "rc=$rc $(head -n 5 "$T_TMP/v.out")"

	missing=""
	for d in 'DynamicUser=yes' 'StateDirectory=' 'ProtectSystem=strict' 'ProtectHome=yes' \
		'PrivateTmp=yes' 'NoNewPrivileges=yes' 'RestrictAddressFamilies=' \
		'SystemCallFilter=@system-service' 'CapabilityBoundingSet=$' 'MemoryDenyWriteExecute=yes'; do
		grep -q "^$d" "$T_TMP/$name" || missing="$missing $d"
	done
	# Only the families the program uses: never raw packets.
	grep '^RestrictAddressFamilies=' "$T_TMP/$name" | grep -q 'AF_PACKET' && missing="$missing no-AF_PACKET"
	[ -z "$missing" ] && pass "$N: $name has the promised hardening" || fail "$N: $name hardening" "missing:$missing"

	t=$(threshold "$name")
	systemd-analyze security --offline=yes --threshold="$t" "$T_TMP/$name" >"$T_TMP/s.out" 2>&1
	rc=$?
	score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T_TMP/s.out")
	[ $rc -eq 0 ] && [ -n "$score" ] &&
		pass "$N: $name exposure $score <= $(echo "$t" | sed 's/.$/.&/')" ||
		fail "$N: $name exposure" "rc=$rc score=$score (threshold $t tenths) $(grep '✗' "$T_TMP/s.out" | head -n 8)"
done

# The agent's unit tells the operator to use the manager's TLS agent port (agent-listen, as in
# the provisioning overlay), not `listen` (plain HTTP: the handshake would fail and the unit
# restart every 10 s), and passes the --ca-file a self-signed certificate needs.
U=deploy/systemd/shelly-provisioner.service
url=$(sed -n "s/.*SHELLY_MANAGER_URL=\([^\\']*\).*/\1/p" "$U" | head -n 1)
agent_port=$(sed -n 's/^set agent-listen .*:\([0-9]*\)$/\1/p' deploy/k8s/overlays/provisioning/config)
listen_port=$("$BUILD/shelly-tui" --list-options 2>/dev/null | sed -n 's/^listen .*:\([0-9][0-9]*\).*/\1/p' | head -n 1)
case $url in
https://*:"$agent_port") [ -n "$agent_port" ] && [ "$agent_port" != "${listen_port:-9464}" ] &&
	pass "$N: the agent unit's example URL is the https agent-listen port $agent_port" ||
	fail "$N: agent URL port" "url=$url agent-listen=$agent_port listen=$listen_port" ;;
*) fail "$N: agent unit URL" "url=$url, not https on the agent-listen port $agent_port" ;;
esac
opts=$(sed -n "s/.*SHELLY_PROVISIONER_OPTS=\([^\\']*\).*/\1/p" "$U" | head -n 1)
if grep -q '^ExecStart=.* \$SHELLY_PROVISIONER_OPTS$' "$U" && [ -x "$BUILD/shelly-provisioner" ] &&
	case $opts in --ca-file\ /*) true ;; *) false ;; esac &&
	"$BUILD/shelly-provisioner" --help 2>&1 | grep -q -- '--ca-file'; then
	pass "$N: the agent unit passes SHELLY_PROVISIONER_OPTS (--ca-file) to the agent"
else
	fail "$N: agent unit options" "opts=$opts $(grep '^ExecStart' "$U")"
fi
exit $T_FAILED
