#!/usr/bin/env bash
# robustcl eval --corruptions on a corruption folder made here from Fashion-MNIST's first 100
# test images (N = 20 a severity): "gaussian_noise" holds the images themselves, so its error
# at severity s is the clean error of images 20(s-1)..20s-1 and its mean the clean error of
# all 100 (a clean set written as IDX files from the same bytes); "contrast" holds blank
# images; "saturate" is an extra one. Then --baseline with the model's own JSON, with another
# checkpoint (as it and as its JSON) and with known errors, generated corruptions (robustcl
# corrupt, eval --corrupt), and bad input.
set -u
bin="$1"
. "$(dirname "$0")/testlib.sh"
export ROBUSTCL_QUIET=1
fm=${RCL_FASHION_MNIST_DIR:-/usr/share/datasets/fashion-mnist}
M=100
"$bin" train --data 'fashion-mnist,n=256' --arch wrn-10-1 --batch 64 --epochs 1 --out "$tmp/m.safetensors" \
    > "$tmp/train.log" 2>&1
check "tiny checkpoint trained: $(tail -1 "$tmp/train.log")" "[ -s $tmp/m.safetensors ]"

# the first M test images and labels, raw
zcat -f "$fm/t10k-images-idx3-ubyte"* | tail -c +17 | head -c $((M * 784)) > "$tmp/img.raw"
zcat -f "$fm/t10k-labels-idx1-ubyte"* | tail -c +9 | head -c $M > "$tmp/lab.raw"
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))"; \
         printf "\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
mkdir -p "$tmp/clean" "$tmp/c"
{ be32 2051; be32 $M; be32 28; be32 28; cat "$tmp/img.raw"; } > "$tmp/clean/t10k-images-idx3-ubyte"
{ be32 2049; be32 $M; cat "$tmp/lab.raw"; } > "$tmp/clean/t10k-labels-idx1-ubyte"
cp "$tmp/clean/t10k-images-idx3-ubyte" "$tmp/clean/train-images-idx3-ubyte"
cp "$tmp/clean/t10k-labels-idx1-ubyte" "$tmp/clean/train-labels-idx1-ubyte"
# npy_u8 FILE SHAPE < bytes: a .npy v1 of uint8 (header padded to 64 bytes with its newline)
npy_u8() {
    local h="{'descr': '|u1', 'fortran_order': False, 'shape': ($2), }"
    local total=$(((10 + ${#h} + 1 + 63) / 64 * 64))
    local hl=$((total - 10)) pad=$((total - 10 - ${#h} - 1))
    { printf '\x93NUMPY\x01\x00'; printf "\\x$(printf %02x $((hl & 255)))\\x$(printf %02x $((hl >> 8)))"
      printf '%s' "$h"; printf "%${pad}s" ''; printf '\n'; cat; } > "$1"
}
npy_u8 "$tmp/c/gaussian_noise.npy" "$M, 28, 28, 1" < "$tmp/img.raw"
head -c $((M * 784)) /dev/zero | npy_u8 "$tmp/c/contrast.npy" "$M, 28, 28, 1"
npy_u8 "$tmp/c/saturate.npy" "$M, 28, 28, 1" < "$tmp/img.raw"
npy_u8 "$tmp/c/labels.npy" "$M," < "$tmp/lab.raw"
echo junk > "$tmp/c/not_a_corruption.npy"

"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist:$tmp/clean" --corruptions "$tmp/c" \
    --json "$tmp/e.json" > "$tmp/e.log" 2>&1
rc=$?
check "eval --corruptions runs (rc $rc): $(tail -1 "$tmp/e.log")" "[ $rc -eq 0 ]"
# one value per line: "key": value, or a bare array element
num() { awk -v k="\"$1\":" '$1 == k { v = $2; sub(/,$/, "", v); print v; exit }' "$tmp/e.json"; }
arr() { awk -v k="\"$1\":" 'f && /\]/ { exit } f { v = $1; sub(/,$/, "", v); printf "%s ", v } $1 == k { f = 1 }' "$tmp/e.json"; }
clean=$(num clean_error)
g=$(arr gaussian_noise)
check "5 errors for gaussian_noise: '$g'" "[ \$(echo $g | wc -w) -eq 5 ]"
check "gaussian_noise (the clean images) averages to the clean error $clean" \
    "awk -v c='$clean' 'BEGIN { n = split(\"$g\", e, \" \"); s = 0; for (i = 1; i <= n; i++) s += e[i]; d = s / 5 - c; exit !(c != \"\" && (d < 0 ? -d : d) < 1e-12) }'"
check "saturate, the same images, has the same errors" "[ \"\$(arr saturate)\" = \"$g\" ]"
mce=$(num mean_corruption_error)
cn=$(arr contrast)
check "mCE $mce = the mean of gaussian_noise and contrast, not saturate (an extra one)" \
    "awk 'BEGIN { n = split(\"$g $cn\", e, \" \"); s = 0; for (i = 1; i <= n; i++) s += e[i]; d = s / 10 - $mce; exit !(n == 10 && (d < 0 ? -d : d) < 1e-12) }'"
check "standard_corruptions 2, baseline null" "[ '$(num standard_corruptions)' = 2 ] && [ '$(num baseline)' = null ]"
check "the table names each corruption once" \
    "[ \$(grep -cE '^(gaussian_noise|contrast|saturate) ' $tmp/e.log) -eq 3 ] && ! grep -q not_a_corruption $tmp/e.log"

"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist:$tmp/clean" --corruptions "$tmp/c" \
    --baseline "$tmp/e.json" --json "$tmp/b.json" > "$tmp/b.log" 2>&1
rc=$?
check "against itself (rc $rc): $(tail -1 "$tmp/b.log")" "[ $rc -eq 0 ]"
bm=$(awk '$1 == "\"mce\":" { v = $2; sub(/,$/, "", v); print v; exit }' "$tmp/b.json")
check "its own baseline: mCE = 1 ('$bm')" "awk 'BEGIN { d = $bm - 1; exit !((d < 0 ? -d : d) < 1e-12) }'"
check "relative CE of gaussian_noise (no loss to the corruption) is null" \
    "awk '/\"relative_ce\"/ { f = 1 } f && \$1 == \"\\\"gaussian_noise\\\":\" { print; exit }' $tmp/b.json | grep -q null"

# a baseline checkpoint is evaluated here: the same numbers as its earlier --json
"$bin" train --data 'fashion-mnist,n=256' --arch wrn-10-1 --batch 64 --epochs 1 --seed 7 --out "$tmp/m2.safetensors" \
    > /dev/null 2>&1
"$bin" eval --model "$tmp/m2.safetensors" --data "fashion-mnist:$tmp/clean" --corruptions "$tmp/c" \
    --json "$tmp/m2.json" > /dev/null 2>&1
for b in m2.safetensors m2.json; do
    "$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist:$tmp/clean" --corruptions "$tmp/c" \
        --baseline "$tmp/$b" --json "$tmp/vs-$b.json" > "$tmp/vs.log" 2>&1
    rc=$?
    check "--baseline $b runs (rc $rc): $(tail -1 "$tmp/vs.log")" "[ $rc -eq 0 ]"
done
base_of() { awk '/"baseline": \{/ { f = 1 } f && !/"file"/ { print } f && /^    }/ { exit }' "$1"; }
check "a checkpoint baseline gives what its --json gives" \
    "[ -n \"\$(base_of $tmp/vs-m2.json.json)\" ] && [ \"\$(base_of $tmp/vs-m2.json.json)\" = \"\$(base_of $tmp/vs-m2.safetensors.json)\" ]"

# a baseline with known errors: CE and rCE recomputed here from the formulas of spec §12
cat > "$tmp/base.json" <<JSON
{"corruptions": {"clean_error": 0.5, "errors": {"gaussian_noise": [0.6, 0.6, 0.7, 0.7, 0.9],
 "contrast": [0.55, 0.6, 0.65, 0.7, 0.75], "saturate": [0.5, 0.5, 0.5, 0.5, 0.5]}}}
JSON
"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist:$tmp/clean" --corruptions "$tmp/c" \
    --baseline "$tmp/base.json" --json "$tmp/k.json" > "$tmp/k.log" 2>&1
rc=$?
check "against a baseline with known errors (rc $rc): $(tail -1 "$tmp/k.log")" "[ $rc -eq 0 ]"
kv() { awk -v k="\"$1\":" '$1 == k { v = $2; sub(/,$/, "", v); print v; exit }' "$tmp/k.json"; }
want=$(awk -v c="$clean" -v g="$g" -v n="$cn" 'BEGIN {
    split(g, a, " "); split(n, b, " "); split("0.6 0.6 0.7 0.7 0.9", ga, " "); split("0.55 0.6 0.65 0.7 0.75", cb, " ")
    for (i = 1; i <= 5; i++) { sg += a[i]; sc += b[i]; bg += ga[i]; bc += cb[i] }
    printf "%.12f %.12f", (sg / bg + sc / bc) / 2, ((sg - 5 * c) / (bg - 2.5) + (sc - 5 * c) / (bc - 2.5)) / 2 }')
check "mCE and relative mCE '$(kv mce) $(kv relative_mce)' = '$want' (2 corruptions)" \
    "awk 'BEGIN { split(\"$want\", w, \" \"); d1 = $(kv mce) - w[1]; d2 = $(kv relative_mce) - w[2]
                  exit !((d1 < 0 ? -d1 : d1) < 1e-9 && (d2 < 0 ? -d2 : d2) < 1e-9) }' && [ '$(kv relative_corruptions)' = 2 ]"

# generated corruptions: written by `corrupt` and read back by --corruptions, they give what
# --corrupt gives on the same images and seed
"$bin" corrupt --data "fashion-mnist:$tmp/clean,split=test" --out "$tmp/g" --corrupt fog,contrast --seed 3 \
    > "$tmp/g.log" 2>&1
rc=$?
check "corrupt writes fog and contrast (rc $rc)" "[ $rc -eq 0 ] && [ -s $tmp/g/fog.npy ] && [ -s $tmp/g/labels.npy ]"
"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist:$tmp/clean" --corruptions "$tmp/g" \
    --json "$tmp/g1.json" > /dev/null 2>&1
"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist:$tmp/clean" --corrupt fog,contrast --seed 3 \
    --json "$tmp/g2.json" > /dev/null 2>&1
errs() { awk '/"errors"/ { f = 1 } f { print } /^    }/ && f { exit }' "$1"; }
check "eval --corruptions of the written files = eval --corrupt" \
    "[ -n \"\$(errs $tmp/g1.json)\" ] && [ \"\$(errs $tmp/g1.json)\" = \"\$(errs $tmp/g2.json)\" ]"

# bad input: one line naming the option or the file, non-zero exit (2 for usage)
for args in "--corrupt fogg" "--corrupt fog,fogg" "--corrupt fog --corruptions $tmp/c" "--corrupt fog,frost"; do
    "$bin" eval --model "$tmp/m.safetensors" $args > "$tmp/x.log" 2>&1
    rc=$?
    check "eval $args: usage, exit 2, one line (rc $rc): $(head -1 "$tmp/x.log")" \
        "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/x.log) -eq 1 ] && grep -q -- --corrupt $tmp/x.log"
done
"$bin" corrupt --data "fashion-mnist:$tmp/clean,split=test" > "$tmp/x.log" 2>&1
rc=$?
check "corrupt without --out: usage, exit 2 (rc $rc)" "[ $rc -eq 2 ] && grep -q -- --out $tmp/x.log"
"$bin" eval --model "$tmp/m.safetensors" --baseline "$tmp/e.json" > "$tmp/x.log" 2>&1
rc=$?
check "--baseline without --corruptions: usage, exit 2 (rc $rc)" "[ $rc -eq 2 ] && grep -q -- --baseline $tmp/x.log"
mkdir -p "$tmp/empty"
"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist:$tmp/clean" --corruptions "$tmp/empty" > "$tmp/x.log" 2>&1
rc=$?
check "a folder with no corruption file: one line, exit 1 (rc $rc)" \
    "[ $rc -eq 1 ] && [ \$(wc -l < $tmp/x.log) -eq 1 ] && grep -q 'no corruption file' $tmp/x.log"
cp "$tmp/c/labels.npy" "$tmp/empty/labels.npy"
head -c $((99 * 784)) "$tmp/img.raw" | npy_u8 "$tmp/empty/fog.npy" "99, 28, 28, 1"
"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist:$tmp/clean" --corruptions "$tmp/empty" > "$tmp/x.log" 2>&1
rc=$?
check "99 images (not 5 severities) are refused, naming the file (rc $rc)" \
    "[ $rc -eq 1 ] && grep -q 'fog.npy' $tmp/x.log && [ \$(wc -l < $tmp/x.log) -eq 1 ]"
head -c $((M * 784)) "$tmp/img.raw" | npy_u8 "$tmp/empty/fog.npy" "$M, 28, 28, 1"
head -c 50 "$tmp/lab.raw" | npy_u8 "$tmp/empty/labels.npy" "50,"
"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist:$tmp/clean" --corruptions "$tmp/empty" > "$tmp/x.log" 2>&1
rc=$?
check "50 labels for 100 images are refused, naming labels.npy (rc $rc)" \
    "[ $rc -eq 1 ] && grep -q 'labels.npy' $tmp/x.log"
echo '{"corruptions": {"clean_error": 0.1, "errors": {}}}' > "$tmp/bad.json"
"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist:$tmp/clean" --corruptions "$tmp/c" \
    --baseline "$tmp/bad.json" > "$tmp/x.log" 2>&1
rc=$?
check "a baseline without the corruptions evaluated is refused (rc $rc)" \
    "[ $rc -eq 1 ] && grep -q 'no 5 errors for gaussian_noise' $tmp/x.log"
finish
