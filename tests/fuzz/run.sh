#!/usr/bin/env bash
# One fuzz smoke run: FUZZER SEEDDIR SECONDS FINDINGSDIR [libFuzzer flags...]
# Fuzzes a scratch copy of the seeds for SECONDS and prints one line of figures
# ("fuzz_x: N executions in S s, ... 0 findings"); a crash, leak or timeout leaves its
# reproducer in FINDINGSDIR and fails the run.
set -u
bin="$1" seeds="$2" secs="$3" findings=$(realpath -m "$4")
shift 4
name=$(basename "$bin")
corpus=$(mktemp -d)
log=$(mktemp)
trap 'rm -rf "$corpus" "$log"' EXIT
mkdir -p "$findings"
[ -d "$seeds" ] && cp -r "$seeds"/. "$corpus"/
"$bin" "$corpus" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 \
  -print_final_stats=1 -artifact_prefix="$findings/$name-" "$@" > "$log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
secs_used=$(sed -n 's/^Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
if [ $rc -eq 0 ]; then
  echo "$name: ${runs:-?} executions in ${secs_used:-$secs} s, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l) files, 0 findings"
  echo "1 passed, 0 failed"
else
  tail -60 "$log"
  repro=$(ls "$findings"/"$name"-* 2>/dev/null | tail -1)
  # a digest short enough to survive a CI log's tail: what failed, where, and the input
  echo "$name: $(grep -m1 -E 'SUMMARY|ERROR: libFuzzer|runtime error' "$log")"
  grep -E '#[0-9]+ 0x[0-9a-f]+ in rcl_' "$log" | head -3 | sed "s/^/$name:   /"
  [ -n "$repro" ] && echo "$name: reproducer ($(stat -c %s "$repro") bytes) head: $(head -c 96 "$repro" | od -An -tx1 | tr -d ' \n')"
  echo "$name: FINDING (exit $rc) after ${runs:-?} executions; reproducer: $repro"
  echo "0 passed, 1 failed"
fi
exit $rc
