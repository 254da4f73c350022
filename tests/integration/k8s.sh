# deploy/k8s: every overlay renders with `kubectl kustomize`, every object passes the Kubernetes
# schemas (kubernetes-models, run by node from tests/k8s, installed by tools/deps.sh) and the
# deployment rules (tests/k8s/validate.mjs: one replica and Recreate, restricted securityContext,
# resources, PVC/ConfigMap/Secret files, Pod Security level of the namespace, agent pinned with
# the host's D-Bus, Service and ServiceMonitor ports). Then the probes' paths and ports are checked
# against the binary itself: it runs with the manifests' --listen port in a private network
# namespace (loopback only) against the simulated fleet, and each probe path answers 200 there.
. tests/lib.sh
. tests/integration/lib_sim.sh
N=k8s
K8S=deploy/k8s

if [ "${SHELLY_K8S_INSIDE:-}" != 1 ]; then
	for t in kubectl node; do
		command -v "$t" >/dev/null 2>&1 || { fail "$N" "needs $t (tools/deps.sh installs it)"; exit 1; }
	done
	[ -d tests/k8s/node_modules/kubernetes-models ] ||
		{ fail "$N" "needs tests/k8s/node_modules (make deps runs npm ci there)"; exit 1; }
	: >"$T_TMP/probes"
	: >"$T_TMP/flags"
	for o in "$K8S"/overlays/*/; do
		o=${o%/}
		name=$(basename "$o")
		if ! kubectl kustomize "$o" >"$T_TMP/$name.yaml" 2>"$T_TMP/$name.err"; then
			fail "$N: kubectl kustomize $o" "$(grep -v '^# Warning' "$T_TMP/$name.err" | head -n 5)"
			continue
		fi
		if node tests/k8s/validate.mjs <"$T_TMP/$name.yaml" >"$T_TMP/$name.out" 2>&1; then
			pass "$N: $name: $(grep -c '^OBJ ' "$T_TMP/$name.out") objects valid and within the rules"
		else
			fail "$N: $name" "$(grep -v '^OBJ \|^PROBE \|^LISTEN ' "$T_TMP/$name.out" | head -n 8)"
		fi
		grep '^FLAGS ' "$T_TMP/$name.out" >>"$T_TMP/flags"
		grep '^PROBE shelly-tui/' "$T_TMP/$name.out" >>"$T_TMP/probes"
		grep '^LISTEN shelly-tui/' "$T_TMP/$name.out" >>"$T_TMP/probes"
	done
	# The agent reaches the manager over HTTPS only, checking its certificate, and an overlay
	# of the manager serves the agent API there with TLS (the token, WiFi keys and device
	# passwords must not cross the cluster network or the node's LAN in clear).
	mgr=$(sed -n '/- --manager$/{n;s/^ *- *//;p;}' "$T_TMP/agent.yaml")
	aport=${mgr##*:}
	if grep -q 'http://' "$T_TMP/agent.yaml"; then
		fail "$N: agent: the manager URL is https://" "$(grep -n 'http://' "$T_TMP/agent.yaml")"
	elif [ "${mgr#https://}" != "$mgr" ] && grep -q -- '- --ca-file$' "$T_TMP/agent.yaml"; then
		pass "$N: agent: the manager URL is https:// ($mgr) with --ca-file"
	else
		fail "$N: agent: the manager URL is https://" "--manager '$mgr', --ca-file missing?"
	fi
	served=""
	for y in "$T_TMP"/*.yaml; do
		grep -q "set agent-listen 0.0.0.0:$aport\$" "$y" && grep -q 'set agent-tls-cert /' "$y" &&
			grep -q 'set agent-tls-key file:/' "$y" && grep -q "port: $aport\$" "$y" &&
			served="$served $(basename "$y" .yaml)"
	done
	[ -n "$served" ] && pass "$N: overlays serving the agent API over TLS on port $aport:$served" ||
		fail "$N: an overlay serves the agent API over TLS on port $aport" "none sets agent-listen with agent-tls-cert/key and a Service port"
	# The options the containers pass are ones their program documents in its --help.
	sort -u "$T_TMP/flags" >"$T_TMP/flags.u"
	while read -r _ where prog flags; do
		if [ ! -x "$BUILD/$prog" ]; then
			echo "note: $where: $prog is not built here; its flags are checked once it is"
			continue
		fi
		"$BUILD/$prog" --help >"$T_TMP/help" 2>&1
		unknown=""
		for f in $flags; do
			grep -qE -- "(^|[ ,])$f([ =]|$)" "$T_TMP/help" || unknown="$unknown $f"
		done
		[ -z "$unknown" ] && pass "$N: $where: its flags are in $prog --help" ||
			fail "$N: $where flags" "not in $prog --help:$unknown"
	done <"$T_TMP/flags.u"
	# Agent enrolment happens in the running poller's database: every documented --agent-enrol
	# runs through `kubectl exec` in the poller's Deployment with the poller's own --db (on a
	# workstation it would write a database the poller never reads: 401 forever), and the
	# image's default database (SHELLY_TUI_DB) is the one its CMD runs on.
	pdb=$(sed -n '/^kind: Deployment/,/^---/{/- --db$/{n;s/^ *- *//;p;q;}}' "$T_TMP/standard.yaml")
	pname=$(sed -n '/^kind: Deployment/,/^---/{/^  name: /{s/^  name: *//;p;q;}}' "$T_TMP/standard.yaml")
	bad=$(grep -n -- '--agent-enrol' README.md deploy/k8s/overlays/*/*.yaml | grep -v "kubectl -n shelly-tui exec deploy/$pname -- shelly-tui --db $pdb --agent-enrol" |
		grep -v 'from `shelly-tui --agent-enrol`\|`--agent-enrol` refuses\|shelly-tui --agent-enrol` |')
	enrols=$(grep -c -- "kubectl -n shelly-tui exec deploy/$pname -- shelly-tui --db $pdb --agent-enrol" \
		README.md deploy/k8s/overlays/agent/kustomization.yaml | grep -c ':[1-9]')
	[ -n "$pdb" ] && [ -z "$bad" ] && [ "$enrols" = 2 ] &&
		pass "$N: the documented enrolment runs in deploy/$pname on its --db $pdb" ||
		fail "$N: the documented enrolment runs in the poller's Deployment on its --db" \
			"poller $pname --db '$pdb'; found $enrols; elsewhere: $bad"
	cf=deploy/container/Containerfile
	edb=$(sed -n 's/^ENV .*SHELLY_TUI_DB=\([^ ]*\).*/\1/p' "$cf")
	grep -q "^CMD .*\"--db\", \"$edb\"" "$cf" && [ "$edb" = "$pdb" ] &&
		pass "$N: the image's default database is its CMD's and the Deployment's ($edb)" ||
		fail "$N: the image's default database is its CMD's" "SHELLY_TUI_DB '$edb', Deployment '$pdb', $(grep '^CMD' "$cf")"
	# Every file of the poller's Secret is read: a configuration option of that name, or a
	# file the shipped configuration names.
	"$BUILD/shelly-tui" --list-options | awk '{ print $1 }' >"$T_TMP/options"
	unread=""
	for f in $(sed -n '/^secretGenerator:/,$ s|^ *- secrets/||p' "$K8S/base/kustomization.yaml"); do
		grep -qx "$f" "$T_TMP/options" || grep -q "/run/secrets/shelly-tui/$f\$" "$K8S/base/config" ||
			unread="$unread $f"
	done
	[ -z "$unread" ] && pass "$N: every file of the poller's Secret is read by the poller" ||
		fail "$N: every file of the poller's Secret is read by the poller" "nothing reads:$unread"
	# Every overlay with a poller probes liveness, readiness and startup on the --listen port.
	ports=$(awk '{ print $NF }' "$T_TMP/probes" | sort -u)
	[ "$(echo "$ports" | wc -l)" -eq 1 ] && [ -n "$ports" ] &&
		[ "$(grep -c '^PROBE ' "$T_TMP/probes")" -ge 3 ] &&
		pass "$N: probes and --listen agree on port $ports" ||
		fail "$N: probe ports" "$(cat "$T_TMP/probes")"
	if ! is_root; then
		skip "$N: probe paths against the binary" "needs root (a private network namespace for port $ports)"
		exit $T_FAILED
	fi
	awk '$1 == "PROBE" { print $4 }' "$T_TMP/probes" | sort -u >"$T_TMP/paths"
	SHELLY_K8S_INSIDE=1 K8S_PORT=$ports K8S_PATHS=$T_TMP/paths unshare --net --mount --pid --fork \
		--kill-child --propagation private --mount-proc sh "$0"
	rc=$?
	[ $T_FAILED -eq 0 ] && exit $rc
	exit $T_FAILED
fi

# ---------------- inside: a private network namespace with only lo ----------------
. tests/integration/lib_headless.sh
ip link set lo up
if ! sim_start $N --fixtures tests/fixtures --models gen1/shelly-plug-s,gen2/plus-1pm --count 2; then
	fail "$N: sim start" "$(cat "$SIM_ERR")"
	exit 1
fi
hl_config "$T_TMP/config" "device a $(dev_hp 0)" "device b $(dev_hp 1)"
# The manifests' own listen address and port (0.0.0.0 inside this namespace is loopback only).
"$SHELLY_TUI" --headless --listen "0.0.0.0:$K8S_PORT" --db "$T_TMP/shelly.db" --config "$T_TMP/config" \
	>"$T_TMP/poller.out" 2>"$T_TMP/poller.err" &
P=$!
at_exit "kill_ours -KILL $P"
ok200() { [ "$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$K8S_PORT$1")" = 200 ]; }
while read -r path; do
	wait_for 20 ok200 "$path" && pass "$N: probe path $path answers 200 on port $K8S_PORT" ||
		fail "$N: probe path $path" "$(curl -s -m 3 -w ' %{http_code}' "http://127.0.0.1:$K8S_PORT$path") $(tail -n 3 "$T_TMP/poller.err")"
done <"$K8S_PATHS"
ok200 /metrics && pass "$N: the ServiceMonitor's /metrics answers 200" || fail "$N: /metrics"
code=$(curl -s -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$K8S_PORT/no-such-probe")
[ "$code" = 404 ] && pass "$N: an unknown path is 404 (the check can fail)" || fail "$N: unknown path" "$code"
"$SHELLY_TUI" --health-check "127.0.0.1:$K8S_PORT" >"$T_TMP/hc" 2>&1 &&
	pass "$N: --health-check 127.0.0.1:$K8S_PORT passes" || fail "$N: --health-check" "$(cat "$T_TMP/hc")"
"$SHELLY_TUI" --health-check "127.0.0.1:1" >"$T_TMP/hc" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q 'refused' "$T_TMP/hc" && pass "$N: --health-check of a closed port exits 1" ||
	fail "$N: --health-check closed port" "rc=$rc $(cat "$T_TMP/hc")"
# The non-loopback target runs inside an empty network namespace: nothing could leave it.
if empty_ns_detect; then
	$EMPTY_NS "$SHELLY_TUI" --health-check "10.0.0.1:$K8S_PORT" >"$T_TMP/hc" 2>&1
	rc=$?
	[ $rc -eq 2 ] && grep -q 'not a loopback' "$T_TMP/hc" && pass "$N: --health-check refuses a non-loopback address" ||
		fail "$N: --health-check non-loopback" "rc=$rc $(cat "$T_TMP/hc")"
else
	skip "$N: --health-check non-loopback" "no empty network namespace here (not root, no user namespaces)"
fi
kill -TERM $P
wait $P
exit $T_FAILED
