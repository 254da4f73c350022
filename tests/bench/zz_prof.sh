. tests/bench/lib.sh
sim_up 127.230.0 200 30 || exit 1
db_fill "$B_TMP/poll.db" >/dev/null || exit 1
"$SHELLY_TUI" --poll-once --db "$B_TMP/poll.db" -q >/dev/null
$PY curlcfg "$SIM_MANIFEST" "$B_TMP/curl.cfg" >/dev/null
for b in $PROF_BINS; do
perf stat -r 8 -e instructions:u,instructions:k,task-clock -- "$b" --poll-once --db "$B_TMP/poll.db" -q 2>&1 >/dev/null | grep -E "instructions|task-clock|elapsed"
done
perf stat -r 8 -e instructions:u,instructions:k,task-clock -- curl -sS --fail --parallel --parallel-max 64 -K "$B_TMP/curl.cfg" 2>&1 >/dev/null | grep -E "instructions|task-clock|elapsed"
