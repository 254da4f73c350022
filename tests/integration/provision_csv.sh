#!/bin/sh
# --provision-csv reads RFC 4180 CSV: a quoted name may hold commas and doubled quotes and
# loses its quotes, records may end in CRLF, a UTF-8 byte order mark before the header is
# skipped; a broken file (an unterminated quote, text after a closing quote, three fields, a
# name with a line break, one device twice) queues nothing and names the file and line; a
# device whose task has not ended is refused too.
. tests/lib.sh
DB="$T_TMP/db"
: >"$T_TMP/config"
tui() { "$SHELLY_TUI" --db "$DB" --config "$T_TMP/config" "$@"; }
N=provision_csv

printf '\357\273\277target,name\r\nAA:BB:CC:DD:EE:01,"Kitchen, left"\r\n"shelly1-AABBCC","say ""hi"" twice"\r\n' >"$T_TMP/ok.csv"
printf 'AA:BB:CC:DD:EE:02,"Kitchen"\r\n  AA:BB:CC:DD:EE:03 , hall \r\n# a comment, with a comma\r\n\r\n' >>"$T_TMP/ok.csv"
tui --provision-csv "$T_TMP/ok.csv" --network home >/dev/null 2>"$T_TMP/err"; rc=$?
tui --tasks --json >"$T_TMP/t.json"
names=$(jq -c '[.tasks[] | [.target, .name]]' "$T_TMP/t.json")
want='[["aabbccddee01","Kitchen, left"],["shelly1-AABBCC","say \"hi\" twice"],["aabbccddee02","Kitchen"],["aabbccddee03","hall"]]'
[ $rc = 0 ] && [ "$names" = "$want" ] &&
	pass "$N: BOM, header, CRLF, quoted names with a comma and doubled quotes" ||
	fail "$N: RFC 4180 batch" "rc=$rc $(cat "$T_TMP/err") $names"

# bad NAME CONTENT MESSAGE: the file is refused (exit 2), names NAME:LINE and MESSAGE, queues nothing.
bad() {
	printf "$2" >"$T_TMP/$1.csv"
	before=$(tui --tasks --json | jq '.tasks | length')
	tui --provision-csv "$T_TMP/$1.csv" --network home >/dev/null 2>"$T_TMP/err"; rc=$?
	after=$(tui --tasks --json | jq '.tasks | length')
	[ $rc = 2 ] && grep -qF -e "$1.csv:$3" "$T_TMP/err" && grep -q 'nothing queued' "$T_TMP/err" && [ "$before" = "$after" ] &&
		pass "$N: $1 ($(head -c 160 "$T_TMP/err"))" || fail "$N: $1" "rc=$rc $before -> $after $(cat "$T_TMP/err")"
}
bad unterminated 'AA:BB:CC:DD:EE:05,one\nAA:BB:CC:DD:EE:06,"two\n' '2: a quoted field lacks its closing quote'
bad after-quote 'AA:BB:CC:DD:EE:05,"one"two\n' '1: text after a closing quote'
bad three 'AA:BB:CC:DD:EE:05,one\nAA:BB:CC:DD:EE:06,Kitchen, left\n' '2: more than two fields'
bad newline-name 'AA:BB:CC:DD:EE:05,"one\ntwo"\n' '1: device name must be UTF-8 text without control'
bad bare-quote 'AA:BB:CC:DD:EE:05,say "hi"\n' '1: a quote inside an unquoted field'
# One device twice (an AP name in two cases, a MAC in two spellings, a MAC and its AP name).
bad dup-ap 'shelly1-0A0B01,one\nSHELLY1-0a0b01,two\n' '2: the device of line 1 again'
bad dup-mac 'AA:BB:CC:DD:EE:07,one\n\naabbccddee07,two\n' '3: the device of line 1 again'
bad dup-mac-ap 'ShellyPlus1-AABBCCDDEE08,one\nAA-BB-CC-DD-EE-08,two\n' '2: the device of line 1 again'
# A device whose task has not ended, or named twice on the command line: refused, nothing queued.
before=$(tui --tasks --json | jq '.tasks | length')
tui --provision aa:bb:cc:dd:ee:02 --network home >/dev/null 2>"$T_TMP/err"; rc1=$?
tui --provision shelly1-0A0B09 shelly1-0a0b09 --network home >/dev/null 2>>"$T_TMP/err"; rc2=$?
after=$(tui --tasks --json | jq '.tasks | length')
[ $rc1 = 2 ] && [ $rc2 = 2 ] && [ "$before" = "$after" ] && grep -q 'task 3 for this device has not ended' "$T_TMP/err" &&
	grep -q 'the same device twice' "$T_TMP/err" &&
	pass "$N: a device with a task not ended, or named twice, is refused" ||
	fail "$N: a device with a task not ended, or named twice, is refused" "$rc1 $rc2 $before -> $after $(cat "$T_TMP/err")"
printf 'aabbccddee0a\nAA:BB:CC:DD:EE:01,again\n' >"$T_TMP/active.csv"
tui --provision-csv "$T_TMP/active.csv" --network home >/dev/null 2>"$T_TMP/err"; rc=$?
[ $rc = 2 ] && [ "$(tui --tasks --json | jq '.tasks | length')" = "$before" ] && grep -q 'nothing queued' "$T_TMP/err" &&
	pass "$N: a batch naming a device with a task not ended queues nothing" ||
	fail "$N: a batch naming a device with a task not ended queues nothing" "rc=$rc $(cat "$T_TMP/err")"
# A header with a BOM is a header, not a target (the BOM was printed invisibly in the error).
printf '\357\273\277target,name\nbogus,x\n' >"$T_TMP/bomhdr.csv"
tui --provision-csv "$T_TMP/bomhdr.csv" --network home >/dev/null 2>"$T_TMP/err"
grep -q "bomhdr.csv:2: 'bogus'" "$T_TMP/err" && ! grep -q "$(printf '\357\273\277')" "$T_TMP/err" &&
	pass "$N: the BOM is skipped: the error is on line 2" || fail "$N: BOM header" "$(cat "$T_TMP/err")"
exit 0
