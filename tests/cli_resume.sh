#!/usr/bin/env bash
# An interrupted-and-resumed run ends bit-identical to an uninterrupted one;
# bad arguments give one error line and exit status 2.
set -u
bin="$1"
. "$(dirname "$0")/testlib.sh"
export ROBUSTCL_QUIET=1
common=(--data "fashion-mnist,n=192,seed=3" --test "fashion-mnist,split=test,n=64" --arch wrn-10-1 --batch 64 --epochs 2 --seed 5 --dropout 0.2)

"$bin" train "${common[@]}" --out "$tmp/a.safetensors" > "$tmp/a.log" 2>&1
check "uninterrupted run" "[ -s $tmp/a.safetensors ]"
# same run, periodic checkpoints every 2 steps, keeping them; then resume from step 2's
"$bin" train "${common[@]}" --out "$tmp/b.safetensors" --checkpoint-every 2 --keep 3 > "$tmp/b.log" 2>&1
check "periodic checkpoint kept" "[ -s $tmp/b.safetensors.step2 ]"
cp "$tmp/b.safetensors.step2" "$tmp/c.safetensors"
"$bin" train "${common[@]}" --out "$tmp/c.safetensors" --resume > "$tmp/c.log" 2>&1
check "resume succeeded: $(tail -1 $tmp/c.log)" "grep -q 'resuming' $tmp/c.log"
check "resumed run is bit-identical to the uninterrupted one" "cmp -s $tmp/a.safetensors $tmp/c.safetensors"
check "checkpointing does not change the result" "cmp -s $tmp/a.safetensors $tmp/b.safetensors"

# eval of the checkpoint
"$bin" eval --model "$tmp/a.safetensors" --data "fashion-mnist,split=test,n=64" --json "$tmp/e.json" > "$tmp/e.log" 2>&1
check "eval runs" "grep -q '\"error\"' $tmp/e.json"

# import of a PyTorch state_dict (official WRN code, zip serialisation)
data="${RCL_TEST_DATA:-$(dirname "$0")/data}"
"$bin" import "$data/torch_parity_zip.pt" "$tmp/imp.safetensors" --input 12x12 > "$tmp/i.log" 2>&1; rc=$?
check "import .pt (exit $rc): $(head -1 $tmp/i.log)" "[ $rc -eq 0 ] && grep -q 'WRN-10-1' $tmp/i.log && grep -q checked $tmp/i.log"
"$bin" import "$data/io_torch_ckpt.pt" "$tmp/bad.safetensors" > "$tmp/i.log" 2>&1; rc=$?
check "import of a non-WRN state_dict -> exit 1, one line" "[ $rc -eq 1 ] && [ \$(wc -l < $tmp/i.log) -eq 1 ]"

# a device whose self-test failed is refused unless --force
( export ROBUSTCL_CACHE_DIR="$tmp/cache"
  "$bin" selftest > "$tmp/st.log" 2>&1
  for f in "$tmp"/cache/selftest-*.txt; do echo fail > "$f"; done
  "$bin" train --data "fashion-mnist,n=64" --test "fashion-mnist,split=test,n=32" --arch wrn-10-1 --batch 32 > "$tmp/f.log" 2>&1
  echo $? > "$tmp/f.rc"
  "$bin" train --data "fashion-mnist,n=64" --test "fashion-mnist,split=test,n=32" --arch wrn-10-1 --batch 32 --force > /dev/null 2>&1
  echo $? > "$tmp/g.rc"
  "$bin" train --data "fashion-mnist,n=64" --test "fashion-mnist,split=test,n=32" --arch wrn-10-1 --batch 32 \
    --init "$tmp/a.safetensors" --adv-train pgd:steps=1 --freeze-trunk > "$tmp/h.log" 2>&1
  echo $? > "$tmp/h.rc"
  "$bin" suite mini --quick --out "$tmp/suite-gate" > "$tmp/s.log" 2>&1
  echo $? > "$tmp/s.rc"
  "$bin" suite paper --data-root "$tmp/no-data" --out "$tmp/paper-gate" > "$tmp/p.log" 2>&1
  echo $? > "$tmp/p.rc" )
check "selftest table printed" "grep -q 'passed, 0 failed' $tmp/st.log"
check "failed self-test refused (exit $(cat $tmp/f.rc))" "[ \$(cat $tmp/f.rc) -eq 1 ] && grep -q 'failed its self-test' $tmp/f.log"
check "--force trains anyway" "[ \$(cat $tmp/g.rc) -eq 0 ]"
check "fine-tuning and adversarial training have the same gate (exit $(cat $tmp/h.rc))" "[ \$(cat $tmp/h.rc) -eq 1 ] && grep -q 'failed its self-test' $tmp/h.log"
check "the suite has the same gate (exit $(cat $tmp/s.rc))" "[ \$(cat $tmp/s.rc) -eq 1 ] && grep -q 'failed its self-test' $tmp/s.log"
check "suite paper has the same gate (exit $(cat $tmp/p.rc))" "[ \$(cat $tmp/p.rc) -eq 1 ] && grep -q 'failed its self-test' $tmp/p.log"

# no OpenCL platform: a message that says how to install one
OCL_ICD_VENDORS="$tmp/no-icd" "$bin" devices > "$tmp/n.log" 2>&1; rc=$?
check "empty ICD registry -> exit 1 with install advice" "[ $rc -eq 1 ] && grep -q 'pocl-opencl-icd' $tmp/n.log"

# usage errors: exit 2, one line
"$bin" train --epochs zero > "$tmp/u.log" 2>&1; rc=$?
check "bad number -> exit 2 (got $rc)" "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ]"
"$bin" train --bogus > "$tmp/u.log" 2>&1; rc=$?
check "unknown option -> exit 2 (got $rc)" "[ $rc -eq 2 ]"
"$bin" eval --model "$tmp/missing.safetensors" > "$tmp/u.log" 2>&1; rc=$?
check "missing checkpoint -> exit 1 naming the file" "[ $rc -eq 1 ] && grep -q missing.safetensors $tmp/u.log"
head -c 100 "$tmp/a.safetensors" > "$tmp/trunc.safetensors"
"$bin" eval --model "$tmp/trunc.safetensors" > "$tmp/u.log" 2>&1; rc=$?
check "truncated checkpoint -> exit 1, one line" "[ $rc -eq 1 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ]"
"$bin" eval --model "$tmp/a.safetensors" --data "cifar10:/nonexistent" > "$tmp/u.log" 2>&1; rc=$?
check "missing data dir -> exit 1" "[ $rc -eq 1 ]"
"$bin" nosuchcommand > /dev/null 2>&1; rc=$?
check "unknown command -> exit 2" "[ $rc -eq 2 ]"
finish
