#!/usr/bin/env bash
# Data-parallel training over MPI (registered only when robustcl is built with MPI).
# usage: mpi_train.sh sync_bn|bn_split|faults|resume ROBUSTCL MPIEXEC
#  sync_bn:  2 ranks x batch 64 with --sync-bn end with the weights of 1 rank x batch 128 (same data
#            order and augmentation), within TOL; without --sync-bn they do not (the test discriminates)
#  bn_split: 2 ranks x 64 without --sync-bn equal 1 rank x 128 with --bn-split 2 (ghost batch norm)
#  faults:   a rank that exits or hangs makes every rank exit non-zero within a bound
#  resume:   a 2-rank checkpoint resumes on 1 rank with the same global batch; another global batch is refused
set -u
mode="$1" bin="$2" mpiexec="${3:-mpirun}"
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0; pass=0
check() { if eval "$2"; then pass=$((pass+1)); else echo "FAIL: $1"; fail=$((fail+1)); fi; }
export ROBUSTCL_QUIET=1
mpi=("$mpiexec" --allow-run-as-root --oversubscribe -np 2)
# 256 images = 2 steps of 128 per epoch; tiny WRN
common=(--data "fashion-mnist,n=256,seed=3" --test "fashion-mnist,split=test,n=64" --arch wrn-10-1 --seed 5)
# Float tolerance on every tensor (weights, BN statistics, momentum): the two runs differ only in
# summation order (GEMM over 128 vs 2x64 images, BN sums over ranks), about 3e-4 at most after
# 2 steps here; a real difference in batch-norm statistics moves the momentum by ~2e-2.
TOL=2e-3
diff_of() { python3 "$here/st_diff.py" "$1" "$2" | cut -d' ' -f1; }
below() { python3 -c "import sys; sys.exit(0 if float('$1') <= float('$2') else 1)"; }

case "$mode" in
sync_bn)
  "$bin" train "${common[@]}" --batch 128 --out "$tmp/one.safetensors" > "$tmp/one.log" 2>&1
  "${mpi[@]}" "$bin" train "${common[@]}" --batch 64 --sync-bn --out "$tmp/two.safetensors" --log "$tmp/two.jsonl" \
    --json "$tmp/two.json" > "$tmp/two.log" 2>&1
  check "2-rank --sync-bn run: $(tail -3 "$tmp/two.log")" "[ -s $tmp/two.safetensors ]"
  d=$(diff_of "$tmp/one.safetensors" "$tmp/two.safetensors")
  check "2x64 --sync-bn equals 1x128 within $TOL (max |diff| $d)" "below $d $TOL"
  "${mpi[@]}" "$bin" train "${common[@]}" --batch 64 --out "$tmp/nosync.safetensors" > "$tmp/nosync.log" 2>&1
  d=$(diff_of "$tmp/one.safetensors" "$tmp/nosync.safetensors")
  check "without --sync-bn the statistics differ (max |diff| $d > $TOL)" "! below $d $TOL"
  check "rank 0 alone reports" "[ \$(grep -c '^test error' $tmp/two.log) -eq 1 ]"
  check "one log line per epoch" "[ \$(wc -l < $tmp/two.jsonl) -eq 1 ]"
  check "JSON has ranks and bytes" "grep -q '\"ranks\": 2' $tmp/two.json && grep -q allreduce_bytes_per_step $tmp/two.json"
  ;;
bn_split)
  "$bin" train "${common[@]}" --batch 128 --bn-split 2 --out "$tmp/split.safetensors" > "$tmp/split.log" 2>&1
  "${mpi[@]}" "$bin" train "${common[@]}" --batch 64 --out "$tmp/two.safetensors" > "$tmp/two.log" 2>&1
  check "2-rank run: $(tail -3 "$tmp/two.log")" "[ -s $tmp/two.safetensors ]"
  d=$(diff_of "$tmp/split.safetensors" "$tmp/two.safetensors")
  check "2x64 per-rank BN equals 1x128 --bn-split 2 within $TOL (max |diff| $d)" "below $d $TOL"
  "$bin" train "${common[@]}" --batch 128 --bn-split 200 > "$tmp/bad.log" 2>&1; rc=$?
  check "--bn-split larger than the batch is refused: $(tail -1 "$tmp/bad.log")" \
    "[ $rc -ne 0 ] && grep -q 'sub-batches' $tmp/bad.log"
  ;;
faults)
  # the bound scales with a healthy run's duration (sanitizer builds start slower)
  start=$(date +%s)
  "${mpi[@]}" "$bin" train "${common[@]}" --batch 64 > "$tmp/ok.log" 2>&1
  healthy=$(( $(date +%s) - start ))
  check "healthy 2-rank run: $(tail -1 "$tmp/ok.log")" "grep -q '^test error' $tmp/ok.log"
  bound=$(( 2 * healthy + 30 ))
  for f in exit hang; do
    start=$(date +%s)
    ROBUSTCL_DIST_FAULT=1:1:$f timeout 300 "${mpi[@]}" -x ROBUSTCL_DIST_FAULT "$bin" train "${common[@]}" --batch 64 \
      --dist-timeout 3 > "$tmp/$f.log" 2>&1; rc=$?
    took=$(( $(date +%s) - start ))
    check "fault '$f': every rank exits non-zero (rc $rc) within $bound s (took $took s)" \
      "[ $rc -ne 0 ] && [ $rc -ne 124 ] && [ $took -lt $bound ]"
  done
  check "a hung rank is named in a clear error" \
    "grep -q 'rank 0: no reply from the other ranks within 3 s (a rank died or hangs)' $tmp/hang.log"
  check "no stray processes" "! pgrep -f -- '--dist-timeout 3' > /dev/null"
  ;;
resume)
  # 2 epochs x 2 steps; 2 ranks checkpoint every step; resume step 2's checkpoint on one rank
  "${mpi[@]}" "$bin" train "${common[@]}" --epochs 2 --batch 64 --sync-bn --out "$tmp/two.safetensors" \
    --checkpoint-every 1 --keep 4 > "$tmp/two.log" 2>&1
  check "2-rank periodic checkpoint: $(tail -2 "$tmp/two.log")" "[ -s $tmp/two.safetensors.step2 ]"
  cp "$tmp/two.safetensors.step2" "$tmp/r.safetensors"
  "$bin" train "${common[@]}" --epochs 2 --batch 64 --out "$tmp/r.safetensors" --resume > "$tmp/bad.log" 2>&1; rc=$?
  check "resume with another global batch is refused: $(tail -1 "$tmp/bad.log")" \
    "[ $rc -ne 0 ] && grep -q 'use --batch 128' $tmp/bad.log"
  "$bin" train "${common[@]}" --epochs 2 --batch 128 --out "$tmp/r.safetensors" --resume > "$tmp/r.log" 2>&1
  check "1-rank resume: $(tail -1 "$tmp/r.log")" "grep -q 'resuming' $tmp/r.log && grep -q 'batch 2 (step 2)' $tmp/r.log"
  d=$(diff_of "$tmp/two.safetensors" "$tmp/r.safetensors")
  check "2 ranks -> 1 rank resume ends like the 2-rank run within $TOL (max |diff| $d)" "below $d $TOL"
  ;;
*) echo "unknown mode $mode"; exit 2 ;;
esac
echo "$mode: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
