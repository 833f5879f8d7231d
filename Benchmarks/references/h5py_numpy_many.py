#!/usr/bin/env python3
"""The h5py + NumPy reference for `gnorm apply INPUT... --output-dir DIR`: one Python process
normalizing every INPUT in a loop, as a user would script many small files.

Each file goes through h5py_numpy.py's own functions (preallocated slab buffers, float64
in place, statistics under /gnorm/<name>/), written to DIR/NAME. --fsync fsyncs each
OUTPUT once it is closed and DIR once at the end (what a careful script does; gnorm
instead issues one syncfs per batch of 64 files, then renames and syncs the folder).

    h5py_numpy_many.py INPUT... --output-dir DIR [--groups G] [--mode group|batch] [--fsync]
"""
import argparse
import os

import h5py
import numpy as np

from h5py_numpy import Slabs, batch_norm, fsync_path, group_norm, output_type


def normalize_file(source, target, args):
    """One INPUT to one OUTPUT, exactly as h5py_numpy.py's main does it."""
    with h5py.File(source, "r") as fin, h5py.File(target, "w") as fout:
        x = fin[args.dataset]
        sample_bytes = 8 * int(np.prod(x.shape[1:]))
        per_slab = max(1, min(x.shape[0], args.slab_mib * 2**20 // sample_bytes))
        buffers = Slabs(x, per_slab)
        y = fout.create_dataset(args.dataset, shape=x.shape, dtype=output_type(x.dtype), chunks=x.chunks,
                                compression=x.compression, compression_opts=x.compression_opts, shuffle=x.shuffle)
        if args.mode == "group":
            mean, var = group_norm(x, y, buffers, per_slab, args.groups, args.eps)
        else:
            mean, var = batch_norm(x, y, buffers, per_slab, args.eps)
        fout[f"gnorm/{args.dataset}/mean"] = mean
        fout[f"gnorm/{args.dataset}/var"] = var


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--output-dir", required=True)
    parser.add_argument("--dataset", default="x")
    parser.add_argument("--groups", type=int, default=32)
    parser.add_argument("--mode", choices=["group", "batch"], default="group")
    parser.add_argument("--eps", type=float, default=1e-5)
    parser.add_argument("--slab-mib", type=int, default=64, help="float64 working buffer (at least one sample)")
    parser.add_argument("--fsync", action="store_true")
    args = parser.parse_args()
    for source in args.inputs:
        target = os.path.join(args.output_dir, os.path.basename(source))
        normalize_file(source, target, args)
        if args.fsync:
            fsync_path(target)
    if args.fsync:
        fsync_path(args.output_dir)


if __name__ == "__main__":
    main()
