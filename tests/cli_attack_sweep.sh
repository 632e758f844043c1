#!/usr/bin/env bash
# robustcl eval --attack-sweep on a normally trained tiny model: eps 0 gives the clean
# accuracy, accuracy never rises with eps and reaches ~0 at a large eps (a no-op attack
# fails), textbook perturbations stay within eps, the table and the JSON agree, and bad
# lists are one-line usage errors.
set -u
bin="$1"
. "$(dirname "$0")/testlib.sh"
export ROBUSTCL_QUIET=1

# Two classes of 8x8 grey images: 128 -+ 24 along one fixed random +-1 pattern, +-4 noise.
# A pattern step of 24/255 means PGD at 32/255 can turn every image into the other class.
gen() { # DIR IMAGES_PER_CLASS SEED
    LC_ALL=C awk -v dir="$1" -v n="$2" -v seed="$3" 'BEGIN {
        srand(7); for (i = 0; i < 64; i++) p[i] = rand() < 0.5 ? -1 : 1
        srand(seed)
        for (c = 0; c < 2; c++) {
            system("mkdir -p " dir "/class" c)
            for (k = 0; k < n; k++) {
                f = sprintf("%s/class%d/%03d.pgm", dir, c, k)
                printf "P5\n8 8\n255\n" > f
                for (i = 0; i < 64; i++) printf "%c", 128 + (c ? 24 : -24) * p[i] + int(rand() * 9) - 4 > f
                close(f)
            }
        }
    }'
}
gen "$tmp/train" 256 1
gen "$tmp/test" 32 2
opt=size=8,channels=1
"$bin" train --data "folder:$tmp/train,$opt" --test "folder:$tmp/test,$opt" --arch wrn-10-1 --batch 64 --epochs 4 \
    --lr 0.05 --no-augment --out "$tmp/m.safetensors" > "$tmp/train.log" 2>&1
check "tiny model trained: $(tail -1 "$tmp/train.log")" "[ -s $tmp/m.safetensors ]"

list=0,2/255,4/255,8/255,16/255,32/255
"$bin" eval --model "$tmp/m.safetensors" --data "folder:$tmp/test,$opt" --attack 'pgd:steps=10' \
    --attack-sweep "$list" --json "$tmp/s.json" > "$tmp/s.log" 2>&1
rc=$?
check "eval --attack-sweep runs (rc $rc): $(tail -1 "$tmp/s.log")" "[ $rc -eq 0 ]"
check "the table has a header and 6 rows" \
    "[ \$(grep -A7 '^accuracy vs eps' $tmp/s.log | grep -cE '^ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9]+$') -eq 6 ]"

# every assertion on the JSON in one place; prints one line per failure
python3 - "$tmp/s.json" "$tmp/s.log" > "$tmp/py.log" 2>&1 <<'PY'
import json, re, sys
j = json.load(open(sys.argv[1]))
log = open(sys.argv[2]).read()
bad = []
def want(ok, msg):
    if not ok:
        bad.append(msg)
sw = j.get("adversarial_sweep", {})
pts = sw.get("points", [])
eps = [0, 2 / 255, 4 / 255, 8 / 255, 16 / 255, 32 / 255]
want("adversarial" not in j, "a sweep writes adversarial_sweep, not adversarial")
want(len(pts) == 6 and all(abs(p["eps"] - e) < 1e-12 for p, e in zip(pts, eps)), "points at the listed eps")
clean = sw.get("clean_accuracy", -1)
want(abs(clean - (1 - j["error"])) < 1e-12, "clean accuracy %s = 1 - error %s" % (clean, j["error"]))
want(clean >= 0.9, "the tiny model learned the task (clean accuracy %s)" % clean)
want(pts and pts[0]["adversarial_accuracy"] == clean and pts[0]["max_linf"] == 0,
     "eps 0 gives the clean accuracy and no perturbation")
acc = [p["adversarial_accuracy"] for p in pts]
want(all(b <= a for a, b in zip(acc, acc[1:])), "accuracy is non-increasing in eps: %s" % acc)
want(acc and acc[-1] <= 0.05, "PGD at 32/255 takes the model to ~0%% (got %s)" % acc[-1:])
want(all(p["max_linf"] <= p["eps"] + 1e-6 for p in pts), "textbook: max |x_adv - x| <= eps")
want(all(abs(p["step"] - p["eps"] / 4) < 1e-12 for p in pts), "the step scales with eps (eps/4)")
want(all(isinstance(p["zero_gradient_images"], int) and 0 <= p["zero_gradient_images"] <= sw["images"] for p in pts),
     "zero-gradient counts in [0, images]")
want(sw.get("images") == 64 and sw.get("mode") == "textbook" and sw.get("attack", "").startswith("pgd:"),
     "images, mode and the base attack are recorded")
rows = re.findall(r"^ +([0-9.]+) +([0-9.]+) +([0-9.]+) +([0-9]+)$", log, re.M)
want(len(rows) == 6 and all(abs(float(r[1]) - 100 * p["adversarial_accuracy"]) < 0.006 and
                            int(r[3]) == p["zero_gradient_images"] for r, p in zip(rows, pts)),
     "the printed table matches the JSON")
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
PY
check "sweep results: $(tr '\n' ';' < "$tmp/py.log")" "[ ! -s $tmp/py.log ]"

# usage errors: exit 2, one line naming the option
for bad in '0,abc' '2' '0,,1/255' '0,-1/255' '' '1/0'; do
    "$bin" eval --model "$tmp/m.safetensors" --attack-sweep "$bad" > "$tmp/u.log" 2>&1; rc=$?
    check "--attack-sweep '$bad' -> exit 2, one line naming it (got $rc: $(head -1 "$tmp/u.log"))" \
        "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ] && grep -q -- '--attack-sweep' $tmp/u.log"
done
"$bin" eval --model "$tmp/m.safetensors" --attack 'pgd:eps=0' --attack-sweep 0,1/255 > "$tmp/u.log" 2>&1; rc=$?
check "--attack eps=0 with a sweep (no step ratio) -> exit 2 (got $rc)" \
    "[ $rc -eq 2 ] && [ \$(wc -l < $tmp/u.log) -eq 1 ]"
finish
