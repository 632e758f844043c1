#!/usr/bin/python3
"""robustcl `suite mini` vs its PyTorch replica (bench/suite_mini_torch.py), as markdown.

  /usr/bin/python3 bench/compare_suite_torch.py SUITE_OUT/report.json torch.json > compare.md
  /usr/bin/python3 bench/compare_suite_torch.py --table SUITE_OUT/table.txt --log SUITE.log torch.json > compare.md

The second form reads robustcl's side from its terminal table and its log (the grid text, each
stage's test error, the run time) when report.json is gone, e.g. overwritten by a later suite run
into the same OUT: the table gives every row's means, stds, paired difference and verdict to two
decimals; the seed count is the grid's.

Four tables, over every summary row both JSON files have (robustcl's report.json has more rows:
OOD metrics, ECE, Forward/GLC, the other imbalance methods, adversarial; the replica has only the
clean, uncertainty, Normal label-noise and Normal power-law imbalance runs):

1. Per arm: each implementation's mean +- sample std over seeds, robustcl - PyTorch, and whether
   that difference lies within 2 combined standard errors, sqrt(sd_r^2/n_r + sd_t^2/n_t): a crude
   two-sample check (with 3 seeds a t-based bound would be wider; a "no" is a hint to look closer,
   not a verdict). With one seed on either side there is no spread to judge by.
2. Verdicts: each implementation's paired difference pre-trained - scratch (mean +- standard error
   of the per-seed differences) and its verdict (paired t-test, 95%, src/suite/report.c judge()),
   and whether the two verdicts are the same.
3. Pre-training: each seed's source test error per source (class-covering "pretrain", class-excluded
   "pretrain-excluded"), and per source the mean +- std with the 2 SE check.
4. Per seed: the test error of every run both have. The two implementations train on the same
   images, labels, crops, flips, dropout masks and initial weights per seed (see
   suite_mini_torch.py); the trained weights differ by float rounding, so single runs differ by
   training noise.
Standard library only.
"""
import argparse
import json
import math
import re
import sys

ARMS = ("scratch", "pretrained")


def key_of(setting):
    return "all" if setting == "all" else round(float(setting), 9)


def summary_index(doc):
    """(experiment, method, setting, metric) -> row, in the file's order."""
    return {(r["experiment"], r["method"], key_of(r["setting"]), r["metric"]): r for r in doc.get("summary", [])
            if "dataset" not in r}


def label(key):
    exp, method, setting, metric = key
    name = {"noise": "s", "imbalance": "γ"}.get(exp)
    where = "" if setting == "all" or not name else " %s = %g" % (name, setting)
    return "%s%s%s: %s" % (exp, "" if method == "normal" else " " + method, where, metric)


def fmt(stat):
    if not stat or stat.get("mean") is None or not stat.get("seeds"):
        return "—"
    return "%.2f ± %.2f (n=%d)" % (stat["mean"], stat["std"] or 0.0, stat["seeds"])


def within(r, t):
    """(difference, verdict) cells of robustcl - PyTorch for two {"mean", "std", "seeds"}."""
    if not r or not t or r.get("mean") is None or t.get("mean") is None or not r.get("seeds") or not t.get("seeds"):
        return "—", "—"
    d = r["mean"] - t["mean"]
    if r["seeds"] < 2 or t["seeds"] < 2:
        return "%+.2f" % d, "n/a (one seed)"
    se = math.sqrt((r["std"] or 0) ** 2 / r["seeds"] + (t["std"] or 0) ** 2 / t["seeds"])
    return "%+.2f" % d, ("yes" if abs(d) <= 2 * se else "**no**") + " (2 SE = %.2f)" % (2 * se)


def stat(values):
    """{"mean", "std", "seeds"} of a list, as the summaries hold them."""
    n = len(values)
    if not n:
        return {"mean": None, "std": None, "seeds": 0}
    m = sum(values) / n
    return {"mean": m, "std": math.sqrt(sum((v - m) ** 2 for v in values) / (n - 1)) if n > 1 else 0.0, "seeds": n}


def paired(row):
    """The difference cell of a summary row: pre - scratch +- SE (n)."""
    if row.get("difference") is None:
        return "—"
    se = row.get("difference_se")
    return "%+.2f%s (n=%d)" % (row["difference"], " ± %.2f" % se if se is not None else "", row.get("paired_seeds", 0))


# ---------------------------------------------------------------- configuration


NUM = r"([\d.e+-]+)"
LIST = r"([\d.e+-]+(?:, [\d.e+-]+)*)"
GRID = {  # option -> the pattern of rcl_suite_describe's text that states it
    "data": r"data ([^:\s]+):", "source_classes": r"source classes (\S+),",
    "target_classes": r"target classes ([^\s(]+)", "arch": r"net (\S+),", "batch": r"batch (\d+)",
    "target_pool": r"target pool: (\d+) training images", "source": r"class-(\w+) source \(clean error",
    "pretrain_epochs": r"at least (\d+) epochs? and \d+ steps",
    "pretrain_min_steps": r"at least \d+ epochs? and (\d+) steps", "pretrain_lr": r"epochs? and \d+ steps, lr " + NUM,
    "pretrain_images": r"each source capped at (\d+) images",
    "target_per_class": r"target: (\d+) training images per class", "test_per_class": r", (\d+) test images per class",
    "min_steps": r"scratch: at least (\d+) steps",
    "scratch_lr": r"scratch: at least \d+ steps \(adversarial \d+\), lr " + NUM,
    "scratch_dropout": r"dropout " + NUM + r"\n",
    "noise": r"label noise \(uniform\) s = " + LIST, "gamma": r"power law gamma = " + LIST,
    "imbalance_largest": r"largest class (\d+)",
}


def robustcl_config(doc):
    """The configuration robustcl's report declares in its "grid" text."""
    g, out = doc.get("grid", ""), {}
    for k, p in GRID.items():
        m = re.search(p, g)
        if m:
            out[k] = m.group(1)
    out.setdefault("pretrain_images", "0")  # "every source image"
    out.setdefault("test_per_class", "0")  # "every test image"
    out["finetune"] = {n: [int(s), float(lr)] for n, s, lr in re.findall(r"(\w+) (\d+) steps at lr " + NUM, g)}
    return out


def same_value(v, tv):
    if isinstance(tv, list):
        return sorted(float(s) for s in v.split(",")) == sorted(float(s) for s in tv)
    if isinstance(tv, (int, float)) and not isinstance(tv, bool):
        return math.isclose(float(v), float(tv), rel_tol=1e-6)
    return str(v) == str(tv)


def config_differences(rdoc, tdoc):
    """Settings the two runs disagree on (a table of different grids compares nothing)."""
    rc, tc, diffs = robustcl_config(rdoc), tdoc.get("config", {}), []
    for k, v in rc.items():
        if k == "finetune":
            diffs += ["finetune %s: robustcl %s, PyTorch %s" % (n, v[n], tc.get(k, {}).get(n)) for n in sorted(v)
                      if n in tc.get(k, {}) and v[n] != list(tc[k][n])]
        elif k in tc and not same_value(v, tc[k]):
            diffs.append("%s: robustcl %s, PyTorch %s" % (k, v, tc[k]))
    rseeds = sorted({r["seed"] for r in rdoc.get("runs", [])})
    if rseeds != sorted(tc.get("seeds", [])):
        diffs.append("seeds: robustcl %s, PyTorch %s" % (rseeds, tc.get("seeds")))
    return diffs


# ---------------------------------------------------------------- tables


def header(rpath, tpath, rdoc, tdoc):
    prov = rdoc.get("provenance", {})
    print("# robustcl suite mini vs PyTorch replica\n")
    print("- robustcl: `%s` (`%s`, %s, %.0f s wall)" % (rpath, prov.get("command_line", "?"), prov.get("device", "?"),
                                                      prov.get("wall_seconds", float("nan"))))
    print("- PyTorch: `%s` (`%s`; torch %s, threads %s on %s, %.0f s wall)" % (
        tpath, tdoc.get("command_line", "?"), tdoc.get("torch", "?"), tdoc.get("config", {}).get("threads", "?"),
        tdoc.get("config", {}).get("device", "?"), tdoc.get("wall_seconds", float("nan"))))
    diffs = config_differences(rdoc, tdoc)
    print("- " + ("**the configurations differ**: " + "; ".join(diffs) if diffs else
                  "same configuration (as far as robustcl's grid text declares it)"))


def arm_table(keys, ri, ti):
    print("\n## Per arm\n\nPercent; mean ± sample std over seeds (n = seeds). \"within 2 SE\": "
          "|robustcl − PyTorch| ≤ 2·sqrt(sd_r²/n_r + sd_t²/n_t), per arm.\n")
    print("| row | robustcl scratch | robustcl pre-trained | PyTorch scratch | PyTorch pre-trained | "
          "scratch: robustcl − PyTorch | within 2 SE | pre-trained: robustcl − PyTorch | within 2 SE |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k in keys:
        r, t = ri[k], ti[k]
        cells = [fmt(r.get(a)) for a in ARMS] + [fmt(t.get(a)) for a in ARMS]
        for arm in ARMS:
            cells += within(r.get(arm), t.get(arm))
        print("| %s | %s |" % (label(k), " | ".join(cells)))


def verdict_table(keys, ri, ti):
    print("\n## Verdicts\n\npre-trained − scratch: mean ± standard error of the per-seed differences (n = paired "
          "seeds); verdict: paired t-test at 95% (src/suite/report.c), the same rule on both sides.\n")
    print("| row | robustcl pre − scratch | robustcl verdict | PyTorch pre − scratch | PyTorch verdict | "
          "same verdict |")
    print("|---|---|---|---|---|---|")
    for k in keys:
        r, t = ri[k], ti[k]
        if not r.get("verdict") and not t.get("verdict"):
            continue
        same = "yes" if r.get("verdict") == t.get("verdict") else "**no**"
        print("| %s | %s | %s | %s | %s | %s |" % (label(k), paired(r), r.get("verdict") or "—", paired(t),
                                                   t.get("verdict") or "—", same))


def pretrain_errors(rdoc, tdoc):
    """(source name, seed) -> [robustcl error, PyTorch error] of the clean pre-trained models."""
    out = {}
    for r in rdoc.get("runs", []):
        if r.get("experiment") == "pretrain" and "pgd" not in r.get("method", ""):  # normal, covering, excluded
            out.setdefault((r["id"].split("/")[0], r["seed"]), [None, None])[0] = r["metrics"].get("error")
    for r in tdoc.get("pretrain", []):
        out.setdefault((r["id"].split("/")[0], r["seed"]), [None, None])[1] = r["metrics"].get("error")
    return out


def pretrain_table(rdoc, tdoc):
    errs = pretrain_errors(rdoc, tdoc)
    print("\n## Pre-training\n\nSource test error (%) of each seed's pre-trained model: `pretrain` = the "
          "class-covering source (10 classes), `pretrain-excluded` = the class-excluded one (the source classes).\n")
    print("| model | seed | robustcl | PyTorch | robustcl − PyTorch |")
    print("|---|---|---|---|---|")
    for (name, seed), (r, t) in sorted(errs.items()):
        print("| %s | %d | %s | %s | %s |" % (name, seed, "%.2f" % r if r is not None else "—",
                                             "%.2f" % t if t is not None else "—",
                                             "%+.2f" % (r - t) if r is not None and t is not None else "—"))
    for name in sorted({n for n, _ in errs}):
        rs = stat([v[0] for (n, _), v in errs.items() if n == name and v[0] is not None])
        ts = stat([v[1] for (n, _), v in errs.items() if n == name and v[1] is not None])
        d, ok = within(rs, ts)
        print("| %s | mean | %s | %s | %s, within 2 SE: %s |" % (name, fmt(rs), fmt(ts), d, ok))


def per_seed_table(rdoc, tdoc):
    def errors(doc):  # (experiment, id) -> error: the uncertainty scratch run keeps the clean run's id
        return {(r["experiment"], r["id"]): r["metrics"].get("error") for r in doc.get("runs", [])
                if r.get("method") == "normal" and r.get("experiment") != "pretrain"}
    rs, ts = errors(rdoc), errors(tdoc)
    common = [k for k in rs if k in ts and rs[k] is not None and ts[k] is not None]
    if not common:
        return
    print("\n## Per seed\n\nTest error (%): the same training images, labels, crops, flips and initial weights on "
          "both sides; the difference is training noise plus any real discrepancy.\n")
    print("| experiment | run | robustcl | PyTorch | robustcl − PyTorch |")
    print("|---|---|---|---|---|")
    for k in common:
        print("| %s | %s | %.2f | %.2f | %+.2f |" % (k[0], k[1], rs[k], ts[k], rs[k] - ts[k]))


# ---------------------------------------------------------------- robustcl's side from its table and log

CELL = r"(-?[\d.]+ \+- +[\d.]+|-?[\d.]+ \(n = 1\)|-)"  # longest first: "-" alone is an empty cell
TABLE_ROW = re.compile(r"^(\S+)\s+(\S+)\s+(\S+)\s+(\S+)(?: \(!\))?\s+" + CELL + r"\s+" + CELL +
                       r"\s+([+-][\d.]+(?: \+- +[\d.]+)?|-)\s*(helps|hurts|no measurable difference|n = 1: \w+)?")
LOG_RUN = re.compile(r"^robustcl: \[\s*\d+s\] (\S+)\s+(?:done|cached)\s+error ([\d.]+)%")


def table_cell(text, seeds):
    """{"mean", "std", "seeds"} of a table cell: "6.61 +-  0.25", "6.61 (n = 1)" or "-"."""
    if text == "-":
        return {"mean": None, "std": None, "seeds": 0}
    if "(n = 1)" in text:
        return {"mean": float(text.split()[0]), "std": 0.0, "seeds": 1}
    mean, std = text.split("+-")
    return {"mean": float(mean), "std": float(std), "seeds": seeds}


def table_summary(path, seeds):
    """The summary rows of robustcl's terminal table (rcl_report_table)."""
    rows = []
    with open(path) as f:
        for line in f:
            m = TABLE_ROW.match(line)
            if not m:
                continue
            exp, method, setting, metric, scr, pre, diff, verdict = m.groups()
            d = diff.split("+-") if diff != "-" else [None]
            rows.append({"experiment": exp, "method": method, "metric": metric,
                         "setting": setting if setting == "all" else float(setting),
                         "scratch": table_cell(scr, seeds), "pretrained": table_cell(pre, seeds),
                         "difference": float(d[0]) if d[0] else None,
                         "difference_se": float(d[1]) if len(d) > 1 else None,
                         "paired_seeds": seeds if d[0] else 0, "verdict": verdict or ""})
    return rows


def robustcl_from_log(table_path, log_path):
    """A report.json-shaped record of robustcl's side from its table and log: the grid text (the
    log's first lines), each stage's test error (first 'done'/'cached' line per id) and the time."""
    grid, runs, wall = [], {}, None
    with open(log_path) as f:
        lines = f.read().splitlines()
    for line in lines:
        if line.startswith(("  pre-train", "  train", "robustcl:")):
            break
        grid.append(line)
    for line in lines:
        m = LOG_RUN.match(line)
        if m and m.group(1) not in runs:
            rid = m.group(1)
            head = rid.split("/")[0]
            runs[rid] = {"id": rid, "experiment": "pretrain" if head.startswith("pretrain") else head,
                         "method": "pgd" if "adversarial" in head else "normal",
                         "seed": int(rid.rsplit("=", 1)[1]), "metrics": {"error": float(m.group(2))}}
        m = re.search(r"suite finished in (\d+) s", line)
        if m:
            wall = float(m.group(1))
            break
    grid = "\n".join(grid) + "\n"
    seeds = int(re.search(r"seeds: (\d+)", grid).group(1))
    return {"grid": grid, "summary": table_summary(table_path, seeds), "runs": list(runs.values()),
            "provenance": {"command_line": "reconstructed from %s and %s" % (table_path, log_path),
                           "wall_seconds": wall if wall is not None else float("nan")}}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("report", nargs="?", help="robustcl's SUITE_OUT/report.json")
    p.add_argument("torch", help="suite_mini_torch.py's JSON")
    p.add_argument("--table", help="instead of the report: robustcl's terminal table (OUT/table.txt) ...")
    p.add_argument("--log", help="... and the suite's log (stderr)")
    a = p.parse_args(argv[1:])
    if bool(a.report) == bool(a.table and a.log):
        p.error("give report.json, or --table and --log")
    if a.report:
        with open(a.report) as f:
            rdoc = json.load(f)
    else:
        rdoc = robustcl_from_log(a.table, a.log)
    with open(a.torch) as f:
        tdoc = json.load(f)
    ri, ti = summary_index(rdoc), summary_index(tdoc)
    keys = [k for k in ri if k in ti]  # robustcl's row order
    header(a.report or "%s + %s" % (a.table, a.log), a.torch, rdoc, tdoc)
    arm_table(keys, ri, ti)
    verdict_table(keys, ri, ti)
    pretrain_table(rdoc, tdoc)
    per_seed_table(rdoc, tdoc)


if __name__ == "__main__":
    main(sys.argv)
