#!/usr/bin/env bash
# What the suites declare before running anything: the imbalance profiles and their class
# sizes in --describe (CIFAR-LT golden count: CIFAR-10 rho 100 = 12406), the corruption row's
# subset, seed and cost (suite paper: its CIFAR-10-C/CIFAR-100-C folders), the AutoAttack row
# (opt-in in mini, --autoattack-n in every paper plan command), suite paper's
# normalisation quirk, the SLURM script set of --plan-format slurm (bash -n, every run once,
# the dependencies, submit.sh against a stand-in sbatch), and the option errors. No training here.
set -u
bin="$1"
. "$(dirname "$0")/testlib.sh"
has() { grep -qF -- "$2" "$1"; }
export ROBUSTCL_QUIET=1

# ---- imbalance profiles in the declared grid ----
"$bin" suite mini --describe > "$tmp/d0.log" 2>&1
check "mini default: power law gamma 0.2 with its sizes, no CIFAR-LT" \
    "has $tmp/d0.log 'gamma 0.2: training images per class [1000, 64, 57, 52, 50] total 1223' && ! has $tmp/d0.log CIFAR-LT"
"$bin" suite mini --describe --imbalance-profile exp --rho 10,100 --imbalance-largest 100 > "$tmp/d1.log" 2>&1
check "mini exp: CIFAR-LT rho 10 and 100 with their sizes (floor 2), no power law" \
    "has $tmp/d1.log 'CIFAR-LT exponential profile rho = 10, 100' &&
     has $tmp/d1.log 'rho 10: training images per class [100, 56, 31, 17, 10] total 214' &&
     has $tmp/d1.log 'rho 100: training images per class [100, 31, 10, 3, 2] total 146' && ! has $tmp/d1.log 'power law'"
"$bin" suite mini --describe --imbalance-profile both --gamma 1 --imbalance-largest 50 > "$tmp/d2.log" 2>&1
check "mini both: gamma 1 and rho 100 with the largest class at 50" \
    "has $tmp/d2.log 'gamma 1: training images per class [50, 7, 3, 2, 2] total 64' &&
     has $tmp/d2.log 'rho 100: training images per class [50, 15, 5, 2, 2] total 74'"
"$bin" suite paper --data-root "$tmp" --describe --imbalance-profile exp > "$tmp/p1.log" 2>&1
check "paper exp: CIFAR-10 rho 100 = 12406 (golden), CIFAR-100 = 10847, no power law" \
    "has $tmp/p1.log 'cifar10 rho 100: training images per class [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50] total 12406' &&
     grep -q 'cifar100 rho 100: .* total 10847$' $tmp/p1.log && ! has $tmp/p1.log 'power law'"
"$bin" suite paper --data-root "$tmp" --describe > "$tmp/p0.log" 2>&1
check "paper default: Table 2's power law (CIFAR-10 gamma 0.2 total 7621), no CIFAR-LT" \
    "has $tmp/p0.log 'total 7621' && ! has $tmp/p0.log CIFAR-LT"
"$bin" suite paper --data-root "$tmp" --plan --imbalance-profile both > "$tmp/plan.txt" 2>&1
check "paper plan with both profiles: 446 runs, 10 of them CIFAR-LT" \
    "[ \$(wc -l < $tmp/plan.txt) -eq 446 ] && [ \$(grep -c '^cifar10*/imbalance-exp/100/' $tmp/plan.txt) -eq 10 ]"

# ---- the corruption row: its subset, seed and cost declared (spec §11.1) ----
check "mini default: mce on 50 test images per class, seed 0, frost left out; 4 seeds x 2 arms x 250 x 5 x 14 generated" \
    "has $tmp/d0.log 'mean corruption error (mce) on 50 target test images per class (a subset drawn with seed 0)' &&
     has $tmp/d0.log '(frost left out)' && has $tmp/d0.log '+ 140000 corrupted images generated'"
"$bin" suite mini --describe --corrupt-per-class 10 --corrupt-seed 7 --seeds 1 > "$tmp/c1.log" 2>&1
check "mini --corrupt-per-class 10 --corrupt-seed 7: declared, 2 arms x 50 x 5 x 14 generated" \
    "has $tmp/c1.log 'on 10 target test images per class (a subset drawn with seed 7)' &&
     has $tmp/c1.log 'corruption seed 7' && has $tmp/c1.log '+ 7000 corrupted images generated'"
"$bin" suite mini --describe --corrupt-per-class 0 > "$tmp/c0.log" 2>&1
check "mini --corrupt-per-class 0: no corruption row, nothing generated" \
    "! has $tmp/c0.log 'mean corruption error' && ! has $tmp/c0.log 'corrupted images' && has $tmp/c0.log 'evaluated images at'"
check "paper: the corruption folders it looks for, declared" \
    "has $tmp/p0.log 'released files in $tmp/CIFAR-10-C and $tmp/CIFAR-100-C when they are there'"

# ---- the normalisation quirk of suite paper (spec §3) ----
check "paper default: 0.5/0.5 for every run, declared" "has $tmp/p0.log 'input normalisation: 0.5/0.5 for every run'"
"$bin" suite paper --data-root "$tmp" --describe --quirk-normalize cifar > "$tmp/q.log" 2>&1
check "--quirk-normalize cifar: the Forward/GLC runs use the CIFAR mean/std, declared" \
    "has $tmp/q.log 'the Forward/GLC runs use the CIFAR mean/std (125.3,123.0,113.9)/255, (63.0,62.1,66.7)/255'"
"$bin" suite paper --data-root "$tmp" --plan --quirk-normalize cifar > "$tmp/qplan.txt" 2>&1
check "every plan command carries --quirk-normalize cifar" \
    "[ \$(grep -c ' --quirk-normalize cifar ' $tmp/qplan.txt) -eq 436 ] && ! grep -q quirk-normalize $tmp/plan.txt"

# ---- AutoAttack: opt-in in mini (and why), on the first 1000 test images in paper (spec §7.4, §11.1) ----
"$bin" suite mini --help > "$tmp/h.log" 2>&1
check "mini default: no AutoAttack row; --help says why it is opt-in" \
    "! has $tmp/d0.log AutoAttack && has $tmp/h.log '--autoattack-n N' && has $tmp/h.log 'do not fit the 20 minutes on'"
"$bin" suite mini --describe --autoattack-n 100 --seeds 1 > "$tmp/a1.log" 2>&1
check "mini --autoattack-n 100: the row declared with its images, APGD-T's targets clamped to the 4 other classes, its most cost" \
    "has $tmp/a1.log 'AutoAttack (adversarial runs, both arms): the first 100 target test images' &&
     has $tmp/a1.log 'APGD-CE, APGD-T, FAB-T and Square (100 steps, 4 targets, 5000 queries)' && has $tmp/a1.log 'AutoAttack row: at most'"
check "paper default: AutoAttack of the adversarial runs on the first 1000 test images, declared, in every plan command" \
    "has $tmp/p0.log 'AutoAttack of those models: the first 1000 test images, eps 8/255' &&
     [ \$(grep -c ' --autoattack-n 1000 ' $tmp/qplan.txt) -eq 436 ]"
"$bin" suite paper --data-root "$tmp" --describe --autoattack-n 0 > "$tmp/a0.log" 2>&1
check "paper --autoattack-n 0: no AutoAttack declared" "! has $tmp/a0.log AutoAttack"
"$bin" suite paper --data-root "$tmp" --help > "$tmp/h.log" 2>&1
check "paper --help names --autoattack-n" "has $tmp/h.log '--autoattack-n N' && has $tmp/h.log 'APGD-CE, APGD-T, FAB-T, Square'"
"$bin" suite paper --data-root "$tmp" --autoattack-n -5 --describe > "$tmp/u.log" 2>&1; rc=$?
check "suite paper --autoattack-n -5 -> exit 2 (got $rc)" "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ]"

"$bin" suite paper --data-root "$tmp" --quirk-normalize paper --describe > "$tmp/u.log" 2>&1; rc=$?
check "suite paper --quirk-normalize paper -> exit 2 (got $rc)" "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ]"

# ---- the SLURM script set: parses, lists every run of the plan once, wires the dependencies ----
opts=(--data-root "$tmp/root dir" --out "$tmp/out" --imbalance-profile both --exclude "$tmp/ex.txt")
"$bin" suite paper "${opts[@]}" --plan > "$tmp/plan.tsv" 2>&1
"$bin" suite paper "${opts[@]}" --plan-format slurm --plan-dir "$tmp/slurm" > "$tmp/s.log" 2>&1; rc=$?
check "--plan-format slurm writes the scripts (rc $rc: $(tail -1 "$tmp/s.log"))" \
    "[ $rc -eq 0 ] && [ -x $tmp/slurm/submit.sh ] && [ -s $tmp/slurm/array.sbatch ]"
for f in "$tmp"/slurm/*.sh "$tmp"/slurm/*.sbatch; do
    check "bash -n $(basename "$f")" "bash -n '$f'"
done
# run IDs: "# run: ID" in the pre-training jobs, --only 'ID' in the array lists
{ sed -n 's/^# run: //p' "$tmp"/slurm/*.sbatch; cat "$tmp"/slurm/runs-*.txt | sed "s/.* --only '\\(.*\\)'\$/\\1/"; } | sort > "$tmp/ids"
cut -f1 "$tmp/plan.tsv" | sort > "$tmp/want"
check "every run of the plan exactly once ($(wc -l < "$tmp/ids") of $(wc -l < "$tmp/want"))" \
    "[ \$(wc -l < $tmp/want) -eq 446 ] && [ -z \"\$(uniq -d $tmp/ids)\" ] && cmp -s $tmp/ids $tmp/want"
for dep in - pretrain pretrain-adv; do
    list=runs-scratch.txt; [ $dep = pretrain ] && list=runs-pretrain.txt; [ $dep = pretrain-adv ] && list=runs-pretrain-adv.txt
    check "$list holds the plan's commands of the runs that depend on '$dep', in order" \
        "cmp -s <(awk -F'\t' -v d=$dep '\$2 == d && \$1 !~ /^pretrain/ { print \$3 }' $tmp/plan.tsv) $tmp/slurm/$list"
done
pre="$tmp/slurm/pretrain.sbatch"
check "pre-training: one job of 2 tasks with a GPU each, srun robustcl train, batch 256/2, into stages/pretrain_HASH" \
    "grep -qx '#SBATCH --ntasks=2' $pre && grep -qx '#SBATCH --gpus-per-task=1' $pre &&
     grep -q \"^srun 'robustcl' train .*--batch 128 \" $pre && grep -q \"exclude=$tmp/ex.txt\" $pre &&
     grep -qE -- \"--out '$tmp/out/stages/pretrain_[0-9a-f]{16}.safetensors'\" $pre"
check "adversarial pre-training: PGD-10 in paper mode on the adversarial net" \
    "grep -q -- '--arch wrn-28-10 .*--adv-train pgd:eps=8/255,step=2/255,steps=10,.*mode=paper' $tmp/slurm/pretrain-adv.sbatch"
# submit.sh against a stand-in sbatch that logs its arguments and answers job ids 101, 102, ...
mkdir -p "$tmp/fake"
cat > "$tmp/fake/sbatch" <<'EOF2'
#!/bin/bash
n=$(( $(wc -l < "$SBATCH_LOG" 2>/dev/null || echo 0) + 101 ))
echo "$n $*" >> "$SBATCH_LOG"
echo "$n;cluster"
EOF2
chmod +x "$tmp/fake/sbatch"
SBATCH_LOG="$tmp/sbatch.log" PATH="$tmp/fake:$PATH" bash "$tmp/slurm/submit.sh" > "$tmp/submit.out" 2>&1; rc=$?
nscr=$(grep -c . "$tmp/slurm/runs-scratch.txt"); npre=$(grep -c . "$tmp/slurm/runs-pretrain.txt")
nadv=$(grep -c . "$tmp/slurm/runs-pretrain-adv.txt")
check "submit.sh (rc $rc) submits the two pre-trainings, three arrays with afterok on their pre-training, the report after all" \
    "[ $rc -eq 0 ] && sed -n 1p $tmp/sbatch.log | grep -qx '101 --parsable pretrain.sbatch' &&
     sed -n 2p $tmp/sbatch.log | grep -qx '102 --parsable pretrain-adv.sbatch' &&
     sed -n 3p $tmp/sbatch.log | grep -qx \"103 --parsable --array=0-$((nscr - 1)) array.sbatch $tmp/slurm/runs-scratch.txt\" &&
     sed -n 4p $tmp/sbatch.log | grep -qx \"104 --parsable --array=0-$((npre - 1)) --dependency=afterok:101 array.sbatch $tmp/slurm/runs-pretrain.txt\" &&
     sed -n 5p $tmp/sbatch.log | grep -qx \"105 --parsable --array=0-$((nadv - 1)) --dependency=afterok:102 array.sbatch $tmp/slurm/runs-pretrain-adv.txt\" &&
     sed -n 6p $tmp/sbatch.log | grep -qx '106 --parsable --dependency=afterany:101:102:103:104:105 report.sbatch'"
printf 'echo first\necho "second task"\n' > "$tmp/list.txt"
out=$(cd "$tmp" && SLURM_ARRAY_TASK_ID=1 bash "$tmp/slurm/array.sbatch" "$tmp/list.txt" 2>&1)
check "array.sbatch runs line SLURM_ARRAY_TASK_ID + 1 of its list (got '$out')" "[ '$out' = 'second task' ]"
(cd "$tmp" && SLURM_ARRAY_TASK_ID=5 bash "$tmp/slurm/array.sbatch" "$tmp/list.txt" > /dev/null 2>&1); rc=$?
check "array.sbatch past the end of its list fails (rc $rc)" "[ $rc -ne 0 ]"
"$bin" suite paper "${opts[@]}" --plan-format slurm --slurm-ranks 3 --plan-dir "$tmp/s3" > "$tmp/u.log" 2>&1; rc=$?
check "--slurm-ranks 3 (does not divide 256) -> exit 2, one line (got $rc)" \
    "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ] && [ ! -e $tmp/s3 ]"
"$bin" suite paper "${opts[@]}" --plan-format xml > "$tmp/u.log" 2>&1; rc=$?
check "--plan-format xml -> exit 2 (got $rc)" "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ]"

# ---- the mini grid's strengths and methods ----
check "mini default: s = 0, 0.4, normal training only, scratch 1024 steps, the measured recipes, one pre-training per seed, 4 seeds" \
    "has $tmp/d0.log 's = 0, 0.4, methods normal' && ! has $tmp/d0.log 'glc' && ! has $tmp/d0.log 'SMOTE' &&
     has $tmp/d0.log 'scratch: at least 1024 steps' &&
     has $tmp/d0.log 'noise 102 steps at lr 0.01, corrected 102 steps at lr 0.01, imbalance 512 steps at lr 0.01, uncertainty 1024 steps at lr 0.01, adversarial 256 steps at lr 0.01' &&
     has $tmp/d0.log 'one model per seed and source' && has $tmp/d0.log 'seeds: 4'"
"$bin" suite mini --describe --noise 0.8,0.2 --noise-methods forward,glc --imbalance-methods smote,cost > "$tmp/d3.log" 2>&1
check "mini --noise without 0 gets the clean runs first; methods as listed" \
    "has $tmp/d3.log 's = 0, 0.8, 0.2, methods normal, forward, glc (trusted 10%)' &&
     has $tmp/d3.log 'methods normal, cost-sensitive, SMOTE'"
"$bin" suite mini --describe --quick > "$tmp/d4.log" 2>&1
check "mini --quick runs every method" \
    "has $tmp/d4.log 'methods normal, forward, glc' && has $tmp/d4.log 'methods normal, cost-sensitive, oversampling, SMOTE'"

for args in '--imbalance-profile lt' '--rho 0.5' '--gamma x' '--rho 10,,100' '--noise 1.5' '--noise -0.1' \
    '--noise-methods glc,bogus' '--noise-methods' '--imbalance-methods cost,,smote' '--imbalance-methods all' \
    '--corrupt-per-class -1' '--corrupt-per-class x' '--corrupt-seed -2' '--autoattack-n -1' '--autoattack-n 1e3'; do
    # shellcheck disable=SC2086
    "$bin" suite mini --describe $args > "$tmp/u.log" 2>&1; rc=$?
    check "suite mini $args -> exit 2, one line (got $rc: $(head -1 "$tmp/u.log"))" \
        "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ]"
done
"$bin" suite paper --data-root "$tmp" --imbalance-profile power,exp --describe > "$tmp/u.log" 2>&1; rc=$?
check "suite paper --imbalance-profile power,exp -> exit 2 (got $rc)" "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ]"

finish
