#!/usr/bin/env python3
"""Hostile but valid HDF5 files of issue 21, written by h5py into a folder.

    hostile_files.py DIR           writes the files below into DIR (and DIR/../outside/)
    hostile_files.py --fuzz DIR    writes the small ones that fit a fuzz corpus (file images) into DIR
    hostile_files.py --tiny-chunks DIR [SIDE]   writes DIR/tiny_chunks.h5 (SIDE 256: 36 MB, 15 s)
    hostile_files.py --group-moments FILE   prints the float64 mean and variance of /x per (sample, group of 2)
    hostile_files.py --big-attributes DIR   writes DIR/big_attributes.h5: /x with two 4 MiB attributes
    hostile_files.py --big-chunk DIR     writes DIR/big_chunk.h5: one 64 MiB gzip chunk (item 7)

External raw storage and virtual datasets (SPEC §3: read only inside INPUT's folder):
  external_inside.h5   /x float32 (2,4,8,8) in raw.bin beside it (a relative name)
  external_passwd.h5   /x uint8 (1,4,4,4) whose external file is /etc/passwd
  external_dotdot.h5   /x in ../outside/raw.bin (relative, escaping the folder)
  external_missing.h5  /x in nothere.bin, which does not exist
  vds_inside.h5        /x virtual, all of source.h5:/d beside it
  vds_missing.h5       /x virtual, from gone.h5, which does not exist
  vds_outside.h5       /x virtual, from ../outside/source.h5
  source.h5            /d float32 (2,4,8,8): the values of raw.bin, a regular dataset
Huge declared shapes, few written chunks (item 5):
  huge_sparse.h5       /x float32 (2,4,8,2**51), chunks (1,2,8,8), 3 chunks written
  huge_sparse44.h5     /x float32 (2,4,8,2**44), chunks (1,2,8,8), 3 chunks written
  tiny_chunks.h5       /x float32 (2,4,SIDE,SIDE), chunks (1,1,1,1): 524,288 chunks for SIDE 256
  big_chunk.h5         /x float32 (1,4,2048,2048) in one gzip chunk (random values: 60 MiB stored)
"""
import os
import sys

import h5py
import numpy as np


def values():
    rng = np.random.default_rng(21)
    return (1 + 2 * rng.standard_normal((2, 4, 8, 8))).astype("<f4")


def external(path, files, shape, dtype):
    size = int(np.prod(shape)) * np.dtype(dtype).itemsize
    with h5py.File(path, "w") as f:
        f.create_dataset("x", shape=shape, dtype=dtype, external=[(name, 0, size) for name in files])


def virtual(path, source, shape):
    layout = h5py.VirtualLayout(shape=shape, dtype="<f4")
    layout[:] = h5py.VirtualSource(source, "d", shape=shape)
    with h5py.File(path, "w") as f:
        f.create_virtual_dataset("x", layout, fillvalue=0)


def sparse(path, last_axis):
    with h5py.File(path, "w") as f:
        x = f.create_dataset("x", shape=(2, 4, 8, last_axis), chunks=(1, 2, 8, 8), dtype="<f4")
        rng = np.random.default_rng(5)
        for n, c, w in [(0, 0, 0), (1, 2, 3), (1, 2, last_axis // 8 - 1)]:
            x[n, c:c + 2, :, w * 8:(w + 1) * 8] = rng.standard_normal((2, 8, 8)).astype("<f4")


def tiny_chunks(path, side):
    with h5py.File(path, "w") as f:
        data = np.random.default_rng(3).standard_normal((2, 4, side, side)).astype("<f4")
        f.create_dataset("x", data=data, chunks=(1, 1, 1, 1))


def big_chunk(path):
    with h5py.File(path, "w") as f:
        data = np.random.default_rng(2).standard_normal((1, 4, 2048, 2048)).astype("<f4")
        f.create_dataset("x", data=data, chunks=data.shape, compression="gzip", compression_opts=1)


def make(folder):
    outside = os.path.join(folder, "..", "outside")
    os.makedirs(outside, exist_ok=True)
    data = values()
    data.tofile(os.path.join(folder, "raw.bin"))
    data.tofile(os.path.join(outside, "raw.bin"))
    for where in (folder, outside):
        with h5py.File(os.path.join(where, "source.h5"), "w") as f:
            f.create_dataset("d", data=data)
    external(f"{folder}/external_inside.h5", ["raw.bin"], data.shape, "<f4")
    external(f"{folder}/external_passwd.h5", ["/etc/passwd"], (1, 4, 4, 4), "u1")
    external(f"{folder}/external_dotdot.h5", ["../outside/raw.bin"], data.shape, "<f4")
    external(f"{folder}/external_missing.h5", ["nothere.bin"], data.shape, "<f4")
    virtual(f"{folder}/vds_inside.h5", "source.h5", data.shape)
    virtual(f"{folder}/vds_missing.h5", "gone.h5", data.shape)
    virtual(f"{folder}/vds_outside.h5", "../outside/source.h5", data.shape)
    sparse(f"{folder}/huge_sparse.h5", 2**51)
    sparse(f"{folder}/huge_sparse44.h5", 2**44)


def fuzz(folder):
    """The files that are whole in themselves and fit the fuzzers' -max_len=4096: seeds named by
    content, as libFuzzer names them (the sparse and VDS files take 6 KiB and would be cut)."""
    import hashlib
    import tempfile
    with tempfile.TemporaryDirectory() as scratch:
        sparse(f"{scratch}/a.h5", 2**51)
        sparse(f"{scratch}/b.h5", 2**44)
        external(f"{scratch}/c.h5", ["/etc/passwd"], (1, 4, 4, 4), "u1")
        virtual(f"{scratch}/d.h5", "gone.h5", (2, 4, 8, 8))
        for name in "abcd":
            image = open(f"{scratch}/{name}.h5", "rb").read()
            if len(image) > 4096:
                continue
            with open(os.path.join(folder, hashlib.sha1(image).hexdigest()), "wb") as out:
                out.write(image)


if __name__ == "__main__":
    if sys.argv[1] == "--fuzz":
        fuzz(sys.argv[2])
    elif sys.argv[1] == "--tiny-chunks":
        tiny_chunks(f"{sys.argv[2]}/tiny_chunks.h5", int(sys.argv[3]) if len(sys.argv) > 3 else 256)
    elif sys.argv[1] == "--group-moments":
        with h5py.File(sys.argv[2], "r") as f:
            x = f["x"][...].astype(np.float64)
        groups = x.reshape(x.shape[0], 2, -1)
        for n in range(x.shape[0]):
            for g in range(2):
                print(repr(float(groups[n, g].mean())), repr(float(groups[n, g].var())))
    elif sys.argv[1] == "--big-attributes":
        with h5py.File(f"{sys.argv[2]}/big_attributes.h5", "w", libver=("v108", "v110")) as f:
            x = f.create_dataset("x", data=values())
            for name in ("a1", "a2"):
                x.attrs[name] = np.arange(1 << 20, dtype="<f4")
    elif sys.argv[1] == "--big-chunk":
        big_chunk(f"{sys.argv[2]}/big_chunk.h5")
    else:
        make(sys.argv[1])
