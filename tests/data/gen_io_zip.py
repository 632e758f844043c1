#!/usr/bin/python3
"""Writes the zip fixtures of tests/test_io_zip.c with Python's zipfile.

Run from anywhere: /usr/bin/python3 tests/data/gen_io_zip.py
The member contents are formulas that test_io_zip.c recomputes:
  hello.txt        b"hello, zip\n"
  empty            b""
  text.txt         b"the quick brown fox %d\n" for i in range(400)
  dir/noise.bin    LCG bytes (n given per archive), incompressible
"""
import io
import os
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))


def noise(n):
    x, out = 12345, bytearray(n)
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        out[i] = (x >> 16) & 0xFF
    return bytes(out)


def members(noise_n):
    text = b"".join(b"the quick brown fox %d\n" % i for i in range(400))
    return [
        ("hello.txt", b"hello, zip\n", zipfile.ZIP_STORED),
        ("empty", b"", zipfile.ZIP_DEFLATED),
        ("text.txt", text, zipfile.ZIP_DEFLATED),
        ("dir/noise.bin", noise(noise_n), zipfile.ZIP_DEFLATED),
        ("dir/noise_stored.bin", noise(noise_n // 7), zipfile.ZIP_STORED),
    ]


class Unseekable(io.RawIOBase):
    """A write-only stream without tell/seek: zipfile then writes data descriptors."""

    def __init__(self):
        self.buf = bytearray()

    def writable(self):
        return True

    def write(self, b):
        self.buf += b
        return len(b)

    def seekable(self):
        return False

    def tell(self):
        raise OSError("unseekable")


def write(zf, noise_n, force_zip64):
    for name, data, method in members(noise_n):
        info = zipfile.ZipInfo(name, date_time=(2020, 1, 2, 3, 4, 6))
        info.compress_type = method
        with zf.open(info, "w", force_zip64=force_zip64) as f:
            f.write(data)


def make(fname, noise_n, force_zip64=False, seekable=True):
    path = os.path.join(HERE, fname)
    if seekable:
        with zipfile.ZipFile(path, "w") as zf:
            write(zf, noise_n, force_zip64)
    else:
        s = Unseekable()
        with zipfile.ZipFile(s, "w") as zf:
            write(zf, noise_n, force_zip64)
        with open(path, "wb") as f:
            f.write(bytes(s.buf))
    check(path, noise_n)


def check(path, noise_n):
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        for name, data, _ in members(noise_n):
            assert zf.read(name) == data, (path, name)


def main():
    make("io_zip_basic.zip", 70000)  # noise compresses badly: > 64 KiB of deflate input
    make("io_zip_descriptor.zip", 3000, seekable=False)
    make("io_zip_force64.zip", 3000, force_zip64=True)
    make("io_zip_force64_descriptor.zip", 3000, force_zip64=True, seekable=False)
    # zip64 end of central directory record + locator and zip64 extra fields in the
    # central directory, which zipfile only writes past 4 GiB / 65535 members:
    # lower its limits for this one archive.
    saved = zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT
    zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = -1, 0
    try:
        make("io_zip_eocd64.zip", 3000)
    finally:
        zipfile.ZIP64_LIMIT, zipfile.ZIP_FILECOUNT_LIMIT = saved
    check(os.path.join(HERE, "io_zip_eocd64.zip"), 3000)


if __name__ == "__main__":
    main()
