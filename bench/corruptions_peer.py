#!/usr/bin/env python3
"""robustcl's generated corruptions beside the reference implementations, on the same images.

  bench/corruptions_peer.py OUTDIR --make-cifar-c PATH [--imagecorruptions DIR] [--frost DIR]
                            [--robustcl BIN] [--n N] [--runs R] [--only NAMES]

The references: the authors' make_cifar_c.py (CIFAR-10-C's parameters; give the path of a copy of
hendrycks/robustness's ImageNet-C/create_c/make_cifar_c.py; its Wand-based motion blur and snow are
not used) for 32x32 images, and the imagecorruptions package (ImageNet-C's parameters; the folder
holding it, e.g. an unpacked wheel, with --imagecorruptions) for 64x64 ones. Needs numpy, scipy,
scikit-image and OpenCV (Debian: python3-scipy python3-skimage python3-opencv).

The images: the first N Fashion-MNIST test images, padded to 32x32 and tinted with a colour drawn
per image (so saturation and hue matter), and the same upscaled 2x to 64x64; written as CIFAR-10
test batches (32x32) or PNG files in class folders (64x64) that `robustcl corrupt` reads. For each corruption and severity:

  - deterministic corruptions: the share of pixel values equal, the largest difference and the
    PSNR between robustcl's output and the reference's;
  - random ones (their draws differ): the mean PSNR against the clean image and the standard
    deviation of (corrupted - clean), for robustcl and for --runs runs of the reference with
    different seeds; robustcl matches when both lie within 3 standard deviations of the
    reference runs' mean (the tolerance comes from the reference's own randomness). Spatter,
    whose drops cover part of the image, adds the share of pixels changed and the mean and
    standard deviation of the change over the changed values, under the same tolerance.

Deterministic ones match when 99% of values are within 1 (float rounding before the uint8
truncation), JPEG when the PSNR between the two is at least 30 dB (stb's encoder is not libjpeg).

Writes OUTDIR/corruptions.json and OUTDIR/corruptions.md."""
import argparse, gzip, io, json, math, os, subprocess, sys, types, warnings

import numpy as np
from PIL import Image

warnings.simplefilter("ignore")
DETERMINISTIC = {"defocus_blur", "zoom_blur", "brightness", "contrast", "pixelate", "jpeg_compression",
                 "gaussian_blur", "saturate"}
# the statistics compared for every random corruption, and those spatter adds (its drops change
# part of the image: how much of it, and by how much there)
COMPARED = ("psnr_vs_clean", "std_change")
PARTIAL = {"spatter": ("changed_fraction", "changed_mean", "changed_std")}


def fashion_images(n, fm_dir):
    with gzip.open(os.path.join(fm_dir, "t10k-images-idx3-ubyte.gz")) as f:
        img = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)[:n]
    with gzip.open(os.path.join(fm_dir, "t10k-labels-idx1-ubyte.gz")) as f:
        lab = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    rng = np.random.RandomState(2019)
    out = np.zeros((n, 32, 32, 3), np.uint8)
    for i in range(n):
        tint = rng.uniform(0.3, 1.0, 3)
        base = rng.uniform(0, 60, 3)
        out[i, 2:30, 2:30] = np.clip(img[i][..., None] * tint + base, 0, 255).astype(np.uint8)
    return out, lab


def write_cifar(dirname, images, labels):
    os.makedirs(dirname, exist_ok=True)
    chw = images.transpose(0, 3, 1, 2).reshape(len(images), -1)  # R, G, B planes
    with open(os.path.join(dirname, "test_batch.bin"), "wb") as f:
        for lab, px in zip(labels, chw):
            f.write(bytes([int(lab)]) + px.tobytes())
    for k in range(1, 6):  # the loader wants the train batches present too
        with open(os.path.join(dirname, "data_batch_%d.bin" % k), "wb") as f:
            f.write(bytes([int(labels[0])]) + chw[0].tobytes())


def load_make_cifar_c(path):
    """The corruption functions of make_cifar_c.py (everything before its dataset loop), with
    torchvision stubbed out (it serves the dataset loop alone). Its motion_blur and snow call
    ImageMagick through Wand (Debian: python3-wand); without it they are left out."""
    src = open(path).read().split("# /////////////// End Distortions ///////////////")[0]
    for mod in ("torchvision", "torchvision.datasets", "torchvision.transforms"):
        sys.modules.setdefault(mod, types.ModuleType(mod))
    try:
        import wand.image  # noqa: F401
        ns = {}
        exec(compile(src, path, "exec"), ns)
        return ns
    except ImportError:
        pass
    wand = types.ModuleType("wand")
    for sub in ("image", "api", "color"):
        m = types.ModuleType("wand." + sub)
        setattr(wand, sub, m)
        sys.modules["wand." + sub] = m
    sys.modules["wand"] = wand
    sys.modules["wand.image"].Image = object
    sys.modules["wand.api"].library = types.SimpleNamespace(MagickMotionBlurImage=types.SimpleNamespace())
    ns = {}
    exec(compile(src, path, "exec"), ns)
    ns.pop("motion_blur"), ns.pop("snow")
    return ns


def reference(fn, images, severity, seed, cwd=None):
    np.random.seed(seed)
    out = []
    here = os.getcwd()
    if cwd:  # make_cifar_c's frost reads ./frost1.png ...
        os.chdir(cwd)
    try:
        return reference_images(fn, images, severity, out)
    finally:
        os.chdir(here)


def reference_images(fn, images, severity, out):
    for img in images:
        y = fn(Image.fromarray(img), severity)
        out.append(np.uint8(np.asarray(y, dtype=np.float64)) if not isinstance(y, Image.Image) else np.asarray(y))
    return np.stack(out).reshape(images.shape)


def psnr(a, b):
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2, axis=(1, 2, 3))
    return float(np.mean([99.0 if m == 0 else 10 * math.log10(255.0 ** 2 / m) for m in mse]))


def stats(x, clean, partial=False):
    d = x.astype(np.float64) - clean
    out = {"mean_change": float(d.mean()), "std_change": float(d.std()), "psnr_vs_clean": psnr(x, clean)}
    if partial:  # a pixel changed when any of its channels did; the change over the changed values
        changed = d[d != 0]
        out.update({"changed_fraction": float((d != 0).any(axis=-1).mean()),
                    "changed_mean": float(changed.mean()) if changed.size else 0.0,
                    "changed_std": float(changed.std()) if changed.size else 0.0})
    return out


def compare(name, ours, refs, clean):
    if name in DETERMINISTIC:
        d = np.abs(ours.astype(int) - refs[0].astype(int))
        return {"kind": "deterministic", "equal": float((d == 0).mean()), "within_1": float((d <= 1).mean()),
                "max_diff": int(d.max()), "psnr": psnr(ours, refs[0])}
    keys = COMPARED + PARTIAL.get(name, ())
    o, r = stats(ours, clean, name in PARTIAL), [stats(x, clean, name in PARTIAL) for x in refs]
    out = {"kind": "random", "robustcl": o, "reference_runs": r, "compared": list(keys)}
    for key in keys:  # ours within 3 SD of the reference's runs
        v = np.array([x[key] for x in r])
        out[key] = {"robustcl": o[key], "reference_mean": float(v.mean()), "reference_sd": float(v.std(ddof=1)),
                    "z": float((o[key] - v.mean()) / max(v.std(ddof=1), 1e-3))}
    return out


def write_folder(dirname, images, labels):
    """PNG files in class folders (folder:DIR reads them in class, then file name, order)."""
    for i, (img, lab) in enumerate(zip(images, labels)):
        os.makedirs(os.path.join(dirname, "%02d" % lab), exist_ok=True)
        Image.fromarray(img).save(os.path.join(dirname, "%02d" % lab, "%05d.png" % i))


def run_size(label, images, labels, fns, args, work):
    data = os.path.join(work, "clean-" + label)
    out = os.path.join(work, "robustcl-" + label)
    if images.shape[1] == 32:
        write_cifar(data, images, labels)
        spec = "cifar10:" + data
    else:
        order = np.argsort(labels, kind="stable")  # the folder loader's order
        images, labels = images[order], labels[order]
        write_folder(data, images, labels)
        spec = "folder:%s,size=%dx%d" % (data, images.shape[1], images.shape[2])
    names = [n for n in fns if fns[n] is not None]
    subprocess.run([args.robustcl, "corrupt", "--data", spec, "--out", out, "--corrupt", ",".join(names),
                    "--seed", "1"] + (["--frost", args.frost] if args.frost else []), check=True,
                   env=dict(os.environ, ROBUSTCL_QUIET="1"))
    rows = []
    n = len(images)
    for name in names:
        ours_all = np.load(os.path.join(out, name + ".npy"))
        for s in range(1, 6):
            ours = ours_all[(s - 1) * n:s * n]
            runs = 1 if name in DETERMINISTIC else args.runs
            refs = [reference(fns[name], images, s, seed, args.frost) for seed in range(1, runs + 1)]
            r = compare(name, ours, refs, images.astype(np.float64))
            r.update({"size": label, "corruption": name, "severity": s})
            rows.append(r)
            print(label, name, s, r.get("psnr", r.get("psnr_vs_clean")), flush=True)
    return rows


LABELS = {"psnr_vs_clean": "PSNR vs clean", "std_change": "SD of the change", "changed_fraction": "pixels changed",
          "changed_mean": "mean change where changed", "changed_std": "SD where changed"}
FORMATS = {"psnr_vs_clean": "%.2f", "std_change": "%.2f", "changed_fraction": "%.4f", "changed_mean": "%.2f",
           "changed_std": "%.2f"}


def markdown(rows):
    lines = ["| size | corruption | sev | robustcl vs reference | verdict |", "|---|---|---|---|---|"]
    for r in rows:
        if r["kind"] == "deterministic":
            text = "%.1f%% equal, %.1f%% within 1, max %d, PSNR %.1f dB" % (100 * r["equal"], 100 * r["within_1"],
                                                                             r["max_diff"], r["psnr"])
            ok = r["within_1"] >= 0.99 or (r["corruption"] == "jpeg_compression" and r["psnr"] >= 30)
        else:
            text = "; ".join("%s %s, reference %s +- %s (z %.1f)" % (
                LABELS[k], FORMATS[k] % r[k]["robustcl"], FORMATS[k] % r[k]["reference_mean"],
                FORMATS[k] % r[k]["reference_sd"], r[k]["z"]) for k in r["compared"])
            ok = all(abs(r[k]["z"]) <= 3 for k in r["compared"])
        r["match"] = bool(ok)
        lines.append("| %s | %s | %d | %s | %s |" % (r["size"], r["corruption"], r["severity"], text,
                                                     "match" if ok else "**differs**"))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("outdir")
    ap.add_argument("--make-cifar-c", required=True)
    ap.add_argument("--imagecorruptions", help="folder holding the imagecorruptions package")
    ap.add_argument("--robustcl", default="build/robustcl")
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5, help="reference runs (seeds) of each random corruption")
    ap.add_argument("--only", help="comma-separated corruptions (default: every one robustcl builds)")
    ap.add_argument("--frost", help="the frost photographs (frost1.png ...): frost is compared when given")
    ap.add_argument("--fashion-mnist", default=os.environ.get("RCL_FASHION_MNIST_DIR",
                                                              "/usr/share/datasets/fashion-mnist"))
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    work = os.path.join(args.outdir, "work")
    images, labels = fashion_images(args.n, args.fashion_mnist)
    built = ["gaussian_noise", "shot_noise", "impulse_noise", "defocus_blur", "glass_blur", "motion_blur", "zoom_blur",
             "snow", "fog", "brightness", "contrast", "elastic_transform", "pixelate", "jpeg_compression",
             "speckle_noise", "gaussian_blur", "spatter", "saturate"] + (["frost"] if args.frost else [])
    if args.only:
        built = [n for n in built if n in args.only.split(",")]
    mc = load_make_cifar_c(args.make_cifar_c)
    rows = run_size("32x32", images, labels, {n: mc.get(n) for n in built}, args, work)
    if args.imagecorruptions:
        sys.path.insert(0, args.imagecorruptions)
        import imagecorruptions.corruptions as ic
        big = np.stack([np.asarray(Image.fromarray(i).resize((64, 64), Image.BILINEAR)) for i in images])
        rows += run_size("64x64", big, labels, {n: getattr(ic, n, None) for n in built}, args, work)
    with open(os.path.join(args.outdir, "corruptions.json"), "w") as f:
        md = markdown(rows)
        json.dump({"images": args.n, "rows": rows}, f, indent=1)
    with open(os.path.join(args.outdir, "corruptions.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
