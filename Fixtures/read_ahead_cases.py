#!/usr/bin/env python3
"""Datasets of many slabs, read with read-ahead of the next slab (contiguous: from a mapping of
INPUT, `MappedDataset.prepare`; chunked: `ChunkReadAhead`), checked against a float64 NumPy reference (issue 19).

    read_ahead_cases.py make DIR          writes DIR/in.h5 (a 512-byte user block: values not
                                          page-aligned), syncs it and drops it from the page cache
    read_ahead_cases.py evict FILE        syncs FILE and drops it from the page cache
    read_ahead_cases.py check DIR OUTPUT [NAME...]
                                          compares OUTPUT (gnorm apply -g 4) with the reference
                                          (datasets NAME..., by default all of them)

Datasets: /f32 (float32, read in place: 24.5 MiB, 49 samples so the last slab is short) and /i16
(int16 → float32, widened from the mapping), each followed in the file by another dataset, so a
read-ahead past a dataset's end would read its neighbour's bytes; /gz32 and /c32 are chunked
(CHUNKED) and read ahead by their chunks' byte ranges.
"""
import os
import sys

import h5py
import numpy as np

EPS = 1e-5
GROUPS = 4
SHAPES = {"f32": ((49, 8, 128, 128), np.float32), "i16": ((40, 8, 128, 128), np.int16),
          "gz32": ((17, 8, 128, 128), np.float32), "c32": ((17, 8, 128, 128), np.float32)}
# Chunked datasets, read ahead chunk by chunk (`ChunkReadAhead`): gzip-1 + shuffle with a sample
# per chunk (gnorm's parallel deflate), and unfiltered with four chunks per sample (HDF5's reads).
CHUNKED = {"gz32": dict(chunks=(1, 8, 128, 128), compression="gzip", compression_opts=1, shuffle=True),
           "c32": dict(chunks=(1, 4, 64, 128))}


def evict(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def make(folder):
    rng = np.random.default_rng(19)
    path = f"{folder}/in.h5"
    with h5py.File(path, "w", userblock_size=512) as f:
        for name, (shape, dtype) in SHAPES.items():
            if dtype == np.int16:
                values = rng.integers(-3000, 3000, shape, dtype=np.int16)
            else:
                values = (3 + 2 * rng.standard_normal(shape)).astype(dtype)
            f.create_dataset(name, data=values, **CHUNKED.get(name, {}))   # contiguous unless CHUNKED
            # Right after it in the file: bytes a read-ahead past the end would find.
            f.create_dataset(f"after_{name}", data=np.full((1024,), 7e30, dtype=np.float32))
    evict(path)


def reference(x):
    x = np.asarray(x, dtype=np.float64)
    flat = x.reshape(x.shape[0], GROUPS, -1)
    mean = flat.mean(axis=2, keepdims=True)
    var = ((flat - mean) ** 2).mean(axis=2, keepdims=True)
    return ((flat - mean) / np.sqrt(var + EPS)).reshape(x.shape), mean.ravel(), var.ravel()


def check(folder, output, names):
    failures = []
    with h5py.File(f"{folder}/in.h5", "r") as fin, h5py.File(output, "r") as fout:
        for name in names or SHAPES:
            shape, dtype = SHAPES[name]
            y, mean, var = reference(fin[name][...])
            got = fout[name]
            if got.dtype != np.float32 or got.shape != shape:
                failures.append(f"{name}: {got.dtype} {got.shape}, expected float32 {shape}")
                continue
            values = got[...].astype(np.float64)
            if values.size != y.size or values.size == 0:
                failures.append(f"{name}: {values.size} values, expected {y.size}")
                continue
            worst = np.max(np.abs(values - y))
            if not worst <= 3e-6 * max(1, np.max(np.abs(y))):
                failures.append(f"{name}: values differ by up to {worst:.3g}")
            for label, expected in (("mean", mean), ("var", var)):
                stats = fout[f"gnorm/{name}/{label}"][...].ravel()
                if stats.size != expected.size or not np.allclose(stats, expected, rtol=1e-10, atol=1e-12):
                    failures.append(f"{name}: {label} {stats[:3]} vs {expected[:3]}")
    print("\n".join(failures) if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "evict":
        evict(sys.argv[2])
    else:
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4:]))
