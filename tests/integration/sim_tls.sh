# shelly-sim HTTPS: a test CA written to --tls-dir, per-device certificates (SAN = address),
# plain HTTP devices beside them, and certificate rotation through the control interface.
. tests/lib.sh
. tests/sim/simlib.sh

N=sim_tls
if ! sim_start $N --models gen2/plus-1pm,gen1/shelly-plug-s --count 4 --tls 0,1 --tls-dir "$T_TMP/tls" \
	--auth 0 --password pw; then
	fail "$N: start" "$(cat "$SIM_ERR")"
	exit 1
fi
CA=$T_TMP/tls/ca.pem
[ -s "$CA" ] && [ "$(mf .ca)" = "$CA" ] && pass "$N: CA written and named in the manifest" || fail "$N: CA" "$(mf .ca)"
[ "$(mf '[.devices[] | .scheme] | join(",")')" = https,https,http,http ] && pass "$N: schemes in the manifest" ||
	fail "$N: schemes" "$(mf '[.devices[].scheme]')"

H0=$(dev_url 0)
H1=$(dev_url 1)
[ "$(curl -s -m 3 --cacert "$CA" "$H0/shelly" | jq -r .id)" = "$(mf '.devices[0].id')" ] && pass "$N: gen2 over HTTPS with the CA" ||
	fail "$N: gen2 https" "$(curl -s -m 3 --cacert "$CA" "$H0/shelly" 2>&1)"
[ "$(curl -s -m 3 --cacert "$CA" --digest -u admin:pw "$H0/rpc/Switch.GetStatus?id=0" | jq -r .id)" = 0 ] &&
	pass "$N: digest auth over HTTPS" || fail "$N: digest over https"
[ "$(curl -s -m 3 --cacert "$CA" "$H1/status" | jq -r .mac)" = "$(mf '.devices[1].mac')" ] && pass "$N: gen1 over HTTPS" || fail "$N: gen1 https"
curl -s -m 10 "$H0/shelly" >/dev/null 2>&1
rc=$?
[ $rc = 60 ] && pass "$N: untrusted without the CA (60)" || fail "$N: without CA" "rc=$rc"
[ "$(curl -s -m 3 "$(dev_url 2)/shelly" | jq -r .id)" = "$(mf '.devices[2].id')" ] && pass "$N: plain device beside" || fail "$N: plain"

# The certificate served is the one the control interface reports; rotation replaces it.
served_fp() {
	addr=$(mf '.devices[0].addr')
	echo | openssl s_client -connect "$addr:$SIM_PORT" 2>/dev/null | openssl x509 -noout -fingerprint -sha256 |
		sed 's/.*=//; s/://g' | tr 'A-F' 'a-f'
}
if command -v openssl >/dev/null 2>&1; then
	fp1=$(ctl GET /devices/0/state | jq -r .tls.fingerprint_sha256)
	[ "$(served_fp)" = "$fp1" ] && pass "$N: served certificate = reported fingerprint" || fail "$N: fingerprint" "$fp1 / $(served_fp)"
	addr=$(mf '.devices[0].addr')
	echo | openssl s_client -connect "$addr:$SIM_PORT" 2>/dev/null | openssl x509 -noout -ext subjectAltName 2>/dev/null |
		grep -q "IP Address:$addr" && pass "$N: SAN holds the device address" || fail "$N: SAN"
	fp2=$(ctl POST /devices/0/tls/rotate '{}' | jq -r .tls.fingerprint_sha256)
	[ -n "$fp2" ] && [ "$fp2" != "$fp1" ] && [ "$(served_fp)" = "$fp2" ] && pass "$N: rotation serves a new certificate" ||
		fail "$N: rotation" "$fp1 -> $fp2 / $(served_fp)"
	[ "$(curl -s -m 3 --cacert "$CA" "$H0/shelly" | jq -r .id)" = "$(mf '.devices[0].id')" ] && pass "$N: rotated certificate trusted by the CA" ||
		fail "$N: rotated trust"
else
	skip "$N: fingerprints" "needs openssl"
fi
[ "$(ctl POST /devices/2/tls/rotate '{}' | jq -r .error)" != null ] && pass "$N: rotate refused for a plain device" || fail "$N: rotate plain"

# An HTTPS device that moves gets a certificate for its new address.
new=$(ctl POST /devices/1/move '{}' | jq -r .addr)
[ "$(curl -s -m 3 --cacert "$CA" "https://$new:$SIM_PORT/status" | jq -r .wifi_sta.ip)" = "$new" ] &&
	pass "$N: moved HTTPS device verifies at $new" || fail "$N: moved https" "$new"

sim_stop
rc=$?
[ $rc -eq 0 ] && pass "$N: clean exit" || fail "$N: exit" "$rc $(tail -n 20 "$SIM_ERR")"
exit 0
