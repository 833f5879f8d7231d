#!/usr/bin/env python3
"""The PyTorch reference for `gnorm apply`: torch.nn.functional.group_norm on slabs read with h5py.

Reads whole samples slab by slab (--slab-mib of storage type) with `read_direct` into a
preallocated NumPy buffer, wraps it with `torch.from_numpy` (integers converted to
float32, gnorm's default output type), calls `F.group_norm` (--mode batch: a statistics
pass with `torch.var_mean` merged by Chan's formula, then `F.batch_norm` with those
statistics), writes the result with `write_direct` keeping the input's chunks and
filters, and fsyncs OUTPUT (--fsync). It does not store the statistics (gnorm does).

    torch_group_norm.py INPUT OUTPUT [--groups G] [--mode group|batch] [--threads T] [--fsync]
"""
import argparse
import os

import h5py
import numpy as np
import torch
import torch.nn.functional as F

from h5py_numpy import fsync_path, output_type, slabs


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output")
    parser.add_argument("--dataset", default="x")
    parser.add_argument("--groups", type=int, default=32)
    parser.add_argument("--mode", choices=["group", "batch"], default="group")
    parser.add_argument("--eps", type=float, default=1e-5)
    parser.add_argument("--slab-mib", type=int, default=64, help="input buffer (at least one sample)")
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--fsync", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with h5py.File(args.input, "r") as fin, h5py.File(args.output, "w") as fout:
        x = fin[args.dataset]
        y = fout.create_dataset(args.dataset, shape=x.shape, dtype=output_type(x.dtype), chunks=x.chunks,
                                compression=x.compression, compression_opts=x.compression_opts, shuffle=x.shuffle)
        n = x.shape[0]
        per_slab = max(1, min(n, args.slab_mib * 2**20 // (x.dtype.itemsize * int(np.prod(x.shape[1:])))))
        raw = np.empty((per_slab,) + x.shape[1:], x.dtype)

        def read(start, end):
            x.read_direct(raw, np.s_[start:end], np.s_[0:end - start])
            t = torch.from_numpy(raw[:end - start])
            return t if x.dtype.kind == "f" else t.to(torch.float32)

        def write(t, start, end):
            y.write_direct(np.ascontiguousarray(t.numpy()), np.s_[0:end - start], np.s_[start:end])

        if args.mode == "group":
            for start, end in slabs(n, per_slab):
                write(F.group_norm(read(start, end), args.groups, eps=args.eps), start, end)
        else:
            dims = [0] + list(range(2, len(x.shape)))
            count, mean, m2 = 0, torch.zeros(x.shape[1], dtype=torch.float64), torch.zeros(x.shape[1], dtype=torch.float64)
            for start, end in slabs(n, per_slab):
                t = read(start, end)
                var, m = torch.var_mean(t, dim=dims, correction=0)
                k = t.numel() // x.shape[1]
                delta = m.double() - mean
                total = count + k
                mean = mean + delta * (k / total)
                m2 = m2 + var.double() * k + delta * delta * (count * k / total)
                count = total
            var = m2 / count
            for start, end in slabs(n, per_slab):
                t = read(start, end)
                write(F.batch_norm(t, mean.to(t.dtype), var.to(t.dtype), training=False, eps=args.eps), start, end)
    if args.fsync:
        fsync_path(args.output)
        fsync_path(os.path.dirname(os.path.abspath(args.output)))


if __name__ == "__main__":
    main()
