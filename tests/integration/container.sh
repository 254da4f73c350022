# The container image recipe (deploy/container), run for real without an image registry or a
# container engine: deploy/container/image.sh builds into a stage, its runtime step installs the
# run-time packages into a Debian minbase root made by debootstrap from the archive this machine's
# apt uses (cached across runs under $SHELLY_TUI_CACHE, default ~/.cache/shelly-tui; only that
# preparation downloads), its assemble step adds the user and /data. The throw-away copy, with
# every shell removed, is started with chroot as UID 10001 on a read-only root (as Kubernetes
# runs it: /data writable, /tmp a tmpfs) inside a private network namespace
# (loopback only) with the Containerfile's own ENV, ENTRYPOINT, CMD and HEALTHCHECK, polling a
# simulated fleet there: /healthz, /readyz and /metrics answer, the database is on /data, and the
# health check command passes while the poller runs and fails once it stopped.
. tests/lib.sh
. tests/integration/lib_sim.sh
N=container
CF=deploy/container/Containerfile
IMG=deploy/container/image.sh

if [ "${SHELLY_CT_INSIDE:-}" != 1 ]; then
	is_root || { skip "$N" "needs root (debootstrap, chroot, namespaces)"; exit 0; }
	for t in debootstrap chroot unshare flock ldd dpkg; do
		command -v "$t" >/dev/null 2>&1 || { fail "$N" "needs $t (tools/deps.sh installs it)"; exit 1; }
	done
	if ! make -s -q BUILD="$BUILD" "$BUILD/shelly-tui" 2>/dev/null; then
		fail "$N: $BUILD is up to date" "run make BUILD=$BUILD all first"
		exit 1
	fi
	t0=$(now_ms)
	# --- build stage: the recipe's build step, from a copy of the tree (PREFIX=/usr) ---
	cp -a "$BUILD" "$T_TMP/b"
	opt="-O2 -g"
	nm "$BUILD/src/util/datadir.o" 2>/dev/null | grep -q __asan && opt='-O1 -g $(SAN)'
	STAGE=$T_TMP/stage
	if BUILD="$T_TMP/b" OPT="$opt" sh "$IMG" build "$PWD" "$STAGE" >"$T_TMP/build.log" 2>&1; then
		pass "$N: image.sh build stages /usr/bin/shelly-tui and its runtime packages"
	else
		fail "$N: image.sh build" "$(tail -n 5 "$T_TMP/build.log")"
		exit 1
	fi
	PKGS=$STAGE/usr/share/shelly-tui/runtime-packages
	# libavahi-client is loaded with dlopen, which ldd does not see: the recipe adds it by name.
	grep -qx 'libavahi-client3' "$PKGS" && grep -qx 'libsqlite3-0' "$PKGS" &&
		pass "$N: runtime packages include the dlopen'd libavahi-client3" ||
		fail "$N: runtime packages" "$(tr '\n' ' ' <"$PKGS")"

	# --- run stage base: minbase + the recipe's runtime step, cached by package list and recipe ---
	CACHE=${SHELLY_TUI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/shelly-tui}
	mkdir -p "$CACHE"
	suite=$(. /etc/os-release && echo "$VERSION_CODENAME")
	mirror=$(sed -n 's/^URIs: *\([^ ]*\).*/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null |
		grep -v security | head -n 1)
	[ -n "$mirror" ] || mirror=$(awk '$1 == "deb" && $2 !~ /security/ { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null)
	: "${mirror:=http://deb.debian.org/debian}"
	key=$(cat "$PKGS" "$IMG" | sha256sum | cut -c1-16)
	BASE=$CACHE/base-$suite
	ROOTC=$CACHE/root-$suite-$key
	(
		flock 9
		if [ ! -e "$BASE/.complete" ]; then
			rm -rf "$BASE.tmp" "$BASE"
			debootstrap --variant=minbase "$suite" "$BASE.tmp" "$mirror" >"$T_TMP/debootstrap.log" 2>&1 ||
				{ tail -n 5 "$T_TMP/debootstrap.log"; exit 1; }
			touch "$BASE.tmp/.complete"
			mv "$BASE.tmp" "$BASE"
		fi
		if [ ! -e "$ROOTC/.complete" ]; then
			rm -rf "$ROOTC.tmp" "$ROOTC"
			cp -a "$BASE" "$ROOTC.tmp"
			cp "$IMG" "$ROOTC.tmp/tmp/image.sh"
			cp "$PKGS" "$ROOTC.tmp/tmp/runtime-packages"
			chroot "$ROOTC.tmp" sh /tmp/image.sh runtime-deps /tmp/runtime-packages \
				>"$T_TMP/runtime.log" 2>&1 || { tail -n 5 "$T_TMP/runtime.log"; exit 1; }
			rm -f "$ROOTC.tmp/tmp/image.sh" "$ROOTC.tmp/tmp/runtime-packages"
			touch "$ROOTC.tmp/.complete"
			mv "$ROOTC.tmp" "$ROOTC"
		fi
		touch "$ROOTC/.complete"
		# Roots of older recipes or package lists, unused for a week.
		find "$CACHE" -maxdepth 2 -path "$CACHE/root-*/.complete" -mtime +7 2>/dev/null |
			while read -r f; do rm -rf "$(dirname "$f")"; done
	) 9>"$CACHE/lock" >"$T_TMP/prep.out" 2>&1
	if [ -e "$ROOTC/.complete" ]; then
		pass "$N: $suite minbase root with the runtime packages ($(wc -l <"$PKGS") listed)"
	else
		fail "$N: root preparation" "$(tail -n 5 "$T_TMP/prep.out")"
		exit 1
	fi
	t1=$(now_ms)

	# --- the throw-away root: copy, assemble, no shell ---
	ROOT=$T_TMP/root
	cp -a "$ROOTC" "$ROOT"
	sh "$IMG" assemble "$ROOT" "$STAGE" >"$T_TMP/assemble.log" 2>&1 ||
		{ fail "$N: image.sh assemble" "$(cat "$T_TMP/assemble.log")"; exit 1; }
	[ "$(stat -c '%u:%g %a' "$ROOT/data")" = "10001:10001 700" ] &&
		grep -q '^shelly:x:10001:10001:.*:/usr/sbin/nologin$' "$ROOT/etc/passwd" &&
		pass "$N: user 10001 without a shell owns /data (0700)" ||
		fail "$N: user and /data" "$(stat -c '%u:%g %a' "$ROOT/data") $(grep shelly "$ROOT/etc/passwd")"
	rm -f "$ROOT/usr/bin/sh" "$ROOT/usr/bin/dash" "$ROOT/usr/bin/bash" "$ROOT/bin/sh" \
		"$ROOT/bin/dash" "$ROOT/bin/bash"
	echo "prepare: $((t1 - t0)) ms, assemble: $(( $(now_ms) - t1 )) ms"

	SHELLY_CT_INSIDE=1 CT_ROOT=$ROOT unshare --net --mount --pid --fork --kill-child \
		--propagation private --mount-proc sh "$0"
	exit $?
fi

# ---------------- inside: private network (lo only), mount and PID namespaces ----------------
ROOT=$CT_ROOT
ip link set lo up
# The recipe's run-time settings, read from the Containerfile itself.
entry=$(sed -n 's/^ENTRYPOINT *//p' "$CF" | jq -r '.[]')
cmd=$(sed -n 's/^CMD *//p' "$CF" | jq -r '.[]')
hc=$(sed -n '/^HEALTHCHECK/,/CMD/s/^ *CMD *//p' "$CF" | jq -r '.[]')
user=$(sed -n 's/^USER *//p' "$CF")
envs=$(sed -n 's/^ENV *//p' "$CF")
[ -n "$entry" ] && [ -n "$cmd" ] && [ -n "$hc" ] && [ "$user" = 10001:10001 ] &&
	pass "$N: Containerfile: exec-form ENTRYPOINT, CMD and HEALTHCHECK, USER 10001" ||
	fail "$N: Containerfile run settings" "entry='$entry' cmd='$cmd' hc='$hc' user='$user'"
echo "$cmd" | tr '\n' ' ' | grep -q -- '--headless --listen 0.0.0.0:9464' &&
	pass "$N: default command is --headless --listen 0.0.0.0:9464" || fail "$N: CMD" "$cmd"

if ! sim_start $N --fixtures tests/fixtures --models gen1/shelly-plug-s,gen2/plus-1pm,gen3/1pm-gen3 --count 3; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
NDEV=3
mkdir -p "$ROOT/etc/shelly-tui"
{
	echo "set poll-interval-gen1 500ms"
	echo "set poll-interval-gen2 500ms"
	i=0
	while [ $i -lt $NDEV ]; do
		echo "device d$i $(dev_hp $i)"
		i=$((i + 1))
	done
} >"$ROOT/etc/shelly-tui/config"
chmod 0644 "$ROOT/etc/shelly-tui/config"
# As Kubernetes runs it (readOnlyRootFilesystem): a read-only root, /data writable, /tmp a tmpfs.
mount --bind "$ROOT" "$ROOT" && mount -o remount,bind,ro "$ROOT" &&
	mount --bind "$ROOT/data" "$ROOT/data" && mount -o remount,bind,rw "$ROOT/data" &&
	mount -t tmpfs -o mode=1777,size=64m tmpfs "$ROOT/tmp" && mount -t proc proc "$ROOT/proc" ||
	{ fail "$N: read-only root with /data and /tmp writable" "mount failed"; exit 1; }
touch "$ROOT/etc/probe-rw" 2>/dev/null && fail "$N: read-only root" "/etc is writable" ||
	pass "$N: the root is mounted read-only (/data and /tmp writable)"

# ct_exec CMD...: become CMD in the root, as the image's user with the image's environment;
# ct_run runs it in a subshell.
CHROOT=$(command -v chroot)
ct_run() { (ct_exec "$@"); }
ct_exec() {
	# shellcheck disable=SC2086
	exec env -i PATH=/usr/local/bin:/usr/bin:/bin $envs SHELLY_TUI_ALLOW_NETS=127.0.0.0/8 \
		ASAN_OPTIONS="${ASAN_OPTIONS:-}" UBSAN_OPTIONS="${UBSAN_OPTIONS:-}" \
		"$CHROOT" --userspec="$user" "$ROOT" "$@"
}
# shellcheck disable=SC2086
ct_exec $entry $cmd >"$T_TMP/poller.out" 2>"$T_TMP/poller.err" &
PPID_CT=$!
at_exit "kill_ours -KILL $PPID_CT"
U=http://127.0.0.1:9464
code() { [ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "$U$1")" = 200 ]; }
wait_for 30 code /healthz && pass "$N: /healthz 200 from the chrooted image" ||
	{ fail "$N: /healthz" "$(tail -n 5 "$T_TMP/poller.err")"; exit 1; }
wait_for 30 code /readyz && pass "$N: /readyz 200" || fail "$N: /readyz" "$(curl -s -m 3 "$U/readyz")"
all_up() {
	curl -s -m 3 "$U/metrics" >"$T_TMP/m" &&
		[ "$(grep -c '^shelly_device_up{.*} 1$' "$T_TMP/m")" -eq $NDEV ]
}
wait_for 30 all_up && pass "$N: /metrics: all $NDEV simulated devices up" ||
	fail "$N: /metrics" "$(grep '^shelly_device_up' "$T_TMP/m") $(tail -n 3 "$T_TMP/poller.err")"
[ "$(stat -c '%u %a' "$ROOT/data/shelly.db" 2>/dev/null)" = "10001 600" ] &&
	pass "$N: the database is /data/shelly.db, owned by 10001, mode 0600" || fail "$N: database" "$(ls -ln "$ROOT/data")"
# `docker exec ... shelly-tui --agent-enrol` (no --db) stores its secret in the poller's database.
ct_run /usr/bin/shelly-tui --agent-enrol >"$T_TMP/enrol.out" 2>"$T_TMP/enrol.err" &&
	[ "$(sqlite3 -cmd '.timeout 5000' "$ROOT/data/shelly.db" 'SELECT count(*) FROM enrolments')" = 1 ] &&
	pass "$N: --agent-enrol in the image writes into the poller's database" ||
	fail "$N: --agent-enrol in the image writes into the poller's database" "$(cat "$T_TMP/enrol.err") $(ls -R "$ROOT/data")"
# The documented restore path: --import of an export holding a template writes the template on
# the data volume (SHELLY_TUI_TEMPLATES), not under the read-only /etc/shelly-tui.
mkdir -p "$T_TMP/cfg/shelly-tui/templates"
printf 'sntp.server = "ntp.example"\n' >"$T_TMP/cfg/shelly-tui/templates/base.tmpl"
XDG_CONFIG_HOME=$T_TMP/cfg "$SHELLY_TUI" --db "$T_TMP/src.db" --poll-once >/dev/null 2>&1
XDG_CONFIG_HOME=$T_TMP/cfg "$SHELLY_TUI" --db "$T_TMP/src.db" --export json -o "$ROOT/tmp/a.json" \
	2>"$T_TMP/imp.err" && chmod 0644 "$ROOT/tmp/a.json"
ct_run /usr/bin/shelly-tui --db /data/restored.db --import /tmp/a.json >"$T_TMP/imp.out" 2>>"$T_TMP/imp.err" &&
	cmp -s "$ROOT/data/templates/base.tmpl" "$T_TMP/cfg/shelly-tui/templates/base.tmpl" &&
	pass "$N: --import of an export with a template works in the image (templates on /data)" ||
	fail "$N: --import with a template in the image" "$(cat "$T_TMP/imp.err") $(ls -lR "$ROOT/data")"
# shellcheck disable=SC2086
ct_run $hc >"$T_TMP/hc.out" 2>&1 && pass "$N: HEALTHCHECK command passes while the poller runs" ||
	fail "$N: HEALTHCHECK" "$(cat "$T_TMP/hc.out")"
kill -TERM $PPID_CT
wait $PPID_CT
rc=$?
[ $rc -eq 0 ] && pass "$N: SIGTERM: the poller exits 0" || fail "$N: exit status" "rc=$rc $(tail -n 3 "$T_TMP/poller.err")"
# shellcheck disable=SC2086
ct_run $hc >"$T_TMP/hc.out" 2>&1 && fail "$N: HEALTHCHECK after stop" "passed with no poller" ||
	pass "$N: HEALTHCHECK command fails once the poller stopped"
exit $T_FAILED
