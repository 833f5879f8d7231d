#!/usr/bin/env python3
"""The h5py + NumPy reference for `gnorm invert` (group mode, no affine): reads the normalized
dataset and /gnorm/<name>/mean and var that `apply` stored, and writes OUTPUT with
x = y · sqrt(var + eps) + mean per (sample, group), slab by slab in float64 (the buffers of
h5py_numpy.py), in the stored type, keeping chunks and filters. --fsync as gnorm does.

    h5py_numpy_invert.py INPUT OUTPUT [--dataset x] [--eps E] [--fsync]
"""
import argparse
import os

import h5py
import numpy as np

from h5py_numpy import Slabs, fsync_path, slabs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--dataset", default="x")
    parser.add_argument("--eps", type=float, default=1e-5)
    parser.add_argument("--slab-mib", type=int, default=64, help="float64 working buffer (at least one sample)")
    parser.add_argument("--fsync", action="store_true")
    args = parser.parse_args()
    with h5py.File(args.input, "r") as fin, h5py.File(args.output, "w") as fout:
        y = fin[args.dataset]
        mean, var = fin[f"gnorm/{args.dataset}/mean"][...], fin[f"gnorm/{args.dataset}/var"][...]
        groups = mean.shape[1]
        x = fout.create_dataset(args.dataset, shape=y.shape, dtype=y.dtype, chunks=y.chunks,
                                compression=y.compression, compression_opts=y.compression_opts, shuffle=y.shuffle)
        per_slab = max(1, min(y.shape[0], args.slab_mib * 2**20 // (8 * int(np.prod(y.shape[1:])))))
        buffers = Slabs(y, per_slab)
        for start, end in slabs(y.shape[0], per_slab):
            work = buffers.read(start, end)
            g = work.reshape(end - start, groups, -1)
            g *= np.sqrt(var[start:end] + args.eps)[:, :, None]
            g += mean[start:end, :, None]
            buffers.write(x, start, end, work)
    if args.fsync:
        fsync_path(args.output)
        fsync_path(os.path.dirname(os.path.abspath(args.output)))


if __name__ == "__main__":
    main()
