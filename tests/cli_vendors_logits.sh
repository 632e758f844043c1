#!/usr/bin/env bash
# The same model on two OpenCL implementations gives the same logits: a tiny WRN trained on
# PoCL, evaluated on PoCL and on Intel's CPU runtime (.ci/deps-intel-opencl), and the PyTorch
# parity model's logits on Intel's runtime against the ones committed from PoCL (bench logits
# --reference). Skipped (status 77) when either implementation is missing.
#
# Tolerance: max |diff| <= 1e-4 x max |logit| (bench logits' default). Measured: 0, the logits
# are bit-identical (every kernel and CLBlast's GEMMs sum each output in the same order on both,
# whatever the tile sizes; no split reductions in the forward pass). The tolerance leaves room
# for an implementation that contracts a*b+c into fma differently, and still catches any wrong
# kernel (a wrong result is off by the size of the logits).
set -u
bin="$1"
. "$(dirname "$0")/testlib.sh"
export ROBUSTCL_QUIET=1
unset ROBUSTCL_DEVICE
pocl='Portable Computing Language' intel='Intel(R) OpenCL'
"$bin" devices > "$tmp/devices" 2>&1
for impl in "$pocl" "$intel"; do
    if ! grep -qF "$impl" "$tmp/devices"; then
        echo "SKIP: no '$impl' platform (Intel's runtime: .ci/deps-intel-opencl, then source its env.sh)"
        exit 77
    fi
done
tol=1e-4

"$bin" train --device "$pocl" --data 'fashion-mnist,n=512' --arch wrn-10-1 --batch 64 --epochs 2 \
    --out "$tmp/m.safetensors" > "$tmp/train.log" 2>&1
check "tiny checkpoint trained on PoCL: $(tail -1 "$tmp/train.log")" "[ -s $tmp/m.safetensors ]"

# eval's logits on both with ALGO (auto: each device's measured choice; gemm: CLBlast under
# each implementation's parameter set), compared
compare() { # ALGO
    local impl n diff ref
    for impl in "$pocl" "$intel"; do
        "$bin" eval --device "$impl" --conv-algo "$1" --model "$tmp/m.safetensors" \
            --data 'fashion-mnist,split=test,n=256' --dump-logits "$tmp/${impl%% *}.bin" > "$tmp/eval.log" 2>&1
        check "eval on $impl, --conv-algo $1: $(tail -1 "$tmp/eval.log")" "[ -s '$tmp/${impl%% *}.bin' ]"
    done
    od -An -v -f -w4 "$tmp/Portable.bin" > "$tmp/a"
    od -An -v -f -w4 "$tmp/Intel(R).bin" > "$tmp/b"
    read -r n diff ref < <(paste "$tmp/a" "$tmp/b" | awk '{ d = $1 - $2; if (d < 0) d = -d
        r = $1 < 0 ? -$1 : $1; if (d > md) md = d; if (r > mr) mr = r; n++ }
        END { printf "%d %.3g %.3g\n", n, md, mr }')
    echo "--conv-algo $1: $n logits, max |diff| PoCL vs Intel $diff, max |logit| $ref, tolerance $tol x $ref"
    check "--conv-algo $1: 256 x 10 logits on both ($n)" "[ '$n' = 2560 ]"
    check "--conv-algo $1: max |diff| $diff <= $tol x $ref" \
        "awk -v d='$diff' -v r='$ref' -v t=$tol 'BEGIN { exit !(r > 0 && d <= t * r) }'"
}
compare auto
compare gemm

# the imported PyTorch model (tests/data/torch_parity.safetensors) against PoCL's committed logits
"$bin" bench logits --device "$intel" --model "$RCL_SOURCE_DIR/tests/data/torch_parity.safetensors" \
    --reference "$RCL_SOURCE_DIR/bench/results/parity_logits_pocl.json" --tolerance $tol > "$tmp/bench.log" 2>&1
rc=$?
check "bench logits on Intel vs PoCL's reference (rc $rc): $(tail -1 "$tmp/bench.log")" "[ $rc -eq 0 ]"
finish
