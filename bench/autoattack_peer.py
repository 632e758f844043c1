#!/usr/bin/env python3
"""robustcl's AutoAttack beside torchattacks' attacks, on the same model and images.

  bench/autoattack_peer.py OUTDIR --model CKPT --robustcl BIN [--n 1000] [--eps 4/255]
                           [--norm linf|l2] [--attacks apgd-ce,apgd-t,fab-t,square] [--seeds 0,1]
                           [--threads 2] [--reuse] [--reference JSON ...] [--with-fab JSON] [--speed R]

The model: a robustcl checkpoint of a WRN on Fashion-MNIST, loaded into bench/wrn_torch.py's
WideResNet (shape read from the tensors) behind the input normalisation (mean = std = 0.5, as
robustcl's default). The images: the first N test images in file order, which
`robustcl eval --attack autoattack:n=N` attacks too.

robustcl runs `eval --attack autoattack:eps=E,norm=NORM,n=N,seed=0,attacks=... --dump-scores`:
by default the standard version, APGD-CE, APGD-T, FAB-T and Square, for either norm. The reference runs torchattacks 3.5.1's APGD (loss ce), APGDT, FAB
(multi_targeted) and Square with norm='Linf' or norm='L2', each on the images the ones before it
left robust, with the settings of the authors' AutoAttack (standard version, the same for both
norms): 100 steps, 1 restart, 9 targets (classes - 1 at most), FAB's alpha_max 0.1, eta 1.05, beta
0.9, 5000 queries, p_init 0.8 and the fixed (not rescaled) square schedule. torchattacks' own AutoAttack class is not
run: it keeps the attacks' default 10 steps and runs untargeted FAB, not the standard ensemble.

The reference runs once per seed. Their spread is the attacks' own randomness; robustcl's robust
accuracy after each attack matches when it lies within the tolerance

    tol = max(2 * (max - min of the reference runs), 100/N percentage points)

of the reference runs' mean, i.e. twice their range, and at least one image. Per image, the
share of images whose final outcome (robust or not) agrees is reported for robustcl against each
reference run and between the reference runs.

Writes OUTDIR/autoattack.json and OUTDIR/autoattack.md (--norm l2: OUTDIR/l2.json and l2.md;
robustcl's run as robustcl-l2.json/.tsv). Needs python3-torch and torchattacks.

--speed R times instead of comparing: robustcl and the reference alternately R times on the same
images (seed 0 each time; robustcl's seconds per attack from its JSON, without start-up), then the
median and the range of each attack's seconds and the reference/robustcl ratio of the medians,
with uptime before and after (run it on an idle machine): OUTDIR/speed.json and speed.md
(--norm l2: speed-l2.*)."""
import argparse, json, os, platform, statistics, subprocess, sys, time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from suite_mini_torch import load_fashion_mnist, read_safetensors  # noqa: E402


def parse_eps(text):
    a, _, b = text.partition("/")
    return float(a) / float(b) if b else float(a)


def net_of(state, torch, WideResNet):
    """The WideResNet whose tensors `state` holds (depth from the block count, width from conv1);
    the optimiser's tensors of a training checkpoint are left out."""
    state = {k: v for k, v in state.items() if not k.startswith("optimizer.")}
    blocks = {k.split(".")[2] for k in state if k.startswith("block1.layer.")}
    widen = state["block1.layer.0.conv1.weight"].shape[0] // 16
    classes, in_c = state["fc.weight"].shape[0], state["conv1.weight"].shape[1]
    net = WideResNet(6 * len(blocks) + 4, classes, widen, in_c)
    net.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()}, strict=True)
    return net.eval(), classes


class Normalized:
    """x in [0,1] -> the network on (x - 0.5)/0.5, as a torch module."""

    def __new__(cls, torch, net):
        class M(torch.nn.Module):
            def __init__(self):
                super().__init__()
                self.net = net

            def forward(self, x):
                return self.net((x - 0.5) / 0.5)
        return M().eval()


NORMS = {"linf": "Linf", "l2": "L2"}  # --norm: torchattacks' name


def outputs(norm):
    """The stems of the comparison's files and of robustcl's run for a norm."""
    return ("autoattack", "robustcl") if norm == "linf" else (norm, "robustcl-" + norm)


ROBUST = 100  # an outcome: no attack fooled the image (else the index of the first that did; -1 clean wrong)


def reference_attacks(ta, model, k, eps, norm, seed):
    """torchattacks' attacks by robustcl's names, with the authors' standard settings."""
    n = NORMS[norm]
    return {"apgd-ce": lambda: ta.APGD(model, norm=n, eps=eps, steps=100, n_restarts=1, seed=seed, loss="ce"),
            "apgd-t": lambda: ta.APGDT(model, norm=n, eps=eps, steps=100, n_restarts=1, seed=seed, n_classes=k),
            "fab-t": lambda: ta.FAB(model, norm=n, eps=eps, steps=100, n_restarts=1, alpha_max=0.1, eta=1.05,
                                    beta=0.9, seed=seed, multi_targeted=True, n_classes=k),
            "square": lambda: ta.Square(model, norm=n, eps=eps, n_queries=5000, n_restarts=1, p_init=0.8,
                                        seed=seed, loss="margin", resc_schedule=False)}


def reference_run(torch, ta, model, x, y, k, eps, norm, seed, batch, names):
    """torchattacks' attacks `names` in sequence: robust counts after each, seconds, and the
    outcome per image. An image counts fooled when the attack's point is misclassified and within
    eps (FAB returns its smallest adversarial point even beyond eps)."""
    with torch.no_grad():
        pred = torch.cat([model(x[i:i + batch]).argmax(1) for i in range(0, len(x), batch)])
    outcome = np.where((pred == y).numpy(), ROBUST, -1)
    makers = reference_attacks(ta, model, k, eps, norm, seed)
    robust_after, seconds = [], []
    for a, name in enumerate(names):
        make = makers[name]
        t0 = time.time()
        idx = np.nonzero(outcome == ROBUST)[0]
        for s in range(0, len(idx), batch):
            part = torch.from_numpy(idx[s:s + batch])
            adv = make()(x[part], y[part])
            with torch.no_grad():
                delta = (adv - x[part]).reshape(len(part), -1)
                dist = delta.abs().max(1)[0] if norm == "linf" else delta.norm(dim=1)
                fooled = ((model(adv).argmax(1) != y[part]) & (dist <= eps + 1e-6)).numpy()
            outcome[idx[s:s + batch][fooled]] = a
        robust_after.append(int((outcome == ROBUST).sum()))
        seconds.append(time.time() - t0)
        print("  seed %d %s: robust %d of %d (%.0f s)" % (seed, name, robust_after[-1], len(x), seconds[-1]),
              flush=True)
    return {"seed": seed, "clean_correct": int((outcome != -1).sum()), "robust_after": robust_after,
            "seconds": seconds, "outcome": outcome.tolist()}


def robustcl_run(args, outdir):
    """robustcl's result: its JSON and the per-image outcome of its score dump."""
    spec = "autoattack:eps=%s,norm=%s,n=%d,seed=0,attacks=%s" % (args.eps, args.norm, args.n, "+".join(args.attacks))
    stem = outputs(args.norm)[1]
    js, tsv = os.path.join(outdir, stem + ".json"), os.path.join(outdir, stem + ".tsv")
    seconds = None
    if not (args.reuse and os.path.exists(js) and os.path.exists(tsv)):
        t0 = time.time()
        subprocess.run([args.robustcl, "eval", "--model", args.model, "--data", "fashion-mnist,split=test", "--attack",
                        spec, "--json", js, "--dump-scores", tsv], check=True,
                       env=dict(os.environ, ROBUSTCL_QUIET="1"), stdout=subprocess.DEVNULL)
        seconds = time.time() - t0
    with open(js) as f:
        aa = json.load(f)["autoattack"]
    names = [a["attack"] for a in aa["after"]]
    outcome = []
    with open(tsv) as f:
        header = f.readline().rstrip("\n").split("\t")
        col = header.index("autoattack")
        for line in f:
            v = line.rstrip("\n").split("\t")
            if v[0] != "id" or v[col] == "-":
                continue
            outcome.append(-1 if v[col] == "misclassified" else ROBUST if v[col] == "robust" else names.index(v[col]))
    return {"spec": aa["attack"], "clean_correct": round(aa["clean_accuracy"] * aa["images"]),
            "robust_after": [round(a["robust_accuracy"] * aa["images"]) for a in aa["after"]],
            "seconds": [a["seconds"] for a in aa["after"]], "total_seconds": seconds if seconds else aa["seconds"],
            "outcome": outcome}


OLD_ATTACKS = ["apgd-ce", "apgd-t", "square"]  # files without "attacks" (robust coded 3)
STANDARD = ["apgd-ce", "apgd-t", "fab-t", "square"]


def load_fab_alone(path, args):
    """The reference's per-image FAB-T outcome of an --attacks fab-t run (one reference run) on at
    least the first n images: FAB-T attacks each image alone, so the first n of a larger run are
    what a run on n gives."""
    with open(path) as f:
        alone = json.load(f)
    if (alone.get("attacks") != ["fab-t"] or alone["n"] < args.n or alone["eps"] != args.eps or
            alone.get("norm", "linf") != args.norm):
        raise SystemExit("%s: not a fab-t run on at least these n images at this eps and norm" % path)
    return np.array(alone["reference"][0]["outcome"][:args.n]) == 0


def insert_fab(run, fab_fools):
    """An APGD-CE, APGD-T, Square reference run with FAB-T inserted after APGD-T: an image still
    robust after APGD-T is FAB-T's when FAB-T alone fooled it. Exact for FAB-T, whose standard run
    draws nothing and treats each image alone; Square keeps its outcome on the others (its draws per
    batch would change only where FAB-T took images from it)."""
    old = np.array(run["outcome"])
    out = np.where(old == -1, -1, np.where(old == 3, ROBUST, old))
    out = np.where(out == 2, 3, out)  # square moves to index 3
    reach = (out == ROBUST) | (out == 3)
    out = np.where(reach & fab_fools, 2, out)
    after = [int(((out == ROBUST) | (out > a)).sum()) for a in range(4)]
    return dict(run, outcome=out.tolist(), robust_after=after, seconds=run["seconds"][:2] + [None] + run["seconds"][2:],
                composed="fab-t inserted from a fab-t-alone reference run")


def agreement(a, b):
    a, b = np.array(a) == ROBUST, np.array(b) == ROBUST
    return float((a == b).mean())


def compare(ours, refs, n, names):
    rows = []
    for i, name in enumerate(names):
        r = [100.0 * x["robust_after"][i] / n for x in refs]
        mean, spread = float(np.mean(r)), max(r) - min(r)
        tol = max(2 * spread, 100.0 / n)
        got = 100.0 * ours["robust_after"][i] / n
        rows.append({"after": name, "robustcl": got, "reference": r, "reference_mean": mean, "tolerance": tol,
                     "within": abs(got - mean) <= tol + 1e-9})
    return rows


def write_md(path, res):
    lines = ["# AutoAttack: robustcl beside torchattacks", "",
             "Model %s, the first %d Fashion-MNIST test images, %s eps %s; %s." % (
                 res["model"], res["n"], {"linf": "L-inf", "l2": "L2"}[res["norm"]], res["eps"], res["machine"]), "",
             "robustcl: `%s` (%.0f s). Reference: torchattacks %s, %s with the AutoAttack standard settings, "
             "seeds %s." % (res["robustcl"]["spec"], res["robustcl"]["total_seconds"], res["torchattacks"],
                            ", ".join(res["attacks"]), res["seeds"]), "",
             "Clean accuracy: robustcl %.1f%%, reference %.1f%%." % (
                 100.0 * res["robustcl"]["clean_correct"] / res["n"],
                 100.0 * res["reference"][0]["clean_correct"] / res["n"]), "",
             "| robust accuracy after | robustcl | reference runs | mean | tolerance | within |",
             "|---|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append("| %s | %.1f%% | %s | %.2f%% | %.2f | %s |" % (
            r["after"], r["robustcl"], ", ".join("%.1f%%" % v for v in r["reference"]), r["reference_mean"],
            r["tolerance"], "yes" if r["within"] else "NO"))
    if any(r.get("composed") for r in res["reference"]):
        lines += ["", "The reference runs are earlier APGD-CE, APGD-T and Square runs with FAB-T's stage inserted "
                  "from a reference run of FAB-T alone (`--with-fab`): FAB-T's standard run draws nothing and "
                  "attacks each image alone, so its outcome on an image robust after APGD-T is the one it has "
                  "alone."]
    lines += ["", "Per image (final outcome robust or not): robustcl agrees with the reference runs on %s of the "
              "images; the reference runs agree with each other on %s." % (
                  ", ".join("%.1f%%" % (100 * a) for a in res["agreement_robustcl"]),
                  ", ".join("%.1f%%" % (100 * a) for a in res["agreement_reference"]) or "-"),
              "", "Seconds per attack: robustcl %s; reference %s." % (
                  ", ".join("%.0f" % s for s in res["robustcl"]["seconds"]),
                  "; ".join(", ".join("-" if s is None else "%.0f" % s for s in r["seconds"]) for r in res["reference"])),
              ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def cpu_name():
    for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
        if line.startswith("Model name:"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def speed(args, reference):
    """--speed: R alternating timed runs of robustcl and of reference(); medians and ranges."""
    res = {"model": os.path.basename(args.model), "n": args.n, "eps": args.eps, "norm": args.norm,
           "attacks": args.attacks, "cpu": cpu_name(), "torch_threads": args.threads, "repeats": args.speed,
           "uptime_before": uptime(), "robustcl": [], "reference": []}
    for r in range(args.speed):
        print("repeat %d of %d" % (r + 1, args.speed), flush=True)
        res["robustcl"].append(robustcl_run(args, args.outdir)["seconds"])
        res["reference"].append(reference()["seconds"])
    res["uptime_after"] = uptime()
    rows = []
    for i, name in enumerate(args.attacks + ["all"]):
        ours = [sum(t) if name == "all" else t[i] for t in res["robustcl"]]
        theirs = [sum(t) if name == "all" else t[i] for t in res["reference"]]
        rows.append({"attack": name, "robustcl": statistics.median(ours), "robustcl_range": [min(ours), max(ours)],
                     "reference": statistics.median(theirs), "reference_range": [min(theirs), max(theirs)],
                     "ratio": statistics.median(theirs) / statistics.median(ours)})
    res["rows"] = rows
    stem = os.path.join(args.outdir, "speed" if args.norm == "linf" else "speed-" + args.norm)
    with open(stem + ".json", "w") as f:
        json.dump(res, f, indent=1)
    lines = ["# AutoAttack's speed: robustcl beside torchattacks", "",
             "%s; model %s, the first %d Fashion-MNIST test images, %s eps %s; %d alternating runs each; "
             "torch %d threads." % (res["cpu"], res["model"], args.n, {"linf": "L-inf", "l2": "L2"}[args.norm],
                                    args.eps, args.speed, args.threads), "",
             "| attack | robustcl s, median (range) | torchattacks s, median (range) | torchattacks / robustcl |",
             "|---|---|---|---|"]
    for r in rows:
        lines.append("| %s | %.1f (%.1f-%.1f) | %.1f (%.1f-%.1f) | %.2f |" % (
            r["attack"], r["robustcl"], r["robustcl_range"][0], r["robustcl_range"][1], r["reference"],
            r["reference_range"][0], r["reference_range"][1], r["ratio"]))
    lines += ["", "uptime before: " + res["uptime_before"], "uptime after: " + res["uptime_after"], ""]
    with open(stem + ".md", "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("outdir")
    p.add_argument("--model", required=True)
    p.add_argument("--robustcl", required=True)
    p.add_argument("--reuse", action="store_true", help="read robustcl's run from OUTDIR when it is there")
    p.add_argument("--reference", action="append", default=[],
                   help="take the reference runs of an earlier autoattack.json (repeatable) instead of running "
                        "--seeds: runs split over processes")
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--eps", default="4/255")
    p.add_argument("--norm", default="linf", choices=sorted(NORMS))
    p.add_argument("--attacks", help="the attacks in order, of apgd-ce, apgd-t, fab-t, square (default: the standard "
                                     "version, all four)")
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--with-fab", metavar="JSON",
                   help="with --reference runs of APGD-CE, APGD-T and Square (no fab-t): insert FAB-T's stage from "
                        "this --attacks fab-t output's reference run (FAB-T's standard run is deterministic per "
                        "image)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=250)
    p.add_argument("--speed", type=int, metavar="R", help="time R alternating runs instead of comparing")
    args = p.parse_args()
    args.attacks = args.attacks.split(",") if args.attacks else STANDARD
    known = {"apgd-ce", "apgd-t", "fab-t", "square"}
    if not args.attacks or not set(args.attacks) <= known or len(set(args.attacks)) != len(args.attacks):
        p.error("--attacks: distinct names of %s" % ", ".join(sorted(known)))
    import torch
    import torchattacks as ta
    from wrn_torch import WideResNet
    torch.set_num_threads(args.threads)
    os.makedirs(args.outdir, exist_ok=True)
    net, k = net_of(read_safetensors(args.model), torch, WideResNet)
    model = Normalized(torch, net)
    xs, ys = load_fashion_mnist("fashion-mnist", False)
    x = torch.from_numpy(xs[:args.n].astype(np.float32) / 255.0)
    y = torch.from_numpy(ys[:args.n])
    eps = parse_eps(args.eps)
    if args.speed:
        return speed(args, lambda: reference_run(torch, ta, model, x, y, k, eps, args.norm, 0, args.batch,
                                                 args.attacks))
    print("robustcl ...", flush=True)
    ours = robustcl_run(args, args.outdir)
    refs = []
    fab = load_fab_alone(args.with_fab, args) if args.with_fab else None
    for path in args.reference:
        with open(path) as f:
            earlier = json.load(f)
        attacks = earlier.get("attacks", OLD_ATTACKS)
        same = earlier["n"] == args.n and earlier["eps"] == args.eps and earlier.get("norm", "linf") == args.norm
        if same and fab is not None and attacks == OLD_ATTACKS and args.attacks == STANDARD:
            runs = [insert_fab(r, fab) for r in earlier["reference"]]
        elif same and attacks == args.attacks:
            runs = earlier["reference"]
        else:
            raise SystemExit("%s: another n, eps, norm or attack list" % path)
        refs += runs
    for seed in [] if args.reference else [int(s) for s in args.seeds.split(",")]:
        refs.append(reference_run(torch, ta, model, x, y, k, eps, args.norm, seed, args.batch, args.attacks))
    args.seeds = ",".join(str(r["seed"]) for r in refs)
    res = {"model": os.path.basename(args.model), "n": args.n, "eps": args.eps, "norm": args.norm,
           "attacks": args.attacks,
           "machine": "%s, %d torch threads" % (platform.processor() or platform.machine(), args.threads),
           "torchattacks": ta.__version__, "torch": torch.__version__, "seeds": args.seeds,
           "robustcl": ours, "reference": refs, "rows": compare(ours, refs, args.n, args.attacks),
           "agreement_robustcl": [agreement(ours["outcome"], r["outcome"]) for r in refs],
           "agreement_reference": [agreement(refs[i]["outcome"], refs[j]["outcome"])
                                   for i in range(len(refs)) for j in range(i + 1, len(refs))]}
    stem = os.path.join(args.outdir, outputs(args.norm)[0])
    with open(stem + ".json", "w") as f:
        json.dump(res, f, indent=1)
    write_md(stem + ".md", res)
    print(open(stem + ".md").read())
    sys.exit(0 if all(r["within"] for r in res["rows"]) else 1)


if __name__ == "__main__":
    main()
