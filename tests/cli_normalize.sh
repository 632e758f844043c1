#!/usr/bin/env bash
# --normalize (spec §3): a checkpoint trained with the CIFAR mean/std records it, eval uses
# it by default (same error as the trainer measured, same logits as an explicit --normalize
# cifar); a different explicit value is used with one warning line; checkpoints without the
# record read as 0.5/0.5; a resume cannot switch; bad values are one-line usage errors.
set -u
bin="$1"
. "$(dirname "$0")/testlib.sh"
json() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2" 2>/dev/null; }
export ROBUSTCL_QUIET=1
test_set='fashion-mnist,split=test,n=64'

"$bin" train --data 'fashion-mnist,n=128' --test "$test_set" --arch wrn-10-1 --batch 64 --epochs 1 \
    --normalize cifar --out "$tmp/c.safetensors" --json "$tmp/t.json" > "$tmp/train.log" 2>&1
check "trained with --normalize cifar: $(tail -1 "$tmp/train.log")" "[ -s $tmp/c.safetensors ]"
meta=$(python3 -c 'import json, struct, sys
b = open(sys.argv[1], "rb").read(); n = struct.unpack("<Q", b[:8])[0]
print(json.loads(b[8:8 + n])["__metadata__"]["normalisation"])' "$tmp/c.safetensors")
check "checkpoint metadata records the CIFAR mean/std ($meta)" \
    "[ '$meta' = 'mean=0.491372555,0.482352942,0.446666658 std=0.247058824,0.243529409,0.261568606' ]"

"$bin" eval --model "$tmp/c.safetensors" --data "$test_set" --json "$tmp/e.json" --dump-logits "$tmp/l0.bin" \
    > "$tmp/e.log" 2> "$tmp/e.err"; rc=$?
check "eval without --normalize: cifar from the metadata, no warning (rc $rc)" \
    "[ $rc -eq 0 ] && [ '$(json "$tmp/e.json" normalization)' = cifar ] && [ ! -s $tmp/e.err ]"
check "eval's error $(json "$tmp/e.json" error) = the trainer's test error $(json "$tmp/t.json" test_error)" \
    "[ '$(json "$tmp/e.json" error)' = '$(json "$tmp/t.json" test_error)' ]"
"$bin" eval --model "$tmp/c.safetensors" --data "$test_set" --normalize cifar --dump-logits "$tmp/l1.bin" \
    > /dev/null 2>&1
check "explicit --normalize cifar gives the same logits" "cmp -s $tmp/l0.bin $tmp/l1.bin"
"$bin" eval --model "$tmp/c.safetensors" --data "$test_set" --normalize half --json "$tmp/h.json" \
    --dump-logits "$tmp/l2.bin" > /dev/null 2> "$tmp/h.err"; rc=$?
check "a mismatched --normalize half runs (rc $rc) with one warning naming both: $(cat "$tmp/h.err")" \
    "[ $rc -eq 0 ] && [ \$(wc -l < $tmp/h.err) -eq 1 ] && grep -q 'warning: .*c.safetensors records --normalize cifar .*; evaluating with half as asked' $tmp/h.err"
check "... and really uses 0.5/0.5 (other logits, JSON says half)" \
    "! cmp -s $tmp/l0.bin $tmp/l2.bin && [ '$(json "$tmp/h.json" normalization)' = half ]"
"$bin" eval --model "$tmp/c.safetensors" --data "$test_set" --normalize 0.491372555,0.482352942,0.446666658/0.247058824,0.243529409,0.261568606 \
    --dump-logits "$tmp/l3.bin" > /dev/null 2> "$tmp/x.err"
check "the explicit M1,M2,M3/S1,S2,S3 form of the CIFAR values is cifar (no warning, same logits)" \
    "[ ! -s $tmp/x.err ] && cmp -s $tmp/l0.bin $tmp/l3.bin"

# a checkpoint written before the normalisation was recorded (metadata "mean=0.5 std=0.5 (input 2x-1)")
"$bin" eval --model "$RCL_TEST_DATA/rcl_trained.safetensors" --data "$test_set" --json "$tmp/o.json" \
    > /dev/null 2> "$tmp/o.err"; rc=$?
check "an older checkpoint evaluates as half (rc $rc)" \
    "[ $rc -eq 0 ] && [ '$(json "$tmp/o.json" normalization)' = half ] && [ ! -s $tmp/o.err ]"

"$bin" train --data 'fashion-mnist,n=128' --arch wrn-10-1 --batch 64 --epochs 1 --normalize half --resume \
    --out "$tmp/c.safetensors" > "$tmp/r.log" 2>&1; rc=$?
check "a resume with another --normalize is refused in one line (rc $rc: $(tail -1 "$tmp/r.log"))" \
    "[ $rc -eq 1 ] && [ \$(grep -vc '^robustcl: wrn-' $tmp/r.log) -eq 1 ] && grep -q 'cannot switch to half' $tmp/r.log"

for bad in foo '0.5,0.5/0.5' '0.5,0.5,0.5/0,1,1' '2,0,0/1,1,1' ''; do
    for cmd in train eval; do
        arg=--model; [ $cmd = train ] && arg=--out
        "$bin" $cmd $arg "$tmp/c.safetensors" --normalize "$bad" > "$tmp/u.log" 2>&1; rc=$?
        check "$cmd --normalize '$bad' -> exit 2, one line (got $rc: $(head -1 "$tmp/u.log"))" \
            "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ] && grep -q -- '--normalize' $tmp/u.log"
    done
done
finish
