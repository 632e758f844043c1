#!/usr/bin/python3
"""Writes tests/data/io_st_ref.safetensors by hand (struct + json, no safetensors package),
byte for byte as the reference implementation's save_file would:
  - 8-byte little-endian header length N, then N bytes of compact JSON padded with
    spaces to a multiple of 8, then the data;
  - "__metadata__" first (keys sorted), then the tensors ordered by dtype descending
    (reference enum order BOOL < U8 < I8 < ... < I32 < U32 < F32 < F64 < I64 < U64),
    then by name; data in the same order, contiguous.
test_io_safetensors.c reads it and checks that robustcl's writer produces the same bytes.

Run: /usr/bin/python3 tests/data/gen_io_safetensors.py
     /usr/bin/python3 tests/data/gen_io_safetensors.py --check FILE   (validate any file,
     e.g. one written by robustcl, with the torch-free reader below)
"""
import json
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ORDER = ["BOOL", "U8", "I8", "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64"]
FMT = {"BOOL": "?", "U8": "B", "I8": "b", "I16": "h", "U16": "H", "I32": "i", "U32": "I",
       "F32": "f", "F64": "d", "I64": "q", "U64": "Q"}
SIZE = {"BOOL": 1, "U8": 1, "I8": 1, "I16": 2, "U16": 2, "F16": 2, "BF16": 2, "I32": 4,
        "U32": 4, "F32": 4, "F64": 8, "I64": 8, "U64": 8}


def tensors():
    """name -> (dtype, shape, flat values); test_io_safetensors.c has the same table."""
    return {
        "fc.weight": ("F32", [3, 4], [i * 0.25 - 1.5 for i in range(12)]),
        "fc.bias": ("F32", [3], [1.0, -2.0, 3.5]),
        "conv1.weight": ("F32", [2, 1, 3, 3], [(i - 9) / 8 for i in range(18)]),
        "step": ("I64", [], [123456789012]),
        "counts": ("I32", [5], [-2, -1, 0, 1, 2**31 - 1]),
        "labels": ("U8", [2, 3], [0, 1, 2, 253, 254, 255]),
        "empty": ("F32", [0, 3], []),
    }


METADATA = {"format": "pt", "note": "h\u00e9llo \"quoted\"\n\ttab"}


def serialize(tens, metadata):
    names = sorted(tens, key=lambda n: (-ORDER.index(tens[n][0]), n.encode()))
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = {k: metadata[k] for k in sorted(metadata)}
    for n in names:
        dtype, shape, vals = tens[n]
        blob = struct.pack("<%d%s" % (len(vals), FMT[dtype]), *vals)
        header[n] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + len(blob)]}
        blobs.append(blob)
        off += len(blob)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def read(path):
    """A strict reader, the reference's rules: returns (metadata, {name: (dtype, shape, values)})."""
    with open(path, "rb") as f:
        b = f.read()
    (n,) = struct.unpack("<Q", b[:8])
    assert n <= len(b) - 8 and n < 100_000_000, "header length"
    header = json.loads(b[8:8 + n].decode("utf-8"))
    data = b[8 + n:]
    metadata = header.pop("__metadata__", {})
    assert all(isinstance(v, str) for v in metadata.values())
    out, spans = {}, []
    for name, e in header.items():
        dtype, shape, (s, t) = e["dtype"], e["shape"], e["data_offsets"]
        numel = 1
        for d in shape:
            numel *= d
        assert t - s == numel * SIZE[dtype] and 0 <= s <= t <= len(data), name
        spans.append((s, t, name))
        vals = list(struct.unpack("<%d%s" % (numel, FMT[dtype]), data[s:t])) if dtype in FMT else None
        out[name] = (dtype, shape, vals)
    end = 0
    for s, t, name in sorted(spans):
        assert s == end, "gap or overlap at " + name
        end = t
    assert end == len(data), "data not covered"
    return metadata, out


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--check":
        meta, out = read(sys.argv[2])
        print("metadata", meta)
        for name, (dtype, shape, vals) in out.items():
            print(name, dtype, shape, vals[:8] if vals else vals)
        return
    path = os.path.join(HERE, "io_st_ref.safetensors")
    with open(path, "wb") as f:
        f.write(serialize(tensors(), METADATA))
    meta, out = read(path)
    assert meta == METADATA
    for name, (dtype, shape, vals) in tensors().items():
        assert out[name] == (dtype, shape, vals), name


if __name__ == "__main__":
    main()
