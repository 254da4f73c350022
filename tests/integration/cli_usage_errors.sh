#!/bin/sh
# EXIT STATUS: a bad option value, an option the mode does not read, and a configuration file
# any mode would refuse are usage errors (exit 2) before anything runs, the same in every
# mode: a bad --listen address or agent-listen, an unknown --theme, lease-heartbeat not under half of
# lease-timeout, a bind line naming an unknown view or action (which the console refused and
# --list or --headless took), and --listen/--columns/--include-secrets/--json/--theme/--dry-run/
# --force/--https/--user/--password-file
# given to a mode that ignores them.
. tests/lib.sh
N=cli_usage_errors
: >"$T_TMP/config"
tui() { "$SHELLY_TUI" --db "$T_TMP/db" "$@" </dev/null; }
usage() { # NAME ERRTEXT ARGS...: exit 2 with ERRTEXT on stderr, nothing started
	_n=$1 _e=$2; shift 2
	tui "$@" >"$T_TMP/out" 2>"$T_TMP/err"; _rc=$?
	[ $_rc -eq 2 ] && grep -q -- "$_e" "$T_TMP/err" && ! grep -q '^metrics:' "$T_TMP/out" &&
		pass "$N: $_n: exit 2" || fail "$N: $_n: exit 2" "rc=$_rc $(head -c 300 "$T_TMP/err")"
}
usage "--listen with port 99999" 'listen: invalid port' --config "$T_TMP/config" --listen 127.0.0.1:99999 --headless
usage "--listen nonsense" 'listen: missing port' --config "$T_TMP/config" --listen nonsense --headless
# agent-listen is an address like listen, refused by every mode alike (only --headless did)
printf 'set agent-listen nonsense\n' >"$T_TMP/agentlisten"
for m in --list "--export json" "--headless --listen 127.0.0.1:0" ""; do
	usage "agent-listen nonsense (${m:-the console})" 'agent-listen: missing port' \
		--config "$T_TMP/agentlisten" $m
done
# a host name: the servers bind numeric addresses only, so every mode refuses it at once
printf 'set agent-listen agents.example:9465\n' >"$T_TMP/agentname"
printf 'set listen poller.example:9464\n' >"$T_TMP/listenname"
for m in --list "--headless --listen 127.0.0.1:0"; do
	usage "agent-listen with a host name (${m%% *})" 'agent-listen: "agents.example" is not an IPv4 address' \
		--config "$T_TMP/agentname" $m
done
usage "listen with a host name (--list)" 'listen: "poller.example" is not an IPv4 address' --config "$T_TMP/listenname" --list
usage "--theme nosuch (the console)" "theme 'nosuch' not found" --config "$T_TMP/config" --theme nosuch

printf 'set lease-heartbeat 15s\nset lease-timeout 20s\n' >"$T_TMP/lease"
for m in --list "--headless --listen 127.0.0.1:0"; do
	usage "lease-heartbeat 15s with lease-timeout 20s (${m%% *})" 'shorter than half of lease-timeout' \
		--config "$T_TMP/lease" $m
done
printf 'bind devices x nosuch\n' >"$T_TMP/bind1"
printf 'bind nosuchview x quit\n' >"$T_TMP/bind2"
for m in --list "--headless --listen 127.0.0.1:0"; do
	usage "bind to an unknown action (${m%% *})" "bind1:1: bind: unknown action 'nosuch'" \
		--config "$T_TMP/bind1" $m
	usage "bind in an unknown view (${m%% *})" "bind2:1: bind: unknown view 'nosuchview'" \
		--config "$T_TMP/bind2" $m
done

usage "--listen with --list" '--listen goes with --headless or the console' --config "$T_TMP/config" --listen nonsense --list
usage "--columns with --list" '--columns goes with --export' --config "$T_TMP/config" --columns mac --list
usage "--include-secrets with --list" '--include-secrets goes with --export' --config "$T_TMP/config" --include-secrets --list
usage "--json with --headless" '--json goes with --probe, ' --config "$T_TMP/config" --json --headless --listen 127.0.0.1:0
# a mode that prints text whatever is asked refuses --json, so a script piping it to a JSON
# parser gets a usage error, not text it cannot read
for m in "--export json" "--config-fields" "--list-options" "--list-keys" "--list-actions" \
	"--agent-enrol" "--template-save t --from x" "--remove x" "--group-add g x" "--task-cancel 1"; do
	usage "--json with ${m%% *}" '--json goes with --probe, ' --config "$T_TMP/config" $m --json
done
usage "--theme with --list" '--theme goes with the console' --config "$T_TMP/config" --theme mono --list
usage "--dry-run with --list" '--dry-run goes with --import' --config "$T_TMP/config" --dry-run --list
# an option's value left out takes the next option as it: refused, not a database "--list"
usage "--db without its path" 'option --db needs an argument (--list is an option of its own)' --config "$T_TMP/config" --db --list
usage "--password-file without its file" 'option --password-file needs an argument (--add is' --config "$T_TMP/config" --password-file --add 127.0.0.1
[ ! -e ./--list ] && [ ! -e "$T_TMP/--list" ] && pass "$N: no database named --list" || fail "$N: no database named --list" "$(ls -la -- ./--list 2>&1)"
# every option a mode does not read, given to it, is refused the same way
usage "--group with --import" '--group goes with --export' --config "$T_TMP/config" --group g --import x.json
usage "--channel with --list" '--channel goes with --action' --config "$T_TMP/config" --channel 1 --list
usage "--network with --add" '--network goes with --provision or --provision-csv' --config "$T_TMP/config" --network home --add 127.0.0.1
usage "--port with --list" '--port goes with --discover or the console' --config "$T_TMP/config" --port 81 --list
usage "--snapshot with --config-get" '--snapshot goes with --snapshots or --config-restore' --config "$T_TMP/config" --snapshot 1 --config-get x
usage "--allow-reboot with --config-get" '--allow-reboot goes with --config-set, --apply, --clone or --config-restore' --config "$T_TMP/config" --allow-reboot --config-get x
# --drift changes nothing: a reboot or network change allowed to it would be ignored
usage "--allow-reboot with --drift" '--allow-reboot goes with --config-set, --apply' --config "$T_TMP/config" --allow-reboot --drift x
usage "--allow-network-change with --drift" '--allow-network-change goes with --config-set, --apply' --config "$T_TMP/config" --allow-network-change --drift x
usage "--template with --config-set" '--template goes with --drift, --apply, --provision or --provision-csv' --config "$T_TMP/config" --template t --config-set a=b x
usage "--fields with --drift" '--fields goes with --template-save' --config "$T_TMP/config" --fields sys --drift x
usage "--name with --probe" '--name goes with --add, --provision or --provision-csv' --config "$T_TMP/config" --name n --probe 127.0.0.1
usage "--accept-cert with --list" '--accept-cert goes with --action, --probe or --add' --config "$T_TMP/config" --accept-cert --list
usage "--force with --list" '--force goes with --poll-once, --discover or --clone' --config "$T_TMP/config" --force --list
usage "--force with --export" '--force goes with --poll-once' --config "$T_TMP/config" --export json --force
usage "--force with --headless" '--force goes with --poll-once' --config "$T_TMP/config" --headless --force --listen 127.0.0.1:0
usage "--https with --list" '--https goes with --probe, --add, --action, ' --config "$T_TMP/config" --list --https
usage "--https with --headless" '--https goes with --probe' --config "$T_TMP/config" --headless --https --listen 127.0.0.1:0
usage "--password-file with --list" '--password-file goes with the console, --headless, ' --config "$T_TMP/config" --list --password-file "$T_TMP/config"
usage "--password-file with --export" '--password-file goes with' --config "$T_TMP/config" --export json --password-file "$T_TMP/config"
usage "--user with --list" '--user goes with the console, --headless, ' --config "$T_TMP/config" --list --user admin
usage "-u with --provision" '--user goes with' --config "$T_TMP/config" -u admin --provision aabbccddee01 --network home
tui --config "$T_TMP/config" --poll-once >/dev/null 2>"$T_TMP/err" && # makes the database
	tui --config "$T_TMP/config" --list --json >/dev/null 2>>"$T_TMP/err" &&
	tui --config "$T_TMP/config" --poll-once --force -u admin --password-file "$T_TMP/config" >/dev/null 2>>"$T_TMP/err" &&
	tui --config "$T_TMP/config" --export csv --columns mac >/dev/null 2>>"$T_TMP/err" &&
	pass "$N: the options where they apply still work" || fail "$N: the options where they apply still work" "$(cat "$T_TMP/err")"
# A long option that takes no argument given one (--json=1) is named as such, never as a
# byte of getopt's internal code; an unknown option is echoed without its control characters.
raw_bytes() { LC_ALL=C grep -q "$(printf '[\001-\010\013-\037\177-\377]')" "$1"; }
usage "--json=1" 'option --json takes no argument' --config "$T_TMP/config" --list --json=1
usage "--list=x" 'option --list takes no argument' --config "$T_TMP/config" --list=x
! raw_bytes "$T_TMP/err" && pass "$N: --list=x: the message is plain text" ||
	fail "$N: --list=x: plain text" "$(od -c "$T_TMP/err" | head -4)"
usage "unknown option with an escape" 'unknown option --xred' --config "$T_TMP/config" --list "$(printf -- '--x\033[31mred')"
! raw_bytes "$T_TMP/err" && pass "$N: an unknown option is echoed sanitised" ||
	fail "$N: an unknown option is echoed sanitised" "$(od -c "$T_TMP/err" | head -4)"
# --add --name is the registry name: printable UTF-8 of at most 127 bytes, refused (exit 2)
# before anything is contacted or stored otherwise (a control character, a bidirectional
# control or a byte that is not UTF-8 would be kept raw in the database and its exports)
for bad in "$(printf 'a\033[2Jb')" "$(printf 'a\tb')" "$(printf 'y\377z')" "$(printf 'x\342\200\256evil')" \
	"$(head -c 128 /dev/zero | tr '\0' n)"; do
	usage "--add --name $(printf '%s' "$bad" | od -An -c | tr -s ' \n' '  ' | head -c 40)" '--name wants' \
		--config "$T_TMP/config" --add "$(test_net $N).9" --name "$bad"
	! raw_bytes "$T_TMP/err" || fail "$N: --name refusal is plain text" "$(od -c "$T_TMP/err" | head -3)"
done
# the refusal names the rule broken: an invisible joiner (an emoji family) is not called a
# control character, and an overlong name is told by its length
usage "--add --name with a zero-width joiner" 'invisible formatting' \
	--config "$T_TMP/config" --add "$(test_net $N).9" --name "$(printf 'Familie \360\237\221\250\342\200\215\360\237\221\247')"
usage "--add --name of 128 bytes" 'at most 127 bytes, not 128' \
	--config "$T_TMP/config" --add "$(test_net $N).9" --name "$(head -c 128 /dev/zero | tr '\0' n)"
# A mode given twice with two values would run on the last one only (--remove A --remove B
# removed B alone and exited 0): a usage error, nothing done; the same value twice is one
usage "--remove twice" '--remove is given twice' --config "$T_TMP/config" --remove aabbccddee01 --remove aabbccddee02
usage "--export twice" '--export is given twice' --config "$T_TMP/config" --export json --export=csv
tui --config "$T_TMP/config" --export csv --export csv >/dev/null 2>"$T_TMP/err" &&
	pass "$N: a mode given twice with one value runs" || fail "$N: --export csv twice" "$(cat "$T_TMP/err")"
