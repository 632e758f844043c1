#!/usr/bin/python3
"""An independent PyTorch replica of `robustcl suite mini`'s clean and label-noise runs.

The suite (src/suite/suite_run.c) pre-trains one WRN on the source classes of Fashion-MNIST,
then for every seed takes a seeded subset of the target classes, corrupts its labels with
uniform noise of each strength s (s = 0 is the "clean" experiment) and trains every run twice:
from scratch (dropout 0.3, lr 0.1) and from the pre-trained trunk with a new head (lr 0.01).
This script does the same in PyTorch so that the suite's numbers can be checked against an
implementation that shares none of robustcl's kernels. It is a bench script, never in the
product's path, and CI does not run it. Debian's /usr/bin/python3 (python3-torch, python3-numpy).

  /usr/bin/python3 bench/suite_mini_torch.py --out torch.json              # the suite's defaults
  /usr/bin/python3 bench/suite_mini_torch.py --quick --out quick.json       # `suite mini --quick` sizes
  /usr/bin/python3 bench/compare_suite_torch.py OUT/report.json torch.json > compare.md

Options mirror `robustcl suite mini` (same names, same defaults, `--quick` the same CI sizes;
`--min-steps` is the scratch runs' floor and `--finetune-min-steps` the fine-tuning runs', as in
the suite; `--experiments` without `noise` leaves the clean runs only). The recipe settings the
suite keeps in its config without an option (pre-training lr, scratch/fine-tuning epochs and lr,
scratch dropout) are options here with the suite's values as defaults. `--seeds N` means seeds
1..N as in the suite; a comma list (`--seeds 1,3`) picks seeds explicitly.

What matches the suite exactly (same integers / same float32 values, given the same libm):
  * the data: the IDX files of --data, class selection and relabelling (kept classes in
    ascending class order, src/data/dataset.c keep_mask), the seeded pre-training subset
    (rcl_data_pick, seed 7), the per-class test caps (rcl_imb_select, seeds 11 and 13), each
    seed's target subset (rcl_imb_select, seed = the seed) and its uniform label corruption
    (rcl_noise_corrupt_labels: seed*977 + int(1000 s), third splitmix stream, numpy-style
    inverse-cdf resampling), all through a port of include/robustcl/rng.h (splitmix64);
  * the input pipeline: each epoch's permutation, every image's crop offsets and flip
    (src/train/loader.c: per-position splitmix streams), pad 4 with pixel 0, normalisation
    (x/255 - 0.5)/0.5 in float32, the last partial batch kept;
  * the initialisation (src/model/wrn.c rcl_model_init / rcl_model_init_head): He-normal conv
    weights N(0, 2/(kh*kw*C_out)) by Box-Muller from the splitmix stream in parameter order,
    fc.weight ~ U(+-1/sqrt(fan_in)), biases and BN shifts 0, BN scales 1; the new head
    U(+-1/sqrt(fan_in)) for weight then bias from seed ^ 0x4ead; the pre-trained trunk
    (BN running statistics included) copied into the fine-tuning model;
  * the dropout masks (kernels/elementwise.cl ew_dropout: the counter hash of
    kernels/common.cl keyed by (init seed, step, block, element)), inverted scaling;
  * the schedule: steps = ceil(n/batch) * max(epochs, ceil(min_steps / ceil(n/batch))),
    lr_t = 1e-6 + (lr - 1e-6) * (1 + cos(pi t/T))/2 for t = 1..T (rcl_cosine_lr at step+1),
    SGD Nesterov 0.9 with weight decay 5e-4 on every parameter (torch.optim.SGD is the same
    update as kernels/sgd.cl ew_sgd), mean cross-entropy, BN momentum 0.1, eps 1e-5,
    unbiased running variance; all the seeds the suite derives (init seed*1000003+1 / +2,
    train seed*7919+17, pre-training seed*104729+3, with seed = the first seed);
  * the metrics: test error (argmax, first maximum on ties) in eval mode; the clean runs' RMS
    calibration error in textbook mode (src/eval/calibration.c: ascending stable sort of the
    max softmax probability at T = 1, bins of 100, the last bin takes the remainder, every
    bin counted); error area (src/eval/label_noise.c rcl_noise_error_area) per seed.

What matches only in distribution: the trained weights. PyTorch's convolutions, BN and loss
reductions sum in other orders than robustcl's OpenCL kernels, so the runs start identical
and drift apart by float rounding within a few steps (SGD amplifies it). Per seed the two
implementations see the same images, labels, crops, flips, dropout masks and initial
weights, yet their final errors differ by training noise: compare mean +- std over seeds
(bench/compare_suite_torch.py), not single runs.

Not replicated: the suite's imbalance, adversarial and Forward/GLC runs, and OOD detection.
Prints progress to stderr and writes one JSON (--out): the configuration, versions, wall time,
the pre-training's source test error, every run, and a "summary" in the format of robustcl's
report.json (per experiment, setting and metric: per-arm mean, sample std and seed count).
"""
import argparse
import gzip
import json
import math
import os
import platform
import sys
import time

import numpy as np

# ---------------------------------------------------------------- the suite's defaults

# src/suite/suite_config.c rcl_suite_defaults: quick = 0 and quick = 1.
DEFAULTS = dict(data="fashion-mnist", source_classes="0-4", target_classes="5-9", arch="wrn-10-1", batch=32,
                pretrain_images=8000, pretrain_epochs=1, pretrain_lr=0.1, target_per_class=100,
                test_per_class=100, min_steps=128, finetune_min_steps=128, scratch_epochs=1, finetune_epochs=1,
                scratch_lr=0.1, finetune_lr=0.01, scratch_dropout=0.3, seeds="2", noise="0,0.4")
QUICK = dict(seeds="1", pretrain_images=640, target_per_class=24, test_per_class=40, min_steps=6,
             finetune_min_steps=6, noise="0,0.5")

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


# ---------------------------------------------------------------- data (src/data)


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


def keep_classes(x, y, classes):
    """rcl_dataset_keep_classes: images of the listed classes in file order, relabelled
    0..K-1 in ascending class order (keep_mask walks the classes 0..9, not the list's order)."""
    kept = sorted(set(classes))
    remap = np.full(256, -1, dtype=np.int64)
    remap[kept] = np.arange(len(kept))
    sel = np.nonzero(remap[y] >= 0)[0]
    return x[sel], remap[y[sel]], len(kept)


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


def cap_per_class(x, y, k, per_class, seed):
    """rcl_suite_cap_per_class (src/suite/suite_stage.c): at most per_class images a class
    (0: all); untouched when no class is over the cap."""
    have = np.bincount(y, minlength=k)
    if per_class <= 0 or (have <= per_class).all():
        return x, y
    sel = imb_select(y, k, np.minimum(have, per_class), seed)
    return x[sel], y[sel]


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


class Loader:
    """src/train/loader.c: a new permutation each epoch (seed*1000003 + epoch), every image's
    crop of the zero-padded image and flip from a stream keyed by (seed, epoch, position)."""

    def __init__(self, x_u8, y, batch, seed):
        self.x = normalise(x_u8)
        zero = np.float32(-NORM_MEAN) / np.float32(NORM_STD)  # pixel 0 in network space
        n, c, h, w = self.x.shape
        self.padded = np.full((n, c, h + 2 * PAD, w + 2 * PAD), zero, dtype=np.float32)
        self.padded[:, :, PAD:PAD + h, PAD:PAD + w] = self.x
        self.y, self.batch, self.seed = y, batch, seed
        self.batches = (n + batch - 1) // batch

    def epoch(self, e):
        n, c, h, w = self.x.shape
        perm = list(range(n))
        Rng((self.seed * 1000003 + e) & M64).shuffle(perm)
        key = (self.seed ^ ((GOLDEN * (e + 1)) & M64)) & M64
        for b in range(self.batches):
            pos = range(b * self.batch, min(n, (b + 1) * self.batch))
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


def train(torch, net, x_u8, y, lr, epochs, min_steps, batch, seed, device, label):
    import torch.nn.functional as F
    epochs, per_epoch = schedule(len(y), batch, epochs, min_steps)
    total = per_epoch * epochs
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=MOMENTUM, nesterov=True, weight_decay=WEIGHT_DECAY)
    loader = Loader(x_u8, y, batch, seed)
    net.train()
    t0, step, last = time.time(), 0, time.time()
    for e in range(epochs):
        for xb, yb in loader.epoch(e):
            for g in opt.param_groups:  # the lr of step t+1, as the trainer's rcl_cosine_lr(step + 1)
                g["lr"] = cosine_lr(lr, LR_MIN, step + 1, total)
            loss = F.cross_entropy(net(torch.from_numpy(xb).to(device)), torch.from_numpy(yb).to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if not math.isfinite(loss.item()):
                raise SystemExit("%s: the loss is %g at step %d" % (label, loss.item(), step))
            if time.time() - last > 10:
                log("  %s: step %d/%d loss %.4f" % (label, step, total, loss.item()))
                last = time.time()
    return step, time.time() - t0


def logits_of(torch, net, x_u8, device):
    net.eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(x_u8), 500):
            xb = torch.from_numpy(normalise(x_u8[i:i + 500])).to(device)
            out.append(net(xb).float().cpu().numpy())
    return np.concatenate(out)


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


def mean_std(v):
    """Mean and sample std over seeds; std 0 for one seed (rcl_report_stat)."""
    v = [x for x in v if x is not None and not math.isnan(x)]
    if not v:
        return {"mean": None, "std": None, "seeds": 0}
    m = sum(v) / len(v)
    sd = math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1)) if len(v) > 1 else 0.0
    return {"mean": m, "std": sd, "seeds": len(v)}


# ---------------------------------------------------------------- command line


def parse_args():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="the suite's --quick sizes (1 seed, 640 source images, "
                   "24 target and 40 test images a class, 6 steps, noise 0,0.5)")
    p.add_argument("--data", help="fashion-mnist[:DIR] (default fashion-mnist)")
    p.add_argument("--source-classes", help="pre-training classes (default 0-4)")
    p.add_argument("--target-classes", help="target classes, relabelled 0..K-1 (default 5-9)")
    p.add_argument("--arch", help="wrn-D-K (default wrn-10-1)")
    p.add_argument("--batch", type=int, help="(default 32)")
    p.add_argument("--seeds", help="N = seeds 1..N as in the suite (default 2), or a comma list: 1,3")
    p.add_argument("--target-per-class", type=int, help="target training images per class (default 100)")
    p.add_argument("--test-per-class", type=int,
                   help="target (and source) test images per class (default 100; 0 = all)")
    p.add_argument("--min-steps", type=int, help="floor of optimizer steps per scratch run (default 128)")
    p.add_argument("--finetune-min-steps", type=int, help="the same for the fine-tuning runs (default 128)")
    p.add_argument("--experiments", default="noise", help="as the suite's: without noise in the list only the "
                   "clean runs (imbalance and adversarial are not replicated)")
    p.add_argument("--noise", help="uniform label-noise strengths (default 0,0.4; 0 always included)")
    p.add_argument("--pretrain-images", type=int, help="source images for pre-training (default 8000; 0 = all)")
    # the suite's config fields without a CLI option
    p.add_argument("--pretrain-epochs", type=int, help="(default 1)")
    p.add_argument("--pretrain-lr", type=float, help="(default 0.1)")
    p.add_argument("--scratch-epochs", type=int, help="(default 1; min-steps decides)")
    p.add_argument("--finetune-epochs", type=int, help="(default 1; min-steps decides)")
    p.add_argument("--scratch-lr", type=float, help="(default 0.1)")
    p.add_argument("--finetune-lr", type=float, help="(default 0.01)")
    p.add_argument("--scratch-dropout", type=float, help="(default 0.3)")
    # this script's own
    p.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    p.add_argument("--device", default="cpu", help="cpu or cuda (default cpu)")
    p.add_argument("--out", default="suite-mini-torch.json", help="the JSON written (default suite-mini-torch.json)")
    a = p.parse_args()
    base = dict(DEFAULTS, **(QUICK if a.quick else {}))
    for k, v in base.items():  # explicit options win over the (quick) defaults, as in cmd_suite.c
        if getattr(a, k) is None:
            setattr(a, k, v)
    a.seed_list = (list(range(1, int(a.seeds) + 1)) if "," not in a.seeds
                   else [int(s) for s in a.seeds.split(",")])
    noise = [float(s) for s in a.noise.split(",")]
    if any(not 0 <= s <= 1 for s in noise):
        p.error("--noise: strengths must be in [0,1]")
    a.noise_list = noise if 0.0 in noise else [0.0] + noise  # cmd_suite.c puts 0 in front
    if "noise" not in a.experiments.split(","):
        a.noise_list = [0.0]  # --experiments without noise: the clean runs only
    depth, widen = (int(v) for v in a.arch.split("-")[1:])
    if a.arch != "wrn-%d-%d" % (depth, widen) or depth < 10 or (depth - 4) % 6:
        p.error("--arch: expected wrn-DEPTH-WIDTH with depth 6n+4 >= 10")
    a.depth, a.widen = depth, widen
    return a


def main():
    a = parse_args()
    import torch
    torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    WideResNet = build_model_classes(torch)

    # ---- prepare_data (src/suite/suite_run.c)
    xtr, ytr = load_fashion_mnist(a.data, True)
    xte, yte = load_fashion_mnist(a.data, False)
    src_x, src_y, src_k = keep_classes(xtr, ytr, parse_classes(a.source_classes))
    srct_x, srct_y, _ = keep_classes(xte, yte, parse_classes(a.source_classes))
    tgt_x, tgt_y, tgt_k = keep_classes(xtr, ytr, parse_classes(a.target_classes))
    test_x, test_y, _ = keep_classes(xte, yte, parse_classes(a.target_classes))
    if 0 < a.pretrain_images < len(src_y):
        sel = data_pick(len(src_y), a.pretrain_images, 7)
        src_x, src_y = src_x[sel], src_y[sel]
    srct_x, srct_y = cap_per_class(srct_x, srct_y, src_k, a.test_per_class, 11)
    test_x, test_y = cap_per_class(test_x, test_y, tgt_k, a.test_per_class, 13)
    in_c = src_x.shape[1]
    log("data: %d source images (%d classes), %d source test; %d target images (%d classes), %d target test"
        % (len(src_y), src_k, len(srct_y), len(tgt_y), tgt_k, len(test_y)))

    # ---- pretrain (clean): one model shared by every seed, keyed by the first seed
    s0 = a.seed_list[0]
    net = WideResNet(a.depth, a.widen, in_c, src_k, 0.0).to(device)  # suite: S->net.dropout stays 0
    init_model(torch, net, s0 * 1000003 + 2)
    steps, secs = train(torch, net, src_x, src_y, a.pretrain_lr, a.pretrain_epochs, 0, a.batch,
                        (s0 * 104729 + 3) & M64, device, "pre-train")
    lg = logits_of(torch, net, srct_x, device)
    pre_err = 100.0 * float((lg.argmax(1) != srct_y).mean())
    pretrain = {"id": "pretrain/seed=%d" % s0, "seed": s0, "source_images": int(len(src_y)),
                "source_test_images": int(len(srct_y)), "steps": steps, "train_seconds": secs, "error": pre_err}
    trunk = {k: v.detach().clone() for k, v in net.state_dict().items() if not k.startswith("fc.")}
    log("pre-train done: %d steps, source test error %.2f%%" % (steps, pre_err))

    # ---- per seed: target subset, noise, both arms (target_train_set, noise_experiment)
    runs = []
    for seed in a.seed_list:
        sel = imb_select(tgt_y, tgt_k, [a.target_per_class] * tgt_k, seed)
        cx, cy = tgt_x[sel], tgt_y[sel]
        for s in a.noise_list:
            labels = uniform_noise(cy, tgt_k, s, seed * 977 + int(s * 1000))
            experiment = "clean" if s == 0 else "noise"
            for arm in (0, 1):
                arm_name = "pretrained" if arm else "scratch"
                rid = "%s/%g/normal/%s/seed=%d" % (experiment, s, arm_name, seed)
                net = WideResNet(a.depth, a.widen, in_c, tgt_k, 0.0 if arm else a.scratch_dropout).to(device)
                init_seed = seed * 1000003 + 1
                init_model(torch, net, init_seed)
                if arm:  # rcl_checkpoint_load(RCL_CKPT_TRUNK): the trunk, then a new head
                    missing = net.load_state_dict(trunk, strict=False).missing_keys
                    assert all(k.startswith("fc.") for k in missing), missing
                    init_head(torch, net, init_seed)
                steps, secs = train(torch, net, cx, labels, a.finetune_lr if arm else a.scratch_lr,
                                    a.finetune_epochs if arm else a.scratch_epochs,
                                    a.finetune_min_steps if arm else a.min_steps, a.batch,
                                    seed * 7919 + 17, device, rid)
                lg = logits_of(torch, net, test_x, device)
                m = {"error": 100.0 * float((lg.argmax(1) != test_y).mean()), "steps": steps,
                     "train_seconds": secs, "wrong_labels": 100.0 * float((labels != cy).mean())}
                if experiment == "clean":
                    m["rms"] = rms_textbook(lg, test_y)
                runs.append({"id": rid, "experiment": experiment, "method": "normal", "arm": arm_name,
                             "setting": s, "seed": seed, "metrics": m})
                log("%-44s error %.2f%%%s" % (rid, m["error"], "  rms %.2f%%" % m["rms"] if "rms" in m else ""))

    # ---- summary in report.json's shape
    def value(exp, s, arm, seed, key):
        for r in runs:
            if (r["experiment"], r["setting"], r["arm"], r["seed"]) == (exp, s, arm, seed):
                return r["metrics"].get(key)
        return None

    summary = []
    for s in sorted(set(a.noise_list)):
        exp = "clean" if s == 0 else "noise"
        for key in (("error", "rms") if exp == "clean" else ("error",)):
            summary.append({"experiment": exp, "method": "normal", "setting": s, "metric": key,
                            **{arm: mean_std([value(exp, s, arm, sd, key) for sd in a.seed_list])
                               for arm in ("scratch", "pretrained")}})
    grid = sorted(set(a.noise_list))
    if len(grid) >= 2:  # per seed, then over seeds, as add_area_rows in src/suite/report.c
        row = {"experiment": "noise", "method": "normal", "setting": "all", "metric": "error_area"}
        for arm in ("scratch", "pretrained"):
            row[arm] = mean_std([error_area(grid, [value("clean" if s == 0 else "noise", s, arm, sd, "error")
                                                   for s in grid]) for sd in a.seed_list])
        summary.append(row)

    config = {k: getattr(a, k) for k in DEFAULTS if k not in ("seeds", "noise")}
    config.update(seeds=a.seed_list, noise=a.noise_list, quick=a.quick, lr_min=LR_MIN, momentum=MOMENTUM,
                  nesterov=True, weight_decay=WEIGHT_DECAY, crop_pad=PAD, normalization=[NORM_MEAN, NORM_STD],
                  pretrain_dropout=0.0, finetune_dropout=0.0, threads=a.threads, device=a.device)
    result = {"suite": "mini", "replica": "pytorch", "torch": torch.__version__, "numpy": np.__version__,
              "python": platform.python_version(), "machine": platform.machine(), "config": config,
              "wall_seconds": time.time() - T0, "pretrain": pretrain, "summary": summary, "runs": runs}
    tmp = a.out + ".tmp"
    with open(tmp, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")
    os.replace(tmp, a.out)
    for row in summary:
        print("%-6s %-4s %-11s scratch %6.2f +- %5.2f   pre-trained %6.2f +- %5.2f" % (
            row["experiment"], row["setting"], row["metric"], row["scratch"]["mean"], row["scratch"]["std"],
            row["pretrained"]["mean"], row["pretrained"]["std"]), file=sys.stderr)
    log("wrote %s" % a.out)


if __name__ == "__main__":
    sys.exit(main())
