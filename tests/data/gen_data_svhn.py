#!/usr/bin/python3
"""SVHN-format .mat fixtures for tests/test_data_svhn.c (scipy.io.savemat, MATLAB v5).

Run: /usr/bin/python3 tests/data/gen_data_svhn.py
X is 32 x 32 x 3 x N uint8 with X[r, c, ch, i] = (r + 3*c + 50*ch + 7*i) % 256, y is N x 1
double in 1..10 (10 = digit 0), as in the official train_32x32.mat / test_32x32.mat.
"""
import os

import numpy as np
from scipy.io import savemat

HERE = os.path.dirname(os.path.abspath(__file__))


def X(n):
    r, c, ch, i = np.meshgrid(np.arange(32), np.arange(32), np.arange(3), np.arange(n), indexing="ij")
    return ((r + 3 * c + 50 * ch + 7 * i) % 256).astype(np.uint8)


y = np.array([[1], [10], [5], [3]], dtype=np.float64)
savemat(os.path.join(HERE, "data_svhn.mat"), {"X": X(4), "y": y})
savemat(os.path.join(HERE, "data_svhn_z.mat"), {"X": X(4), "y": y.astype(np.uint8)}, do_compression=True)
savemat(os.path.join(HERE, "data_svhn_badlabel.mat"), {"X": X(3), "y": np.array([[1], [11], [2]], float)},
        do_compression=True)
savemat(os.path.join(HERE, "data_svhn_badshape.mat"), {"X": X(2)[:16], "y": np.array([[1], [2]], float)},
        do_compression=True)
savemat(os.path.join(HERE, "data_svhn_count.mat"), {"X": X(3), "y": np.array([[1], [2]], float)},
        do_compression=True)
print("ok")
