# The console's OPNsense view and a firewall with OPNsense's default certificate: self-signed,
# for OPNsense.localdomain, reached by IP. Unpinned, the view fails with the fix named: the
# opnsense-pin option, the key the firewall showed, and how to read the key on the firewall
# to compare; nothing is written. With opnsense-pin set to that key the view reads the plan
# and applies it (the fake holds the reservations).
. tests/lib.sh
. tests/integration/lib_opnsense.sh
. tests/integration/lib_tui.sh

N=tui_opnsense_pin
op_init $N
_d=$T_TMP/tls
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=OPNsense.localdomain \
	-addext subjectAltName=DNS:OPNsense.localdomain -days 2 -keyout "$_d/ss.key" -out "$_d/ss.pem" >/dev/null 2>&1 ||
	{ fail "$N: openssl makes a self-signed certificate"; exit 1; }
pin=$(openssl x509 -in "$_d/ss.pem" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | openssl base64 -A)
op_kea_empty "$T_TMP/kea.json"
DB=$T_TMP/db
op_db "$DB" "000000000001|Kitchen|192.168.20.31" "000000000002|Hall|192.168.20.32"
OP_CERT=$_d/ss.pem OP_KEY=$_d/ss.key op_fake k "$T_TMP/kea.json" --shape 25.7
op_conf k "$T_TMP/conf0"
grep -v opnsense-ca "$T_TMP/conf0" >"$T_TMP/conf"
k_count() { curl -s -m 10 -k --pinnedpubkey "sha256//$pin" "https://$OP_ADDR:$(op_port k)/__fake/counts" | jq -r "$1"; }
k_state() { curl -s -m 10 -k --pinnedpubkey "sha256//$pin" "https://$OP_ADDR:$(op_port k)/__fake/state"; }

# Unpinned.
tui_console 120 40 'fleet 2' --config $T_TMP/conf --db $DB
tui_keys F11
# (the whole message of one capture: a frame's lines can follow its title on a loaded machine)
unpinned() {
	_tui_match_all 'not trusted' 'nothing was changed' &&
		grep -qF 'opnsense-pin' "$T_TMP/screen" && grep -qF "sha256//$pin" "$T_TMP/screen" &&
		grep -qF 'openssl s_client -connect' "$T_TMP/screen"
}
if tui_wait 30 'OPNsense - failed' && wait_for 10 unpinned; then
	pass "$N: unpinned: the view names the fix, opnsense-pin with the key seen (sha256//$pin), and how to read the firewall's"
else
	fail "$N: unpinned" "$(tui_why "opnsense-pin sha256//$pin")"
fi
# The message is wrapped to the view: its last words are on the screen too.
tui_wait_all 10 'openssl base64 *│' && pass "$N: unpinned: the whole message is shown, wrapped" ||
	fail "$N: wrapped" "$(cat "$T_TMP/screen")"
[ "$(k_count .calls)" = 0 ] && pass "$N: unpinned: no request reached the firewall" ||
	fail "$N: unpinned calls" "$(k_count .)"
tui_keys q q
tui_wait 20 'RESTORED rc=0' || fail "$N: q" "$(tui_why RESTORED)"
tui_stop

# Pinned: the key the view named.
cp "$T_TMP/conf" "$T_TMP/cpin"
echo "set opnsense-pin sha256//$pin" >>"$T_TMP/cpin"
op_run "$T_TMP/plan" "$T_TMP/cpin" "$DB" --dry-run
plan_line=$(grep -E '^[0-9]+ to add' "$T_TMP/plan")
[ -n "$plan_line" ] || fail "$N: --dry-run pinned" "$(cat "$T_TMP/plan" "$T_TMP/plan.err")"
tui_console 120 40 'fleet 2' --config $T_TMP/cpin --db $DB
tui_keys F11
plan_shown() { _tui_match 'OPNsense - plan' && grep -qF "$plan_line" "$T_TMP/screen"; }
if wait_for 30 plan_shown; then
	pass "$N: pinned: the view reads the plan ($plan_line)"
else
	fail "$N: pinned plan" "$(tui_why "$plan_line")"
fi
tui_keys a
tui_wait 20 'Apply this plan' || fail "$N: apply question" "$(tui_why 'Apply this plan')"
tui_keys y
if tui_wait 30 'OPNsense - applied' && [ "$(k_state | jq '.reservations | length')" = 2 ]; then
	pass "$N: pinned: the plan is applied, the fake holds both reservations"
else
	fail "$N: pinned apply" "$(tui_why 'OPNsense - applied') fake: $(k_state | head -c 400)"
fi
tui_keys q q
tui_wait 20 'RESTORED rc=0' || fail "$N: q" "$(tui_why RESTORED)"
tui_stop
exit $T_FAILED
