#!/usr/bin/env python3
"""The h5py + NumPy reference a careful Python user would write for `gnorm apply`.

Reads the dataset slab by slab (whole samples, a float64 working buffer of --slab-mib)
into preallocated buffers with `read_direct`, widens to float64 once, normalizes in
place (mean, subtract, two-pass variance with einsum, scale), narrows into the output
buffer and writes it with `write_direct`, keeping the input's chunks and filters. The
per-group (or per-channel, --mode batch) mean and variance go to /gnorm/<name>/mean and
var as gnorm writes them. --fsync makes OUTPUT durable (file and folder) as gnorm does.
Without OUTPUT it only computes the statistics (the reference for `gnorm stats`).

    h5py_numpy.py INPUT [OUTPUT] [--groups G] [--mode group|batch] [--fsync]
"""
import argparse
import os

import h5py
import numpy as np


def output_type(dtype):
    """gnorm's default --dtype: floats keep their type, integers become float32."""
    return dtype if dtype.kind == "f" else np.dtype(np.float32)


def slabs(count, per_slab):
    for start in range(0, count, per_slab):
        yield start, min(count, start + per_slab)


def fsync_path(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Slabs:
    """Preallocated buffers for `per_slab` samples: storage type, float64, output type."""

    def __init__(self, x, per_slab):
        shape = (per_slab,) + x.shape[1:]
        self.x = x
        self.raw = np.empty(shape, x.dtype)
        self.work = np.empty(shape, np.float64)
        out = output_type(x.dtype)
        self.out = self.raw if out == x.dtype else np.empty(shape, out)

    def read(self, start, end):
        """Samples start..<end, widened to float64 (a view of the working buffer)."""
        k = end - start
        self.x.read_direct(self.raw, np.s_[start:end], np.s_[0:k])
        np.copyto(self.work[:k], self.raw[:k])
        return self.work[:k]

    def write(self, y, start, end, work):
        k = end - start
        np.copyto(self.out[:k], work, casting="unsafe")
        y.write_direct(self.out, np.s_[0:k], np.s_[start:end])


def group_norm(x, y, buffers, per_slab, groups, eps):
    n = x.shape[0]
    means, variances = np.empty((n, groups)), np.empty((n, groups))
    for start, end in slabs(n, per_slab):
        work = buffers.read(start, end)
        g = work.reshape(end - start, groups, -1)
        mean = g.mean(axis=2)
        g -= mean[:, :, None]
        var = np.einsum("ngm,ngm->ng", g, g) / g.shape[2]
        means[start:end], variances[start:end] = mean, var
        if y is not None:
            g *= (1.0 / np.sqrt(var + eps))[:, :, None]
            buffers.write(y, start, end, work)
    return means, variances


def batch_norm(x, y, buffers, per_slab, eps):
    """Per channel over samples and space: one pass for statistics (Chan's merge), one to normalize."""
    n, c = x.shape[:2]
    count, mean, m2 = 0, np.zeros(c), np.zeros(c)
    for start, end in slabs(n, per_slab):
        g = buffers.read(start, end).reshape(end - start, c, -1)
        k = g.shape[0] * g.shape[2]
        m = g.mean(axis=(0, 2))
        g -= m[None, :, None]
        s = np.einsum("ncm,ncm->c", g, g)
        delta = m - mean
        total = count + k
        mean = mean + delta * (k / total)
        m2 = m2 + s + delta * delta * (count * k / total)
        count = total
    var = m2 / count
    if y is not None:
        scale = 1.0 / np.sqrt(var + eps)
        for start, end in slabs(n, per_slab):
            work = buffers.read(start, end)
            g = work.reshape(end - start, c, -1)
            g -= mean[None, :, None]
            g *= scale[None, :, None]
            buffers.write(y, start, end, work)
    return mean, var


def add_options(parser):
    """The options h5py_numpy_many.py shares."""
    parser.add_argument("--dataset", default="x")
    parser.add_argument("--groups", type=int, default=32)
    parser.add_argument("--mode", choices=["group", "batch"], default="group")
    parser.add_argument("--eps", type=float, default=1e-5)
    parser.add_argument("--slab-mib", type=int, default=64, help="float64 working buffer (at least one sample)")
    parser.add_argument("--fsync", action="store_true")


def normalize_file(source, target, args):
    """Normalizes `source` into `target` (None: statistics only)."""
    with h5py.File(source, "r") as fin:
        x = fin[args.dataset]
        sample_bytes = 8 * int(np.prod(x.shape[1:]))
        per_slab = max(1, min(x.shape[0], args.slab_mib * 2**20 // sample_bytes))
        buffers = Slabs(x, per_slab)
        if target is None:
            if args.mode == "group":
                group_norm(x, None, buffers, per_slab, args.groups, args.eps)
            else:
                batch_norm(x, None, buffers, per_slab, args.eps)
            return
        with h5py.File(target, "w") as fout:
            y = fout.create_dataset(args.dataset, shape=x.shape, dtype=output_type(x.dtype), chunks=x.chunks,
                                    compression=x.compression, compression_opts=x.compression_opts,
                                    shuffle=x.shuffle)
            if args.mode == "group":
                mean, var = group_norm(x, y, buffers, per_slab, args.groups, args.eps)
            else:
                mean, var = batch_norm(x, y, buffers, per_slab, args.eps)
            fout[f"gnorm/{args.dataset}/mean"] = mean
            fout[f"gnorm/{args.dataset}/var"] = var


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("input")
    parser.add_argument("output", nargs="?")
    add_options(parser)
    args = parser.parse_args()
    normalize_file(args.input, args.output, args)
    if args.fsync and args.output is not None:
        fsync_path(args.output)
        fsync_path(os.path.dirname(os.path.abspath(args.output)))


if __name__ == "__main__":
    main()
