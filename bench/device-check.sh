#!/usr/bin/env bash
# bench/device-check.sh OUTDIR [options]: the GPU check of issue 5, for a machine with an NVIDIA GPU
# and its driver but no network. Within 10 minutes it
#   1. unpacks the .deb packages of --debs DIR (ICD loader, CLBlast, headers, ...) under
#      OUTDIR/sysroot (dpkg-deb -x: the system's own files are not touched) and points the
#      compiler, CMake and the loader there;
#   2. registers NVIDIA's libnvidia-opencl.so.1 as an OpenCL ICD (in OUTDIR/icd, through
#      OCL_ICD_VENDORS) when /etc/OpenCL/vendors has no NVIDIA entry;
#   3. builds the robustcl command, runs `robustcl devices`, and stops (status 3) with a clear
#      message when no NVIDIA device shows;
#   4. builds everything and runs the test suite on that device (ROBUSTCL_DEVICE);
#   5. compares the eval-mode logits of tests/data/torch_parity.safetensors with the ones
#      committed from PoCL (bench/results/parity_logits_pocl.json);
#   6. tunes robustcl's convolution kernels on the device for each benchmarked net (robustcl
#      tune --conv-only, --tune seconds per net: the GPU family's local-memory tiles among the
#      others) and writes the device's database entry (OUTDIR/database-entry.txt, to add to
#      kernels/tuned/database.txt);
#   7. runs the benches: GEMM; per net (WRN-28-10 and WRN-40-2) every convolution under every
#      kernel family (bench conv) and the training step, each beside PyTorch on CUDA (TF32 off)
#      where PyTorch is present, alternating 3 times (medians and spread);
#   8. writes every result as JSON into OUTDIR (summary.json lists each step's status).
#
# options:
#   --debs DIR     folder of .deb files to unpack (default: bench/debs when it exists)
#   --device SEL   robustcl device selector (default: NVIDIA)
#   --allow-cpu    rehearsal on a machine without a GPU: accept any OpenCL device (e.g. PoCL)
#   --quick        small nets and batches for the benches (a rehearsal on a slow CPU)
#   --tests REGEX  run only the ctest tests matching REGEX (default: all)
#   --budget S     overall time limit in seconds (default 600)
#   --tune S       seconds of kernel tuning per net (default 90; 0: none)
# exit status: 0 all steps passed, 1 a step failed, 2 usage, 3 no GPU device.
set -uo pipefail

usage() { sed -n '2,32p' "$0" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }
[ $# -ge 1 ] || usage 2
case "$1" in -h|--help) usage 0 ;; esac
OUT=$(mkdir -p "$1" && cd "$1" && pwd) || { echo "device-check: cannot create $1" >&2; exit 2; }
shift
ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEBS="" SEL="" ALLOW_CPU=0 QUICK=0 TESTS="" BUDGET=600 TUNE=90
[ -d "$ROOT/bench/debs" ] && DEBS="$ROOT/bench/debs"
while [ $# -gt 0 ]; do
    case "$1" in
    --debs) DEBS=$(cd "$2" && pwd) || exit 2; shift ;;
    --device) SEL="$2"; shift ;;
    --allow-cpu) ALLOW_CPU=1 ;;
    --quick) QUICK=1 ;;
    --tests) TESTS="$2"; shift ;;
    --budget) BUDGET="$2"; shift ;;
    --tune) TUNE="$2"; shift ;;
    -h|--help) usage 0 ;;
    *) echo "device-check: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

START=$(date +%s)
LOG="$OUT/device-check.log"
: >"$LOG"
STEPS=()
FAILED=0
say() { echo "device-check: $*" | tee -a "$LOG"; }
left() { echo $((BUDGET - ($(date +%s) - START))); }
# step NAME CMD...: runs CMD (output to OUTDIR/NAME.log) within the time left; records the status.
step() {
    local name="$1" t rc status
    shift
    t=$(left)
    if [ "$t" -le 5 ]; then
        STEPS+=("{\"step\": \"$name\", \"status\": \"skipped (out of time)\"}")
        FAILED=1
        say "$name: skipped, out of time"
        return 1
    fi
    local t0=$(date +%s)
    timeout "$t" "$@" >"$OUT/$name.log" 2>&1
    rc=$?
    status=ok
    [ $rc -eq 124 ] && status="timeout" || { [ $rc -ne 0 ] && status="failed (exit $rc)"; }
    [ "$status" = ok ] || FAILED=1
    STEPS+=("{\"step\": \"$name\", \"status\": \"$status\", \"seconds\": $(($(date +%s) - t0)), \"log\": \"$name.log\"}")
    say "$name: $status ($(($(date +%s) - t0)) s)"
    [ "$status" = ok ]
}
summary() {
    {
        echo "{"
        echo "  \"host\": \"$(hostname)\", \"date\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
        echo "  \"commit\": \"$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)\","
        echo "  \"device_selector\": \"$SEL\", \"allow_cpu\": $ALLOW_CPU, \"quick\": $QUICK,"
        echo "  \"seconds\": $(($(date +%s) - START)), \"passed\": $([ $FAILED -eq 0 ] && echo true || echo false),"
        echo "  \"steps\": ["
        local i
        for i in "${!STEPS[@]}"; do
            [ "$i" -gt 0 ] && echo ","
            printf '    %s' "${STEPS[$i]}"
        done
        echo ""
        echo "  ]"
        echo "}"
    } >"$OUT/summary.json"
    say "summary: $OUT/summary.json"
}

# 1. packages brought along, unpacked under OUTDIR/sysroot
SYSROOT="$OUT/sysroot"
if [ -n "$DEBS" ]; then
    n=0
    for deb in "$DEBS"/*.deb; do
        [ -e "$deb" ] || continue
        dpkg-deb -x "$deb" "$SYSROOT" || { say "cannot unpack $deb"; exit 1; }
        n=$((n + 1))
    done
    say "unpacked $n packages from $DEBS into $SYSROOT"
    ARCH=$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)
    export PATH="$SYSROOT/usr/bin:$PATH"
    export LD_LIBRARY_PATH="$SYSROOT/usr/lib/$ARCH:$SYSROOT/usr/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    export LIBRARY_PATH="$SYSROOT/usr/lib/$ARCH:$SYSROOT/usr/lib${LIBRARY_PATH:+:$LIBRARY_PATH}"
    export CPATH="$SYSROOT/usr/include${CPATH:+:$CPATH}"
    export CMAKE_PREFIX_PATH="$SYSROOT/usr${CMAKE_PREFIX_PATH:+:$CMAKE_PREFIX_PATH}"
    export PKG_CONFIG_PATH="$SYSROOT/usr/lib/$ARCH/pkgconfig:$SYSROOT/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
    export PYTHONPATH="$SYSROOT/usr/lib/python3/dist-packages${PYTHONPATH:+:$PYTHONPATH}"
fi

# 2. NVIDIA's OpenCL library as an ICD, when the system does not list it
if ! grep -qsil nvidia /etc/OpenCL/vendors/*.icd; then
    lib=$(ldconfig -p 2>/dev/null | awk '/libnvidia-opencl\.so\.1/ {print $NF; exit}')
    for d in /usr/lib/x86_64-linux-gnu /usr/lib64 /usr/local/nvidia/lib64 /usr/lib; do
        [ -z "$lib" ] && [ -e "$d/libnvidia-opencl.so.1" ] && lib="$d/libnvidia-opencl.so.1"
    done
    if [ -n "$lib" ]; then
        mkdir -p "$OUT/icd"
        cp /etc/OpenCL/vendors/*.icd "$SYSROOT"/etc/OpenCL/vendors/*.icd "$OUT/icd/" 2>/dev/null
        echo "$lib" >"$OUT/icd/nvidia.icd"
        export OCL_ICD_VENDORS="$OUT/icd"
        say "registered $lib as an OpenCL ICD in $OUT/icd (OCL_ICD_VENDORS)"
    else
        say "no libnvidia-opencl.so.1 found (is the NVIDIA driver installed?)"
    fi
elif [ -d "$SYSROOT/etc/OpenCL/vendors" ]; then
    say "NVIDIA ICD registered by the system"
fi

# 3. the command, then the devices
BUILD="$OUT/build"
GEN=$(command -v ninja >/dev/null && echo Ninja || echo "Unix Makefiles")
JOBS=$(nproc 2>/dev/null || echo 4)
step configure cmake -S "$ROOT" -B "$BUILD" -G "$GEN" -DCMAKE_BUILD_TYPE=Release || { summary; exit 1; }
step build-cli cmake --build "$BUILD" --target robustcl_cli -j "$JOBS" || { summary; exit 1; }
BIN="$BUILD/robustcl"
step devices "$BIN" devices
cp "$OUT/devices.log" "$OUT/devices.txt" 2>/dev/null
if [ -z "$SEL" ]; then
    if grep -qi nvidia "$OUT/devices.log"; then
        SEL=NVIDIA
    elif [ $ALLOW_CPU -eq 1 ]; then
        SEL=$(awk '/^  device / {print $2; exit}' "$OUT/devices.log")
    fi
fi
if [ -z "$SEL" ] || { [ $ALLOW_CPU -eq 0 ] && ! grep -qi nvidia "$OUT/devices.log"; }; then
    say "STOP: no NVIDIA GPU among the OpenCL devices (see $OUT/devices.log)."
    say "      Check the driver (nvidia-smi), libnvidia-opencl.so.1 and the ICD loader; --allow-cpu rehearses on any device."
    summary
    exit 3
fi
export ROBUSTCL_DEVICE="$SEL"
export ROBUSTCL_QUIET=1
say "device: $SEL"

# 4. everything, and the test suite on that device
step build cmake --build "$BUILD" -j "$JOBS"
step ctest ctest --test-dir "$BUILD" -j "$JOBS" --timeout 300 --output-on-failure \
    --output-junit "$OUT/ctest-junit.xml" ${TESTS:+-R "$TESTS"}

# 5. logits of the parity checkpoint against the ones committed from PoCL
cd "$ROOT" || exit 1
step logits "$BIN" bench logits --model tests/data/torch_parity.safetensors \
    --reference bench/results/parity_logits_pocl.json --tolerance 1e-4 --json "$OUT/logits.json"

if [ $QUICK -eq 1 ]; then
    NETS=("wrn-16-2 32x32x3 16" "wrn-10-2 28x28x1 32")
else
    NETS=("wrn-28-10 32x32x3 128" "wrn-40-2 32x32x3 128")
fi

# 6. the kernels tuned for these nets on this device, and its database entry
if [ "$TUNE" -gt 0 ]; then
    for net in "${NETS[@]}"; do
        set -- $net
        step "tune-$1" "$BIN" tune --arch "$1" --input "$2" --batch "$3" --budget-seconds "$TUNE" \
            --conv-only --json "$OUT/tune-$1.json" --database-entry "$OUT/database-entry.txt"
    done
fi

# 7. benches (the peer runs on CUDA where this machine's PyTorch has it)
PEER_DEV=cuda
[ $ALLOW_CPU -eq 1 ] && ! grep -qi nvidia "$OUT/devices.log" && PEER_DEV=cpu
step bench-gemm "$BIN" bench gemm --repeat 3 --json "$OUT/bench-gemm.json"
for net in "${NETS[@]}"; do
    set -- $net
    step "bench-conv-$1" "$BIN" bench conv --arch "$1" --input "$2" --batch "$3" --repeat 3 \
        --peer --peer-device "$PEER_DEV" --peer-threads "$JOBS" --json "$OUT/bench-conv-$1.json"
    step "bench-step-$1" "$BIN" bench step --arch "$1" --input "$2" --batch "$3" --steps 3 --repeat 3 \
        --peer --peer-device "$PEER_DEV" --peer-threads "$JOBS" --json "$OUT/bench-step-$1.json"
done

summary
exit $FAILED
