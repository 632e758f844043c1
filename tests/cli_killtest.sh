#!/usr/bin/env bash
# Crash safety of `robustcl train --checkpoint-every`:
#  - SIGKILL at random points (at least 20 kills, fixed seed): after every kill the latest
#    checkpoint loads (`robustcl eval --model`), and resuming (--resume) chains of killed runs
#    end bit-identical (cmp) to an uninterrupted run;
#  - a full disk (ROBUSTCL_FAIL_WRITE_AFTER) and a file-size limit (ulimit -f: SIGXFSZ) while
#    checkpointing give one clear error, a failure status (not a signal) and leave the
#    previous checkpoint intact; so does an output folder that does not exist.
set -u
bin="$1"
. "$(dirname "$0")/testlib.sh"
export ROBUSTCL_QUIET=1
unset ROBUSTCL_FAIL_WRITE_AFTER ROBUSTCL_INJECT
common=(--data "fashion-mnist,n=48,seed=3" --test "fashion-mnist,split=test,n=16" --arch wrn-10-1 --batch 8
        --epochs 2 --seed 5 --dropout 0.1 --checkpoint-every 1)
evalargs=(--data "fashion-mnist,split=test,n=16")

t0=$(date +%s.%N)
"$bin" train "${common[@]}" --out "$tmp/ref.safetensors" > "$tmp/ref.log" 2>&1
t1=$(date +%s.%N)
check "uninterrupted run: $(tail -1 "$tmp/ref.log")" "[ -s $tmp/ref.safetensors ]"
[ -s "$tmp/ref.safetensors" ] || { echo "$pass passed, $fail failed"; exit 1; }

# chains of killed and resumed runs
RANDOM=20190612
out="$tmp/run.safetensors"
kills=0 loads=0 resumed=0 chains=0
# Kills land at 5% .. 105% of `scale` times the uninterrupted run's time (slower builds, e.g.
# ASan, scale with it): start-up, steps and checkpoint writes all get hit. A killed run can
# still take longer or shorter than the reference (machine load, caches the reference filled),
# so the scale follows the fresh runs: halved after 4 in a row finished before their kill,
# doubled after 4 in a row were killed before their first checkpoint (1/16 .. 64); and the
# kills go on past 20 (up to 60) until one has left a checkpoint, so that resumes are tested.
scale=1 early=0 late=0
want_kill() { [ $kills -lt 20 ] || { [ $loads -eq 0 ] && [ $kills -lt 60 ]; }; }
while want_kill || [ -e "$out" ]; do
  extra=()
  [ -e "$out" ] && extra=(--resume)
  "$bin" train "${common[@]}" --out "$out" "${extra[@]}" > "$tmp/seg.log" 2>&1 &
  pid=$!
  planned=0
  if want_kill; then
    planned=1
    sleep "$(awk -v a="$t0" -v b="$t1" -v s=$scale -v r=$((RANDOM % 101 + 5)) \
             'BEGIN { printf "%.2f", (b - a) * s * r / 100 }')"
    kill -KILL $pid 2>/dev/null
  fi
  wait $pid 2>/dev/null; rc=$?
  [ ${#extra[@]} -gt 0 ] && resumed=$((resumed+1))
  # a run that finished before its kill was not killed (the signal reached a zombie)
  [ $planned -eq 1 ] && [ $rc -ne 0 ] && kills=$((kills+1))
  if [ $planned -eq 1 ] && [ ${#extra[@]} -eq 0 ]; then
    if [ $rc -eq 0 ]; then late=$((late+1)) early=0
    elif [ -e "$out" ]; then late=0 early=0
    else early=$((early+1)) late=0; fi
    if [ $early -ge 4 ]; then scale=$(awk -v s=$scale 'BEGIN { print (s < 64 ? 2 * s : s) }') early=0; fi
    if [ $late -ge 4 ]; then scale=$(awk -v s=$scale 'BEGIN { print (s > 0.0625 ? s / 2 : s) }') late=0; fi
  fi
  if [ $rc -eq 0 ]; then   # this segment finished the run
    chains=$((chains+1))
    check "chain $chains (resumed $resumed times) ends bit-identical" "cmp -s $tmp/ref.safetensors $out"
    rm -f "$out" "$out".tmp.*
    continue
  fi
  check "killed run exits by SIGKILL (rc $rc): $(tail -1 "$tmp/seg.log")" "[ $rc -eq 137 ]"
  if [ -e "$out" ]; then
    "$bin" eval --model "$out" "${evalargs[@]}" > "$tmp/eval.log" 2>&1
    check "checkpoint after kill $kills loads: $(tail -1 "$tmp/eval.log")" "[ $? -eq 0 ]"
    loads=$((loads+1))
  fi
done
echo "kill trials: $kills kills, $loads checkpoints loaded after a kill, $resumed resumes, $chains chains bit-identical" \
     "(kill delays scaled by $scale)"
check "at least 20 kills, a checkpoint left by one, and some resumed chains" \
  "[ $kills -ge 20 ] && [ $loads -ge 1 ] && [ $chains -ge 1 ] && [ $resumed -ge 1 ]"

# a full disk while checkpointing: the old checkpoint survives, no temp file is left
cp "$tmp/ref.safetensors" "$tmp/full.safetensors"
ROBUSTCL_FAIL_WRITE_AFTER=100000 "$bin" train "${common[@]}" --out "$tmp/full.safetensors" > "$tmp/full.log" 2>&1
rc=$?
check "full disk -> exit 1 (got $rc), one error line: $(tail -1 "$tmp/full.log")" \
  "[ $rc -eq 1 ] && [ \$(grep -c 'robustcl: .*write failed' $tmp/full.log) -eq 1 ] && tail -1 $tmp/full.log | grep -q 'No space left'"
check "full disk -> previous checkpoint intact" "cmp -s $tmp/ref.safetensors $tmp/full.safetensors"
check "full disk -> no temp file left" "[ -z \"\$(ls $tmp | grep full.safetensors.tmp)\" ]"

# RLIMIT_FSIZE: SIGXFSZ must not kill the process. The limit (1 MiB) lets the OpenCL
# compiler's own files (up to ~300 KB with PoCL) through but not a WRN-10-2 checkpoint (2.4 MB).
big=(--data "fashion-mnist,n=16,seed=3" --test "fashion-mnist,split=test,n=8" --arch wrn-10-2 --batch 8
     --epochs 1 --seed 5 --checkpoint-every 1)
"$bin" train "${big[@]}" --out "$tmp/fsize.safetensors" > "$tmp/fsize0.log" 2>&1
cp "$tmp/fsize.safetensors" "$tmp/fsize.orig"
(ulimit -f 1024; exec "$bin" train "${big[@]}" --out "$tmp/fsize.safetensors") > "$tmp/fsize.log" 2>&1
rc=$?
check "file-size limit -> exit 1, not a signal (got $rc): $(tail -1 "$tmp/fsize.log")" \
  "[ $rc -eq 1 ] && tail -1 $tmp/fsize.log | grep -q 'write failed: File too large'"
check "file-size limit -> previous checkpoint intact" "[ -s $tmp/fsize.orig ] && cmp -s $tmp/fsize.orig $tmp/fsize.safetensors"

# an output folder that does not exist
"$bin" train "${common[@]}" --out "$tmp/no/such/dir/x.safetensors" > "$tmp/nodir.log" 2>&1
rc=$?
check "missing output folder -> exit 1 naming it (got $rc): $(tail -1 "$tmp/nodir.log")" \
  "[ $rc -eq 1 ] && grep -q 'no/such/dir' $tmp/nodir.log"
finish
