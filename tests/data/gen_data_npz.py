#!/usr/bin/python3
"""Generates the .npy/.npz fixtures of tests/test_data_npy.c (Debian's numpy; CI has no Python).

Run from anywhere: /usr/bin/python3 tests/data/gen_data_npz.py
Pixels follow (i*37 + j*11 + seed) % 256 so the C test can recompute them.
"""
import io
import os
import pickle
import zipfile

import numpy as np
from numpy.lib import format as npformat

HERE = os.path.dirname(os.path.abspath(__file__))
IM = os.path.join(HERE, "data_imagenet32")
os.makedirs(IM, exist_ok=True)


def pixels(n, seed, width=3072):
    i = np.arange(n).reshape(-1, 1)
    j = np.arange(width).reshape(1, -1)
    return ((i * 37 + j * 11 + seed) % 256).astype(np.uint8)


class Unseekable:
    """A write-only stream: zipfile then writes data descriptors (flag bit 3)."""

    def __init__(self):
        self.buf = io.BytesIO()

    def write(self, b):
        return self.buf.write(b)

    def flush(self):
        pass

    def read(self, *args):  # numpy only checks that it exists
        raise io.UnsupportedOperation("write-only")


# official layout: train_data_batch_<k>.npz and val_data.npz with data/labels(/mean)
# batch 1: savez (stored members, numpy forces zip64 local extras), labels int64
np.savez(os.path.join(IM, "train_data_batch_1.npz"), data=pixels(5, 0),
         labels=np.array([1, 1000, 500, 2, 7], dtype=np.int64), mean=np.zeros(4, np.float64))
# batch 2: savez_compressed (deflated members), labels int32
np.savez_compressed(os.path.join(IM, "train_data_batch_2.npz"), data=pixels(3, 1),
                    labels=np.array([3, 3, 999], dtype=np.int32))
# val: deflated members written to an unseekable stream -> data descriptors
s = Unseekable()
np.savez_compressed(s, data=pixels(4, 2), labels=np.array([10, 20, 30, 40], dtype=np.int64))
with open(os.path.join(IM, "val_data.npz"), "wb") as f:
    f.write(s.buf.getvalue())

# zip64 proper (zip64 extra fields in the central directory and a zip64 end record),
# without writing 4 GB: lower zipfile's limits while writing.
old = (zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT)
zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = 100, 1
try:
    np.savez(os.path.join(HERE, "data_imnet_zip64.npz"), data=pixels(2, 3),
             labels=np.array([1, 2], dtype=np.int64))
finally:
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = old

# malformed ones
np.savez(os.path.join(HERE, "data_imnet_badlabel.npz"), data=pixels(3, 0),
         labels=np.array([1, 1001, 5], dtype=np.int64))
np.savez(os.path.join(HERE, "data_imnet_badshape.npz"), data=pixels(2, 0, 1024),
         labels=np.array([1, 2], dtype=np.int64))
np.savez(os.path.join(HERE, "data_imnet_count.npz"), data=pixels(3, 0),
         labels=np.array([1, 2], dtype=np.int64))
np.savez(os.path.join(HERE, "data_imnet_nolabels.npz"), data=pixels(2, 0))
# a data.npy whose v1 header length (0) is shorter than its 12-byte prefix (a fuzz finding)
with zipfile.ZipFile(os.path.join(HERE, "data_imnet_shorthdr.npz"), "w") as z:
    z.writestr(zipfile.ZipInfo("data.npy", (1980, 1, 1, 0, 0, 0)), b"\x93NUMPY\x01\x00\x00\x00" + bytes(2))

# the original pickled batches (no extension): dicts of data/labels(/mean)
PK = os.path.join(HERE, "data_imagenet32_pkl")
os.makedirs(PK, exist_ok=True)


def dump(path, obj, protocol):
    with open(path, "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


dump(os.path.join(PK, "train_data_batch_1"), {"data": pixels(5, 0), "labels": [1, 1000, 500, 2, 7],
                                              "mean": np.zeros(4)}, 4)
dump(os.path.join(PK, "train_data_batch_2"), {"data": pixels(3, 1), "labels": [3, 3, 999]}, 2)
dump(os.path.join(PK, "val_data"), {"data": pixels(4, 2), "labels": [10, 20, 30, 40]}, 4)
dump(os.path.join(HERE, "data_imnet_badlabel.pkl"), {"data": pixels(3, 0), "labels": [1, 0, 5]}, 4)
dump(os.path.join(HERE, "data_imnet_list.pkl"), [pixels(1, 0)], 4)
dump(os.path.join(HERE, "data_imnet_u16.pkl"), {"data": pixels(2, 0).astype(np.uint16), "labels": [1, 2]}, 4)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


dump(os.path.join(HERE, "data_imnet_evil.pkl"), {"data": Evil(), "labels": [1]}, 4)

# plain .npy headers of every version and the dtypes labels come in
def save(name, arr, version=None):
    with open(os.path.join(HERE, name), "wb") as f:
        npformat.write_array(f, arr, version=version)

save("data_npy_v1_u1.npy", pixels(2, 5, 6).reshape(2, 2, 3), (1, 0))
save("data_npy_v2_i8.npy", np.array([0, 9, -3, 1 << 40], dtype="<i8"), (2, 0))
save("data_npy_v3_i2.npy", np.array([7, -2, 300], dtype="<i2"), (3, 0))
save("data_npy_i1.npy", np.array([-1, 5], dtype="|i1"), (1, 0))
save("data_npy_i4.npy", np.array([4, 3, 2], dtype="<i4"), (1, 0))
save("data_npy_fortran.npy", np.asfortranarray(pixels(2, 0, 3)), (1, 0))
save("data_npy_be.npy", np.array([1, 2], dtype=">i4"), (1, 0))
print("ok")
