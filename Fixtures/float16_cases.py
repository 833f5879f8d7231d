#!/usr/bin/env python3
"""float16 results of `gnorm apply`, checked bit for bit against NumPy (issue 9).

    float16_cases.py make DIR      writes DIR/in.h5, DIR/scale.npy and DIR/cases.json
    float16_cases.py check DIR     compares DIR/out-K.h5 of every case with the reference

The reference is SPEC §1 in float64 NumPy, rounded once to float16 with
`astype(np.float16)` (round to nearest, ties to even): gnorm must store exactly that.
The inputs hold what broke libhdf5 1.10.8's conversion: subnormal results before
values just below powers of two in the same buffer (tiny weights, then larger
ones), ±0 (constant groups with β = 0), NaN groups, results past 65504 (→ ±Inf).
Over 10^6 float16 results in all: both layouts, all four modes, f16/f32/f64/uint8
inputs, contiguous and gzip+shuffle.
"""
import json
import os
import sys

import h5py
import numpy as np

EPS = 1e-5


def reference(x, mode, groups, layout, weight):
    """float64 normalization of x (stored values) per SPEC §1."""
    np.seterr(invalid="ignore", over="ignore")
    x = np.asarray(x, dtype=np.float64)
    if layout == "nhwc":
        x = np.moveaxis(x, -1, 1)
    n, c = x.shape[0], x.shape[1]
    if mode == "batch":
        axes = (0,) + tuple(range(2, x.ndim))
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        y = (x - mean) / np.sqrt(var + EPS)
    else:
        g = {"group": groups, "layer": 1, "instance": c}[mode]
        flat = x.reshape(n, g, -1)
        mean = flat.mean(axis=2, keepdims=True)
        var = ((flat - mean) ** 2).mean(axis=2, keepdims=True)
        y = ((flat - mean) / np.sqrt(var + EPS)).reshape(x.shape)
    if weight is not None:
        y = y * weight.reshape((1, c) + (1,) * (x.ndim - 2))
    if layout == "nhwc":
        y = np.moveaxis(y, 1, -1)
    return y.astype(np.float16)


def make(folder):
    rng = np.random.default_rng(20261201)
    os.makedirs(folder, exist_ok=True)
    c = 16
    # Tiny weights make subnormal results; then weights that put results just below
    # powers of two and past float16's largest finite value, in the same buffer.
    scale = np.array([1e-6, 3e-7, 2e-5, 1.0, 0.9998, 1.99998, 3.9997, 7.999,
                      0.5, 2.0, 1e4, 4e4, 1.0, 1.0, 1.0, 1.0], dtype=np.float64)
    np.save(os.path.join(folder, "scale.npy"), scale)
    base = rng.standard_normal((8, c, 40, 40))
    base[1, 0:4] = 0.0          # a constant group: exactly β = 0 (+0)
    base[2, 4, 3, 3] = np.nan   # a NaN group
    base[3, 8, 0, 0] = np.inf   # an Inf group
    cases = []
    with h5py.File(os.path.join(folder, "in.h5"), "w") as f:
        f["f16"] = base.astype(np.float16)
        f["f16_nhwc"] = np.moveaxis(base, 1, -1).astype(np.float16)
        f.create_dataset("f16_gzip", data=base.astype(np.float16), chunks=(1, c, 40, 40),
                         compression="gzip", compression_opts=1, shuffle=True)
        f["f32"] = (base * 3 + 1).astype(np.float32)
        f["f64"] = base * 7 - 2
        f["u8"] = rng.integers(0, 256, size=(8, c, 40, 40), dtype=np.uint8)
    for name, mode, layout, dtype, weighted in [
        ("f16", "group", "nchw", "same", True),
        ("f16", "layer", "nchw", "same", False),
        ("f16", "instance", "nchw", "same", True),
        ("f16", "batch", "nchw", "same", True),
        ("f16_nhwc", "group", "nhwc", "same", True),
        ("f16_nhwc", "batch", "nhwc", "same", False),
        ("f16_gzip", "group", "nchw", "same", True),
        ("f32", "group", "nchw", "f16", True),
        ("f64", "instance", "nchw", "f16", True),
        ("u8", "group", "nchw", "f16", False),
    ]:
        arguments = ["-d", "/" + name, "--mode", mode, "--layout", layout, "--dtype", dtype]
        if mode == "group":
            arguments += ["-g", "4"]
        if weighted:
            arguments += ["--weight", os.path.join(folder, "scale.npy")]
        cases.append({"dataset": name, "mode": mode, "layout": layout, "weighted": weighted, "arguments": arguments})
    with open(os.path.join(folder, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)


def check(folder):
    with open(os.path.join(folder, "cases.json")) as f:
        cases = json.load(f)
    scale = np.load(os.path.join(folder, "scale.npy"))
    total = wrong = 0
    with h5py.File(os.path.join(folder, "in.h5"), "r") as source:
        for index, case in enumerate(cases):
            x = source[case["dataset"]][...]
            expected = reference(x, case["mode"], 4, case["layout"], scale if case["weighted"] else None)
            with h5py.File(os.path.join(folder, f"out-{index}.h5"), "r") as out:
                got = out[case["dataset"]]
                if got.dtype != np.float16:
                    print(f"case {index} {case['dataset']}: stored as {got.dtype}, expected float16")
                    wrong += 1
                    continue
                got = got[...]
            # NaN compares by class (any NaN), everything else by bits (±0, ±Inf included).
            same = (got.view(np.uint16) == expected.view(np.uint16)) | (np.isnan(got) & np.isnan(expected))
            bad = int((~same).sum())
            total += got.size
            wrong += bad
            if bad:
                where = np.argwhere(~same)[0]
                print(f"case {index} {case['dataset']} {case['mode']} {case['layout']}: {bad} of {got.size} differ, "
                      f"first at {tuple(where)}: {got[tuple(where)]!r} != {expected[tuple(where)]!r}")
            kinds = (np.isinf(expected).sum(), (expected == 0).sum(), np.isnan(expected).sum(),
                     ((expected != 0) & (np.abs(expected) < np.float16(6.104e-05))).sum())
            print(f"case {index} {case['dataset']} {case['mode']} {case['layout']}: {got.size} values, "
                  f"inf/zero/nan/subnormal {kinds}")
    print(f"{total} float16 results, {wrong} wrong")
    return 0 if wrong == 0 and total >= 1_000_000 else 1


if __name__ == "__main__":
    command, folder = sys.argv[1], sys.argv[2]
    sys.exit(make(folder) or 0 if command == "make" else check(folder))
