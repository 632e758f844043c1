#!/usr/bin/env python3
"""Largest |a - b| over the float32 tensors two safetensors files share (names filtered by an
optional substring). Usage: st_diff.py A B [SUBSTRING]; prints the value and the worst tensor."""
import json
import struct
import sys
from array import array


def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__" or t["dtype"] != "F32":
            continue
        a = array("f")
        a.frombytes(body[t["data_offsets"][0]:t["data_offsets"][1]])
        out[name] = a
    return out


a, b = load(sys.argv[1]), load(sys.argv[2])
sub = sys.argv[3] if len(sys.argv) > 3 else ""
names = sorted(n for n in a if n in b and sub in n)
if not names or set(a) != set(b):
    sys.exit("st_diff: the files hold different tensors")
worst, where = 0.0, ""
for n in names:
    if len(a[n]) != len(b[n]):
        sys.exit("st_diff: %s has different sizes" % n)
    d = max(abs(x - y) for x, y in zip(a[n], b[n]))
    if d > worst or d != d:
        worst, where = d, n
print("%.3g %s" % (worst, where))
