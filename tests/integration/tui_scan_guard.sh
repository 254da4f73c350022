# F2 suggests this host's networks to scan, but only those SHELLY_TUI_ALLOW_NETS lets the
# console reach: the console runs in a network namespace of this test whose loopback also has
# 198.51.100.1/24 (no traffic leaves it; nothing is scanned, only the prompt is read).
. tests/lib.sh
. tests/integration/lib_tui.sh

N=tui_scan_guard
is_root || { skip $N "needs root (a network namespace)"; exit 0; }
command -v unshare >/dev/null 2>&1 && command -v ip >/dev/null 2>&1 ||
	{ skip $N "needs unshare and ip"; exit 0; }
export XDG_CONFIG_HOME="$T_TMP/cfg" XDG_DATA_HOME="$T_TMP/data"
mkdir -p "$XDG_CONFIG_HOME" "$XDG_DATA_HOME"
cat >"$T_TMP/console.sh" <<SH
ip link set lo up && ip addr add 198.51.100.1/24 dev lo || exit 9
exec env SHELLY_TUI_ALLOW_NETS="\$1" XDG_CONFIG_HOME=$XDG_CONFIG_HOME XDG_DATA_HOME=$XDG_DATA_HOME \
	$SHELLY_TUI --db $T_TMP/fleet.db
SH

# prompt ALLOW: the F2 prompt of a console started with SHELLY_TUI_ALLOW_NETS=ALLOW.
prompt() {
	tui_stop
	tui_start 100 24 "unshare -n sh $T_TMP/console.sh $1"
	tui_wait 20 'fleet 0' || { echo "no console: $(tui_screen)"; return; }
	tui_keys F2
	tui_wait 10 '^Scan \(' || { echo "no prompt: $(tui_screen)"; return; }
	grep '^Scan (' "$T_TMP/screen"
	tui_keys Escape q
}

got=$(prompt 127.0.0.0/8,198.51.100.0/24)
case $got in
*'this host: 198.51.100.0/24'*) pass "$N: an allowed network of this host is suggested" ;;
*) fail "$N: allowed network suggested" "$got" ;;
esac
got=$(prompt 127.0.0.0/8)
case $got in
*198.51.100*) fail "$N: a network outside SHELLY_TUI_ALLOW_NETS is not suggested" "$got" ;;
'Scan (mdns, CIDR, range or address):'*) pass "$N: a network outside SHELLY_TUI_ALLOW_NETS is not suggested" ;;
*) fail "$N: prompt without suggestion" "$got" ;;
esac
exit 0
