#!/usr/bin/env python3
"""The README's accuracy table: float32 GroupNorm results in ulps of the exact formula.

    accuracy_table.py --gnorm LABEL=BINARY [--gnorm ...] [--torch-python PYTHON] [--folder DIR]

For each case (float32, 8×32×32×32, G = 8), every implementation's largest error in float32
ulps of the result: |y − exact| / ulp(exact), where exact is SPEC §1's formula evaluated in
np.longdouble (x87, 64-bit significand) with longdouble statistics of the stored values.
0.5 is a correctly rounded result. Implementations: each gnorm binary given (`apply`), torch's
F.group_norm in float32 (in its own process, with --torch-python), and a NumPy float32 script
(mean, var and the formula in float32, as `x.mean()`/`x.var()` on a float32 array compute them).
"""
import argparse
import os
import subprocess
import sys
import tempfile

import numpy as np

G = 8
EPS = 1e-5
LD = np.longdouble


def cases():
    rng = np.random.default_rng(19)
    shape = (8, 32, 32, 32)
    c = shape[1]
    gamma = (0.5 + np.abs(rng.standard_normal(c))).astype(np.float32).astype(np.float64)
    beta = rng.standard_normal(c).astype(np.float32).astype(np.float64)  # results near zero
    unit = rng.standard_normal(shape)
    big = rng.uniform(-1, 1, shape) * 3.4028235e38
    return [
        ("N(0,1)", unit.astype(np.float32), None, None),
        ("N(0,1), weight and bias", unit.astype(np.float32), gamma, beta),
        ("1e4 + N(0,1)", (1e4 + unit).astype(np.float32), None, None),
        ("1e4 + N(0,1), weight and bias", (1e4 + unit).astype(np.float32), gamma, beta),
        ("±3.4e38 (near the float32 maximum)", big.astype(np.float32), None, None),
        ("±3.4e38, weight and bias", big.astype(np.float32), gamma, beta),
    ]


def exact(x, gamma, beta):
    n, c = x.shape[:2]
    flat = x.astype(LD).reshape(n, G, -1)
    mean = flat.sum(axis=2, keepdims=True) / flat.shape[2]
    var = ((flat - mean) ** 2).sum(axis=2, keepdims=True) / flat.shape[2]
    y = ((flat - mean) / np.sqrt(var + LD(EPS))).reshape(x.shape)
    if gamma is not None:
        y = y * gamma.astype(LD).reshape(1, c, 1, 1) + beta.astype(LD).reshape(1, c, 1, 1)
    return y


def numpy_float32(x, gamma, beta):
    n, c = x.shape[:2]
    flat = x.reshape(n, G, -1)
    mean = flat.mean(axis=2, keepdims=True)
    var = flat.var(axis=2, keepdims=True)
    y = ((flat - mean) / np.sqrt(var + np.float32(EPS))).reshape(x.shape)
    if gamma is not None:
        y = y * gamma.astype(np.float32).reshape(1, c, 1, 1) + beta.astype(np.float32).reshape(1, c, 1, 1)
    return y


def ulps(y, reference):
    """The largest error in float32 ulps of the exact result; Inf/NaN results are counted apart."""
    finite = np.isfinite(y)
    ulp = np.spacing(np.abs(reference.astype(np.float32))).astype(LD)
    error = np.abs(y.astype(LD) - reference) / ulp
    worst = float(np.max(np.where(finite, error, 0)))
    bad = int((~finite).sum())
    if bad == y.size:
        return f"all {bad} Inf/NaN"
    return (f"{worst:.6f}" if worst < 10 else f"{worst:.3g}") + (f" ({bad} of {y.size} Inf/NaN)" if bad else "")


def torch_worker(folder):
    import torch
    for name in sorted(os.listdir(folder)):
        if name.startswith("x-"):
            index = name[2:-4]
            x = torch.from_numpy(np.load(os.path.join(folder, name)))
            weight = bias = None
            if os.path.exists(os.path.join(folder, f"gamma-{index}.npy")):
                weight = torch.from_numpy(np.load(os.path.join(folder, f"gamma-{index}.npy")).astype(np.float32))
                bias = torch.from_numpy(np.load(os.path.join(folder, f"beta-{index}.npy")).astype(np.float32))
            y = torch.nn.functional.group_norm(x, G, weight, bias, EPS)
            np.save(os.path.join(folder, f"torch-{index}.npy"), y.numpy())
    print(f"torch {torch.__version__}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--gnorm", action="append", default=[], help="LABEL=BINARY")
    parser.add_argument("--torch-python")
    parser.add_argument("--folder")
    parser.add_argument("--torch-worker")
    arguments = parser.parse_args()
    if arguments.torch_worker:
        return torch_worker(arguments.torch_worker)
    import h5py
    folder = arguments.folder or tempfile.mkdtemp(prefix="gnorm-accuracy-")
    os.makedirs(folder, exist_ok=True)
    table = cases()
    inputs = os.path.join(folder, "in.h5")
    with h5py.File(inputs, "w") as f:
        for index, (_, x, gamma, beta) in enumerate(table):
            f[f"x{index}"] = x
            np.save(os.path.join(folder, f"x-{index}.npy"), x)
            if gamma is not None:
                np.save(os.path.join(folder, f"gamma-{index}.npy"), gamma)
                np.save(os.path.join(folder, f"beta-{index}.npy"), beta)
    results = {}
    for spec in arguments.gnorm:
        label, binary = spec.split("=", 1)
        for index, (_, x, gamma, beta) in enumerate(table):
            output = os.path.join(folder, f"{label}-{index}.h5")
            affine = ([] if gamma is None else
                      ["--weight", os.path.join(folder, f"gamma-{index}.npy"),
                       "--bias", os.path.join(folder, f"beta-{index}.npy")])
            subprocess.run([binary, "apply", "-q", "-f", "-g", str(G), "-d", f"/x{index}", *affine, inputs, output],
                           check=True)
            with h5py.File(output, "r") as f:
                results[(label, index)] = f[f"x{index}"][...]
    labels = [spec.split("=", 1)[0] for spec in arguments.gnorm]
    if arguments.torch_python:
        version = subprocess.run([arguments.torch_python, __file__, "--torch-worker", folder], check=True,
                                 capture_output=True, text=True).stdout.strip()
        labels.append(version)
        for index in range(len(table)):
            results[(version, index)] = np.load(os.path.join(folder, f"torch-{index}.npy"))
    labels.append("NumPy float32")
    with np.errstate(all="ignore"):
        for index, (_, x, gamma, beta) in enumerate(table):
            results[("NumPy float32", index)] = numpy_float32(x, gamma, beta)
        print("| float32 data, G = 8 | " + " | ".join(labels) + " |")
        print("| --- |" + " ---: |" * len(labels))
        for index, (name, x, gamma, beta) in enumerate(table):
            reference = exact(x, gamma, beta)
            print(f"| {name} | " + " | ".join(ulps(results[(label, index)], reference) for label in labels) + " |")


if __name__ == "__main__":
    sys.exit(main())
