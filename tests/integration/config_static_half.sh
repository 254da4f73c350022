# Static addressing without an address cuts a device off its network: a change whose result is
# wifi.sta.ipv4mode=static with no wifi.sta.ip (the device's own, or one in the same change) is
# refused before anything is sent, by --apply of a template, --config-set and --clone, also with
# --allow-network-change. --template-save and --clone of a static-IP source (Gen1 and Gen2)
# leave the static block out (the address is an identity field), with a note.
. tests/lib.sh
. tests/sim/simlib.sh

N=config_static_half
export XDG_CONFIG_HOME="$T_TMP/xdg" XDG_DATA_HOME="$T_TMP/data"
mkdir -p "$XDG_CONFIG_HOME/shelly-tui/templates"
sim_up $N --fixtures tests/fixtures --models gen2/plus-1pm,gen2/plus-1pm,gen1/shelly-1 --count 3
hp() { mf ".devices[$1] | \"\(.addr):\(.port)\""; }
S=$(hp 0) D=$(hp 1) G1=$(hp 2)
tui() { "$SHELLY_TUI" --timeout 5 "$@"; }
sta() { curl -s -m 3 "http://$D/rpc/WiFi.GetConfig" | jq -c '.sta | {ipv4mode, ip}'; }
sets() { ctl GET /devices/1/state | jq '[.counters.by_path | keys[] | select(test("Set"))] | length'; }

ctl POST /devices/0/config '{"patch":{"wifi":{"sta":{"ipv4mode":"static","ip":"10.9.8.7","netmask":"255.255.255.0","gw":"10.9.8.1","nameserver":"10.9.8.1"}}}}' >/dev/null
ctl POST /devices/2/config '{"patch":{"wifi_sta":{"ipv4_method":"static","ip":"10.9.8.6","mask":"255.255.255.0","gw":"10.9.8.1","dns":"10.9.8.1"}}}' >/dev/null
before=$(sta)
[ "$before" = '{"ipv4mode":"dhcp","ip":null}' ] || fail "$N: the target starts on DHCP" "$before"

# A template holding the static block without an address.
TM=$XDG_CONFIG_HOME/shelly-tui/templates/half.tmpl
printf 'sys.timezone = Europe/Sofia\nwifi.sta.ipv4mode = static\nwifi.sta.netmask = 255.255.255.0\nwifi.sta.gw = 10.9.8.1\n' >"$TM"
ctl POST /devices/1/reset-counters >/dev/null
tui --apply half "$D" --allow-network-change --json >"$T_TMP/apply" 2>"$T_TMP/err"; rc=$?
[ $rc != 0 ] && [ "$(jq -r '.devices[0].result' "$T_TMP/apply")" = refused ] &&
	jq -r '.devices[0].message' "$T_TMP/apply" | grep -q 'static addressing without an address' &&
	[ "$(sets)" = 0 ] && [ "$(sta)" = "$before" ] &&
	pass "$N: --apply of static mode without an address is refused, nothing sent" ||
	fail "$N: --apply refused" "rc=$rc sets=$(sets) $(sta) $(cat "$T_TMP/apply" "$T_TMP/err")"

tui --config-set wifi.sta.ipv4mode=static "$D" --allow-network-change >"$T_TMP/set" 2>&1; rc=$?
[ $rc != 0 ] && grep -q 'static addressing without an address' "$T_TMP/set" && [ "$(sets)" = 0 ] &&
	[ "$(sta)" = "$before" ] &&
	pass "$N: --config-set of static mode on a DHCP device is refused" ||
	fail "$N: --config-set refused" "rc=$rc sets=$(sets) $(sta) $(cat "$T_TMP/set")"

# With the address in the same change it is a whole static setup: not refused as half.
tui --config-set wifi.sta.ipv4mode=static wifi.sta.ip=10.9.8.5 "$D" --dry-run --allow-network-change >"$T_TMP/whole" 2>&1; rc=$?
[ $rc = 0 ] && ! grep -q 'without an address' "$T_TMP/whole" &&
	pass "$N: static mode with its address passes the check" ||
	fail "$N: whole static setup" "rc=$rc $(cat "$T_TMP/whole")"

# --template-save from static sources (Gen2 and Gen1): no static block, a note says so.
for src in "$S" "$G1"; do
	tui --template-save fromstatic --from "$src" >/dev/null 2>"$T_TMP/ts.err"; rc=$?
	T=$XDG_CONFIG_HOME/shelly-tui/templates/fromstatic.tmpl
	[ $rc = 0 ] && ! grep -q '^wifi\.sta\.\(ipv4mode\|ip\|netmask\|gw\|nameserver\) ' "$T" &&
		grep -q 'sys.timezone\|switch:0' "$T" && grep -q 'static block .* is left out' "$T_TMP/ts.err" &&
		pass "$N: --template-save from $src leaves the static block out, noted" ||
		fail "$N: --template-save from $src" "rc=$rc $(cat "$T" "$T_TMP/ts.err")"
done
# Named with its address, the static block is kept whole.
tui --template-save withip --from "$S" --fields wifi.sta,wifi.sta.ip >/dev/null 2>"$T_TMP/ts.err"; rc=$?
T=$XDG_CONFIG_HOME/shelly-tui/templates/withip.tmpl
[ $rc = 0 ] && grep -q '^wifi\.sta\.ipv4mode = static' "$T" && grep -q '^wifi\.sta\.ip = 10.9.8.7' "$T" &&
	pass "$N: --fields wifi.sta,wifi.sta.ip keeps the whole static setup" ||
	fail "$N: --fields with the address" "rc=$rc $(cat "$T" "$T_TMP/ts.err")"

# --clone of the static source: the target stays on DHCP, the rest is cloned.
ctl POST /devices/0/config '{"patch":{"sys":{"location":{"tz":"Asia/Tokyo"}}}}' >/dev/null
tui --clone "$S" "$D" >"$T_TMP/clone" 2>"$T_TMP/clone.err"; rc=$?
[ $rc = 0 ] && [ "$(sta)" = "$before" ] && grep -q 'static block .* is left out' "$T_TMP/clone.err" &&
	[ "$(curl -s -m 3 "http://$D/rpc/Sys.GetConfig" | jq -r .location.tz)" = Asia/Tokyo ] &&
	pass "$N: --clone of a static source leaves the target on DHCP" ||
	fail "$N: --clone" "rc=$rc $(sta) $(cat "$T_TMP/clone" "$T_TMP/clone.err")"
