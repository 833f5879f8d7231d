#!/usr/bin/env python3
"""Contiguous datasets large enough that gnorm reads them from a mapping of INPUT (≥ 8 MiB),
checked against a float64 NumPy reference.

    mapped_cases.py make DIR          writes DIR/in.h5 (a 512-byte user block: values not page-aligned)
    mapped_cases.py check DIR OUTPUT  compares OUTPUT (gnorm apply -g 4) with the reference

Datasets: /f32 (float32, read in place) and /i16 (int16 → float32, widened from the
mapping; float16 takes the same path).
"""
import sys

import h5py
import numpy as np

EPS = 1e-5
GROUPS = 4
SHAPES = {"f32": ((4, 8, 256, 256), np.float32), "i16": ((8, 8, 256, 256), np.int16)}


def test_values(rng, shape, dtype):
    """int16 in ±3000, floats around 3 ± 2: the values of every dataset here and in read_ahead_cases.py."""
    if dtype == np.int16:
        return rng.integers(-3000, 3000, shape, dtype=np.int16)
    return (3 + 2 * rng.standard_normal(shape)).astype(dtype)


def make(folder):
    rng = np.random.default_rng(11)
    with h5py.File(f"{folder}/in.h5", "w", userblock_size=512) as f:
        for name, (shape, dtype) in SHAPES.items():
            f.create_dataset(name, data=test_values(rng, shape, dtype))   # contiguous


def reference(x):
    x = np.asarray(x, dtype=np.float64)
    flat = x.reshape(x.shape[0], GROUPS, -1)
    mean = flat.mean(axis=2, keepdims=True)
    var = ((flat - mean) ** 2).mean(axis=2, keepdims=True)
    return ((flat - mean) / np.sqrt(var + EPS)).reshape(x.shape), mean.ravel(), var.ravel()


def check_datasets(fin, fout, shapes, names):
    """Failures of OUTPUT's datasets `names` (their shape and dtype in `shapes`) and their /gnorm
    statistics against the float64 reference of INPUT's values."""
    failures = []
    for name in names:
        shape, dtype = shapes[name]
        y, mean, var = reference(fin[name][...])
        stored = np.dtype(np.float32) if dtype == np.int16 else np.dtype(dtype)
        got = fout[name]
        if got.dtype != stored or got.shape != shape:
            failures.append(f"{name}: {got.dtype} {got.shape}, expected {stored} {shape}")
            continue
        tolerance = {np.float16: 2e-3, np.float32: 3e-6, np.float64: 1e-12}[stored.type]
        worst = np.max(np.abs(got[...].astype(np.float64) - y))
        if not worst <= tolerance * max(1, np.max(np.abs(y))):
            failures.append(f"{name}: values differ by up to {worst:.3g}")
        for label, expected in (("mean", mean), ("var", var)):
            stats = fout[f"gnorm/{name}/{label}"][...].ravel()
            if stats.size != expected.size or not np.allclose(stats, expected, rtol=1e-10, atol=1e-12):
                failures.append(f"{name}: {label} {stats[:3]} vs {expected[:3]}")
    return failures


def check(folder, output):
    with h5py.File(f"{folder}/in.h5", "r") as fin, h5py.File(output, "r") as fout:
        failures = check_datasets(fin, fout, SHAPES, SHAPES)
    print("\n".join(failures) if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    if sys.argv[1] == "make":
        make(sys.argv[2])
    else:
        sys.exit(check(sys.argv[2], sys.argv[3]))
