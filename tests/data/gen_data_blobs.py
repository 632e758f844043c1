#!/usr/bin/python3
"""Reference for the Blobs blur of tests/test_data_synthetic.c: scipy.ndimage.gaussian_filter
(mode 'nearest', truncate 4.0, float32 data in H x W x C order, as skimage's gaussian with
multichannel=False calls it in the official outlier-exposure code).

Run: /usr/bin/python3 tests/data/gen_data_blobs.py  -> tests/data/data_blobs_ref.f32
The binary masks come from an LCG the C test recomputes; the output is the blurred
float32 arrays of the cases below, each in H, W, C order, concatenated.
"""
import os

import numpy as np
from scipy.ndimage import gaussian_filter

HERE = os.path.dirname(os.path.abspath(__file__))
CASES = [(32, 32, 3, 1.5), (16, 16, 1, 1.5), (64, 64, 3, 2.0), (5, 7, 3, 1.5)]


def mask(h, w, c, seed):
    x, out = seed, np.zeros(h * w * c, np.float32)
    for k in range(out.size):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[k] = 1.0 if (x >> 16) % 10 < 7 else 0.0
    return out.reshape(h, w, c)


with open(os.path.join(HERE, "data_blobs_ref.f32"), "wb") as f:
    for i, (h, w, c, s) in enumerate(CASES):
        y = gaussian_filter(mask(h, w, c, 1000 + i), sigma=s, mode="nearest", truncate=4.0)
        assert y.dtype == np.float32
        f.write(y.astype("<f4").tobytes())
print("ok")
