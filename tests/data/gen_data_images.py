#!/usr/bin/python3
"""Reference images for tests/test_data_images.c: source images and what the torchvision
pipeline the paper's code uses (PIL loader convert('RGB'), Resize(S) with BILINEAR,
CenterCrop(S)) makes of them, computed with Pillow (torchvision's Resize/CenterCrop
arithmetic is reproduced below; torchvision itself is not needed).

Run: /usr/bin/python3 tests/data/gen_data_images.py -> tests/data/data_resize/
  <name>.png|.jpg    source image
  <name>.<H>x<W>.c3  expected 3 x H x W bytes (planar RGB)
  <name>.<H>x<W>.c1  expected 1 x H x W bytes (convert('L') before resizing)
For non-square targets robustcl scales so the image covers H x W, then centre-crops;
the same rule is applied here.
"""
import os

import numpy as np
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "data_resize")
os.makedirs(OUT, exist_ok=True)
rng = np.random.default_rng(7)


def smooth(h, w, c):
    # noise plus gradients: some structure so the filter's weights matter
    y, x = np.mgrid[0:h, 0:w]
    base = (x * 255 // max(w - 1, 1) + y * 131 // max(h - 1, 1))[..., None] + rng.integers(0, 90, (h, w, c))
    return (base % 256).astype(np.uint8)


def fit(img, th, tw):
    sw, sh = img.size
    if sw * th >= sh * tw:  # torchvision: shorter side -> size, longer int(size * long / short)
        nh, nw = th, int(th * sw / sh)
    else:
        nw, nh = tw, int(tw * sh / sw)
    nw, nh = max(nw, tw), max(nh, th)
    if (nw, nh) != (sw, sh):
        img = img.resize((nw, nh), Image.BILINEAR)
    top = int(round((nh - th) / 2.0))  # CenterCrop (Python's round: halves to even)
    left = int(round((nw - tw) / 2.0))
    return img.crop((left, top, left + tw, top + th))


CASES = [  # name, h, w, mode, format, targets
    ("rgb_35x47", 35, 47, "RGB", "png", [(32, 32), (24, 40)]),
    ("grey_50x20", 50, 20, "L", "png", [(32, 32)]),
    ("rgba_33x33", 33, 33, "RGBA", "png", [(32, 32)]),
    ("rgb_9x13", 9, 13, "RGB", "png", [(32, 32)]),  # upsampling
    ("rgb_64x64", 64, 64, "RGB", "png", [(32, 32), (64, 64)]),
    ("rgb_100x37", 100, 37, "RGB", "png", [(32, 32)]),
    ("rgb_30x40", 30, 40, "RGB", "jpg", [(32, 32)]),  # decoder differs: compared loosely
]

for name, h, w, mode, fmt, targets in CASES:
    a = smooth(h, w, {"RGB": 3, "L": 1, "RGBA": 4}[mode])
    img = Image.fromarray(a[..., 0] if mode == "L" else a, mode)
    path = os.path.join(OUT, name + "." + fmt)
    if fmt == "jpg":
        img.save(path, quality=92)
    else:
        img.save(path)
    src = Image.open(path)
    for th, tw in targets:
        rgb = fit(src.convert("RGB"), th, tw)
        grey = fit(src.convert("RGB").convert("L"), th, tw)
        np.asarray(rgb).transpose(2, 0, 1).tofile(os.path.join(OUT, "%s.%dx%d.c3" % (name, th, tw)))
        np.asarray(grey).tofile(os.path.join(OUT, "%s.%dx%d.c1" % (name, th, tw)))
print("ok")
