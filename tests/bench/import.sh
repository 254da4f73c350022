#!/bin/sh
# --import of a settings table that grows: a dry run (parse and validate, no write) of 20 000
# and of 80 000 settings keys, TOML and JSON. Four times the keys should take about four times
# as long (the reader once compared every new key with all before it: sixteen times).
# usage: sh tests/bench/import.sh [BUILD]
. tests/bench/lib.sh

# keys FORMAT N FILE: an export of N settings keys.
keys() {
	python3 - "$1" "$2" >"$3" <<'PY'
import json, sys
fmt, n = sys.argv[1], int(sys.argv[2])
if fmt == "json":
    print(json.dumps({"format": "shelly-tui-backup", "format_version": 1, "devices": [],
                      "settings": {f"key{i}": f"value-{i:08d}" for i in range(n)}}))
else:
    print('format = "shelly-tui-fleet"\nformat_version = 1\n[settings]')
    for i in range(n):
        print(f'"key{i}" = "value-{i:08d}"')
PY
}

# wall FILE: the median wall time (s) of three dry-run imports of FILE.
wall() {
	_w=""
	for _i in 1 2 3; do
		_r=$(timeit "$SHELLY_TUI" --db "$B_TMP/b.db" --import "$1" --dry-run)
		[ "$(field 5 "$_r")" = 0 ] || { echo nan; return; }
		_w="$_w $(field 1 "$_r")"
	done
	# shellcheck disable=SC2086 # a list of numbers
	median $_w
}

for fmt in toml json; do
	keys $fmt 20000 "$B_TMP/small.$fmt" && keys $fmt 80000 "$B_TMP/large.$fmt" ||
		{ bench_fail "import $fmt" "cannot write the files"; exit 1; }
	s=$(wall "$B_TMP/small.$fmt") l=$(wall "$B_TMP/large.$fmt")
	case "$s $l" in *nan*) bench_fail "import $fmt" "--import --dry-run failed"; exit 1 ;; esac
	r=$(calc "$l / $s")
	bench_line "import $fmt 80k settings keys (dry run)" "$l" s "20k keys $s s" "$r" \
		"$(goal_le "$r" 8 "<= 8x for 4x the keys")"
done
