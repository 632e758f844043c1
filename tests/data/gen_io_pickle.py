#!/usr/bin/python3
"""Writes the pickle fixtures of tests/test_io_pickle.c with numpy + pickle.

Run: /usr/bin/python3 tests/data/gen_io_pickle.py
Array contents are formulas the C test recomputes:
  data[i, j] = (i * 31 + j * 7) % 256   (uint8, N x 3072, planar R,G,B like CIFAR/ImageNet32)
  labels[i]  = (i * 37) % 10            (CIFAR-10 style)  / (i * 37) % 1000 + 1 (ImageNet32, 1-based)
"""
import io
import os
import pickle
import struct

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))


def images(n):
    i = np.arange(n).reshape(n, 1)
    j = np.arange(3072).reshape(1, 3072)
    return ((i * 31 + j * 7) % 256).astype(np.uint8)


def save(name, obj, protocol, pickler=pickle.Pickler):
    buf = io.BytesIO()
    pickler(buf, protocol=protocol).dump(obj)
    with open(os.path.join(HERE, name), "wb") as f:
        f.write(buf.getvalue())
    return buf.getvalue()


class Py2Pickler(pickle._Pickler):
    """Emulates Python 2 cPickle (as the CIFAR python release was written): bytes are
    written as BINSTRING/SHORT_BINSTRING (py2 str), not as _codecs.encode calls."""

    dispatch = pickle._Pickler.dispatch.copy()

    def save_py2_str(self, obj):
        n = len(obj)
        if n < 256:
            self.write(b"U" + bytes([n]) + obj)
        else:
            self.write(b"T" + struct.pack("<i", n) + obj)
        self.memoize(obj)

    dispatch[bytes] = save_py2_str


def main():
    # CIFAR-100 python release layout, Python 3 at protocol 2 (bytes via _codecs.encode)
    n = 4
    cifar100 = {
        b"filenames": [b"img_%d.png" % i for i in range(n)],
        b"batch_label": b"training batch 1 of 1",
        b"fine_labels": [(i * 37) % 100 for i in range(n)],
        b"coarse_labels": [(i * 37) % 20 for i in range(n)],
        b"data": images(n),
    }
    save("io_pickle_cifar100_p2.pkl", cifar100, 2)

    # CIFAR-10 layout as Python 2 wrote it (py2 str keys and raw data)
    n = 3
    cifar10 = {
        b"batch_label": b"testing batch 1 of 1",
        b"labels": [(i * 37) % 10 for i in range(n)],
        b"data": images(n),
        b"filenames": [b"f%d.png" % i for i in range(n)],
    }
    save("io_pickle_cifar10_py2.pkl", cifar10, 2, Py2Pickler)

    # ImageNet32 layout (str keys, 1-based labels, float64 mean), protocol 4
    n = 5
    imagenet = {
        "data": images(n),
        "labels": [(i * 37) % 1000 + 1 for i in range(n)],
        "mean": (np.arange(3072) / 3072.0).astype(np.float64),
    }
    save("io_pickle_imagenet32_p4.pkl", imagenet, 4)

    # protocol 5: numpy arrays through _frombuffer, numpy scalars, assorted types,
    # a shared (memoised) list, a big int, a Fortran-ordered array
    shared = [1, 2, 3]
    misc = {
        "data": images(2),
        "f32": np.arange(6, dtype=np.float32).reshape(2, 3) / 4,
        "i64": np.array([-5, 0, 1 << 40], dtype=np.int64),
        "fortran": np.asfortranarray(np.arange(6, dtype=np.int32).reshape(2, 3)),
        "scalar_f": np.float32(2.5),
        "scalar_i": np.int64(-7),
        "none": None,
        "flags": (True, False),
        "float": -0.125,
        "big": 2 ** 70,
        "neg": -300,
        "a": shared,
        "b": shared,
        "empty": b"",
        "text": "h\u00e9llo",
    }
    save("io_pickle_misc_p5.pkl", misc, 5)
    save("io_pickle_misc_p2.pkl", misc, 2)

    # checks: the files load back to what was pickled
    for name in ["io_pickle_cifar100_p2.pkl", "io_pickle_cifar10_py2.pkl", "io_pickle_imagenet32_p4.pkl",
                 "io_pickle_misc_p5.pkl", "io_pickle_misc_p2.pkl"]:
        with open(os.path.join(HERE, name), "rb") as f:
            pickle.load(f, encoding="bytes")


if __name__ == "__main__":
    main()
