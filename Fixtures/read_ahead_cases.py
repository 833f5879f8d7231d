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

from mapped_cases import check_datasets, test_values

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
            f.create_dataset(name, data=test_values(rng, shape, dtype), **CHUNKED.get(name, {}))   # contiguous unless CHUNKED
            # Right after it in the file: bytes a read-ahead past the end would find.
            f.create_dataset(f"after_{name}", data=np.full((1024,), 7e30, dtype=np.float32))
    evict(path)


def check(folder, output, names):
    with h5py.File(f"{folder}/in.h5", "r") as fin, h5py.File(output, "r") as fout:
        failures = check_datasets(fin, fout, SHAPES, names or SHAPES)
    print("\n".join(failures) if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    elif sys.argv[1] == "evict":
        evict(sys.argv[2])
    else:
        sys.exit(check(sys.argv[2], sys.argv[3], sys.argv[4:]))
