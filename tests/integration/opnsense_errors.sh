# --opnsense-sync: the dnsmasq backend (detected when Kea is absent; DNS-only overrides are no
# conflict; a host listing a device's MAC among several is a conflict; idempotent; addresses checked against the networks of the DHCP ranges), and every failure with a clear message naming what failed: HTTP 401
# (and the key and secret never shown), [] for an unknown UUID, a module that is not
# installed, a write answered with HTTP 500, a reconfigure answered with HTTP 500 (retried by
# the next sync although nothing changed), ISC (no reservation API: only the alias), TLS
# without the CA and with opnsense-insecure, a self-signed certificate by IP trusted by
# opnsense-pin (a wrong pin sends nothing), key files missing, readable by everyone or written
# inline, the network guard, a time-out naming the record, a second writer while another holds
# the lease.
. tests/lib.sh
. tests/integration/lib_opnsense.sh

N=opnsense_errors
op_init $N
DB=$T_TMP/db
op_db "$DB" "000000000001|Kitchen|192.168.20.31" "000000000002|Hall|192.168.20.32"

# --- dnsmasq ---
T="$N dnsmasq"
cat >"$T_TMP/dnsmasq.json" <<'JSON'
{"hosts": [
  {"uuid": "f0000001-0000-4000-8000-000000000001", "host": "nas", "domain": "", "ip": "192.168.20.31", "hwaddr": "", "descr": "DNS only", "local": "0", "ignore": "0"},
  {"uuid": "f0000002-0000-4000-8000-000000000002", "host": "printer", "domain": "", "ip": "192.168.20.10", "hwaddr": "de:ad:be:ef:00:01", "descr": "", "local": "0", "ignore": "0"}],
 "ranges": [{"uuid": "d0000001-0000-4000-8000-000000000001", "interface": "lan", "start_addr": "192.168.20.100", "end_addr": "192.168.20.200"},
  {"uuid": "d0000002-0000-4000-8000-000000000002", "interface": "lan", "start_addr": "::100", "end_addr": "::200", "constructor": "lan", "prefix_len": "64"}]}
JSON
op_fake d "$T_TMP/dnsmasq.json" --modules dnsmasq --enabled dnsmasq
op_conf d "$T_TMP/cd"
op_run "$T_TMP/o" "$T_TMP/cd" "$DB"
st=$(op_get d /__fake/state)
[ $OP_RC -eq 0 ] && grep -q "^backend dnsmasq$" "$T_TMP/o" &&
	[ "$(printf '%s' "$st" | jq -r '.hosts[] | select(.hwaddr == "00:00:00:00:00:01") | "\(.host) \(.ip) \(.descr)"')" = "kitchen 192.168.20.31 shelly-tui:000000000001 Kitchen" ] &&
	[ "$(printf '%s' "$st" | jq -c '[.hosts[] | select(.uuid | startswith("f000000"))]')" = "$(jq -c .hosts "$T_TMP/dnsmasq.json")" ] &&
	[ "$(op_count d .reconfigure.dnsmasq)" = 1 ] &&
	pass "$T: Kea absent (404), dnsmasq detected; hosts added (lowercase colon MAC); a DNS-only override on the same address is no conflict and untouched" ||
	fail "$T" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 1200) $(printf '%s' "$st" | jq -c .hosts)"
w=$(op_count d .writes)
op_run "$T_TMP/o" "$T_TMP/cd" "$DB"
[ $OP_RC -eq 0 ] && [ "$(op_count d .writes)" = "$w" ] && [ "$(op_count d .reconfigure.dnsmasq)" = 1 ] &&
	pass "$T: a second sync writes and reconfigures nothing" || fail "$T: second sync" "$(head -c 800 "$T_TMP/o")"
for shape in 25.1; do
	op_fake d1 "$T_TMP/dnsmasq.json" --modules dnsmasq --enabled dnsmasq --shape $shape
	op_conf d1 "$T_TMP/cd1"
	op_run "$T_TMP/o" "$T_TMP/cd1" "$DB"
	w=$(op_count d1 .writes)
	op_run "$T_TMP/o" "$T_TMP/cd1" "$DB"
	[ $OP_RC -eq 0 ] && [ "$w" = 3 ] && [ "$(op_count d1 .writes)" = 3 ] &&
		pass "$T $shape: rows with labels (hwaddr joined by ', ') sync once, then nothing" ||
		fail "$T $shape" "writes $w then $(op_count d1 .writes) $(head -c 800 "$T_TMP/o")"
	op_stop d1
done

# --- dnsmasq: a foreign host listing the device's MAC second is no place for a second host ---
T="$N dnsmasq second MAC"
jq '.hosts += [{"uuid": "f0000003-0000-4000-8000-000000000003", "host": "tv", "domain": "", "ip": "192.168.20.50",
	"hwaddr": "aa:bb:cc:00:11:22,00:00:00:00:00:02", "descr": "by hand", "local": "0", "ignore": "0"}]' \
	"$T_TMP/dnsmasq.json" >"$T_TMP/dnsmasq2.json"
op_fake d2 "$T_TMP/dnsmasq2.json" --modules dnsmasq --enabled dnsmasq
op_conf d2 "$T_TMP/cd2"
op_run "$T_TMP/o" "$T_TMP/cd2" "$DB" --json
st=$(op_get d2 /__fake/state)
[ $OP_RC -eq 0 ] &&
	jq -r '.records[] | select(.mac == "00:00:00:00:00:02") | "\(.action) \(.why)"' "$T_TMP/o" | grep -q "^conflict MAC is reserved at 192.168.20.50 (record f0000003-" &&
	[ "$(printf '%s' "$st" | jq '[.hosts[] | select(.hwaddr | contains("00:00:00:00:00:02"))] | length')" = 1 ] &&
	pass "$T: a foreign host holding the device's MAC second is a conflict; no duplicate host is added" ||
	fail "$T" "rc=$OP_RC $(jq -c '[.records[] | [.mac, .action, .why]]' "$T_TMP/o" 2>&1 | head -c 1200) $(printf '%s' "$st" | jq -c .hosts)"
op_stop d2

# --- dnsmasq: addresses outside the network of every DHCP range (searchRange) ---
T="$N dnsmasq ranges"
op_db "$T_TMP/rdb" "000000000001|Kitchen|192.168.20.31" "000000000003|Shed|10.9.9.9"
range_run() { # TAG STATE [FAKE ARGS]: a dry run against a fresh fake, as json in $T_TMP/r
	_t=$1 _s=$2; shift 2
	op_fake "$_t" "$_s" --modules dnsmasq --enabled dnsmasq "$@"
	op_conf "$_t" "$T_TMP/c$_t"
	op_run "$T_TMP/r" "$T_TMP/c$_t" "$T_TMP/rdb" --dry-run --json
	op_stop "$_t"
}
shed() { jq -r '.records[] | select(.mac == "00:00:00:00:00:03") | "\(.action): \(.why // "")"' "$T_TMP/r"; }
kitchen() { jq -r '.records[] | select(.mac == "00:00:00:00:00:01") | .action' "$T_TMP/r"; }
for shape in 25.1 25.7; do
	range_run r$shape "$T_TMP/dnsmasq.json" --shape $shape
	[ $OP_RC -eq 0 ] && [ "$(kitchen)" = added ] &&
		[ "$(shed)" = "conflict: address 10.9.9.9 is outside the network of every dnsmasq DHCPv4 range: 192.168.20.0/24 (range 192.168.20.100-192.168.20.200 on $([ $shape = 25.1 ] && echo LAN || echo lan))" ] &&
		pass "$T $shape: an address outside every range's network is a conflict naming the ranges (the IPv6 range left out); one outside the pool but in its /24 is fine" ||
		fail "$T $shape" "rc=$OP_RC $(shed) $(kitchen) $(head -c 600 "$T_TMP/r.err")"
done
jq '.ranges[0] += {"start_addr": "10.9.0.10", "end_addr": "10.9.0.50", "subnet_mask": "255.255.0.0"}' "$T_TMP/dnsmasq.json" >"$T_TMP/mask.json"
range_run rm "$T_TMP/mask.json"
[ $OP_RC -eq 0 ] && [ "$(shed)" = "added: " ] &&
	[ "$(kitchen)" = "conflict" ] &&
	pass "$T: a range's subnet mask sets its network (10.9.9.9 inside 10.9.0.0/16, 192.168.20.31 now outside)" ||
	fail "$T: subnet mask" "rc=$OP_RC $(shed) $(kitchen)"
jq '.ranges = []' "$T_TMP/dnsmasq.json" >"$T_TMP/none.json"
range_run rn "$T_TMP/none.json"
[ $OP_RC -eq 0 ] && shed | grep -q "^conflict: address 10.9.9.9: dnsmasq has no DHCPv4 range, so it serves no reservation$" &&
	pass "$T: no DHCPv4 range at all: every reservation is a conflict saying so" || fail "$T: no range" "$(shed)"
range_run ro "$T_TMP/dnsmasq.json" --no-ranges
[ $OP_RC -eq 0 ] && [ "$(shed)" = "added: " ] &&
	grep -q "searchRange): not found (HTTP 404.*not checked against the DHCP ranges" "$T_TMP/r.err" &&
	pass "$T: a firewall without searchRange (404): addresses unchecked, said in the log" ||
	fail "$T: no searchRange" "rc=$OP_RC $(shed) $(head -c 600 "$T_TMP/r.err")"

# --- 401: wrong secret; nothing secret is printed ---
T="$N 401"
printf 'WrongS3cret\n' >"$T_TMP/bad.secret"
chmod 600 "$T_TMP/bad.secret"
op_conf d "$T_TMP/c401" "set opnsense-secret file:$T_TMP/bad.secret"
op_run "$T_TMP/o" "$T_TMP/c401" "$DB" -v
[ $OP_RC -eq 1 ] && grep -q "refused the API key and secret (HTTP 401)" "$T_TMP/o" && grep -q "nothing was changed" "$T_TMP/o" &&
	! grep -q "WrongS3cret\|K3y" "$T_TMP/o" "$T_TMP/o.err" && [ "$(op_count d .unauthorized)" -ge 1 ] &&
	pass "$T: exit 1, a message about the key and secret, neither of them printed or logged" ||
	fail "$T" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 800)"

# --- a module that is not installed ---
T="$N absent"
op_conf d "$T_TMP/cabs" "set opnsense-backend kea"
op_run "$T_TMP/o" "$T_TMP/cabs" "$DB" --json
[ $OP_RC -eq 1 ] && jq -r .error "$T_TMP/o" | grep -q "reading the Kea subnets (POST /api/kea/dhcpv4/searchSubnet): not found (HTTP 404, Endpoint not found): the module is not installed" &&
	[ "$(jq '.records | length' "$T_TMP/o")" = 0 ] &&
	pass "$T: opnsense-backend kea without Kea: exit 1, 'the module is not installed' naming the request" ||
	fail "$T" "rc=$OP_RC $(head -c 800 "$T_TMP/o") $(head -c 300 "$T_TMP/o.err")"

# --- [] for an unknown UUID ---
T="$N empty"
cat >"$T_TMP/alias.json" <<'JSON'
{"aliases": [{"uuid": "a0000001-0000-4000-8000-000000000001", "name": "shelly_devices", "type": "host", "content": "", "description": "shelly-tui: x"}]}
JSON
op_fake de "$T_TMP/alias.json" --modules dnsmasq --enabled dnsmasq --get-empty
op_conf de "$T_TMP/cde"
op_run "$T_TMP/o" "$T_TMP/cde" "$DB"
[ $OP_RC -eq 1 ] && grep -q "reading alias shelly_devices (GET /api/firewall/alias/getItem/a0000001-0000-4000-8000-000000000001): no alias with that UUID (\[\] reply)" "$T_TMP/o" &&
	[ "$(op_count de .writes)" = 0 ] &&
	pass "$T: [] for a UUID: exit 1, the message names the alias and the request; nothing written" ||
	fail "$T" "rc=$OP_RC $(head -c 600 "$T_TMP/o")"
op_stop de

# --- a reconfigure answered with HTTP 500 ---
T="$N 500"
op_fake d5 "$T_TMP/dnsmasq.json" --modules dnsmasq --enabled dnsmasq --reconf-fail dnsmasq
op_conf d5 "$T_TMP/c5"
op_run "$T_TMP/o" "$T_TMP/c5" "$DB" --json
[ $OP_RC -eq 1 ] && [ "$(jq -r .dhcp.reconfigure "$T_TMP/o")" = failed ] &&
	jq -r .dhcp.error "$T_TMP/o" | grep -q "applying the dnsmasq changes (2 saved).*HTTP 500: Template generation failed & <stopped> (Error)" &&
	[ "$(jq -r .alias.reconfigure "$T_TMP/o")" = ok ] &&
	pass "$T: a reconfigure with HTTP 500: exit 1, errorMessage decoded, the alias still applied" ||
	fail "$T" "rc=$OP_RC $(jq -c '.dhcp, .alias' "$T_TMP/o" 2>&1 | head -c 800)"
# the saved changes are not live: the next sync reconfigures although nothing changed
w=$(op_count d5 .writes)
op_get d5 /__fake/heal >/dev/null
op_run "$T_TMP/o" "$T_TMP/c5" "$DB"
[ $OP_RC -eq 0 ] && [ "$(op_count d5 .writes)" = "$w" ] && [ "$(op_count d5 .reconfigure.dnsmasq)" = 2 ] &&
	grep -q "^dnsmasq: reconfigured, service running" "$T_TMP/o" &&
	pass "$T: the next sync writes nothing but retries the failed reconfigure" ||
	fail "$T: retry" "rc=$OP_RC $(op_get d5 /__fake/counts | jq -c '.writes, .reconfigure') $(head -c 600 "$T_TMP/o")"
op_run "$T_TMP/o" "$T_TMP/c5" "$DB"
[ $OP_RC -eq 0 ] && [ "$(op_count d5 .reconfigure.dnsmasq)" = 2 ] &&
	pass "$T: once applied, nothing is pending: the sync after reconfigures nothing" ||
	fail "$T: after the retry" "$(op_get d5 /__fake/counts | jq -c .reconfigure)"
op_stop d5

# --- a write answered with HTTP 500 ---
op_fake dw "$T_TMP/dnsmasq.json" --modules dnsmasq --enabled dnsmasq --write-500 192.168.20.32
op_conf dw "$T_TMP/cw"
op_run "$T_TMP/o" "$T_TMP/cw" "$DB" --json
[ $OP_RC -eq 1 ] && jq -r '.records[] | select(.mac == "00:00:00:00:00:02") | .error' "$T_TMP/o" |
	grep -q '^adding the dnsmasq host of Hall (00:00:00:00:00:02, 192.168.20.32) (POST /api/dnsmasq/settings/addHost): HTTP 500: Unable to save "x" <lock> (Error)$' &&
	pass "$T: a write with HTTP 500: exit 1, the record and errorMessage (entities decoded) named" ||
	fail "$T: write 500" "rc=$OP_RC $(jq -c '[.records[] | .error]' "$T_TMP/o" 2>&1 | head -c 600)"
op_stop dw

# --- least privilege: a key allowed dnsmasq and aliases only (403 on Kea) syncs dnsmasq ---
op_fake df "$T_TMP/dnsmasq.json" --modules kea,dnsmasq,isc --enabled dnsmasq --forbid /api/kea/
op_conf df "$T_TMP/cf"
op_run "$T_TMP/o" "$T_TMP/cf" "$DB"
[ $OP_RC -eq 0 ] && grep -q "^backend dnsmasq$" "$T_TMP/o" && [ "$(op_count df .reconfigure.dnsmasq)" = 1 ] &&
	pass "$N 403: a key without the Kea privilege (HTTP 403 there) detects and syncs dnsmasq" ||
	fail "$N 403: dnsmasq only" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 800)"
op_stop df
# the key may read neither DHCP server: nothing to reserve with, and the note says why
op_fake dg "$T_TMP/dnsmasq.json" --modules kea,dnsmasq --enabled dnsmasq --forbid /api/kea/ --forbid /api/dnsmasq/
op_conf dg "$T_TMP/cg"
op_run "$T_TMP/o" "$T_TMP/cg" "$DB"
[ $OP_RC -eq 1 ] && grep -q "^note: .*the API user may not read Kea DHCPv4 and dnsmasq (HTTP 403)" "$T_TMP/o" &&
	pass "$N 403: a key allowed no DHCP server: exit 1, the note names the privileges missing" ||
	fail "$N 403: none" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 800)"
op_stop dg

# --- ISC: no reservation API; the alias is still synced ---
T="$N isc"
echo '{}' >"$T_TMP/empty.json"
op_fake i "$T_TMP/empty.json" --modules isc --enabled isc
op_conf i "$T_TMP/ci"
op_run "$T_TMP/o" "$T_TMP/ci" "$DB"
[ $OP_RC -eq 1 ] && grep -q "^backend isc" "$T_TMP/o" && grep -q "no API for static reservations.*dhcp-isc" "$T_TMP/o" &&
	[ "$(op_get i /__fake/state | jq -r '.aliases[0].content')" = "$(printf '192.168.20.31\n192.168.20.32')" ] &&
	pass "$T: ISC: says it has no reservation API and points to the dhcp-isc export; the alias is synced" ||
	fail "$T" "rc=$OP_RC $(head -c 800 "$T_TMP/o")"
op_stop i
# the ISC plugin installed (as 26.1 does on upgrade) but disabled: no DHCP server at all
op_fake i0 "$T_TMP/empty.json" --modules isc --enabled none
op_conf i0 "$T_TMP/ci0"
op_run "$T_TMP/o" "$T_TMP/ci0" "$DB"
[ $OP_RC -eq 1 ] && grep -q "^backend none" "$T_TMP/o" && grep -q "no DHCP server with reservations .* is enabled" "$T_TMP/o" &&
	! grep -q "runs ISC" "$T_TMP/o" &&
	pass "$T: ISC installed but disabled: no DHCP server is enabled, not \"runs ISC\"" ||
	fail "$T: isc disabled" "rc=$OP_RC $(head -c 800 "$T_TMP/o")"
op_stop i0

# --- TLS ---
T="$N tls"
grep -v opnsense-ca "$T_TMP/cd" >"$T_TMP/cnoca"
op_run "$T_TMP/o" "$T_TMP/cnoca" "$DB" --dry-run
[ $OP_RC -eq 1 ] && grep -qi "tls_error\|certificate" "$T_TMP/o" &&
	pass "$T: without opnsense-ca the test CA is not in the system store: exit 1, a certificate error" ||
	fail "$T: no CA" "rc=$OP_RC $(head -c 600 "$T_TMP/o")"
cp "$T_TMP/cnoca" "$T_TMP/cins"; echo "set opnsense-insecure on" >>"$T_TMP/cins"
op_run "$T_TMP/o" "$T_TMP/cins" "$DB" --dry-run
[ $OP_RC -eq 0 ] && grep -q "not verified (opnsense-insecure on)" "$T_TMP/o.err" &&
	pass "$T: opnsense-insecure on works and is logged" || fail "$T: insecure" "rc=$OP_RC $(head -c 600 "$T_TMP/o.err")"

# --- OPNsense's default: a self-signed certificate for OPNsense.localdomain, addressed by IP ---
T="$N pin"
_d=$T_TMP/tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=OPNsense.localdomain \
	-addext subjectAltName=DNS:OPNsense.localdomain -days 2 -keyout "$_d/ss.key" -out "$_d/ss.pem" >/dev/null 2>&1 ||
	fail "$T: openssl makes a self-signed certificate"
spki_pin() { openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 -A; }
pin=$(spki_pin "$_d/ss.pem")
OP_CERT=$_d/ss.pem OP_KEY=$_d/ss.key op_fake ds "$T_TMP/dnsmasq.json" --modules dnsmasq --enabled dnsmasq
op_conf ds "$T_TMP/css" "set opnsense-ca file:$_d/ss.pem"
op_run "$T_TMP/o" "$T_TMP/css" "$DB" --dry-run
[ $OP_RC -eq 1 ] && grep -qi "certificate\|tls" "$T_TMP/o" &&
	pass "$T: the self-signed certificate as opnsense-ca does not name the IP: exit 1, a certificate error" ||
	fail "$T: ca by IP" "rc=$OP_RC $(head -c 600 "$T_TMP/o")"
grep -v opnsense-ca "$T_TMP/css" >"$T_TMP/cpin"; echo "set opnsense-pin sha256//$pin" >>"$T_TMP/cpin"
op_run "$T_TMP/o" "$T_TMP/cpin" "$DB" --dry-run
[ $OP_RC -eq 0 ] && grep -q "^backend dnsmasq (dry run" "$T_TMP/o" &&
	pass "$T: opnsense-pin sha256//BASE64 of its public key trusts it by IP" ||
	fail "$T: pin" "rc=$OP_RC pin=$pin $(head -c 600 "$T_TMP/o") $(head -c 600 "$T_TMP/o.err")"
# its control path: the test's curl pins the key too (the certificate does not name the IP)
ds_count() { curl -s -m 10 -k --pinnedpubkey "sha256//$pin" "https://$OP_ADDR:$(op_port ds)/__fake/counts" | jq -r "$1"; }
c=$(ds_count .calls)
[ -n "$c" ] && [ "$c" -gt 0 ] || fail "$T: the fake counted the pinned sync's requests" "calls '$c'"
grep -v opnsense-ca "$T_TMP/css" >"$T_TMP/cpin2"; echo "set opnsense-pin sha256//$(spki_pin "$_d/fw.pem")" >>"$T_TMP/cpin2"
op_run "$T_TMP/o" "$T_TMP/cpin2" "$DB" --dry-run
[ $OP_RC -eq 1 ] && grep -qi "certificate changed" "$T_TMP/o" && [ "$(ds_count .calls)" = "$c" ] &&
	[ "$(ds_count .unauthorized)" = 0 ] &&
	pass "$T: another key's pin: exit 1, 'certificate changed', no request (and no credential) reached the firewall" ||
	fail "$T: wrong pin" "rc=$OP_RC calls $c -> $(ds_count .calls) $(head -c 600 "$T_TMP/o")"
cp "$T_TMP/cpin" "$T_TMP/cpin3"; echo "set opnsense-insecure on" >>"$T_TMP/cpin3"
op_run "$T_TMP/o" "$T_TMP/cpin3" "$DB" --dry-run
grep -v opnsense-ca "$T_TMP/css" >"$T_TMP/cpin4"; echo "set opnsense-pin sha256//nope=" >>"$T_TMP/cpin4"
op_run "$T_TMP/o4" "$T_TMP/cpin4" "$DB" --dry-run
[ $OP_RC -eq 1 ] && grep -q "opnsense-pin must be sha256//BASE64" "$T_TMP/o4" "$T_TMP/o4.err" &&
	grep -q "opnsense-pin and opnsense-insecure exclude each other" "$T_TMP/o" "$T_TMP/o.err" &&
	pass "$T: a malformed pin, or a pin with opnsense-insecure, is refused with a clear message" ||
	fail "$T: bad pin" "$(head -c 600 "$T_TMP/o4") $(head -c 600 "$T_TMP/o4.err") $(head -c 300 "$T_TMP/o")"
op_stop ds

# --- key files ---
T="$N keys"
op_conf d "$T_TMP/ck" "set opnsense-key file:$T_TMP/nonexistent"
op_run "$T_TMP/o" "$T_TMP/ck" "$DB"
c=$(op_count d .calls)
[ $OP_RC -eq 1 ] && grep -q "opnsense-key: cannot read .*nonexistent" "$T_TMP/o.err" &&
	pass "$T: a missing key file: exit 1, named" || fail "$T: missing" "rc=$OP_RC $(cat "$T_TMP/o.err")"
cp "$T_TMP/api.key" "$T_TMP/open.key"; chmod 644 "$T_TMP/open.key"
op_conf d "$T_TMP/ck" "set opnsense-key file:$T_TMP/open.key"
op_run "$T_TMP/o" "$T_TMP/ck" "$DB"
[ $OP_RC -eq 1 ] && grep -q "opnsense-key: .*open.key is readable by everyone (mode 644); chmod 600 it" "$T_TMP/o.err" &&
	[ "$(op_count d .calls)" = "$c" ] &&
	pass "$T: a world-readable key file is refused before any request" || fail "$T: world-readable" "rc=$OP_RC $(cat "$T_TMP/o.err")"
op_conf d "$T_TMP/ck" "set opnsense-key K3y"
op_run "$T_TMP/o" "$T_TMP/ck" "$DB"
[ $OP_RC -eq 2 ] && grep -q "opnsense-key: inline values are not allowed" "$T_TMP/o.err" && ! grep -q K3y "$T_TMP/o.err" &&
	pass "$T: an inline key is a configuration error that does not echo it" || fail "$T: inline" "rc=$OP_RC $(cat "$T_TMP/o.err")"
printf 'key=K3y\nsecret=S3cret\n' >"$T_TMP/apikey.txt"; chmod 600 "$T_TMP/apikey.txt"
op_conf d "$T_TMP/ck" "set opnsense-key file:$T_TMP/apikey.txt" "set opnsense-secret file:$T_TMP/apikey.txt"
op_run "$T_TMP/o" "$T_TMP/ck" "$DB" --dry-run
[ $OP_RC -eq 0 ] && pass "$T: the key file OPNsense downloads (key=, secret=) serves both options" ||
	fail "$T: apikey.txt" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 500)"
# a file holding the value alone, with '=' in it (base64 padding)
cp "$T_TMP/dnsmasq.json" "$T_TMP/b64.json"
op_fake b64 "$T_TMP/b64.json" --modules dnsmasq --enabled dnsmasq --api-key 'K3y=' --api-secret 'S3c=ret=='
printf 'K3y=\n' >"$T_TMP/b64.key"; printf 'S3c=ret==' >"$T_TMP/b64.secret"; chmod 600 "$T_TMP/b64.key" "$T_TMP/b64.secret"
op_conf b64 "$T_TMP/ck" "set opnsense-key file:$T_TMP/b64.key" "set opnsense-secret file:$T_TMP/b64.secret"
op_run "$T_TMP/o" "$T_TMP/ck" "$DB" --dry-run
[ $OP_RC -eq 0 ] && [ "$(op_count b64 .unauthorized)" = 0 ] && [ "$(op_count b64 .calls)" -gt 0 ] &&
	pass "$T: a key file of the value alone may hold '='" ||
	fail "$T: value alone with =" "rc=$OP_RC $(cat "$T_TMP/o" "$T_TMP/o.err" | head -c 500)"
op_stop b64

# --- the network guard ---
T="$N guard"
c=$(op_count d .calls)
# (an allowed net on loopback that holds no test address, so the firewall's is outside it)
SHELLY_TUI_ALLOW_NETS=127.250.0.0/16 "$SHELLY_TUI" --config "$T_TMP/cd" --db "$DB" --opnsense-sync >"$T_TMP/o" 2>&1; rc=$?
[ $rc -eq 1 ] && grep -q "outside SHELLY_TUI_ALLOW_NETS" "$T_TMP/o" && [ "$(op_count d .calls)" = "$c" ] &&
	pass "$T: a firewall outside SHELLY_TUI_ALLOW_NETS is refused; no request is sent" ||
	fail "$T" "rc=$rc $(head -c 400 "$T_TMP/o")"

# --- one writer at a time ---
T="$N lease"
sqlite3 "$DB" "INSERT INTO lease (name, holder, heartbeat_ts, expires_ts) VALUES ('opnsense', 'opnsense:elsewhere:1', 0, 9999999999999)"
c=$(op_count d .writes)
op_run "$T_TMP/o" "$T_TMP/cd" "$DB"
rc1=$OP_RC
op_run "$T_TMP/o2" "$T_TMP/cd" "$DB" --dry-run
[ $rc1 -eq 1 ] && grep -q "another sync (opnsense:elsewhere:1) is writing to the firewall" "$T_TMP/o.err" &&
	[ $OP_RC -eq 0 ] && [ "$(op_count d .writes)" = "$c" ] &&
	pass "$T: a sync while another holds the writer's lease is refused; a dry run still reads" ||
	fail "$T" "rc=$rc1/$OP_RC $(cat "$T_TMP/o.err" "$T_TMP/o2.err" | head -c 500)"
# a lease left by a sync of this host that was killed (SIGKILL, a crash) is taken over
sh -c 'exit 0' & dead=$!
wait $dead
ns=$(stat -Lc %i /proc/self/ns/pid)
sqlite3 "$DB" "UPDATE lease SET holder = 'opnsense:$(hostname | tr : _):$dead:$ns' WHERE name = 'opnsense'"
op_run "$T_TMP/o" "$T_TMP/cd" "$DB"
[ $OP_RC -eq 0 ] && grep -q "taking over the lease of opnsense:.*:$dead:$ns (that process is gone)" "$T_TMP/o.err" &&
	pass "$T: the lease of a sync of this host whose process is gone is taken over" ||
	fail "$T: stale lease" "rc=$OP_RC $(cat "$T_TMP/o.err" | head -c 500)"
sqlite3 "$DB" "INSERT OR REPLACE INTO lease (name, holder, heartbeat_ts, expires_ts) VALUES ('opnsense', 'opnsense:$(hostname | tr : _):$$:$ns', 0, 9999999999999)"
op_run "$T_TMP/o" "$T_TMP/cd" "$DB"
[ $OP_RC -eq 1 ] && grep -q "another sync (opnsense:.*:$$:$ns) is writing" "$T_TMP/o.err" &&
	pass "$T: the lease of a live process of this host is not taken over" ||
	fail "$T: live lease" "rc=$OP_RC $(cat "$T_TMP/o.err" | head -c 500)"
sqlite3 "$DB" "DELETE FROM lease WHERE name = 'opnsense'"
op_run "$T_TMP/o" "$T_TMP/cd" "$DB"
[ $OP_RC -eq 0 ] && [ "$(sqlite3 "$DB" "SELECT count(*) FROM lease WHERE name = 'opnsense'")" = 0 ] &&
	pass "$T: a finished sync gives the lease back" || fail "$T: release" "rc=$OP_RC $(sqlite3 "$DB" "SELECT * FROM lease")"

# --- a time-out names the record ---
T="$N timeout"
op_fake ds "$T_TMP/dnsmasq.json" --modules dnsmasq --enabled dnsmasq --slow 192.168.20.32 --slow-seconds 4
op_conf ds "$T_TMP/cs" "set opnsense-timeout 1s"
op_run "$T_TMP/o" "$T_TMP/cs" "$DB"
[ $OP_RC -eq 1 ] && grep -q "^failed .*Hall.*adding the dnsmasq host of Hall (00:00:00:00:00:02, 192.168.20.32).*no answer within" "$T_TMP/o" &&
	grep -q "^not-applied .*Kitchen" "$T_TMP/o" &&
	pass "$T: a write that times out: exit 1, the message names the record; the rest is not applied" ||
	fail "$T" "rc=$OP_RC $(head -c 1000 "$T_TMP/o")"
op_stop ds
# a write that timed out may still be saved (the firewall finishes it after the client gave
# up): the service stays pending, so the next sync makes it live although nothing changes
DB1=$T_TMP/db1
op_db "$DB1" "000000000002|Hall|192.168.20.32"
op_fake dt "$T_TMP/dnsmasq.json" --modules dnsmasq --enabled dnsmasq --slow addHost --slow-seconds 3
op_conf dt "$T_TMP/ct" "set opnsense-timeout 1s"
op_run "$T_TMP/o" "$T_TMP/ct" "$DB1"
rc1=$OP_RC
wait_for 60 sh -c "curl -s -m 10 --cacert '$OP_CA' 'https://$OP_ADDR:$(op_port dt)/__fake/state' | grep -q 00:00:00:00:00:02"
op_run "$T_TMP/o2" "$T_TMP/ct" "$DB1"
[ $rc1 -eq 1 ] && grep -q "^pending: DHCP changes" "$T_TMP/o" && [ $OP_RC -eq 0 ] &&
	[ "$(op_count dt .reconfigure.dnsmasq)" -ge 1 ] && grep -q "^dnsmasq: reconfigured, service running" "$T_TMP/o2" &&
	pass "$T: a write that timed out but was saved late is made live by the next sync" ||
	fail "$T: late save" "rc=$rc1/$OP_RC $(op_get dt /__fake/counts | jq -c .reconfigure) $(cat "$T_TMP/o" "$T_TMP/o2" | head -c 1200)"
op_stop dt
# a sync stopped (SIGTERM, as a pod's rollout sends) while a write is in flight: the firewall
# may finish it, so the service is left pending for the next sync as well
DB2=$T_TMP/db2
op_db "$DB2" "000000000002|Hall|192.168.20.32"
op_fake dk "$T_TMP/dnsmasq.json" --modules dnsmasq --enabled dnsmasq --slow addHost --slow-seconds 4
op_conf dk "$T_TMP/ck"
"$SHELLY_TUI" --config "$T_TMP/ck" --db "$DB2" --opnsense-sync >"$T_TMP/o" 2>"$T_TMP/o.err" &
pid=$!
at_exit "kill_ours $pid"
wait_for 60 sh -c "curl -s -m 10 --cacert '$OP_CA' 'https://$OP_ADDR:$(op_port dk)/__fake/counts' | grep -q 'POST /api/dnsmasq/settings/addHost'"
kill -TERM $pid
wait $pid
wait_for 60 sh -c "curl -s -m 10 --cacert '$OP_CA' 'https://$OP_ADDR:$(op_port dk)/__fake/state' | grep -q 00:00:00:00:00:02"
op_run "$T_TMP/o2" "$T_TMP/ck" "$DB2"
[ "$(op_count dk .reconfigure.dnsmasq)" = 1 ] && [ $OP_RC -eq 0 ] &&
	grep -q "^dnsmasq: reconfigured, service running" "$T_TMP/o2" &&
	pass "$T: a sync stopped during a write leaves the service pending; the next sync applies it" ||
	fail "$T: stopped" "rc=$OP_RC $(op_get dk /__fake/counts | jq -c .reconfigure) $(cat "$T_TMP/o.err" "$T_TMP/o2" "$T_TMP/o2.err" | head -c 1200)"
op_stop dk
exit $T_FAILED
