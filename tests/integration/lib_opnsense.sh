# Helpers for tests/integration/opnsense_*.sh, sourced after tests/lib.sh. Not a test itself.
# A fake OPNsense (opnsense_fake.py, written from the documented API) on this test's own
# 127.x.y.1 over TLS, with a CA made here by openssl; devices put straight into the registry
# (their 192.168.20.x addresses are data: nothing is ever sent there, the guard refuses them).
#
#   op_init NAME                   checks tools, makes the CA, the fake's certificate, key files
#   op_fake TAG STATE [ARGS]       starts a fake from a state JSON; its port in $T_TMP/TAG.port
#                                  (certificate and key: $OP_CERT, $OP_KEY when set)
#   op_port TAG, op_get TAG PATH   port / GET of a control path (/__fake/counts, /__fake/state)
#   op_conf TAG FILE [LINE ...]    a configuration pointing at fake TAG (+ extra lines)
#   op_db DB "MAC|NAME|HOST" ...   a registry holding these devices
#   op_kea_empty FILE              a Kea state: subnet 192.168.20.0/24, no reservation, no alias
#   op_run OUT CONF DB [ARGS]      shelly-tui --opnsense-sync; sets OP_RC, stdout in OUT, stderr in OUT.err
#   op_console STATE DB W H N      (tui tests, after lib_tui.sh) fake k from STATE, its
#                                  configuration in $T_TMP/conf, the --dry-run count line in
#                                  $OP_PLAN_LINE, the console on DB (N devices) in a W x H pane
for _t in openssl python3 jq sqlite3 curl; do
	command -v $_t >/dev/null 2>&1 || { skip "$(basename "$0" .sh)" "needs $_t"; exit 0; }
done
export XDG_CONFIG_HOME="$T_TMP/xdg-config" XDG_DATA_HOME="$T_TMP/xdg-data"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
OP_DIR=tests/integration # scripts run from the top of the tree (they source tests/lib.sh)

op_init() {
	OP_ADDR="$(test_net "$1").1"
	_d=$T_TMP/tls
	mkdir -p "$_d"
	printf 'subjectAltName=IP:%s\n' "$OP_ADDR" >"$_d/ext"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=test-ca \
		-days 2 -keyout "$_d/ca.key" -out "$_d/ca.pem" >/dev/null 2>&1 &&
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=fw \
		-keyout "$_d/fw.key" -out "$_d/fw.csr" >/dev/null 2>&1 &&
	openssl x509 -req -in "$_d/fw.csr" -CA "$_d/ca.pem" -CAkey "$_d/ca.key" -CAcreateserial \
		-days 2 -extfile "$_d/ext" -out "$_d/fw.pem" >/dev/null 2>&1 ||
		{ fail "$1: openssl makes a CA and a certificate"; exit 1; }
	OP_CA=$_d/ca.pem
	printf 'K3y\n' >"$T_TMP/api.key"
	printf 'S3cret\n' >"$T_TMP/api.secret"
	chmod 600 "$T_TMP/api.key" "$T_TMP/api.secret"
}

op_fake() {
	_tag=$1 _state=$2; shift 2
	rm -f "$T_TMP/$_tag.port"
	python3 "$OP_DIR/opnsense_fake.py" --addr "$OP_ADDR" --cert "${OP_CERT:-$T_TMP/tls/fw.pem}" \
		--key "${OP_KEY:-$T_TMP/tls/fw.key}" --state "$_state" --port-file "$T_TMP/$_tag.port" "$@" \
		2>"$T_TMP/$_tag.fake.err" &
	echo $! >"$T_TMP/$_tag.pid"
	at_exit "kill_ours $!"
	# A bound for the outcome only (returns as soon as the port is written): python and its ssl
	# module take long to start on a machine running two suites at once.
	wait_for 60 test -s "$T_TMP/$_tag.port" || { fail "fake $_tag starts" "$(cat "$T_TMP/$_tag.fake.err")"; exit 1; }
}

op_port() { cat "$T_TMP/$1.port"; }
op_get() { curl -s -m 10 --cacert "$OP_CA" "https://$OP_ADDR:$(op_port "$1")$2"; }
op_stop() { kill_ours "$(cat "$T_TMP/$1.pid")"; }

op_conf() {
	_tag=$1 _f=$2; shift 2
	cat >"$_f" <<-EOF
	set opnsense-url https://$OP_ADDR:$(op_port "$_tag")
	set opnsense-key file:$T_TMP/api.key
	set opnsense-secret file:$T_TMP/api.secret
	set opnsense-ca file:$OP_CA
	set opnsense-timeout 10s
	set connect-timeout 10s
	EOF
	for _l in "$@"; do printf '%s\n' "$_l" >>"$_f"; done
}

op_kea_empty() {
	cat >"$1" <<-'JSON'
	{"subnets": [{"uuid": "3f6c0e55-2d0b-4f3e-9a43-5b1f3c2a9e10", "subnet": "192.168.20.0/24", "description": "iot"}],
	 "reservations": [], "aliases": []}
	JSON
}

op_db() {
	_db=$1; shift
	"$SHELLY_TUI" --db "$_db" --list >/dev/null 2>&1
	for _dev in "$@"; do
		_mac=${_dev%%|*} _rest=${_dev#*|}
		_name=${_rest%%|*} _host=${_rest#*|}
		sqlite3 "$_db" "INSERT INTO devices (mac, id, gen, name, host, port, scheme, discovered_via)
			VALUES ('$_mac', 'shellyplus1-$_mac', 2, '$_name', '$_host', 80, 'http', 'manual')" ||
			fail "op_db: insert $_dev"
	done
}

op_run() {
	_out=$1 _conf=$2 _db=$3; shift 3
	"$SHELLY_TUI" --config "$_conf" --db "$_db" --opnsense-sync "$@" >"$_out" 2>"$_out.err"
	OP_RC=$?
}

# op_count TAG JQ: a number from the fake's counters.
op_count() { op_get "$1" /__fake/counts | jq -r "$2"; }

op_console() {
	op_fake k "$1" --shape 25.7
	op_conf k "$T_TMP/conf"
	op_run "$T_TMP/plan" "$T_TMP/conf" "$2" --dry-run
	OP_PLAN_LINE=$(grep -E '^[0-9]+ to add' "$T_TMP/plan")
	[ -n "$OP_PLAN_LINE" ] || fail "op_console: --opnsense-sync --dry-run" "$(cat "$T_TMP/plan" "$T_TMP/plan.err")"
	tui_console "$3" "$4" "fleet $5" --config "$T_TMP/conf" --db "$2"
}
