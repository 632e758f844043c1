#!/usr/bin/python3
"""An independent PyTorch replica of `robustcl suite mini`: clean, uncertainty, label-noise and imbalance runs.

The suite (spec §11.1, src/suite/suite_run.c) holds a pool of 1000 training images of each target
class out of pre-training, and pre-trains, for every seed, one model on the class-covering source
(every training image of the source and target classes outside the pool) and one on the
class-excluded source (the source classes only). Per seed it draws a balanced target set from the
pool and trains every run twice: from scratch (dropout 0.3, lr 0.1) and from that seed's trunk
with a new head, fine-tuned by the experiment's recipe. This script does the same in PyTorch so
that the suite's numbers can be checked against an implementation that shares none of robustcl's
kernels. It is a bench script, never in the product's path, and CI does not run it. Debian's
/usr/bin/python3 (python3-torch, python3-numpy).

  /usr/bin/python3 bench/suite_mini_torch.py --out torch.json              # the suite's defaults
  /usr/bin/python3 bench/suite_mini_torch.py --quick --out quick.json       # `suite mini --quick` sizes
  /usr/bin/python3 bench/compare_suite_torch.py OUT/report.json torch.json > compare.md

Options mirror `robustcl suite mini` (same names, same defaults, `--quick` the same CI sizes):
--target-pool, --source, --finetune EXP=STEPS@LR,... (noise, imbalance and uncertainty are used
here; corrected and adversarial are accepted), --finetune-min-steps, --experiments (noise,
imbalance; adversarial is skipped with a note), --gamma, --imbalance-largest, --pretrain-*. The
recipe settings the suite keeps in its config without an option (pre-training lr, scratch epochs,
lr and dropout) are options here with the suite's values as defaults. `--seeds N` means seeds 1..N
as in the suite; a comma list (`--seeds 1,3`) picks seeds explicitly.

What it runs, per seed s (rcl_suite_run's loop), every run in both arms unless said:
  * pre-training on each source (pretrain_seed): init 1000003 s + 2, order 104729 s + 3, lr 0.1,
    dropout 0, at least --pretrain-epochs and --pretrain-min-steps in whole epochs; its source
    test error per seed and source goes into "pretrain";
  * clean and noise: Normal at each strength of --noise on the balanced set, fine-tuned from the
    --source model (default covering) by the "noise" recipe; the clean pair also gets the RMS
    calibration error; error_area over the grid;
  * uncertainty: the clean scratch run (robustcl's one stage, reported under both experiments with
    the clean run's id) against the class-excluded model fine-tuned by the "uncertainty" recipe;
    error and RMS calibration error;
  * imbalance: Normal on the power law of each --gamma from --imbalance-largest down to
    max(2, largest/20) (1000 -> 50: [1000, 64, 57, 52, 50]), fine-tuned from the --source model by
    the "imbalance" recipe; error and minority error.

What matches the suite exactly (same integers / same float32 values, given the same libm):
  * the data: the IDX files of --data, class selection and relabelling (kept classes in ascending
    class order, keep_mask), the target pool (rcl_suite_target_pool: rcl_imb_select over the
    target classes' training images, seed 5), both sources and their test sets
    (rcl_suite_split_take), the seeded pre-training subsets (--pretrain-images: rcl_data_pick, seed
    7), the test caps (rcl_imb_select, sources seed 11, target 13), each seed's balanced set from
    the pool (seed s), its uniform label corruption (rcl_noise_corrupt_labels: 977 s +
    floor(1000 strength), third splitmix stream, numpy-style inverse-cdf resampling), the
    imbalanced sets (rcl_imb_power_law_counts, rcl_imb_make_dataset from the pool with seed
    31337 s) and their minority classes (rcl_imb_minority: fewer than the mean count), all through
    a port of include/robustcl/rng.h (splitmix64);
  * the input pipeline: each epoch's permutation, every image's crop offsets and flip
    (src/train/loader.c: per-position splitmix streams), pad 4 with pixel 0, normalisation
    (x/255 - 0.5)/0.5 in float32, the last partial batch kept;
  * the initialisation (src/model/wrn.c rcl_model_init / rcl_model_init_head): He-normal conv
    weights N(0, 2/(kh*kw*C_out)) by Box-Muller from the splitmix stream in parameter order,
    fc.weight ~ U(+-1/sqrt(fan_in)), biases and BN shifts 0, BN scales 1; the new head
    U(+-1/sqrt(fan_in)) for weight then bias from seed ^ 0x4ead; the seed's pre-trained trunk
    (BN running statistics included) copied into the fine-tuning model;
  * the dropout masks (kernels/elementwise.cl ew_dropout: the counter hash of kernels/common.cl
    keyed by (init seed, step, block, element)), inverted scaling;
  * the schedule: steps = ceil(n/batch) * max(epochs, ceil(min_steps / ceil(n/batch))),
    lr_t = 1e-6 + (lr - 1e-6) * (1 + cos(pi t/T))/2 for t = 1..T (rcl_cosine_lr at step+1),
    SGD Nesterov 0.9 with weight decay 5e-4 on every parameter (torch.optim.SGD is the same update
    as kernels/sgd.cl ew_sgd), mean cross-entropy, BN momentum 0.1, eps 1e-5, unbiased running
    variance; the run seeds (init 1000003 s + 1, order 7919 s + 17);
  * the metrics: test error (argmax, first maximum on ties) in eval mode, per-class and minority
    error (src/suite/suite_eval.c); the RMS calibration error in textbook mode (src/eval/
    calibration.c: ascending stable sort of the max softmax probability at T = 1, bins of 100,
    the last bin takes the remainder, every bin counted); error area (rcl_noise_error_area) per
    seed; the summary's paired differences and verdicts (src/suite/report.c judge(): mean and
    standard error of pre - scratch per seed, paired t-test at 95%).

How that was checked: --dump-indices writes every set as positions in the IDX files (at the
defaults: sources 55,000 and 30,000 images, pool 5,000, the imbalanced set 1,223; the pool is
disjoint from both sources). --check-stages OUT compares every run's step count with robustcl's
OUT/report.json (or OUT/stages/*.json) and evaluates robustcl's pre-trained checkpoints on this
replica's source test sets, whose per-class errors must equal robustcl's; with --check-log, the
last epoch's training loss and error robustcl logged, which agree within the float drift of a
few steps only when the training images, labels, order, crops and initial weights are the same.
Against `suite mini --quick`: all 9 runs' steps, both checkpoints, and losses such as 1.5611 vs
1.56116 (clean scratch, 8 steps). Against the default run: all 27 runs' steps and all 6
checkpoints on the 10,000 and 5,000 source test images
(bench/results/suite-mini/torch-replica.json "stage_check").

What matches only in distribution: the trained weights. PyTorch's convolutions, BN and loss
reductions sum in other orders than robustcl's OpenCL kernels, so the runs start identical and
drift apart by float rounding within a few steps (SGD amplifies it). Per seed the two
implementations see the same images, labels, crops, flips, dropout masks and initial weights,
yet their final errors differ by training noise, and so do the pre-trained models every
fine-tuning run starts from: compare mean +- std over seeds (bench/compare_suite_torch.py), not
single runs.

Not replicated: OOD detection (the synthetic Gaussian, Rademacher and Blobs sets and their
AUROC/AUPR/FPR95) and the calibration measures besides RMS (MAD, ECE, AURRA, the paper-mode
values); Forward and GLC; the cost-sensitive, oversampling and SMOTE imbalance methods and the
exponential (CIFAR-LT) profile; adversarial pre-training and training; --data sets other than
Fashion-MNIST's IDX files.

Prints progress to stderr and writes one JSON (--out): the configuration, versions, command line,
wall time, the pre-training runs ("pretrain": source test error per seed and source), every run
(metrics, per-class error, and diagnostics: training images, last-epoch loss and error, share of
wrong labels), and a "summary" in the format of robustcl's report.json (per experiment, setting
and metric: per-arm mean, sample std and seed count, the paired difference, its standard error
and the verdict); with --check-stages also "stage_check".
"""
import argparse
import glob
import gzip
import json
import math
import os
import platform
import re
import sys
import time

import numpy as np

# ---------------------------------------------------------------- the suite's defaults

# src/suite/suite_config.c rcl_suite_defaults: quick = 0 and quick = 1 (the replicated fields).
DEFAULTS = dict(data="fashion-mnist", source_classes="0-4", target_classes="5-9", arch="wrn-10-1", batch=32,
                seeds="4", target_pool=1000, source="covering", target_per_class=100, test_per_class=0,
                min_steps=1024, experiments="noise,imbalance", noise="0,0.4", gamma="0.2", imbalance_largest=1000,
                finetune="noise=102@0.01,corrected=102@0.01,imbalance=512@0.01,uncertainty=1024@0.01,"
                         "adversarial=256@0.01",
                pretrain_images=0, pretrain_epochs=1, pretrain_min_steps=1500, pretrain_lr=0.1,
                scratch_epochs=1, scratch_lr=0.1, scratch_dropout=0.3)
QUICK = dict(seeds="1", target_pool=48, pretrain_images=640, pretrain_min_steps=0, target_per_class=24,
             test_per_class=40, min_steps=6, noise="0,0.5", imbalance_largest=48,
             finetune="noise=6@0.01,corrected=6@0.01,imbalance=6@0.01,uncertainty=6@0.01,adversarial=6@0.01")
RECIPES = ("noise", "corrected", "imbalance", "uncertainty", "adversarial")  # recipe_names in suite_config.c
SOURCES = ("covering", "excluded")                                          # RCL_SUITE_SOURCE_*
PRETRAIN_NAMES = {"covering": "pretrain", "excluded": "pretrain-excluded"}  # pretrain()'s stage ids
ARMS = ("scratch", "pretrained")
POOL_SEED = 5                                                               # suite_run.c POOL_SEED

LR_MIN, MOMENTUM, WEIGHT_DECAY, PAD = 1e-6, 0.9, 5e-4, 4  # src/train/trainer.c rcl_train_defaults
NORM_MEAN, NORM_STD = 0.5, 0.5                              # src/core/normalization.c: 0.5/0.5
CALIB_BIN = 100                                             # RCL_CALIB_BIN

T0 = time.time()


def log(msg):
    print("[%6.0fs] %s" % (time.time() - T0, msg), file=sys.stderr, flush=True)


# ---------------------------------------------------------------- include/robustcl/rng.h

M64 = (1 << 64) - 1
GOLDEN = 0x9e3779b97f4a7c15


class Rng:
    """splitmix64 exactly as rcl_rng: Python ints masked to 64 bits for the scalar draws the
    suite makes in loops (shuffles, crops), numpy uint64 for long runs (initialisation)."""

    def __init__(self, seed):
        self.state = (seed ^ GOLDEN) & M64

    def next(self):
        self.state = z = (self.state + GOLDEN) & M64
        z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M64
        z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M64
        return z ^ (z >> 31)

    def uniform(self):  # 53 random bits in [0,1)
        return (self.next() >> 11) * 2.0 ** -53

    def below(self, n):  # unbiased [0,n) by rejection, as rcl_rng_below
        lim = M64 - M64 % n
        while True:
            x = self.next()
            if x < lim:
                return x % n

    def shuffle(self, a):  # rcl_rng_shuffle: Fisher-Yates from the end
        for i in range(len(a) - 1, 0, -1):
            j = self.below(i + 1)
            a[i], a[j] = a[j], a[i]

    def block(self, count):
        """The next `count` outputs as a numpy uint64 array (state i is seed + i*GOLDEN, so the
        stream vectorises; numpy's uint64 arithmetic wraps like C's)."""
        steps = np.arange(1, count + 1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            z = np.uint64(self.state) + steps * np.uint64(GOLDEN)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xbf58476d1ce4e5b9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94d049bb133111eb)
        self.state = (self.state + count * GOLDEN) & M64
        return z ^ (z >> np.uint64(31))

    def uniforms(self, count):
        return (self.block(count) >> np.uint64(11)).astype(np.float64) * 2.0 ** -53

    def normals(self, count):
        """rcl_rng_normal `count` times: Box-Muller, one normal per two uniforms, no caching.
        math.log/math.cos are the C library's (numpy's SIMD versions may differ in the last bit)."""
        u = self.uniforms(2 * count)
        out = np.empty(count, dtype=np.float64)
        log_, sqrt_, cos_ = math.log, math.sqrt, math.cos
        for i in range(count):
            u1 = u[2 * i]
            if u1 < 1e-300:
                u1 = 1e-300
            out[i] = sqrt_(-2.0 * log_(u1)) * cos_(6.283185307179586 * u[2 * i + 1])
        return out


def hash32(x):
    """rcl_hash32 / kernels/common.cl rcl_hash on a numpy uint32 array (wrapping multiplies)."""
    x = x ^ (x >> np.uint32(16))
    x = x * np.uint32(0x7feb352d)
    x = x ^ (x >> np.uint32(15))
    x = x * np.uint32(0x846ca68b)
    return x ^ (x >> np.uint32(16))



# ---------------------------------------------------------------- data (src/data, src/suite/suite_data.c)


def parse_classes(text):
    """rcl_parse_class_ranges: '5-9', '0+2+4', '0-2+8' (',' is accepted like the CLI's class_list)."""
    out = []
    for item in text.replace(",", "+").split("+"):
        a, _, b = item.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def read_idx(path, ndim):
    """An IDX ubyte file, gzip or raw (src/data/idx.c)."""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    if raw[:3] != b"\x00\x00\x08" or raw[3] != ndim:
        raise SystemExit("%s: not an IDX ubyte file of %d dimensions" % (path, ndim))
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def find_idx(d, base):
    for name in (base + ".gz", base):  # the .gz first, as find_idx in src/data/idx.c
        if os.path.isfile(os.path.join(d, name)):
            return os.path.join(d, name)
    raise SystemExit("%s: no %s(.gz)" % (d, base))


def load_fashion_mnist(spec, train):
    """`fashion-mnist[:DIR]` (default RCL_FASHION_MNIST_DIR or /usr/share/datasets/fashion-mnist):
    images [n,1,28,28] uint8 and int64 labels in file order."""
    kind, _, d = spec.partition(":")
    if kind != "fashion-mnist" or "," in spec:
        raise SystemExit("--data: this replica reads only fashion-mnist[:DIR] (got %s)" % spec)
    d = d or os.environ.get("RCL_FASHION_MNIST_DIR") or "/usr/share/datasets/fashion-mnist"
    pre = "train" if train else "t10k"
    x = read_idx(find_idx(d, pre + "-images-idx3-ubyte"), 3)
    y = read_idx(find_idx(d, pre + "-labels-idx1-ubyte"), 1)
    return x[:, None, :, :], y.astype(np.int64)


def data_pick(total, m, seed):
    """rcl_data_pick: a partial Fisher-Yates of m draws, the chosen indices sorted."""
    idx = list(range(total))
    r = Rng(seed)
    for i in range(m):
        j = i + r.below(total - i)
        idx[i], idx[j] = idx[j], idx[i]
    return np.array(sorted(idx[:m]), dtype=np.int64)


def imb_select(labels, k, counts, seed):
    """rcl_imb_select (src/eval/imbalance.c): each class's members in file order, shuffled by
    one stream class after class, the first counts[c] kept; returned ascending (file order)."""
    r = Rng(seed)
    keep = np.zeros(len(labels), dtype=bool)
    for c in range(k):
        members = np.nonzero(labels == c)[0].tolist()
        if counts[c] > len(members):
            raise SystemExit("class %d wants %d images but has %d" % (c, counts[c], len(members)))
        r.shuffle(members)
        keep[members[:counts[c]]] = True
    return np.nonzero(keep)[0]


def uniform_noise(labels, k, s, seed):
    """rcl_noise_corrupt_labels with uniform corruption and no trusted set: C = (1-s) I + s/K
    (the true class can be redrawn), each label resampled from its row with the third of three
    streams of `seed`, numpy random.choice's inverse cdf normalised by its last entry."""
    r = Rng(seed)
    r.next(), r.next()  # the flip and gold-set streams
    r = Rng(r.next())
    rows = [[(1.0 - s if i == j else 0.0) + s / k for j in range(k)] for i in range(k)]
    out = np.empty_like(labels)
    for n, y in enumerate(labels.tolist()):
        row = rows[y]
        total = 0.0
        for v in row:
            total += v
        u, cum, pick, last_nz = r.uniform(), 0.0, -1, 0
        for j, v in enumerate(row):
            if v > 0:
                last_nz = j
            cum += v
            if pick < 0 and cum / total > u:
                pick = j
        out[n] = pick if pick >= 0 else last_nz
    return out


def normalise(x_u8):
    """(pixel/255 - mean)/std in float32, operation by operation as rcl_loader_image."""
    x = x_u8.astype(np.float32) / np.float32(255.0)
    return (x - np.float32(NORM_MEAN)) / np.float32(NORM_STD)


class Split:
    """A labelled image set: images [n,C,H,W] uint8, labels 0..k-1 and each image's position in
    its IDX file (what --dump-indices writes). The normalised, zero-padded copy the loader crops
    from is made once per set, since every seed's pre-training walks the same source."""

    def __init__(self, x, y, k, idx):
        self.x, self.y, self.k, self.idx = x, y, k, idx
        self._padded = None

    def __len__(self):
        return len(self.y)

    def take(self, sel):
        return Split(self.x[sel], self.y[sel], self.k, self.idx[sel])

    def padded(self):
        if self._padded is None:
            x = normalise(self.x)
            n, c, h, w = x.shape
            zero = np.float32(-NORM_MEAN) / np.float32(NORM_STD)  # pixel 0 in network space
            self._padded = np.full((n, c, h + 2 * PAD, w + 2 * PAD), zero, dtype=np.float32)
            self._padded[:, :, PAD:PAD + h, PAD:PAD + w] = x
        return self._padded


def class_map(classes):
    """Label -> rank among the distinct listed classes in ascending order, -1 elsewhere (the
    relabelling of rcl_dataset_keep_classes: keep_mask walks the classes 0..255, not the list)."""
    kept = sorted(set(classes))
    remap = np.full(256, -1, dtype=np.int64)
    remap[kept] = np.arange(len(kept))
    return remap, len(kept)


def split_take(x, y, classes, mask):
    """rcl_suite_split_take: the images of `classes` where mask holds, in file order, relabelled."""
    remap, k = class_map(classes)
    sel = np.nonzero((remap[y] >= 0) & mask)[0]
    if not len(sel):
        raise SystemExit("no image of the classes %s" % classes)
    return Split(x[sel], remap[y[sel]], k, sel)


def target_pool(y, classes, pool, seed):
    """rcl_suite_target_pool: a mask of `pool` images of each target class, rcl_imb_select over
    the target classes' images in file order (relabelled), so every seed's pre-training leaves
    out the same images."""
    remap, k = class_map(classes)
    pos = np.nonzero(remap[y] >= 0)[0]
    lab = remap[y[pos]]
    if (np.bincount(lab, minlength=k) < pool).any():
        raise SystemExit("a target class has fewer training images than the pool of %d (--target-pool)" % pool)
    mask = np.zeros(len(y), dtype=bool)
    mask[pos[imb_select(lab, k, [pool] * k, seed)]] = True
    return mask


def cap_per_class(data, per_class, seed):
    """rcl_suite_cap_per_class (src/suite/suite_stage.c): at most per_class images a class
    (0: all); untouched when no class is over the cap."""
    have = np.bincount(data.y, minlength=data.k)
    if per_class <= 0 or (have <= per_class).all():
        return data
    return data.take(imb_select(data.y, data.k, np.minimum(have, per_class), seed))


def prepare_data(a):
    """prepare_data/split_data (src/suite/suite_run.c): the target pool and both sources from the
    training split, the target's and sources' test sets from the test split, then the seeded
    pre-training subsets (seed 7) and test caps (sources 11, target 13)."""
    xtr, ytr = load_fashion_mnist(a.data, True)
    xte, yte = load_fashion_mnist(a.data, False)
    src, tgt = parse_classes(a.source_classes), parse_classes(a.target_classes)
    outside = ~target_pool(ytr, tgt, a.target_pool, POOL_SEED)
    every = np.ones(len(yte), dtype=bool)  # split_data(train = 0) has no pool
    d = {"source": {"covering": split_take(xtr, ytr, src + tgt, outside),
                    "excluded": split_take(xtr, ytr, src, outside)},
         "source_test": {"covering": split_take(xte, yte, src + tgt, every),
                         "excluded": split_take(xte, yte, src, every)},
         "target": split_take(xtr, ytr, tgt, ~outside), "test": split_take(xte, yte, tgt, every)}
    for name in SOURCES:
        s = d["source"][name]
        if 0 < a.pretrain_images < len(s):
            d["source"][name] = s.take(data_pick(len(s), a.pretrain_images, 7))
        d["source_test"][name] = cap_per_class(d["source_test"][name], a.test_per_class, 11)
    d["test"] = cap_per_class(d["test"], a.test_per_class, 13)
    for name in SOURCES:
        log("%s source: %d images (%d classes), %d test" % (name, len(d["source"][name]), d["source"][name].k,
                                                             len(d["source_test"][name])))
    log("target pool: %d images (%d classes), %d test" % (len(d["target"]), d["target"].k, len(d["test"])))
    return d


def power_law_counts(k, a, b, gamma):
    """rcl_imb_power_law_counts (spec §6.1): floor(a / (1 + (a/b - 1) (c/(K-1))^gamma))."""
    return np.array([math.floor(a / (1.0 + (a / b - 1.0) * ((c / (k - 1) if k > 1 else 0.0) ** gamma)))
                     for c in range(k)], dtype=np.int64)


class Loader:
    """src/train/loader.c: a new permutation each epoch (seed*1000003 + epoch), every image's
    crop of the zero-padded image and flip from a stream keyed by (seed, epoch, position)."""

    def __init__(self, data, labels, batch, seed):
        self.padded, self.y, self.batch, self.seed = data.padded(), labels, batch, seed
        self.n, self.shape = len(labels), data.x.shape[1:]
        self.batches = (self.n + batch - 1) // batch

    def epoch(self, e):
        c, h, w = self.shape
        perm = list(range(self.n))
        Rng((self.seed * 1000003 + e) & M64).shuffle(perm)
        key = (self.seed ^ ((GOLDEN * (e + 1)) & M64)) & M64
        for b in range(self.batches):
            pos = range(b * self.batch, min(self.n, (b + 1) * self.batch))
            out = np.empty((len(pos), c, h, w), dtype=np.float32)
            for i, p in enumerate(pos):
                r = Rng(key ^ ((p << 20) & M64))
                dy, dx = r.below(2 * PAD + 1) - PAD, r.below(2 * PAD + 1) - PAD
                flip = r.uniform() < 0.5
                # out[y][x] = src[y+dy][(flip ? w-1-x : x) + dx]: the shifted window, then mirrored
                crop = self.padded[perm[p], :, PAD + dy:PAD + dy + h, PAD + dx:PAD + dx + w]
                out[i] = crop[:, :, ::-1] if flip else crop
            yield out, self.y[[perm[p] for p in pos]]


# ---------------------------------------------------------------- the model


def build_model_classes(torch):
    """The official pre-activation WRN (hendrycks/pre-training; bench/wrn_torch.py) with dropout
    between conv1 and conv2 of every block, drawn with robustcl's counter hash."""
    import torch.nn as nn
    import wrn_torch  # beside this script

    class CounterDropout(nn.Module):
        """kernels/elementwise.cl ew_dropout: keep element i of the [n,C,H,W] batch where
        rcl_counter_uniform(seed, counter, i) >= p, scaled by (float)(1/(1-p)); the same mask
        scales the gradient (autograd of x * mask)."""

        def __init__(self, p, block, state):
            super().__init__()
            self.p, self.block, self.state = float(np.float32(p)), block, state
            self.scale = np.float32(1.0 / (1.0 - self.p))
            self._index_hash = {}

        def forward(self, x):
            if not self.training or self.p <= 0:
                return x
            n = x.numel()
            if n not in self._index_hash:
                self._index_hash[n] = hash32(np.arange(n, dtype=np.uint32))
            counter = np.uint32((self.state["counter"] * self.state["nblocks"] + self.block) & 0xffffffff)
            h = hash32(hash32(self._index_hash[n] ^ self.state["seed"]) ^ counter)
            u = (h >> np.uint32(8)).astype(np.float32) * np.float32(1.0 / 16777216.0)
            mask = np.where(u >= np.float32(self.p), self.scale, np.float32(0)).astype(np.float32)
            return x * torch.from_numpy(mask.reshape(x.shape)).to(x.device)

    class WideResNet(wrn_torch.WideResNet):
        def __init__(self, depth, widen, in_c, classes, drop):
            # the dropout stream: drop_seed from rcl_model_init, counter += 1 per training forward
            state = {"seed": np.uint32(0x5eed), "counter": 0, "nblocks": 3 * ((depth - 4) // 6)}
            super().__init__(depth, classes, widen, in_c, dropout=lambda block: CounterDropout(drop, block, state))
            self.drop_state = state

        def forward(self, x):
            if self.training:
                self.drop_state["counter"] += 1
            return super().forward(x)

    return WideResNet


def init_model(torch, net, seed):
    """rcl_model_init: one splitmix stream over the parameters in robustcl's order (which is
    the order modules register here: conv1, per block bn1, conv1, bn2, conv2, convShortcut,
    then bn1, fc): conv N(0, sqrt(2/(kh*kw*C_out))), fc.weight U(+-1/sqrt(fan_in)), every
    other weight 1 and bias 0; BN running mean 0 and variance 1."""
    r = Rng(seed)
    with torch.no_grad():
        for name, p in net.named_parameters():
            if p.dim() == 4:
                std = math.sqrt(2.0 / (p.shape[2] * p.shape[3] * p.shape[0]))
                v = (std * r.normals(p.numel())).astype(np.float32)
                p.copy_(torch.from_numpy(v.reshape(tuple(p.shape))))
            elif name == "fc.weight":
                p.copy_(uniform_tensor(torch, r, p, 1.0 / math.sqrt(p.shape[1])))
            else:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
        for name, b in net.named_buffers():
            if name.endswith("running_mean"):
                b.zero_()
            elif name.endswith("running_var"):
                b.fill_(1.0)
    net.drop_state["seed"] = np.uint32(((seed * 2654435761) & 0xffffffff) ^ 0x5eed)
    net.drop_state["counter"] = 0


def uniform_tensor(torch, r, p, bound):
    v = ((2.0 * r.uniforms(p.numel()) - 1.0) * bound).astype(np.float32)  # (float)((2u - 1) * bound)
    return torch.from_numpy(v.reshape(tuple(p.shape)))


def init_head(torch, net, seed):
    """rcl_model_init_head: fc.weight then fc.bias ~ U(+-1/sqrt(fan_in)) from seed ^ 0x4ead."""
    r = Rng(seed ^ 0x4ead)
    bound = 1.0 / math.sqrt(net.fc.weight.shape[1])
    with torch.no_grad():
        net.fc.weight.copy_(uniform_tensor(torch, r, net.fc.weight, bound))
        net.fc.bias.copy_(uniform_tensor(torch, r, net.fc.bias, bound))


# ---------------------------------------------------------------- training and evaluation


def cosine_lr(lr, lr_min, t, T):
    """rcl_cosine_lr (src/ops/sgd.c), written so that t = T gives lr_min exactly."""
    t = min(max(t, 0), T)
    return lr_min + (lr - lr_min) * (0.5 * (1.0 + math.cos(3.14159265358979323846 * t / T)))


def schedule(images, batch, epochs, min_steps):
    """epochs_for (src/suite/suite_stage.c): enough epochs for min_steps, at least `epochs`."""
    per_epoch = (images + batch - 1) // batch
    need = (min_steps + per_epoch - 1) // per_epoch if min_steps > 0 else 0
    return max(need, epochs), per_epoch


def train(S, net, data, labels, lr, epochs, min_steps, seed, label):
    """rcl_train as a suite stage calls it. Returns the step count, the seconds and the last
    epoch's mean loss and training error (the figures robustcl prints at the end of a stage,
    which --check-stages compares: a few steps in, float drift is still far below them)."""
    torch, F = S.torch, S.torch.nn.functional
    epochs, per_epoch = schedule(len(labels), S.a.batch, epochs, min_steps)
    total = per_epoch * epochs
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=MOMENTUM, nesterov=True, weight_decay=WEIGHT_DECAY)
    loader = Loader(data, labels, S.a.batch, seed)
    net.train()
    t0, step, last = time.time(), 0, time.time()
    for e in range(epochs):
        loss_sum, correct = 0.0, 0
        for xb, yb in loader.epoch(e):
            for g in opt.param_groups:  # the lr of step t+1, as the trainer's rcl_cosine_lr(step + 1)
                g["lr"] = cosine_lr(lr, LR_MIN, step + 1, total)
            yt = torch.from_numpy(yb).to(S.device)
            out = net(torch.from_numpy(xb).to(S.device))
            loss = F.cross_entropy(out, yt)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if not math.isfinite(loss.item()):
                raise SystemExit("%s: the loss is %g at step %d" % (label, loss.item(), step))
            loss_sum += loss.item() * len(yb)
            correct += int((out.argmax(1) == yt).sum())
            if time.time() - last > 30:
                log("  %s: step %d/%d loss %.4f" % (label, step, total, loss.item()))
                last = time.time()
    return {"steps": step, "train_seconds": time.time() - t0, "train_loss": loss_sum / len(labels),
            "train_error": 100.0 * (1.0 - correct / len(labels))}


def logits_of(S, net, x_u8):
    net.eval()
    out = []
    with S.torch.no_grad():
        for i in range(0, len(x_u8), 500):
            xb = S.torch.from_numpy(normalise(x_u8[i:i + 500])).to(S.device)
            out.append(net(xb).float().cpu().numpy())
    return np.concatenate(out)


def evaluate(S, net, test, minority=None, calibration=False):
    """rcl_suite_eval's error metrics (src/suite/suite_eval.c: argmax with the first maximum on
    ties, per-class error, minority error over the minority classes' test images) and, for the
    runs that calibration uses, the textbook RMS calibration error."""
    lg = logits_of(S, net, test.x)
    wrong = lg.argmax(1) != test.y
    m = {"error": 100.0 * float(wrong.mean())}
    per_class = [100.0 * float(wrong[test.y == c].mean()) if (test.y == c).any() else 0.0 for c in range(test.k)]
    if minority is not None:
        m["minority_error"] = 100.0 * float(wrong[minority[test.y]].mean())
    if calibration:
        m["rms"] = rms_textbook(lg, test.y)
    return m, per_class


def rms_textbook(logits, y):
    """rcl_calib_error, textbook mode, T = 1 (src/eval/calibration.c): confidence = max softmax
    (in double), ascending stable sort, bins of 100 with the last taking the remainder (one bin
    when n < 100), every bin weighted n_b/N. Returned in percent, as the suite reports it."""
    z = logits.astype(np.float64)
    am = np.argmax(logits, axis=1)  # the first maximum, like softmax_row
    conf = 1.0 / np.exp(z - z[np.arange(len(z)), am][:, None]).sum(axis=1)
    correct = (am == y).astype(np.float64)
    order = np.argsort(conf, kind="stable")
    n = len(conf)
    nb = max(1, n // CALIB_BIN)
    sq = 0.0
    for b in range(nb):
        lo = b * CALIB_BIN
        hi = n if b == nb - 1 else lo + CALIB_BIN
        sel = order[lo:hi]
        cnt = hi - lo
        diff = abs(conf[sel].sum() / cnt - correct[sel].sum() / cnt)
        sq += cnt / n * diff * diff
    return 100.0 * math.sqrt(sq)


def error_area(strengths, errors):
    """rcl_noise_error_area: trapezoid area under error(s) over the sorted grid / its span."""
    pts = sorted(zip(strengths, errors))
    a = sum(0.5 * (s1 - s0) * (e0 + e1) for (s0, e0), (s1, e1) in zip(pts, pts[1:]))
    return a / (pts[-1][0] - pts[0][0])


# ---------------------------------------------------------------- the summary (src/suite/report.c)

T95 = [0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
       2.120, 2.110, 2.101, 2.093, 2.086]  # t_critical: two-sided 95% Student t by degrees of freedom


def mean_std(v):
    """Mean and sample std of the values that are there; std 0 for one (rcl_report_stat)."""
    v = [x for x in v if x is not None and not math.isnan(x)]
    if not v:
        return {"mean": None, "std": None, "seeds": 0}
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return {"mean": m, "std": sd, "seeds": len(v)}


def better_direction(metric):
    """+1 when higher is better, -1 when lower is (better_direction in report.c)."""
    if any(w in metric for w in ("accuracy", "auroc", "aupr", "aurra")):
        return 1
    return -1 if any(w in metric for w in ("error", "fpr95", "rms", "mad", "ece", "nll")) else 0


def judge(metric, pre, scratch):
    """report.c judge(): per-seed differences pre - scratch, their mean and standard error, and
    the paired t-test verdict at 95% (one seed: only a direction)."""
    d = mean_std([p - s for p, s in zip(pre, scratch) if p is not None and s is not None])
    k, better = d["seeds"], better_direction(metric)
    se = d["std"] / math.sqrt(k) if k > 1 else None
    if not better or k == 0:
        verdict = ""
    elif k == 1:  # main's 3e21837: no difference on one seed reads "equal"
        verdict = ("n = 1: equal" if d["mean"] == 0 else "n = 1: better" if d["mean"] * better > 0
                   else "n = 1: worse")
    elif abs(d["mean"]) <= (T95[k - 1] if k - 1 <= 20 else 2.05 if k - 1 <= 30 else 1.98) * se or d["mean"] == 0:
        verdict = "no measurable difference"
    else:
        verdict = "helps" if d["mean"] * better > 0 else "hurts"
    return {"difference": d["mean"], "difference_se": se, "paired_seeds": k, "verdict": verdict}


def summary_row(experiment, setting, metric, per_seed, seeds):
    """One row from per_seed[arm][seed] -> value."""
    row = {"experiment": experiment, "method": "normal", "setting": setting, "metric": metric}
    for arm in ARMS:
        row[arm] = mean_std([per_seed[arm].get(s) for s in seeds])
    row.update(judge(metric, [per_seed["pretrained"].get(s) for s in seeds],
                     [per_seed["scratch"].get(s) for s in seeds]))
    return row


def summarize(runs, seeds):
    """rcl_report_rows: a row per (experiment, setting, metric) in the order runs first show it
    (steps and seconds left out), then the error area over the noise grid per seed (add_area_rows:
    the clean runs stand for s = 0)."""
    keys = []
    for r in runs:
        keys += [(r["experiment"], r["setting"], k) for k in r["metrics"] if k not in ("steps", "train_seconds")
                 and (r["experiment"], r["setting"], k) not in keys]
    rows = []
    for exp, setting, metric in keys:
        per_seed = {arm: {r["seed"]: r["metrics"].get(metric) for r in runs
                          if (r["experiment"], r["setting"], r["arm"]) == (exp, setting, arm)} for arm in ARMS}
        rows.append(summary_row(exp, setting, metric, per_seed, seeds))
    grid = sorted({r["setting"] for r in runs if r["experiment"] in ("clean", "noise")})
    if len(grid) >= 2:
        err = {(r["arm"], r["seed"], r["setting"]): r["metrics"]["error"] for r in runs
               if r["experiment"] in ("clean", "noise")}
        per_seed = {arm: {s: error_area(grid, [err[arm, s, g] for g in grid]) for s in seeds
                          if all((arm, s, g) in err for g in grid)} for arm in ARMS}
        rows.append(summary_row("noise", "all", "error_area", per_seed, seeds))
    return rows


# ---------------------------------------------------------------- the suite (src/suite/suite_run.c)


class Suite:
    """What the runs share: options, torch, the data, this seed's pre-trained trunks, the results."""

    def __init__(self, a, torch):
        self.a, self.torch, self.device = a, torch, torch.device(a.device)
        self.WRN = build_model_classes(torch)
        self.data = prepare_data(a)
        self.trunks, self.pretrain, self.runs = {}, [], []

    def net(self, classes, dropout):
        return self.WRN(self.a.depth, self.a.widen, self.data["target"].x.shape[1], classes, dropout).to(self.device)


def pretrain(S, source, seed):
    """pretrain(): this seed's model on one source (spec §11.1-11.2): init 1000003 s + 2, order
    104729 s + 3, at least pretrain_epochs and pretrain_min_steps in whole epochs, dropout 0.
    Keeps the trunk (BN statistics included) for the fine-tuning runs."""
    a, data, test = S.a, S.data["source"][source], S.data["source_test"][source]
    rid = "%s/seed=%d" % (PRETRAIN_NAMES[source], seed)
    net = S.net(data.k, 0.0)  # the suite leaves the pre-training net's dropout at 0
    init_model(S.torch, net, seed * 1000003 + 2)
    tr = train(S, net, data, data.y, a.pretrain_lr, a.pretrain_epochs, a.pretrain_min_steps,
               (seed * 104729 + 3) & M64, rid)
    m, per_class = evaluate(S, net, test)
    S.trunks[source] = {k: v.detach().clone() for k, v in net.state_dict().items() if not k.startswith("fc.")}
    S.pretrain.append({"id": rid, "source": source, "seed": seed, "source_images": len(data),
                       "source_test_images": len(test), "metrics": dict(m, steps=tr["steps"],
                       train_seconds=tr["train_seconds"]), "series": {"per_class_error": per_class},
                       "diagnostics": {k: tr[k] for k in ("train_loss", "train_error")}})
    log("%-44s error %.2f%% (%d steps)" % (rid, m["error"], tr["steps"]))


def pretrain_seed(S, seed):
    """pretrain_seed(): the main source, and the class-excluded one for the uncertainty runs."""
    pretrain(S, S.a.source, seed)
    if S.a.source != "excluded":
        pretrain(S, "excluded", seed)


def run_one(S, seed, experiment, setting, arm, data, labels, recipe, minority=None, calibration=False,
            source=None):
    """run_one(): scratch (spec §1.2 init, dropout, scratch lr and step floor) or this seed's
    trunk from `source` with a new head, fine-tuned by the experiment's recipe at dropout 0.
    Both arms: init 1000003 s + 1 (head: that ^ 0x4ead), order 7919 s + 17."""
    a = S.a
    arm_name = "pretrained" if arm else "scratch"
    rid = "%s/%g/normal/%s/seed=%d" % (experiment, setting, arm_name, seed)
    net = S.net(data.k, 0.0 if arm else a.scratch_dropout)
    init_seed = seed * 1000003 + 1
    init_model(S.torch, net, init_seed)
    if arm:  # rcl_checkpoint_load(RCL_CKPT_TRUNK): the trunk, then a new head
        missing = net.load_state_dict(S.trunks[source or a.source], strict=False).missing_keys
        assert all(k.startswith("fc.") for k in missing), missing
        init_head(S.torch, net, init_seed)
    steps, lr = a.recipes[recipe] if arm else (a.min_steps, a.scratch_lr)
    tr = train(S, net, data, labels, lr, 1 if arm else a.scratch_epochs, steps, seed * 7919 + 17, rid)
    m, per_class = evaluate(S, net, S.data["test"], minority, calibration)
    run = {"id": rid, "experiment": experiment, "method": "normal", "arm": arm_name, "setting": setting,
           "seed": seed, "metrics": dict(m, steps=tr["steps"], train_seconds=tr["train_seconds"]),
           "series": {"per_class_error": per_class},
           "diagnostics": {"train_images": len(labels), "train_loss": tr["train_loss"],
                           "train_error": tr["train_error"], "wrong_labels": 100.0 * float((labels != data.y).mean())}}
    S.runs.append(run)
    log("%-44s error %.2f%%%s" % (rid, m["error"], "".join("  %s %.2f" % (k, m[k]) for k in ("rms", "minority_error")
                                                           if k in m)))
    return run


def target_train_set(S, seed):
    """target_train_set(): target_per_class images of each class from the pool, seed s."""
    t = S.data["target"]
    return t.take(imb_select(t.y, t.k, [S.a.target_per_class] * t.k, seed))


def noise_experiment(S, seed, clean):
    """noise_experiment() for Normal: uniform corruption of each strength (seed 977 s +
    floor(1000 s)); s = 0 is the clean pair, which is also evaluated for calibration."""
    for s in S.a.noise_list:
        labels = uniform_noise(clean.y, clean.k, s, seed * 977 + int(s * 1000))
        for arm in (0, 1):
            run_one(S, seed, "clean" if s == 0 else "noise", s, arm, clean, labels, "noise", calibration=s == 0)


def uncertainty_experiment(S, seed, clean):
    """uncertainty_experiment(): the clean scratch run (one stage in robustcl, reported again
    under "uncertainty", its id unchanged) against the class-excluded source fine-tuned."""
    scratch = next(r for r in S.runs if (r["experiment"], r["setting"], r["arm"], r["seed"]) ==
                   ("clean", 0.0, "scratch", seed))
    S.runs.append(dict(scratch, experiment="uncertainty"))
    run_one(S, seed, "uncertainty", 0.0, 1, clean, clean.y, "uncertainty", calibration=True, source="excluded")


def imbalanced_set(S, seed, gamma):
    """rcl_suite_imb_profile + rcl_imb_make_dataset for the power law: counts from largest
    imbalance_largest down to max(2, largest/20), drawn from the pool with seed 31337 s; the
    minority classes (rcl_imb_minority) hold fewer than the mean count."""
    t, largest = S.data["target"], S.a.imbalance_largest
    counts = power_law_counts(t.k, largest, max(2, largest // 20), gamma)
    return t.take(imb_select(t.y, t.k, counts, seed * 31337)), counts < counts.mean()


def imbalance_experiment(S, seed):
    """imbalance_experiment() for Normal: both arms on each gamma's imbalanced set."""
    for gamma in S.a.gamma_list:
        imb, minority = imbalanced_set(S, seed, gamma)
        for arm in (0, 1):
            run_one(S, seed, "imbalance", gamma, arm, imb, imb.y, "imbalance", minority=minority)


# ---------------------------------------------------------------- checks against a robustcl run


def dump_indices(S, path):
    """--dump-indices: every set's images as positions in the IDX files (train or t10k), so a
    reader can diff the data selection against robustcl's (tests/test_suite_data.c's sets)."""
    d = S.data
    out = {"target_pool": d["target"].idx, "test": d["test"].idx}
    for name in SOURCES:
        out["source_" + name], out["source_test_" + name] = d["source"][name].idx, d["source_test"][name].idx
    for seed in S.a.seed_list:
        out["seed=%d/target" % seed] = target_train_set(S, seed).idx
        for gamma in S.a.gamma_list:
            out["seed=%d/imbalance/%g" % (seed, gamma)] = imbalanced_set(S, seed, gamma)[0].idx
    with open(path, "w") as f:
        json.dump({k: v.tolist() for k, v in out.items()}, f)
    log("wrote %s: %s" % (path, ", ".join("%s %d" % (k, len(v)) for k, v in out.items())))


def read_safetensors(path):
    """{name: numpy array} of a safetensors file (the F32 and I64 tensors robustcl writes)."""
    with open(path, "rb") as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8:8 + n])
    types = {"F32": np.float32, "I64": np.int64}
    return {k: np.frombuffer(raw, dtype=types[v["dtype"]], count=int(np.prod(v["shape"], dtype=np.int64)),
                             offset=8 + n + v["data_offsets"][0]).reshape(v["shape"])
            for k, v in header.items() if k != "__metadata__" and v["dtype"] in types}


def robustcl_logged_epochs(path):
    """stage id -> (loss, train error %) from the end-of-training line before each 'done' line of a
    robustcl suite log (the last epoch's mean loss and error, trainer.c)."""
    out, last = {}, None
    with open(path) as f:
        for line in f:
            m = re.search(r"loss ([\d.]+) train err ([\d.]+)%", line)
            if m:
                last = (float(m.group(1)), float(m.group(2)))
            m = re.search(r"\] (\S+)\s+done ", line)
            if m and last:
                out[m.group(1)], last = last, None
    return out


def check_pretrained_model(S, rec, stages):
    """robustcl's pre-trained model of this seed and source, evaluated here on this replica's
    source test set: its per-class errors equal robustcl's only if the test sets are the same."""
    paths = glob.glob(os.path.join(stages, "%s_seed=%d_*.safetensors" % (PRETRAIN_NAMES[rec["source"]], rec["seed"])))
    if len(paths) != 1:
        return "no single checkpoint (%d found)" % len(paths)
    test = S.data["source_test"][rec["source"]]
    net = S.net(test.k, 0.0)
    state = {k: S.torch.from_numpy(v.copy()) for k, v in read_safetensors(paths[0]).items()}
    net.load_state_dict(state, strict=True)
    return evaluate(S, net, test)[1]


def robustcl_record(out_dir, rid):
    """robustcl's record of run `rid`: from OUT/report.json when there is one (one finished suite
    run; a later suite into the same OUT rewrites the stage files it re-runs), else its stage JSON."""
    report = os.path.join(out_dir, "report.json")
    if os.path.exists(report):
        with open(report) as f:
            return next((r for r in json.load(f)["runs"] if r["id"] == rid), None)
    path = os.path.join(out_dir, "stages", rid.replace("/", "_") + ".json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)


def check_stages(S, out_dir, log_path):
    """--check-stages: each run's steps against robustcl's record of it (same set sizes and
    recipes give the same counts), the per-class errors of robustcl's pre-trained models
    (OUT/stages/*.safetensors) on this replica's source test sets, and (with --check-log) the last
    epoch's loss and training error, which match to float drift only if the training images,
    labels, order, crops and initial weights are the same. Returns the findings as rows, logged."""
    logged = robustcl_logged_epochs(log_path) if log_path else {}
    rows = []
    for rec in S.pretrain + [r for r in S.runs if r["experiment"] != "uncertainty" or r["arm"] == "pretrained"]:
        st = robustcl_record(out_dir, rec["id"])
        if st is None:
            rows.append({"id": rec["id"], "found": False})
            continue
        row = {"id": rec["id"], "found": True, "steps": [st["metrics"]["steps"], rec["metrics"]["steps"]],
               "error": [st["metrics"]["error"], rec["metrics"]["error"]]}
        if rec["id"] in logged:
            row["loss"] = [logged[rec["id"]][0], rec["diagnostics"]["train_loss"]]
            row["train_error"] = [logged[rec["id"]][1], rec["diagnostics"]["train_error"]]
        if "source" in rec:
            ours = check_pretrained_model(S, rec, os.path.join(out_dir, "stages"))
            row["checkpoint_per_class_error_equal"] = (not isinstance(ours, str) and
                                                       np.allclose(ours, st["series"]["per_class_error"], atol=1e-9))
        rows.append(row)
        log("check %-40s %s" % (rec["id"], json.dumps({k: v for k, v in row.items() if k != "id"})))
    bad = [r["id"] for r in rows if not r["found"] or r["steps"][0] != r["steps"][1]
           or r.get("checkpoint_per_class_error_equal") is False]
    log("check: %d runs compared, %s" % (len(rows), "steps and checkpoints agree" if not bad
                                         else "DISAGREE: " + ", ".join(bad)))
    return rows


# ---------------------------------------------------------------- command line


def parse_recipes(text, recipes):
    """--finetune EXP=STEPS@LR[,...] over `recipes` (parse_recipes in src/cli/cmd_suite.c)."""
    out = dict(recipes)
    for item in filter(None, text.split(",")):
        name, _, rest = item.partition("=")
        steps, _, lr = rest.partition("@")
        if name not in RECIPES or not steps.isdigit() or not lr:
            raise SystemExit("--finetune '%s': expected EXPERIMENT=STEPS@LR, EXPERIMENT one of %s"
                             % (item, ", ".join(RECIPES)))
        out[name] = (int(steps), float(lr))
    return out


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    opt = p.add_argument
    opt("--quick", action="store_true", help="the suite's --quick sizes (CI; the numbers mean nothing)")
    opt("--data", help="fashion-mnist[:DIR] (default fashion-mnist)")
    opt("--source-classes", help="pre-training classes (default 0-4)")
    opt("--target-classes", help="target classes, relabelled 0..K-1 (default 5-9)")
    opt("--arch", help="wrn-D-K (default wrn-10-1)")
    opt("--batch", type=int, help="(default 32)")
    opt("--seeds", help="N = seeds 1..N as in the suite (default 4), or a comma list: 1,3")
    opt("--target-pool", type=int, help="training images per target class held out of pre-training (default 1000)")
    opt("--source", choices=SOURCES, help="pre-training source of clean, noise and imbalance (default covering)")
    opt("--target-per-class", type=int, help="target training images per class, from the pool (default 100)")
    opt("--test-per-class", type=int, help="target and source test images per class (default 0 = all)")
    opt("--min-steps", type=int, help="floor of optimizer steps per scratch run (default 1024)")
    opt("--finetune", help="EXP=STEPS@LR,... for noise, imbalance, uncertainty (defaults as the suite's)")
    opt("--finetune-min-steps", type=int, help="every recipe's steps (or --finetune)")
    opt("--experiments", help="besides clean and uncertainty: noise,imbalance (default both; adversarial is "
        "not replicated; none: clean and uncertainty only)")
    opt("--noise", help="uniform label-noise strengths (default 0,0.4; 0 always included)")
    opt("--gamma", help="power-law exponents (default 0.2)")
    opt("--imbalance-largest", type=int, help="largest class of the imbalanced sets (default 1000)")
    opt("--pretrain-epochs", type=int, help="(default 1)")
    opt("--pretrain-min-steps", type=int, help="and at least N steps, in whole epochs (default 1500)")
    opt("--pretrain-images", type=int, help="a seeded N of each source's images (default 0 = all)")
    # the suite's config fields without a CLI option
    opt("--pretrain-lr", type=float, help="(default 0.1)")
    opt("--scratch-epochs", type=int, help="(default 1; min-steps decides)")
    opt("--scratch-lr", type=float, help="(default 0.1)")
    opt("--scratch-dropout", type=float, help="(default 0.3)")
    # this script's own
    opt("--threads", type=int, default=2, help="torch CPU threads (default 2; on 2 cores shared with another job use "
        "1: OpenMP's threads wait on each other, and the full run went from 30 steps/s to 1)")
    opt("--device", default="cpu", help="cpu or cuda (default cpu)")
    opt("--out", default="suite-mini-torch.json", help="the JSON written (default suite-mini-torch.json)")
    opt("--dump-indices", metavar="FILE", help="write every set's IDX positions as JSON and stop")
    opt("--check-stages", metavar="DIR", help="compare with robustcl's suite output DIR (steps, pre-trained models)")
    opt("--check-log", metavar="FILE", help="with --check-stages: robustcl's log, for each run's last-epoch loss")
    a = p.parse_args()
    base = dict(DEFAULTS, **(QUICK if a.quick else {}))
    for k, v in base.items():  # explicit options win over the (quick) defaults, as in cmd_suite.c
        if getattr(a, k) is None:
            setattr(a, k, v)
    if a.finetune_min_steps and a.finetune != base["finetune"]:
        p.error("--finetune-min-steps and --finetune: give one of them")
    a.recipes = parse_recipes(a.finetune, parse_recipes(base["finetune"], {}))
    if a.finetune_min_steps:
        a.recipes = {k: (a.finetune_min_steps, lr) for k, (_, lr) in a.recipes.items()}
    a.seed_list = (list(range(1, int(a.seeds) + 1)) if "," not in a.seeds
                   else [int(s) for s in a.seeds.split(",")])
    experiments = set(a.experiments.split(",")) - {"none"}
    if experiments - {"noise", "imbalance", "adversarial"}:
        p.error("--experiments: noise, imbalance, adversarial or none")
    if "adversarial" in experiments:
        log("--experiments adversarial: not replicated, skipped")
    noise = [float(s) for s in a.noise.split(",")]
    if any(not 0 <= s <= 1 for s in noise):
        p.error("--noise: strengths must be in [0,1]")
    a.noise_list = noise if 0.0 in noise else [0.0] + noise  # cmd_suite.c puts 0 in front
    if "noise" not in experiments:
        a.noise_list = [0.0]  # the clean runs always run
    a.gamma_list = [float(g) for g in a.gamma.split(",")] if "imbalance" in experiments else []
    if max(a.target_per_class, a.imbalance_largest) > a.target_pool:
        p.error("--target-per-class and --imbalance-largest must not exceed --target-pool")
    depth, widen = (int(v) for v in a.arch.split("-")[1:])
    if a.arch != "wrn-%d-%d" % (depth, widen) or depth < 10 or (depth - 4) % 6:
        p.error("--arch: expected wrn-DEPTH-WIDTH with depth 6n+4 >= 10")
    a.depth, a.widen = depth, widen
    return a


def write_json(path, doc):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)


def main():
    a = parse_args()
    import torch
    torch.set_num_threads(a.threads)
    S = Suite(a, torch)
    if a.dump_indices:
        return dump_indices(S, a.dump_indices)
    for seed in a.seed_list:  # rcl_suite_run's loop
        pretrain_seed(S, seed)
        clean = target_train_set(S, seed)
        noise_experiment(S, seed, clean)
        uncertainty_experiment(S, seed, clean)
        imbalance_experiment(S, seed)
    summary = summarize(S.runs, a.seed_list)
    config = {k: getattr(a, k) for k in DEFAULTS if k not in ("seeds", "noise", "gamma", "finetune", "experiments")}
    config.update(seeds=a.seed_list, noise=a.noise_list, gamma=a.gamma_list, finetune=a.recipes, quick=a.quick,
                  lr_min=LR_MIN, momentum=MOMENTUM, nesterov=True, weight_decay=WEIGHT_DECAY, crop_pad=PAD,
                  normalization=[NORM_MEAN, NORM_STD], pretrain_dropout=0.0, finetune_dropout=0.0,
                  pool_seed=POOL_SEED, threads=a.threads, device=a.device)
    doc = {"suite": "mini --quick" if a.quick else "mini", "replica": "pytorch", "torch": torch.__version__,
           "numpy": np.__version__, "python": platform.python_version(), "machine": platform.machine(),
           "command_line": " ".join(sys.argv), "config": config, "wall_seconds": time.time() - T0,
           "pretrain": S.pretrain, "summary": summary, "runs": S.runs}
    if a.check_stages:
        doc["stage_check"] = check_stages(S, a.check_stages, a.check_log)
    write_json(a.out, doc)
    for row in summary:
        print("%-11s %-4s %-14s scratch %6.2f +- %5.2f   pre-trained %6.2f +- %5.2f   %s" % (
            row["experiment"], row["setting"], row["metric"], row["scratch"]["mean"], row["scratch"]["std"],
            row["pretrained"]["mean"], row["pretrained"]["std"], row["verdict"]), file=sys.stderr)
    log("wrote %s" % a.out)


if __name__ == "__main__":
    sys.exit(main())
