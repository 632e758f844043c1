#!/usr/bin/env bash
# bench/speed.sh OUTDIR [ROBUSTCL]: the speed check of docs/convolution.md, beside
# PyTorch on the same machine in the same runs. For each of the three nets the project measures
# (WRN-10-1 28x28x1 b32, WRN-10-2 28x28x1 b128, WRN-16-4 32x32x3 b128) a training step
# (bench step --peer --repeat 5 --steps 8: robustcl and PyTorch alternating, medians and
# spread), then every convolution pass of WRN-16-4 (bench conv --peer --repeat 3). Writes
# OUTDIR/machine.txt (lscpu, the device list, uptime before and after: run it on an idle
# machine) and a .txt and .json per benchmark. ROBUSTCL defaults to build/robustcl; the device
# is robustcl's default, or ROBUSTCL_DEVICE.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
out=$1
bin=${2:-build/robustcl}
mkdir -p "$out"
{
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "uptime before: $(uptime)"
  lscpu | grep -E 'Model name|Vendor ID|CPU family|^Model:|^CPU\(s\)|Thread|Flags' | sed 's/\(Flags: *\).*\(avx512f\).*/\1... \2 .../'
  "$bin" devices 2>/dev/null
} > "$out/machine.txt"
for net in "wrn-10-1 28x28x1 32" "wrn-10-2 28x28x1 128" "wrn-16-4 32x32x3 128"; do
  set -- $net
  "$bin" bench step --arch "$1" --input "$2" --batch "$3" --steps 8 --repeat 5 --peer \
    --json "$out/step_$1_b$3.json" > "$out/step_$1_b$3.txt" 2>&1
  grep -E 'images/s|peer:' "$out/step_$1_b$3.txt"
done
"$bin" bench conv --arch wrn-16-4 --input 32x32x3 --batch 128 --repeat 3 --peer \
  --json "$out/conv_wrn-16-4_b128.json" > "$out/conv_wrn-16-4_b128.txt" 2>&1
tail -2 "$out/conv_wrn-16-4_b128.txt"
echo "uptime after: $(uptime)" >> "$out/machine.txt"
