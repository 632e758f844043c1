#!/usr/bin/env bash
# Bad-input sweep: every command (train, eval, import, tune, suite, report, bench, selftest,
# devices, version) with wrong arguments, missing files, files of the wrong format, truncated
# files, mismatched checkpoints (other architecture, class count, input shape) and injected
# device faults (ROBUSTCL_INJECT: allocation failure, kernel build failure, lost device). Each
# must end with a non-zero status below 128 (no signal, no core dump), print exactly one error
# line (the suite's plan before it aside), and say what is wrong (an expected fragment). Every
# usage error (status 2: an option, its value, an environment variable) prints that one line and
# nothing else, on stderr, before any work.
set -u
bin="$1"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"
ulimit -c unlimited 2>/dev/null  # a crash would leave a core file: checked below
fail=0; pass=0; tried=0
export ROBUSTCL_QUIET=1
unset ROBUSTCL_FAIL_WRITE_AFTER ROBUSTCL_INJECT ROBUSTCL_DEVICE

# expect STATUS FRAGMENT ARGS...: STATUS 1 (failure) or 2 (usage); FRAGMENT must appear in the error line.
# plan=1 expect ...: the command prints its plan first (suite): only lines starting with robustcl count
expect() {
  local want="$1" frag="$2"
  shift 2
  tried=$((tried+1))
  "$bin" "$@" > out.log 2> err.log
  local rc=$?
  # informational lines (the run banner, "resuming ...") are not errors
  local pat=.
  [ -n "${plan:-}" ] && pat='^robustcl'
  local errs=$(grep -v -e '^robustcl: wrn-.* on ' -e '^robustcl: resuming ' -e '^robustcl: kernel build log' err.log |
               grep -c -- "$pat")
  local last=$(tail -1 err.log)
  # a usage error: the one line is all there is
  local only=1
  [ "$want" -eq 2 ] && { [ "$(wc -l < err.log)" -eq 1 ] && [ ! -s out.log ] || only=0; }
  if [ $rc -eq "$want" ] && [ "$errs" -eq 1 ] && [ $only -eq 1 ] && [[ "$last" == robustcl* ]] &&
     grep -qF -- "$frag" <<< "$last" && [ -z "$(ls core* 2>/dev/null)" ]; then
    pass=$((pass+1))
  else
    fail=$((fail+1))
    echo "FAIL: robustcl $* -> status $rc (want $want), $errs error lines, want '$frag' in: $last"
    rm -f core*
  fi
}

common=(--test "fashion-mnist,split=test,n=8" --batch 8 --epochs 1 --seed 5)
fm16="fashion-mnist,n=16,seed=3"

# ---- fixtures: checkpoints of several shapes, a tiny CIFAR-10, broken files ----
"$bin" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --out good.safetensors > /dev/null 2>&1
"$bin" train --data "$fm16" "${common[@]}" --arch wrn-10-2 --out arch.safetensors > /dev/null 2>&1
"$bin" train --data "$fm16,classes=0-4" --test "fashion-mnist,split=test,n=8,classes=0-4" --batch 8 --epochs 1 \
  --arch wrn-10-1 --out classes.safetensors > /dev/null 2>&1
mkdir cifar
python3 - <<'PY'
import random
random.seed(1)
for name in ["data_batch_%d.bin" % i for i in range(1, 6)] + ["test_batch.bin"]:
    with open("cifar/" + name, "wb") as f:
        for r in range(4):
            f.write(bytes([r % 10]) + bytes(random.randrange(256) for _ in range(3072)))
PY
"$bin" train --data cifar10:cifar --test cifar10:cifar,split=test --batch 8 --epochs 1 --arch wrn-10-1 \
  --out shape.safetensors > /dev/null 2>&1
for f in good arch classes shape; do
  [ -s $f.safetensors ] || { echo "FAIL: fixture $f.safetensors not made"; echo "0 passed, 1 failed"; exit 1; }
done
head -c 3000 good.safetensors > trunc.safetensors
echo "not a checkpoint" > text.safetensors
printf '\x10\x00\x00\x00\x00\x00\x00\x00{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}' > foreign.safetensors
printf 'abcd' >> foreign.safetensors
fmdir=/usr/share/datasets/fashion-mnist
mkdir fm_trunc fm_text
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [ -e $fmdir/$f.gz ]; then head -c 20000 $fmdir/$f.gz > fm_trunc/$f.gz; else head -c 20000 $fmdir/$f > fm_trunc/$f; fi
  echo "hello" > fm_text/$f
done
mkdir cifar_trunc
for f in cifar/*; do head -c 5000 "$f" > cifar_trunc/$(basename "$f"); done
mkdir -p nodir_parent && touch file_not_dir

# ---- command line ----
expect 2 "unknown command" nosuchcommand
expect 2 "unknown command" --bogus
expect 2 "unknown argument" train --bogus
expect 2 "expected an integer" train --epochs 0
expect 2 "expected an integer" train --epochs abc
expect 2 "expected an integer" train --batch 0
expect 2 "expected an integer" train --seed -1
expect 2 "expected a number" train --lr -1
expect 2 "expected a number" train --dropout 1.5
expect 2 "expected a number" train --wd nan
expect 2 "needs a value" train --data
expect 2 "expected N (steps) or Nm" train --checkpoint-every x
expect 2 "expected N (steps) or Nm" train --checkpoint-every -3
expect 2 "--resume needs --out" train --resume
expect 2 "unknown argument" eval --model good.safetensors --bogus
expect 2 "--model is required" eval
expect 2 "expected an integer" eval --model good.safetensors --batch 0
expect 2 "paper or textbook" eval --model good.safetensors --calibration-mode foo
expect 2 "--attack" eval --model good.safetensors --attack nonsense
expect 2 "bad value 'l1' for norm (linf or l2)" eval --model good.safetensors --attack autoattack:norm=l1
expect 2 "bad value '-1' for eps" eval --model good.safetensors --attack autoattack:norm=l2,eps=-1
expect 2 "eps 2 beyond 1" eval --model good.safetensors --attack autoattack:eps=2
expect 2 "bad value 'fab' for attacks" eval --model good.safetensors --attack autoattack:attacks=fab
expect 2 "bad value 'apgd-ce+fab-l2' for attacks" eval --model good.safetensors --attack autoattack:norm=l2,attacks=apgd-ce+fab-l2
expect 2 "unknown option 'steps'" eval --model good.safetensors --attack autoattack:steps=3
expect 2 "not autoattack" eval --model good.safetensors --attack autoattack --attack-sweep 0,1/255
expect 2 "unknown argument" selftest --bogus
expect 2 "unknown argument" devices --bogus
expect 2 "unknown benchmark" bench foo
expect 2 "expected HxWxC" bench step --input 2x2x1
expect 2 "expected an integer" bench gemm --repeat 0
expect 2 "unknown argument" bench gemm --bogus
expect 2 "robustcl: no command" 
expect 2 "which benchmark" bench
expect 2 "which suite" suite
expect 2 "unknown argument" version --bogus
expect 2 "--device: empty value" train --device ''
expect 2 "--device: empty value" eval --model good.safetensors --device=
expect 2 "--data: empty value" train --data ''
expect 2 "--json: empty value" devices --json ''
expect 2 "--arch: not an option of this benchmark (only of step and conv)" bench gemm --arch wrn-10-1
expect 2 "--arch: not an option of this benchmark (only of step and conv)" bench loader --arch wrn-10-1
expect 2 "--model: not an option of this benchmark (only of logits)" bench step --model good.safetensors
expect 2 "--data: not an option of this benchmark (only of loader)" bench conv --data fashion-mnist
expect 2 "--device: not an option of this benchmark" bench loader --device 0:0
expect 2 "--conv-algo: not an option of this benchmark" bench gemm --conv-algo gemm
expect 2 "--model FILE is required" bench logits
expect 2 "expected a number in 1..1e+06" tune --budget-seconds 0
expect 2 "--conv-algo" train --conv-algo nonsense
expect 2 "--val: dataset spec 'nosuchkind'" eval --model good.safetensors --val nosuchkind
expect 2 "--ood: dataset spec 'nosuchkind'" eval --model good.safetensors --ood 'gaussian;nosuchkind'
expect 2 "--test: dataset spec" train --test 'fashion-mnist,split=both'
expect 2 "--arch: architecture 'wrn-12-1'" bench step --arch wrn-12-1
expect 2 "--adv-arch: architecture 'wrn-5-1'" suite paper --data-root /nonexistent --adv-arch wrn-5-1
expect 2 "--target-classes: classes=" suite mini --target-classes 5-
ROBUSTCL_CONV_ALGO=nonsense expect 2 "ROBUSTCL_CONV_ALGO" devices
ROBUSTCL_KERNEL_CLASS=fpga expect 2 "ROBUSTCL_KERNEL_CLASS 'fpga': expected gpu or cpu" devices

# ---- architectures, dataset specs, devices ----
expect 2 "--arch: architecture 'wrn-11-1'" train --data "$fm16" "${common[@]}" --arch wrn-11-1
expect 2 "--arch: architecture 'banana'" train --data "$fm16" "${common[@]}" --arch banana
expect 2 "--data: dataset spec 'nosuchkind'" train --data nosuchkind "${common[@]}" --arch wrn-10-1
expect 2 "--data: dataset spec 'cifar10'" train --data cifar10 "${common[@]}" --arch wrn-10-1
expect 2 "--data: dataset spec 'fashion-mnist,n=abc'" train --data "fashion-mnist,n=abc" "${common[@]}" --arch wrn-10-1
expect 2 "--data: classes=9-3" train --data "fashion-mnist,classes=9-3" "${common[@]}" --arch wrn-10-1
expect 1 "999999999" train --data "fashion-mnist,n=999999999" "${common[@]}" --arch wrn-10-1
expect 2 "unknown option 'bogus'" train --data "fashion-mnist,bogus=1" "${common[@]}" --arch wrn-10-1
expect 1 "no OpenCL device matches 'no-such-device'; the devices are: 0:0" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --device no-such-device
expect 1 "9:9" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --device 9:9
expect 1 "no-such-device" selftest --device no-such-device
expect 1 "no-such-device" bench gemm --device no-such-device
expect 1 "no-such-device" eval --model good.safetensors --data "fashion-mnist,split=test,n=8" --device no-such-device

# ---- missing, wrong-format and truncated files ----
expect 1 "missing.safetensors" eval --model missing.safetensors
expect 1 "text.safetensors: not a safetensors checkpoint" eval --model text.safetensors
expect 1 "trunc.safetensors" eval --model trunc.safetensors
expect 1 "foreign.safetensors" eval --model foreign.safetensors
expect 1 "file_not_dir" eval --model file_not_dir/x.safetensors
expect 1 "/nonexistent" eval --model good.safetensors --data cifar10:/nonexistent
expect 1 "fm_trunc" eval --model good.safetensors --data "fashion-mnist:fm_trunc,split=test"
expect 1 "fm_text" eval --model good.safetensors --data "fashion-mnist:fm_text,split=test"
expect 1 "cifar_trunc" eval --model shape.safetensors --data "cifar10:cifar_trunc,split=test"
expect 1 "fm_trunc" train --data "fashion-mnist:fm_trunc" "${common[@]}" --arch wrn-10-1
expect 1 "missing.safetensors" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --init missing.safetensors
expect 1 "trunc.safetensors" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --init trunc.safetensors
expect 1 "text.safetensors" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --init text.safetensors
expect 1 "missing.safetensors" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --out missing.safetensors --resume
expect 1 "trunc.safetensors" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --out trunc.safetensors --resume
expect 1 "file_not_dir" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --log file_not_dir/log.jsonl

# ---- mismatched checkpoints: other architecture, class count, input shape ----
expect 1 "WRN-10-2" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --init arch.safetensors
expect 1 "WRN-10-2" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --out arch.safetensors --resume
expect 1 "5 classes" eval --model classes.safetensors --data "fashion-mnist,split=test,n=8"
expect 1 "classes.safetensors" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --out classes.safetensors --resume
expect 1 "shape.safetensors" eval --model shape.safetensors --data "fashion-mnist,split=test,n=8"
expect 1 "shape.safetensors" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --init shape.safetensors
expect 1 "shape.safetensors" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --out shape.safetensors --resume

# ---- import, tune, suite, report ----
data=${RCL_TEST_DATA:?RCL_TEST_DATA must name tests/data}
head -c 100 "$data/io_torch_zip.pt" > trunc.pt
echo "not a pickle" > text.pt
mkdir -p stage_text/stages stage_trunc/stages empty_out
echo "garbage" > stage_text/stages/pretrain.json
printf '{"name": "pretrain", "err' > stage_trunc/stages/pretrain.json
expect 2 "expected FILE.pt OUT.safetensors" import
expect 2 "unknown argument" import a.pt b.safetensors c
expect 2 "expected HxW" import "$data/io_torch_zip.pt" out.safetensors --input 32
expect 2 "expected HxW or HxWxC" import "$data/io_torch_zip.pt" out.safetensors --input 32x32x0
expect 1 "missing.pt" import missing.pt out.safetensors
expect 1 "text.pt" import text.pt out.safetensors
expect 1 "trunc.pt" import trunc.pt out.safetensors
expect 1 "is not allowed" import "$data/io_torch_evil.pt" out.safetensors
expect 1 "do not form a WRN" import "$data/io_torch_zip.pt" out.safetensors
expect 1 "do not form a WRN" import "$data/io_torch_legacy.pt" out.safetensors
expect 2 "unknown argument" tune --bogus
expect 2 "expected an integer" tune --batch 0
expect 2 "expected an integer" tune --classes 0
expect 2 "expected HxWxC" tune --input 3x3
expect 2 "expected a number" tune --budget-seconds -1
expect 2 "--arch: architecture 'banana'" tune --arch banana
expect 1 "no-such-device" tune --device no-such-device
expect 2 "unknown suite" suite bogus
expect 2 "unknown argument" suite mini --bogus
expect 2 "expected an integer" suite mini --seeds 0
expect 2 "banana" suite mini --arch banana
expect 2 "--gamma 'abc'" suite mini --gamma abc
expect 2 "--rho '0.5'" suite mini --rho 0.5
expect 2 "--imbalance-profile 'foo'" suite mini --imbalance-profile foo
expect 2 "unknown method" suite mini --noise-methods foo
expect 2 "--data-root DIR is required" suite paper
expect 2 "--scale '0'" suite paper --data-root /nonexistent --scale 0
expect 2 "--data: dataset spec 'nosuchkind'" suite mini --data nosuchkind --out suite1
expect 2 "--source-classes: classes=9-3" suite mini --source-classes 9-3 --out suite2
plan=1 expect 1 "file_not_dir" suite mini --out file_not_dir/x
plan=1 expect 1 "/nonexistent" suite paper --data-root /nonexistent --out suite3
plan=1 expect 1 "matches no run" suite paper --data-root /nonexistent --only bogus --out suite4
expect 2 "no directory given" report
expect 2 "unknown option" report --bogus
expect 1 "no stage directory" report /nonexistent
expect 1 "no stage directory" report empty_out
expect 1 "malformed JSON" report stage_text
expect 1 "unterminated string" report stage_trunc

# ---- device faults (injected: PoCL neither runs out of memory nor loses its device) ----
dev=$("$bin" devices 2>/dev/null | sed -n 's/^  device 0:0  //p')
export ROBUSTCL_INJECT=alloc
expect 1 "try a smaller --batch" train --data "$fm16" "${common[@]}" --arch wrn-10-1
expect 1 "try a smaller --batch" eval --model good.safetensors --data "fashion-mnist,split=test,n=8"
export ROBUSTCL_INJECT=build
expect 1 "update the OpenCL driver or choose another --device" train --data "$fm16" "${common[@]}" --arch wrn-10-1
expect 1 "update the OpenCL driver or choose another --device" selftest
export ROBUSTCL_INJECT=lost-device:40
expect 1 "CL_DEVICE_NOT_AVAILABLE: the device was lost" train --data "$fm16" "${common[@]}" --arch wrn-10-1 \
  --out lost.safetensors --checkpoint-every 1
export ROBUSTCL_INJECT=lost-device:5
expect 1 "CL_DEVICE_NOT_AVAILABLE: the device was lost" eval --model good.safetensors --data "fashion-mnist,split=test,n=8"
unset ROBUSTCL_INJECT
if [ -n "$dev" ]; then
  ROBUSTCL_INJECT=alloc "$bin" train --data "$fm16" "${common[@]}" --arch wrn-10-1 --device 0:0 2>&1 | grep -qF "$dev"
  if [ $? -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: fault message does not name '$dev'"; fi
fi
# the lost device stopped training without overwriting the last good checkpoint with garbage
if [ -e lost.safetensors ]; then
  "$bin" eval --model lost.safetensors --data "fashion-mnist,split=test,n=8" > /dev/null 2>&1
  if [ $? -eq 0 ]; then pass=$((pass+1)); else fail=$((fail+1)); echo "FAIL: checkpoint before the lost device does not load"; fi
fi

echo "bad inputs tried: $tried"
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
