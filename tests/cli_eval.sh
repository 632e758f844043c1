#!/usr/bin/env bash
# robustcl eval with OOD sets, calibration, an attack and the score dump: the JSON
# fields are present, finite and in range, and AUROC, RMS/MAD and the error
# recomputed from the dump (here, in awk) equal what eval reported.
set -u
bin="$1"
. "$(dirname "$0")/testlib.sh"
export ROBUSTCL_QUIET=1
N=200      # test images: OOD draws of N/5 = 40
"$bin" train --data 'fashion-mnist,n=256' --arch wrn-10-1 --batch 64 --epochs 1 --out "$tmp/m.safetensors" \
    > "$tmp/train.log" 2>&1
check "tiny checkpoint trained: $(tail -1 "$tmp/train.log")" "[ -s $tmp/m.safetensors ]"

"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist,split=test,n=$N" --ood 'gaussian;blobs' \
    --calibration --val 'fashion-mnist,split=train,n=100,seed=9' \
    --dump-scores "$tmp/s.tsv" --json "$tmp/e.json" --dump-logits "$tmp/l.bin" > "$tmp/e.log" 2>&1
rc=$?
check "eval runs (rc $rc): $(tail -1 "$tmp/e.log")" "[ $rc -eq 0 ]"

# A JSON file flattened to "path<TAB>value" lines (the writer puts one value per line).
flatten() {
    awk '{ s = $0; sub(/^[ \t]+/, "", s); sub(/,$/, "", s)
       if (s == "}" || s == "]") { d--; next }
       k = ""
       if (match(s, /^"[^"]*": /)) { k = substr(s, 2, RLENGTH - 4); s = substr(s, RLENGTH + 1) }
       else if (d > 0 && arr[d]) k = cnt[d]++
       p = (d > 0 && pre[d] != "") ? pre[d] "." k : k
       if (s == "{" || s == "[") { d++; pre[d] = p; arr[d] = (s == "["); cnt[d] = 0; next }
       gsub(/^"|"$/, "", s); print p "\t" s }' "$1"
}
flatten "$tmp/e.json" > "$tmp/flat"
flat="$tmp/flat"
get() { awk -F'\t' -v k="$1" '$1 == k { print $2; exit }' "$flat"; }
# a finite number in [lo, hi] (NaN/Inf would be null)
in_range() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ && x + 0 >= lo && x + 0 <= hi) }'; }
near() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= t) }'; }

for key in ood.sets.0 ood.sets.1 ood.mean; do
    for m in auroc aupr fpr_paper fpr_first; do
        v=$(get "$key.$m")
        check "$key.$m = '$v' is in [0,1]" "in_range '$v' 0 1"
    done
done
check "existing fields kept: error, per_class_error, provenance" \
    "in_range '$(get error)' 0 1 && [ -n \"\$(get per_class_error.9)\" ] && [ -n \"\$(get provenance.robustcl_version)\" ]"
check "draws: 5 of $((N / 5)), not used whole" \
    "[ '$(get ood.sets.0.draws)' = 5 ] && [ '$(get ood.sets.0.draw_size)' = $((N / 5)) ] && [ '$(get ood.sets.1.used_whole)' = false ]"
check "ROC grid: 101 points ending at (1,1)" \
    "[ '$(get ood.sets.0.roc.fpr.100)' = 1 ] && near '$(get ood.sets.0.roc.tpr.100)' 1 1e-12 && [ -z \"\$(get ood.sets.0.roc.fpr.101)\" ]"
for m in rms mad at_1.rms_paper at_1.mad_paper at_1.rms_textbook at_1.mad_textbook at_1.ece at_1.aurra \
         at_T.rms_textbook at_T.ece; do
    v=$(get "calibration.$m")
    check "calibration.$m = '$v' is in [0,1]" "in_range '$v' 0 1"
done
T=$(get calibration.temperature.T)
check "tuned T = '$T' in [0.2, 5], paper mode uses T = 1" \
    "in_range '$T' 0.2 5 && [ '$(get calibration.temperature.used)' = 1 ] && [ '$(get calibration.mode)' = paper ]"

# ---- the dump ----
rows=$(wc -l < "$tmp/s.tsv")
check "dump rows: header + $N ID + 2 sets x 5 draws x $((N / 5)) (got $rows)" "[ $rows -eq $((1 + N + 2 * 5 * N / 5)) ]"
check "dump header" "head -1 $tmp/s.tsv | grep -qx \$'set\tname\tdraw\tindex\tlabel\tpredicted\tconfidence\tconfidence_t\tmsp_score\tcorrect'"
check "logits dump: $N x 10 float32" "[ \$(stat -c %s $tmp/l.bin) -eq $((N * 10 * 4)) ]"

# AUROC per draw by counting pairs (ties 1/2), averaged over the draws, per set
for s in 0 1; do
    got=$(awk -F'\t' -v set="ood$s" '
        NR > 1 && $1 == "id" { id[nid++] = $9 }
        NR > 1 && $1 == set { o[$3, no[$3]++] = $9; if ($3 + 1 > nd) nd = $3 + 1 }
        END { for (d = 0; d < nd; d++) { w = 0
                  for (i = 0; i < no[d]; i++) for (j = 0; j < nid; j++) w += o[d, i] > id[j] ? 1 : o[d, i] == id[j] ? 0.5 : 0
                  sum += w / (no[d] * nid) }
              printf "%.17g", sum / nd }' "$tmp/s.tsv")
    want=$(get ood.sets.$s.auroc)
    check "set $s: AUROC from the dump $got = JSON $want" "near '$got' '$want' 1e-12"
done

# RMS/MAD with bins of 100 after a stable sort by confidence (column 7, or 8 at the tuned T);
# paper mode skips the last bin and still divides by N
calib() { # column paper_flag -> "rms mad"
    awk -F'\t' 'NR > 1 && $1 == "id"' "$tmp/s.tsv" | sort -t$'\t' -s -g -k"$1,$1" |
        awk -F'\t' -v col="$1" -v paper="$2" '{ c[NR - 1] = $col; ok[NR - 1] = $10 }
            END { n = NR; nb = int(n / 100); if (nb == 0) nb = 1
                  for (b = 0; b < nb - (paper && n >= 100 ? 1 : 0); b++) {
                      lo = b * 100; hi = (b == nb - 1) ? n : lo + 100; sc = 0; sa = 0
                      for (i = lo; i < hi; i++) { sc += c[i]; sa += ok[i] }
                      g = (sc - sa) / (hi - lo); sq += (hi - lo) * g * g / n; ab += (hi - lo) * (g < 0 ? -g : g) / n }
                  printf "%.17g %.17g", sqrt(sq), ab }'
}
read -r rms mad <<< "$(calib 7 1)"
check "paper RMS $rms / MAD $mad from the dump = JSON" \
    "near '$rms' '$(get calibration.at_1.rms_paper)' 1e-12 && near '$mad' '$(get calibration.at_1.mad_paper)' 1e-12 && near '$rms' '$(get calibration.rms)' 1e-12"
read -r rms mad <<< "$(calib 7 0)"
check "textbook RMS $rms / MAD $mad from the dump = JSON" \
    "near '$rms' '$(get calibration.at_1.rms_textbook)' 1e-12 && near '$mad' '$(get calibration.at_1.mad_textbook)' 1e-12"
read -r rms mad <<< "$(calib 8 0)"
check "textbook RMS at the tuned T from confidence_t = JSON" "near '$rms' '$(get calibration.at_T.rms_textbook)' 1e-12"
err=$(awk -F'\t' 'NR > 1 && $1 == "id" { n++; w += !$10 } END { printf "%.17g", w / n }' "$tmp/s.tsv")
check "error from the dump $err = JSON" "near '$err' '$(get error)' 1e-12 && near '$err' '$(get calibration.error)' 1e-12"

# an attack (on few images: it is the slow part)
"$bin" eval --model "$tmp/m.safetensors" --data 'fashion-mnist,split=test,n=32' --attack 'fgsm:eps=8/255' \
    --json "$tmp/a.json" > "$tmp/a.log" 2>&1
rc=$?
flatten "$tmp/a.json" > "$tmp/aflat"
flat="$tmp/aflat"
check "--attack fgsm: adversarial accuracy <= clean, max |x_adv - x| <= 8/255 (rc $rc)" \
    "[ $rc -eq 0 ] && [ '$(get adversarial.images)' = 32 ] && in_range '$(get adversarial.max_linf)' 0 0.03138 &&
     in_range '$(get adversarial.adversarial_accuracy)' 0 '$(get adversarial.clean_accuracy)'"

# repeated --ood is the same as a ';' list (same draws, same dump but confidence_t: no --val here)
"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist,split=test,n=$N" --ood gaussian --ood blobs \
    --dump-scores "$tmp/s2.tsv" > /dev/null 2>&1
check "--ood A --ood B dumps the same OOD rows as --ood 'A;B'" \
    "cmp -s <(grep -v '^id' $tmp/s.tsv | cut -f1-7,9-) <(grep -v '^id' $tmp/s2.tsv | cut -f1-7,9-)"

# usage errors: exit 2 with one line; bad data: exit 1
"$bin" eval --model "$tmp/m.safetensors" --calibration-mode best > "$tmp/u.log" 2>&1; rc=$?
check "bad --calibration-mode -> exit 2, one line (got $rc)" "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ]"
"$bin" eval --model "$tmp/m.safetensors" --draws 0 > "$tmp/u.log" 2>&1; rc=$?
check "--draws 0 -> exit 2 (got $rc)" "[ $rc -eq 2 ]"
"$bin" eval --model "$tmp/m.safetensors" --attack 'pgd:eps=2' > "$tmp/u.log" 2>&1; rc=$?
check "bad --attack -> exit 2 naming the spec (got $rc)" "[ $rc -eq 2 ] && grep -q 'eps' $tmp/u.log"
"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist,split=test,n=$N" --ood 'gaussian;nosuchkind' \
    > "$tmp/u.log" 2>&1; rc=$?
check "unknown OOD set -> exit 2 naming it (got $rc)" "[ $rc -eq 2 ] && grep -q nosuchkind $tmp/u.log"
"$bin" eval --model "$tmp/m.safetensors" --data "fashion-mnist,split=test,n=$N" --ood 'cifar10:/nonexistent' \
    > "$tmp/u.log" 2>&1; rc=$?
check "missing OOD data -> exit 1 (got $rc)" "[ $rc -eq 1 ]"
finish
