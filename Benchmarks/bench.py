#!/usr/bin/env python3
"""`make bench`: gnorm against the reference implementations, side by side in one run.

1. Kernel throughput (GB/s of input normalized, reused buffers) of gnorm's kernel
   (Benchmarks/.build/release/gnorm-bench) beside torch.nn.functional.group_norm with
   the same thread count, a NumPy float64 implementation, and memcpy bandwidth.
2. `gnorm apply` end to end beside a per-sample h5py+NumPy script, `cp` (+ fsync, as
   gnorm fsyncs OUTPUT) and `h5repack`, on float32 files: contiguous 256 MiB and
   1 GiB, and 512 MiB gzip-1+shuffle chunked one sample per chunk.
3. Peak RSS of each, from /usr/bin/time -v.

Medians of --repeats runs; the machine is shared and noisy, so read the ratios.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GNORM = os.path.join(ROOT, ".build/release/gnorm")
KERNEL_BENCH = os.path.join(ROOT, "Benchmarks/.build/release/gnorm-bench")
SHAPES = [(8, 256, 64, 64, 32), (2, 512, 128, 128, 32), (1, 32, 512, 512, 1), (32, 64, 56, 56, 32), (64, 256, 8, 8, 32)]

PER_SAMPLE_SCRIPT = r'''
import sys, h5py, numpy as np
src, dst, groups = sys.argv[1], sys.argv[2], int(sys.argv[3])
with h5py.File(src, "r") as fin, h5py.File(dst, "w") as fout:
    x = fin["x"]
    y = fout.create_dataset("x", shape=x.shape, dtype=x.dtype, chunks=x.chunks,
                            compression=x.compression, compression_opts=x.compression_opts, shuffle=x.shuffle)
    n, c = x.shape[:2]
    means = np.empty((n, groups)); variances = np.empty((n, groups))
    for i in range(n):
        s = x[i].astype(np.float64).reshape(groups, -1)
        m = s.mean(axis=1); v = s.var(axis=1)
        y[i] = ((s - m[:, None]) / np.sqrt(v[:, None] + 1e-5)).reshape(x.shape[1:]).astype(x.dtype)
        means[i], variances[i] = m, v
    fout["gnorm/x/mean"] = means; fout["gnorm/x/var"] = variances
'''


def median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def numpy_group_norm(x, groups):
    n = x.shape[0]
    s = x.reshape(n, groups, -1).astype(np.float64)
    m = s.mean(axis=2, keepdims=True)
    v = s.var(axis=2, keepdims=True)
    return ((s - m) / np.sqrt(v + 1e-5)).astype(x.dtype).reshape(x.shape)


def kernel_table(threads, repeats):
    out = subprocess.run([KERNEL_BENCH, "--threads", str(threads), "--repeats", str(repeats), "--layout", "nchw"],
                         check=True, capture_output=True, text=True).stdout.strip().splitlines()
    gnorm = {}
    for line in out[1:]:
        shape, dtype, layout, _, rate, copy, _ = line.split(",")
        gnorm[(shape, dtype)] = (float(rate), float(copy))
    torch.set_num_threads(threads)
    rows = []
    for (n, c, h, w, g) in SHAPES:
        key = f"{n}x{c}x{h}x{w} G{g}"
        for dtype, np_type, torch_type in [("f32", np.float32, torch.float32), ("f64", np.float64, torch.float64)]:
            x = torch.randn(n, c, h, w, dtype=torch_type)
            nbytes = x.numel() * x.element_size()
            t_torch = median_time(lambda: torch.nn.functional.group_norm(x, g), repeats)
            a = x.numpy()
            t_numpy = median_time(lambda: numpy_group_norm(a, g), max(3, repeats // 3))
            rate, copy = gnorm[(key, dtype)]
            rows.append((key, dtype, rate, nbytes / t_torch / 1e9, nbytes / t_numpy / 1e9, copy))
    print(f"\n## Kernel, {threads} threads (GB/s of input, median of {repeats})\n")
    print("| shape | dtype | gnorm | torch | numpy f64 | memcpy | gnorm/torch | gnorm/memcpy |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for key, dtype, rate, t, npy, copy in rows:
        print(f"| {key} | {dtype} | {rate:.2f} | {t:.2f} | {npy:.2f} | {copy:.2f} | {rate / t:.1f}x | {rate / copy:.0%} |")


def timed(command, repeats):
    """Median wall time and peak RSS (MiB) of a command."""
    times, peaks = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        result = subprocess.run(["/usr/bin/time", "-f", "%M"] + command, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        if result.returncode != 0:
            raise SystemExit(f"{command} failed: {result.stderr}")
        peaks.append(int(result.stderr.strip().splitlines()[-1]) / 1024)
    return statistics.median(times), max(peaks)


def make_file(path, samples, chunked):
    rng = np.random.default_rng(0)
    with h5py.File(path, "w") as f:
        kwargs = dict(chunks=(1, 256, 64, 64), compression="gzip", compression_opts=1, shuffle=True) if chunked else {}
        d = f.create_dataset("x", shape=(samples, 256, 64, 64), dtype=np.float32, **kwargs)
        for i in range(samples):
            d[i] = (rng.standard_normal((256, 64, 64)) * 2 + 1).astype(np.float32)


def end_to_end(folder, repeats):
    print(f"\n## `gnorm apply` end to end (seconds, median of {repeats}; peak RSS)\n")
    print("| input | gnorm | h5py+NumPy | cp+fsync | h5repack | gnorm vs cp | gnorm vs h5py | RSS gnorm | RSS h5py |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    script = os.path.join(folder, "per_sample.py")
    with open(script, "w") as f:
        f.write(PER_SAMPLE_SCRIPT)
    for label, samples, chunked in [("256 MiB contiguous", 64, False), ("1 GiB contiguous", 256, False),
                                    ("512 MiB gzip-1+shuffle", 128, True)]:
        source = os.path.join(folder, "in.h5")
        target = os.path.join(folder, "out.h5")
        make_file(source, samples, chunked)
        subprocess.run(["cat", source], stdout=subprocess.DEVNULL, check=True)  # warm the page cache
        g, g_rss = timed([GNORM, "apply", "-q", "-f", source, target], repeats)
        p, p_rss = timed([sys.executable, script, source, target, "32"], repeats)
        c, _ = timed(["sh", "-c", f"cp {source} {target} && sync {target}"], repeats)
        r, _ = timed(["h5repack", source, target], repeats) if not chunked else (float("nan"), 0)
        print(f"| {label} | {g:.2f} | {p:.2f} | {c:.2f} | {r:.2f} | {g / c:.2f}x | {p / g:.1f}x faster | {g_rss:.0f} MiB | {p_rss:.0f} MiB |")
        os.remove(source)
        os.remove(target)


def large_rss(folder):
    """Peak RSS of gnorm on a 2 GiB dataset: it must not grow with the dataset."""
    source = os.path.join(folder, "in.h5")
    make_file(source, 512, False)
    _, rss = timed([GNORM, "apply", "-q", "-f", source, os.path.join(folder, "out.h5")], 1)
    print(f"\nPeak RSS of `gnorm apply` on a 2 GiB float32 dataset: {rss:.0f} MiB (default --memory-limit 256)")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-end-to-end", action="store_true")
    args = parser.parse_args()
    print(f"Machine: {os.cpu_count()} cores; torch {torch.__version__}, numpy {np.__version__}")
    kernel_table(args.threads, args.repeats)
    if not args.skip_end_to_end:
        with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR", "/tmp")) as folder:
            end_to_end(folder, max(1, args.repeats // 2))
            large_rss(folder)


if __name__ == "__main__":
    main()
