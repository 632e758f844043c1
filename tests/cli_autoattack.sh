#!/usr/bin/env bash
# robustcl eval --attack autoattack: the table, the JSON and the score dump's autoattack column
# agree with each other (robust and clean counts recomputed from the dump), robust accuracy
# falls or holds from one attack to the next, the perturbation stays within eps, eps 0 leaves
# the clean accuracy, and the same seed repeats the per-image outcomes.
set -u
bin="$1"
. "$(dirname "$0")/testlib.sh"
export ROBUSTCL_QUIET=1
"$bin" train --data 'fashion-mnist,n=256' --arch wrn-10-1 --batch 64 --epochs 1 --out "$tmp/m.safetensors" \
    > "$tmp/train.log" 2>&1
check "tiny checkpoint trained: $(tail -1 "$tmp/train.log")" "[ -s $tmp/m.safetensors ]"

spec='autoattack:eps=2/255,n=48,iters=12,targets=3,queries=60,seed=4'
aa() { "$bin" eval --model "$tmp/m.safetensors" --data 'fashion-mnist,split=test' --batch 32 "$@"; }
aa --attack "$spec" --json "$tmp/a.json" --dump-scores "$tmp/a.tsv" > "$tmp/a.log" 2>&1
check "eval --attack autoattack ran: $(tail -1 "$tmp/a.log")" "grep -q 'AutoAttack robust accuracy' $tmp/a.log"
for a in apgd-ce apgd-t fab-t square; do
  check "the table lists $a" "grep -qE '^  $a +[0-9.]+%' $tmp/a.log"
done
# the JSON's numbers, as a=b lines
python_free() {  # no Python in CI: a flat extraction of the fields that matter
  tr -d ' \n' < "$1" | grep -oE '"autoattack":\{[^]]*\]\}' |
    sed -e 's/"after":\[/\n/' -e 's/},{/\n/g'
}
j=$(python_free "$tmp/a.json")
field() { grep -o "\"$1\":[0-9.e+-]*" <<< "$j" | head -1 | cut -d: -f2; }
images=$(field images); clean=$(field clean_accuracy); robust=$(field robust_accuracy)
maxl=$(field max_linf)
check "48 images attacked ($images)" "[ '$images' = 48 ]"
after=$(grep -o '"robust_accuracy":[0-9.e+-]*' <<< "$j" | tail -4 | cut -d: -f2 | tr '\n' ' ')
check "robust accuracy after each attack never rises: $after" \
  "awk -v s='$after' 'BEGIN{n=split(s,a,\" \"); for(i=2;i<=n;i++) if (a[i] > a[i-1]) exit 1}'"
check "the last attack's robust accuracy is the ensemble's ($robust)" \
  "[ \"\$(echo $after | awk '{print \$NF}')\" = '$robust' ]"
order=$(grep -o '"attack":"[a-z-]*"' <<< "$j" | cut -d'"' -f4 | tr '\n' ' ')
check "the standard version's attacks in order: $order" "[ '$order' = 'apgd-ce apgd-t fab-t square ' ]"
check "max |x_adv - x| $maxl <= 2/255" "awk -v m='$maxl' 'BEGIN{exit !(m <= 2/255 + 1e-6)}'"
# the dump: a last column, one outcome per attacked image, '-' for the rest
col=$(head -1 "$tmp/a.tsv" | awk -F'\t' '{print $NF}')
check "the dump's last column is autoattack ($col)" "[ '$col' = autoattack ]"
n_out=$(awk -F'\t' 'NR>1 && $1=="id" && $11!="-"' "$tmp/a.tsv" | wc -l)
check "48 images have an outcome ($n_out)" "[ $n_out = 48 ]"
rob=$(awk -F'\t' 'NR>1 && $11=="robust"' "$tmp/a.tsv" | wc -l)
cln=$(awk -F'\t' 'NR>1 && $11!="-" && $11!="misclassified"' "$tmp/a.tsv" | wc -l)
check "robust images in the dump ($rob) = the JSON's $robust of 48" \
  "awk -v r=$rob -v a='$robust' 'BEGIN{exit !(r == int(a*48 + 0.5))}'"
check "clean-correct images in the dump ($cln) = the JSON's $clean of 48" \
  "awk -v r=$cln -v a='$clean' 'BEGIN{exit !(r == int(a*48 + 0.5))}'"
mis=$(awk -F'\t' 'NR>1 && $11=="misclassified" && $10!=0' "$tmp/a.tsv" | wc -l)
check "misclassified means the clean prediction is wrong ($mis disagree)" "[ $mis = 0 ]"
# norm=l2: the table, the JSON and the dump agree, and the kept points lie in the L2 ball
l2spec='autoattack:norm=l2,eps=0.3,n=48,iters=12,targets=3,queries=60,seed=4'
aa --attack "$l2spec" --json "$tmp/l.json" --dump-scores "$tmp/l.tsv" > "$tmp/l.log" 2>&1
check "eval --attack autoattack:norm=l2 ran: $(tail -1 "$tmp/l.log")" \
  "grep -q 'AutoAttack robust accuracy .*(standard, L2); max |x_adv - x|_2' $tmp/l.log && grep -q 'norm=l2' $tmp/l.log"
j=$(python_free "$tmp/l.json")
l2robust=$(field robust_accuracy); l2max=$(field max_l2)
check "the JSON records norm l2" "tr -d ' \n' < $tmp/l.json | grep -qF '\"norm\":\"l2\"'"
l2order=$(grep -o '"attack":"[a-z-]*"' <<< "$j" | cut -d'"' -f4 | tr '\n' ' ')
check "L2's standard version runs all four attacks in order: $l2order" \
  "[ '$l2order' = 'apgd-ce apgd-t fab-t square ' ] && grep -qE '^  fab-t ' $tmp/l.log"
check "max |x_adv - x|_2 $l2max <= 0.3" "awk -v m='$l2max' 'BEGIN{exit !(m > 0 && m <= 0.3 + 1e-5)}'"
table=$(grep -oE '^AutoAttack robust accuracy [0-9.]+' "$tmp/l.log" | awk '{print $NF}')
check "the table's robust accuracy $table% is the JSON's $l2robust" \
  "awk -v t='$table' -v a='$l2robust' 'BEGIN{exit !(t - 100*a < 0.006 && 100*a - t < 0.006)}'"
l2rob=$(awk -F'\t' 'NR>1 && $11=="robust"' "$tmp/l.tsv" | wc -l)
check "robust images in the L2 dump ($l2rob) = the JSON's $l2robust of 48" \
  "awk -v r=$l2rob -v a='$l2robust' 'BEGIN{exit !(r == int(a*48 + 0.5))}'"
l2fool=$(awk -F'\t' 'NR>1 && ($11=="apgd-ce" || $11=="apgd-t" || $11=="fab-t" || $11=="square")' "$tmp/l.tsv" | wc -l)
check "L2 fools some images at 0.3 ($l2fool)" "[ $l2fool -gt 0 ]"
# the same seed repeats the outcomes; eps 0 keeps every clean-correct image
aa --attack "$spec" --dump-scores "$tmp/b.tsv" > /dev/null 2>&1
check "the same seed repeats the per-image outcomes" "cmp -s <(cut -f11 $tmp/a.tsv) <(cut -f11 $tmp/b.tsv)"
aa --attack 'autoattack:eps=0,n=48,iters=5,targets=2,queries=10' --dump-scores "$tmp/z.tsv" > "$tmp/z.log" 2>&1
fooled=$(awk -F'\t' 'NR>1 && $11!="-" && $11!="robust" && $11!="misclassified"' "$tmp/z.tsv" | wc -l)
check "eps 0 fools nothing ($fooled fooled)" "[ $fooled = 0 ]"
finish
