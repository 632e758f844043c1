#!/usr/bin/env bash
# bench/compare-devices.sh OUTDIR [DEVICES]: the cross-device comparison of bench/results/devices/.
# Runs, on every device (DEVICES: `all`, the default, or a list such as 0:0,1:0) in one
# invocation each, with the peer beside them:
#   gemm  SGEMM on the WRN shapes (peer: numpy.matmul / OpenBLAS)
#   step  a training step of WRN-10-1 28x28x1 b32 (the mini suite's net) and WRN-10-2 28x28x1 b128
#         (peer: PyTorch on the CPU, 2 threads)
#   conv  every convolution of WRN-10-1 28x28x1 b32, each pass under every algorithm
# and writes OUTDIR/NAME.{txt,json,html}. Run from the source tree on an idle machine, after
# `source ~/.cache/robustcl/intel-opencl/env.sh` (.ci/deps-intel-opencl) to include Intel's CPU
# runtime beside PoCL. Exit status: that of the first benchmark that failed, else 0.
set -uo pipefail
[ $# -ge 1 ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
out=$1 devices=${2:-all}
bin=${ROBUSTCL_BIN:-build/robustcl}
mkdir -p "$out"
status=0
run() { # NAME ARGS...
  local name=$1; shift
  echo "== $name: robustcl bench $* --device $devices"
  "$bin" bench "$@" --device "$devices" --json "$out/$name.json" --html "$out/$name.html" \
    > "$out/$name.txt" 2>&1 || { echo "$name failed: $(tail -1 "$out/$name.txt")"; [ $status = 0 ] && status=1; }
  sed -n '/^== across devices/,$p' "$out/$name.txt"
}
{ lscpu | grep -E 'Model name|^CPU\(s\)'; "$bin" devices; } > "$out/machine.txt" 2>&1
run gemm gemm --repeat 3
run step-wrn-10-1 step --arch wrn-10-1 --input 28x28x1 --batch 32 --steps 10 --peer
run step-wrn-10-2 step --arch wrn-10-2 --input 28x28x1 --batch 128 --steps 3 --peer
run conv-wrn-10-1 conv --arch wrn-10-1 --input 28x28x1 --batch 32 --repeat 3 --peer
exit $status
