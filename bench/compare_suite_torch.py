#!/usr/bin/python3
"""robustcl `suite mini` vs its PyTorch replica (bench/suite_mini_torch.py), as a markdown table.

  /usr/bin/python3 bench/compare_suite_torch.py SUITE_OUT/report.json torch.json > compare.md

For each row the suite and the replica both have (clean error; error at each noise strength;
the error area over the strengths when there are at least two, src/eval/label_noise.c
rcl_noise_error_area; the clean runs' RMS calibration error) it prints each implementation's
scratch and pre-trained mean +- sample std over seeds, and for each arm whether the difference
robustcl - PyTorch lies within 2 combined standard errors, sqrt(sd_r^2/n_r + sd_t^2/n_t):
a crude two-sample check (with 2-3 seeds a t-based bound would be wider; a "no" is a hint to
look closer, not a verdict). With one seed on either side there is no spread to judge by.

The two implementations see the same target subsets, labels, crops, flips, dropout masks and
initial weights per seed (see suite_mini_torch.py), so a per-seed table follows; the trained
weights differ by float rounding, so single seeds differ by training noise.
Standard library only; reads robustcl's pre-training error from SUITE_OUT/stages when present.
"""
import glob
import json
import math
import os
import re
import sys


def key_of(setting):
    return "all" if setting == "all" else round(float(setting), 9)


def summary_index(doc):
    """(experiment, method, setting, metric) -> row, for both JSON files' "summary"."""
    return {(r["experiment"], r["method"], key_of(r["setting"]), r["metric"]): r for r in doc.get("summary", [])}


def fmt(stat):
    if not stat or stat.get("mean") is None or stat.get("seeds", 0) == 0:
        return "—"
    return "%.2f ± %.2f (n=%d)" % (stat["mean"], stat["std"] or 0.0, stat["seeds"])


def within(r, t):
    """(difference text, verdict text) of robustcl - PyTorch for one arm."""
    if not r or not t or r.get("mean") is None or t.get("mean") is None or not r.get("seeds") or not t.get("seeds"):
        return "—", "—"
    d = r["mean"] - t["mean"]
    if r["seeds"] < 2 or t["seeds"] < 2:
        return "%+.2f" % d, "n/a (one seed)"
    se = math.sqrt((r["std"] or 0) ** 2 / r["seeds"] + (t["std"] or 0) ** 2 / t["seeds"])
    ok = abs(d) <= 2 * se
    return "%+.2f" % d, ("yes" if ok else "**no**") + " (2 SE = %.2f)" % (2 * se)


def robustcl_grid(doc):
    """The configuration robustcl's report declares in its "grid" text (rcl_suite_describe)."""
    g, out = doc.get("grid", ""), {}
    pats = {
        "data": r"data ([^:\s]+):", "source_classes": r"source classes (\S+),",
        "target_classes": r"target classes (\S+?)[\s(]",
        "arch": r"net (\S+),", "batch": r"batch (\d+)",
        "pretrain_images": r"pre-training: (\d+) source images",
        "pretrain_epochs": r"(?:source images|every source image)(?: \(0 = all\))?, (\d+) epochs",
        "pretrain_lr": r"epochs, lr ([\d.e+-]+)",
        "target_per_class": r"target: (\d+) training images", "test_per_class": r", (\d+) test images per class",
        "min_steps": r"at least (\d+) steps", "finetune_min_steps": r"every fine-tuning run at least (\d+)",
        "scratch_lr": r"scratch: lr ([\d.e+-]+)",
        "scratch_dropout": r"dropout ([\d.e+-]+);", "finetune_lr": r"fine-tuned at lr ([\d.e+-]+)",
        "noise": r"label noise \(uniform\) s = ([\d.e+-]+(?:, [\d.e+-]+)*)",
    }
    for k, p in pats.items():
        m = re.search(p, g)
        if m:
            out[k] = m.group(1)
    return out


def config_differences(rdoc, tdoc):
    """Settings the two runs disagree on (a table of different grids compares nothing)."""
    rc, tc, diffs = robustcl_grid(rdoc), tdoc.get("config", {}), []
    for k, v in rc.items():
        if k not in tc:
            continue
        tv = tc[k]
        if k == "noise":
            same = sorted(float(s) for s in v.split(",")) == sorted(float(s) for s in tv)
        elif isinstance(tv, (int, float)) and not isinstance(tv, bool):
            same = math.isclose(float(v), float(tv), rel_tol=1e-6)
        else:
            same = str(v) == str(tv)
        if not same:
            tv = ", ".join("%g" % x for x in tv) if isinstance(tv, list) else tv
            diffs.append("%s: robustcl %s, PyTorch %s" % (k, v, tv))
    rseeds = sorted({r["seed"] for r in rdoc.get("runs", []) if r.get("experiment") in ("clean", "noise")})
    if rseeds and rseeds != sorted(tc.get("seeds", [])):
        diffs.append("seeds: robustcl %s, PyTorch %s" % (rseeds, tc.get("seeds")))
    return diffs


def robustcl_pretrain_error(report_path, rdoc):
    for r in rdoc.get("runs", []):
        if r.get("experiment") == "pretrain" and r.get("method") == "normal":
            return r["metrics"].get("error")
    for path in sorted(glob.glob(os.path.join(os.path.dirname(os.path.abspath(report_path)), "stages",
                                              "pretrain_seed=*.json"))):
        with open(path) as f:
            return json.load(f).get("metrics", {}).get("error")
    return None


def per_seed(runs):
    """(experiment, setting, arm, seed) -> error."""
    return {(r["experiment"], key_of(r["setting"]), r["arm"], r["seed"]): r["metrics"].get("error")
            for r in runs if r.get("experiment") in ("clean", "noise") and r.get("method") == "normal"}


def main(argv):
    if len(argv) != 3:
        sys.exit("usage: compare_suite_torch.py SUITE_OUT/report.json suite_mini_torch.json")
    with open(argv[1]) as f:
        rdoc = json.load(f)
    with open(argv[2]) as f:
        tdoc = json.load(f)
    ri, ti = summary_index(rdoc), summary_index(tdoc)

    # the rows: clean error, error per strength (union of both grids), area, clean RMS
    strengths = sorted({k[2] for k in list(ri) + list(ti)
                        if k[0] == "noise" and k[1] == "normal" and k[3] == "error" and k[2] != "all"})
    rows = [("clean error", ("clean", "normal", 0.0, "error"))]
    rows += [("error at s = %g" % s, ("noise", "normal", s, "error")) for s in strengths]
    rows += [("error area", ("noise", "normal", "all", "error_area")),
             ("clean RMS calibration error", ("clean", "normal", 0.0, "rms"))]

    print("# robustcl suite mini vs PyTorch replica\n")
    print("- robustcl: `%s`" % argv[1])
    print("- PyTorch: `%s` (torch %s, %s threads on %s, %.0f s wall)" % (
        argv[2], tdoc.get("torch", "?"), tdoc.get("config", {}).get("threads", "?"),
        tdoc.get("config", {}).get("device", "?"), tdoc.get("wall_seconds", float("nan"))))
    diffs = config_differences(rdoc, tdoc)
    if diffs:
        print("- **the configurations differ**: " + "; ".join(diffs))
    else:
        print("- same configuration (as far as robustcl's grid text declares it)")
    print("\nPercent; mean ± sample std over seeds (n = seeds). \"within 2 SE\": |robustcl − PyTorch| ≤ "
          "2·sqrt(sd_r²/n_r + sd_t²/n_t), per arm.\n")
    print("| row | robustcl scratch | robustcl pre-trained | PyTorch scratch | PyTorch pre-trained | "
          "scratch: robustcl − PyTorch | within 2 SE | pre-trained: robustcl − PyTorch | within 2 SE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for label, key in rows:
        r, t = ri.get(key), ti.get(key)
        if not r and not t:
            continue
        cells = [fmt(r and r.get("scratch")), fmt(r and r.get("pretrained")),
                 fmt(t and t.get("scratch")), fmt(t and t.get("pretrained"))]
        for arm in ("scratch", "pretrained"):
            cells += within(r and r.get(arm), t and t.get(arm))
        print("| %s | %s |" % (label, " | ".join(cells)))
    rp, tp = robustcl_pretrain_error(argv[1], rdoc), tdoc.get("pretrain", {}).get("error")
    print("| pre-training: source test error | — | %s | — | %s | | | %s | |" % (
        "%.2f" % rp if rp is not None else "— (not in the report)", "%.2f" % tp if tp is not None else "—",
        "%+.2f" % (rp - tp) if rp is not None and tp is not None else "—"))

    # per seed: the same data, labels and initial weights on both sides
    rs, ts = per_seed(rdoc.get("runs", [])), per_seed(tdoc.get("runs", []))
    common = sorted(set(rs) & set(ts), key=lambda k: (k[1] if k[1] != "all" else 9, k[2] != "scratch", k[3]))
    if common:
        print("\nPer seed (test error, %): the same target subset, noisy labels, crops and initial weights on "
              "both sides; the difference is training noise plus any real discrepancy.\n")
        print("| run | seed | robustcl | PyTorch | robustcl − PyTorch |")
        print("|---|---|---|---|---|")
        for k in common:
            exp, s, arm, seed = k
            if rs[k] is None or ts[k] is None:
                continue
            print("| %s/%g/%s | %d | %.2f | %.2f | %+.2f |" % (exp, s, arm, seed, rs[k], ts[k], rs[k] - ts[k]))


if __name__ == "__main__":
    main(sys.argv)
