#!/usr/bin/env bash
# Data-parallel throughput: 1 rank x batch B vs 2 ranks x B/2 (same global batch; per-rank BN and
# --sync-bn), each rank on one
# core with a one-thread PoCL device (POCL_MAX_PTHREAD_COUNT=1, which PoCL 3.1 honours: `robustcl
# devices` then shows 1 compute unit). Prints images/s, allreduce bytes per step and the time share
# spent in the allreduce; the JSON results go to OUT (default bench/results/mpi).
# usage: bench/mpi_scaling.sh [ARCH] [STEPS] [BATCH] [OUT]
set -eu
arch=${1:-wrn-16-2} steps=${2:-8} batch=${3:-128} out=${4:-$(dirname "$0")/results/mpi}
bin=${ROBUSTCL:-build/robustcl}
mkdir -p "$out"
export ROBUSTCL_QUIET=1 POCL_MAX_PTHREAD_COUNT=1
data=(--data "fashion-mnist,n=$((batch * steps)),seed=1" --test "fashion-mnist,split=test,n=64" --arch "$arch"
      --epochs 1 --seed 1)
tag="${arch}_b${batch}_${steps}steps"
taskset -c 0 "$bin" train "${data[@]}" --batch "$batch" --json "$out/${tag}_1rank.json" > /dev/null
mpi=(mpirun --allow-run-as-root --oversubscribe --bind-to core -x POCL_MAX_PTHREAD_COUNT -x ROBUSTCL_QUIET -np 2)
"${mpi[@]}" "$bin" train "${data[@]}" --batch $((batch / 2)) --json "$out/${tag}_2ranks.json" > /dev/null
"${mpi[@]}" "$bin" train "${data[@]}" --batch $((batch / 2)) --sync-bn --json "$out/${tag}_2ranks_syncbn.json" > /dev/null
python3 - "$out/${tag}_1rank.json" "$out/${tag}_2ranks.json" "$out/${tag}_2ranks_syncbn.json" <<'PY'
import json, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
print("| ranks | BN | batch/rank | images/s | seconds | allreduce MB/step | allreduce s (share of the run) |")
print("|---|---|---|---|---|---|---|")
for r, bn in zip(runs, ("batch", "per rank", "--sync-bn")):
    share = 100 * r["allreduce_seconds"] / r["seconds"] if r["seconds"] else 0
    print("| %d | %s | %d | %.1f | %.1f | %.3f | %.2f (%.1f%%) |" % (r["ranks"], bn, r["batch"],
          r["images_per_second"], r["seconds"], r["allreduce_bytes_per_step"] / 1e6, r["allreduce_seconds"], share))
for r, bn in zip(runs[1:], ("per rank", "--sync-bn")):
    print("speed-up 2 ranks (%s) / 1 rank: %.2fx" % (bn, r["images_per_second"] / runs[0]["images_per_second"]))
PY
