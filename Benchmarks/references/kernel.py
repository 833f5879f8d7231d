#!/usr/bin/env python3
"""Kernel throughput of a reference, in its own process: GB/s of input normalized.

    kernel.py torch|numpy --threads T --repeats R --warmup W SHAPE...
    (SHAPE: NxCxHxW:G:f32|f64[:nhwc]; nhwc: channels last in memory, torch's channels_last format)

torch: `torch.nn.functional.group_norm` after W untimed calls, with T threads.
numpy: float64 group norm with preallocated buffers and in-place operations (NumPy
runs these on one thread). Prints one JSON object per shape: the median and all times.
"""
import argparse
import json
import statistics
import time

import numpy as np


def numpy_kernel(x, groups, channels_last):
    """x is (N, C, H, W), or (N, H, W, C) when channels_last."""
    work = np.empty(x.shape, np.float64)
    out = np.empty_like(x)

    def run():
        np.copyto(work, x)
        if channels_last:
            g = work.reshape(x.shape[0], -1, groups, x.shape[-1] // groups)
            mean = g.mean(axis=(1, 3))
            g -= mean[:, None, :, None]
            var = np.einsum("nsgk,nsgk->ng", g, g) / (g.shape[1] * g.shape[3])
            g *= (1.0 / np.sqrt(var + 1e-5))[:, None, :, None]
        else:
            g = work.reshape(x.shape[0], groups, -1)
            mean = g.mean(axis=2)
            g -= mean[:, :, None]
            var = np.einsum("ngm,ngm->ng", g, g) / g.shape[2]
            g *= (1.0 / np.sqrt(var + 1e-5))[:, :, None]
        np.copyto(out, work, casting="unsafe")
    return run


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("impl", choices=["torch", "numpy"])
    parser.add_argument("shapes", nargs="+")
    parser.add_argument("--threads", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args()
    if args.impl == "torch":
        import torch
        torch.set_num_threads(args.threads)
    for spec in args.shapes:
        dims, groups, dtype, *layout = spec.split(":")
        channels_last = layout == ["nhwc"]
        shape = tuple(int(d) for d in dims.split("x"))
        groups = int(groups)
        np_type = np.float32 if dtype == "f32" else np.float64
        x = (np.random.default_rng(42).random(shape) * 4 - 2).astype(np_type)
        if args.impl == "torch":
            t = torch.from_numpy(x)
            if channels_last:
                t = t.contiguous(memory_format=torch.channels_last)
            run = lambda: torch.nn.functional.group_norm(t, groups, eps=1e-5)
        else:
            run = numpy_kernel(np.ascontiguousarray(x.transpose(0, 2, 3, 1)) if channels_last else x, groups,
                               channels_last)
        for _ in range(args.warmup):
            run()
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        print(json.dumps({"shape": spec, "GBps": x.nbytes / statistics.median(times) / 1e9, "seconds": times}), flush=True)


if __name__ == "__main__":
    main()
