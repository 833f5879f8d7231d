#!/usr/bin/env python3
"""float32 and float16 results of `gnorm apply` are the float64 formula rounded once (issue 19).

    rounding_cases.py make DIR      writes DIR/in.h5, parameter .npy files and DIR/cases.json
    rounding_cases.py check DIR     checks DIR/out-K.h5 of every case
    rounding_cases.py make-huge DIR / check-huge DIR LAYOUT
                                    float64 data near 1e307 (DIR/huge.h5, DIR/out-LAYOUT.h5)

SPEC §1: every stored float32/float16 result is (x − mean)/sqrt(var + eps)·γ + β, evaluated
with the float64 statistics (read back from OUTPUT's /gnorm/NAME/mean and var, or the given
--mean/--var), rounded once to the stored type. The reference evaluates that formula in
np.longdouble (x87 80-bit: 11 bits more than float64) and, for a sample of every case, with
exact rationals (`fractions`, the square root to 60 digits with `decimal`) to check the
longdouble reference itself. A result passes when it is within half an ulp of the stored type
(the gap on the exact value's side) plus the float64 evaluation's own bound,
5·2^-53·(|x − mean|·|γ|/σ + |β|); anything past that fails. The "midpoint" cases make the float64
evaluation exact and every result 0 or 2^-29..2^-28 ulp (of float32, or of float16) from a
rounding midpoint: they are checked bit for bit against the correctly rounded value (ties to even); for
float16 output a float32 rounded first would round twice and fail them.

Cases: float32 with and without weight/bias (biases of the outputs' size: results near zero),
channels first and last, group/layer/instance/batch, given --mean/--var, a sample in pieces
(--memory-limit 1), gzip chunks, masked cells (_FillValue), int16 and uint8 inputs, float16 in
and out, float32 to float16, inputs near the float32 maximum and minimum normal, subnormals,
and --eps 0 on constant groups (exactly β).
"""
import decimal
import json
import os
import sys
from fractions import Fraction

import h5py
import numpy as np

EPS = 1e-5
LD = np.longdouble


def stored_statistics(out, name):
    """The float64 statistics gnorm stored with the output: (mean, var) arrays."""
    group = out["gnorm"][name.strip("/")]
    return np.asarray(group["mean"][...], dtype=np.float64), np.asarray(group["var"][...], dtype=np.float64)


def per_element(x, stat, mode, groups, layout):
    """Broadcasts per-statistic values (shape (N, G) or (C,)) onto x's positions (channels-first view)."""
    n, c = x.shape[0], x.shape[1]
    if mode == "batch":
        return np.broadcast_to(stat.reshape((1, c) + (1,) * (x.ndim - 2)), x.shape)
    g = {"group": groups, "layer": 1, "instance": c}[mode]
    per_channel = np.repeat(stat.reshape(n, g), c // g, axis=1)
    return np.broadcast_to(per_channel.reshape((n, c) + (1,) * (x.ndim - 2)), x.shape)


def channel_values(values, x):
    c = x.shape[1]
    return np.broadcast_to(np.asarray(values, dtype=np.float64).reshape((1, c) + (1,) * (x.ndim - 2)), x.shape)


def exact_sample(x, mean, var, eps, gamma, beta, count):
    """The formula with exact rationals for `count` evenly spread positions (flat indices)."""
    decimal.getcontext().prec = 60
    picks = np.linspace(0, x.size - 1, count).astype(np.int64)
    results = []
    for i in picks:
        xi, mi, vi = (float(a.flat[i]) for a in (x, mean, var))
        gi, bi = float(gamma.flat[i]), float(beta.flat[i])
        if not all(np.isfinite([xi, mi, vi])):
            results.append((i, None))
            continue
        inner = Fraction(vi) + Fraction(eps)
        if inner == 0:
            results.append((i, Fraction(bi)))
            continue
        root = Fraction((decimal.Decimal(inner.numerator) / decimal.Decimal(inner.denominator)).sqrt())
        results.append((i, (Fraction(xi) - Fraction(mi)) / root * Fraction(gi) + Fraction(bi)))
    return results


def exact_fraction(value):
    """A longdouble's value as a Fraction, every bit of it (float() would drop 11)."""
    mantissa, exponent = np.frexp(value)
    return Fraction(int(np.ldexp(mantissa, 64))) * Fraction(2) ** (int(exponent) - 64)


def gaps(got, exact, dtype):
    """The stored type's gap next to each result, on the exact value's side."""
    up = np.nextafter(got, np.array(np.inf, dtype=dtype))
    down = np.nextafter(got, np.array(-np.inf, dtype=dtype))
    return np.where(exact >= got.astype(LD), up.astype(LD) - got.astype(LD), got.astype(LD) - down.astype(LD))


def make(folder):
    rng = np.random.default_rng(20261204)
    os.makedirs(folder, exist_ok=True)
    c = 16
    gamma = 0.5 + np.abs(rng.standard_normal(c))
    beta = rng.standard_normal(c)  # outputs' size: many results near zero
    np.save(os.path.join(folder, "gamma.npy"), gamma)
    np.save(os.path.join(folder, "beta.npy"), beta)
    # Midpoints: batch statistics given, var 4^k, eps 0, γ powers of two, β a float32 midpoint
    # of [1, 2) plus 0 or ±2^-29/2^-28 ulp; x = mean + j·2^-23/(γ/σ): every result
    # 1 + 2^-24 + k·2^-23 + offset, exact in float64.
    means = np.array([0, 1.5, -3.25, 1024, -0.125, 7, 1000.5, -2] * 2, dtype=np.float64)
    variances = np.array([1, 4, 0.25, 16, 1, 0.0625, 4, 1] * 2, dtype=np.float64)
    gammas = np.array([1, 2, 0.5, 1, -1, 4, -2, 1] * 2, dtype=np.float64)
    offsets = np.array([0, 2**-29, -(2**-29), 2**-28, 0, -(2**-28), 2**-29, 0] * 2)
    betas = 1 + 2**-24 + offsets * 2**-23
    for name, values in [("mid_mean", means), ("mid_var", variances), ("mid_gamma", gammas), ("mid_beta", betas)]:
        np.save(os.path.join(folder, name + ".npy"), values)
    np.save(os.path.join(folder, "mid16_beta.npy"), 1 + 2**-11 + offsets * 2**-10)  # float16: ulp 2^-10
    factor = gammas / np.sqrt(variances)
    j = np.arange(4 * 30 * 30, dtype=np.float64).reshape(4, 1, 30, 30)
    midpoint = (means.reshape(1, c, 1, 1) + j * 2**-23 / factor.reshape(1, c, 1, 1)).astype(np.float32)
    midpoint16 = (means.reshape(1, c, 1, 1) + j * 2**-10 / factor.reshape(1, c, 1, 1)).astype(np.float32)

    base = rng.standard_normal((6, c, 24, 24))
    with h5py.File(os.path.join(folder, "in.h5"), "w") as f:
        f["f32"] = (base * 3 + 1e4).astype(np.float32)
        f["f32_unit"] = base.astype(np.float32)
        f["f32_nhwc"] = np.moveaxis(base * 2 - 5, 1, -1).astype(np.float32)
        f.create_dataset("f32_gzip", data=base.astype(np.float32), chunks=(1, c, 24, 24),
                         compression="gzip", compression_opts=1, shuffle=True)
        f["f32_mid"] = midpoint
        f["f32_mid_nhwc"] = np.ascontiguousarray(np.moveaxis(midpoint, 1, -1))
        f["f32_mid16"] = midpoint16
        f["f32_mid16_nhwc"] = np.ascontiguousarray(np.moveaxis(midpoint16, 1, -1))
        big = np.float32(3.4028235e38)
        f["f32_max"] = (rng.uniform(-1, 1, (4, c, 16, 16)) * big).astype(np.float32)
        f["f32_max_nhwc"] = (rng.uniform(-1, 1, (4, 16, 16, c)) * big).astype(np.float32)
        f["f32_tiny"] = (rng.uniform(-1, 1, (4, c, 16, 16)) * 2.0**-126).astype(np.float32)
        f["f32_subnormal"] = (rng.uniform(-1, 1, (4, c, 16, 16)) * 1e-40).astype(np.float32)
        const = np.repeat(rng.standard_normal((4, c // 4, 1, 1)), 4, axis=1) * np.ones((1, 1, 8, 8))
        f["f32_const"] = const.astype(np.float32)
        f["f32_pieces"] = (rng.standard_normal((1, c, 256, 256)) + 100).astype(np.float32)
        masked = base.astype(np.float32).copy()
        masked[rng.random(masked.shape) < 0.05] = -9999
        f["f32_masked"] = masked
        f["f32_masked"].attrs["_FillValue"] = np.float32(-9999)
        f["f16"] = base.astype(np.float16)
        f["i16"] = rng.integers(-30000, 30000, size=(6, c, 24, 24), dtype=np.int16)
        f["u8"] = rng.integers(0, 256, size=(6, c, 24, 24), dtype=np.uint8)
    affine = ["--weight", os.path.join(folder, "gamma.npy"), "--bias", os.path.join(folder, "beta.npy")]
    mid = ["--mode", "batch", "--eps", "0"] + [
        item for flag, name in [("--mean", "mid_mean"), ("--var", "mid_var"), ("--weight", "mid_gamma"),
                                ("--bias", "mid_beta")] for item in (flag, os.path.join(folder, name + ".npy"))]
    mid16 = [item if item != os.path.join(folder, "mid_beta.npy") else os.path.join(folder, "mid16_beta.npy")
             for item in mid] + ["--dtype", "f16"]
    cases = []
    for name, arguments, affine_used in [
        ("f32", ["-g", "4"], False),
        ("f32", ["-g", "4"] + affine, True),
        ("f32_unit", ["--mode", "layer"] + affine, True),
        ("f32_unit", ["--mode", "instance"] + affine, True),
        ("f32_unit", ["--mode", "batch"] + affine, True),
        ("f32_nhwc", ["-g", "4", "--layout", "nhwc"] + affine, True),
        ("f32_nhwc", ["--mode", "batch", "--layout", "nhwc"], False),
        ("f32_gzip", ["-g", "8"] + affine, True),
        ("f32_mid", mid, "midpoint"),
        ("f32_mid_nhwc", mid + ["--layout", "nhwc"], "midpoint"),
        ("f32_max", ["-g", "4"], False),
        ("f32_max", ["-g", "4"] + affine, True),
        ("f32_max_nhwc", ["-g", "2", "--layout", "nhwc"] + affine, True),
        ("f32_tiny", ["-g", "4", "--eps", "0"] + affine, True),
        ("f32_subnormal", ["-g", "4", "--eps", "0"], False),
        ("f32_const", ["-g", "4", "--eps", "0"] + affine, True),
        ("f32_pieces", ["--mode", "layer", "--memory-limit", "1"] + affine, True),
        ("f32_masked", ["-g", "4"] + affine, True),
        ("f16", ["-g", "4"] + affine, True),
        ("f16", ["-g", "4", "--dtype", "f32"] + affine, True),
        ("f32_unit", ["-g", "4", "--dtype", "f16"] + affine, True),
        ("i16", ["-g", "4"] + affine, True),
        ("u8", ["-g", "4", "--layout", "nchw"] + affine, True),
        ("u8", ["-g", "4", "--layout", "nhwc"], False),
        ("f32_mid16", mid16, "midpoint"),
        ("f32_mid16_nhwc", mid16 + ["--layout", "nhwc"], "midpoint"),
    ]:
        cases.append({"dataset": name, "arguments": ["-d", "/" + name] + arguments, "affine": affine_used})
    with open(os.path.join(folder, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)


def option(arguments, flag, default=None):
    return arguments[arguments.index(flag) + 1] if flag in arguments else default


def check(folder):
    np.seterr(all="ignore")
    with open(os.path.join(folder, "cases.json")) as f:
        cases = json.load(f)
    failures = total = exact_checked = 0
    worst = {"plain": 0.0, "affine": 0.0}
    with h5py.File(os.path.join(folder, "in.h5"), "r") as source:
        for index, case in enumerate(cases):
            arguments, name = case["arguments"], case["dataset"]
            mode = option(arguments, "--mode", "group")
            groups = int(option(arguments, "-g", "32"))
            layout = option(arguments, "--layout", "nchw")
            eps = float(option(arguments, "--eps", EPS))
            load = lambda flag, fill: (np.load(option(arguments, flag)) if flag in arguments
                                       else np.full(source[name].shape[-1 if layout == "nhwc" else 1], fill))
            x = source[name][...]
            fill = source[name].attrs.get("_FillValue")
            with h5py.File(os.path.join(folder, f"out-{index}.h5"), "r") as out:
                got = out[name][...]
                if "--mean" in arguments:
                    mean, var = np.load(option(arguments, "--mean")), np.load(option(arguments, "--var"))
                else:
                    mean, var = stored_statistics(out, name)
            if layout == "nhwc":
                x, got = np.moveaxis(x, -1, 1), np.moveaxis(got, -1, 1)
            if got.shape != x.shape or got.dtype not in (np.float32, np.float16):
                print(f"case {index} {name}: output {got.dtype} {got.shape}, input {x.shape}")
                failures += 1
                continue
            xs = x.astype(np.float64)
            m, v = per_element(xs, mean, mode, groups, layout), per_element(xs, var, mode, groups, layout)
            gamma, beta = channel_values(load("--weight", 1.0), xs), channel_values(load("--bias", 0.0), xs)
            keep = np.ones(x.shape, bool) if fill is None else (x != fill)
            sigma = np.sqrt(v.astype(LD) + LD(eps))
            term = np.where(v + eps == 0, LD(0), (xs.astype(LD) - m.astype(LD)) / sigma * gamma.astype(LD))
            exact = term + beta.astype(LD)
            slack = 5 * LD(2.0**-53) * (np.abs(term) + np.abs(beta.astype(LD)))
            g = got.astype(LD)
            gap = gaps(got, exact, got.dtype)
            error = np.abs(g - exact)
            ulps = np.maximum(LD(0), error - slack) / gap
            bad = keep & ~(np.isfinite(got) & (ulps <= 0.5))
            if case["affine"] == "midpoint":
                correct = exact.astype(np.float64).astype(got.dtype)  # exact in float64 by construction
                bits = np.uint32 if got.dtype == np.float32 else np.uint16
                bad = bad | (got.view(bits) != correct.view(bits))
            if name == "f32_const":
                bad = bad | (got != beta.astype(got.dtype))
            count = int(keep.sum())
            total += count
            if bad.any():
                where = tuple(np.argwhere(bad)[0])
                print(f"case {index} {name} {' '.join(arguments[2:])}: {int(bad.sum())} of {count} past half an ulp, "
                      f"first at {where}: {got[where]!r} vs {float(exact[where])!r} ({float(ulps[where]):.3f} ulp)")
                failures += 1
            # The longdouble reference against exact rationals on a sample.
            for i, value in exact_sample(xs, m, v, eps, gamma, beta, 60):
                if value is None or not keep.flat[i]:
                    continue
                exact_checked += 1
                difference = abs(exact_fraction(exact.flat[i]) - value) if np.isfinite(exact.flat[i]) else None
                limit = abs(value) * Fraction(1, 2**60) + Fraction(float(slack.flat[i])) / 2**10 + Fraction(1, 2**1074)
                if difference is None or difference > limit:
                    print(f"case {index} {name}: longdouble reference off at {i}: {float(exact.flat[i])!r} vs "
                          f"{float(value)!r}")
                    failures += 1
                    break
            ratio = float(np.max(np.where(keep & np.isfinite(exact), error / gap, 0)))
            kind = "affine" if case["affine"] else "plain"
            worst[kind] = max(worst[kind], ratio)
            print(f"case {index} {name} {' '.join(arguments[2:])}: {count} values, {got.dtype}, "
                  f"max {ratio:.4f} ulp")
    print(f"{total} results, {failures} failing cases, {exact_checked} exact rational checks; max ulp without "
          f"affine {worst['plain']:.4f}, with {worst['affine']:.4f}")
    return 0 if failures == 0 and total >= 300_000 and exact_checked >= 1000 else 1


HUGE = {"near_max": (1e307, 3e306), "both_signs": (0.0, 1.5e308), "e300": (0.0, 1e300), "e200": (1e200, 1e190)}


def make_huge(folder):
    """float64 data whose Σx or (x − mean)² overflow float64 (issue 21 item 9)."""
    rng = np.random.default_rng(307)
    os.makedirs(folder, exist_ok=True)
    with h5py.File(os.path.join(folder, "huge.h5"), "w") as f:
        for name, (offset, spread) in HUGE.items():
            f[name] = offset + spread * rng.uniform(-1, 1, (2, 4, 16, 16))


def check_huge(folder, layout):
    """NumPy's float64 formula on the data times 2^-600 (the same normalized values, no overflow)."""
    wrong = 0
    with h5py.File(os.path.join(folder, "huge.h5"), "r") as f, \
            h5py.File(os.path.join(folder, f"out-{layout}.h5"), "r") as out:
        for name in HUGE:
            x, got = f[name][...] * 2.0**-600, out[name][...]
            if layout == "nhwc":
                x, got = np.moveaxis(x, -1, 1), np.moveaxis(got, -1, 1)
            groups = x.reshape(x.shape[0], 2, -1)
            mean = groups.mean(axis=2, keepdims=True)
            sigma = np.sqrt(((groups - mean) ** 2).mean(axis=2, keepdims=True) + EPS * 2.0**-1200)
            expected = (groups - mean) / sigma
            # The float64 mean is within a few ulp of the exact one: |mean|·2^-50 / σ.
            bound = 1e-12 * np.maximum(1, np.abs(expected)) + np.abs(mean) * 2.0**-50 / sigma
            bad = ~(np.abs(got.reshape(groups.shape) - expected) <= bound)
            print(f"{name} {layout}: {got.size} values, {int(bad.sum())} wrong, finite {bool(np.isfinite(got).all())}")
            wrong += int(bad.any()) + int(got.size != x.size)
    print(f"{len(HUGE)} datasets, {wrong} wrong")
    return 0 if wrong == 0 else 1


if __name__ == "__main__":
    command, folder = sys.argv[1], sys.argv[2]
    commands = {"make": lambda: make(folder) or 0, "check": lambda: check(folder),
                "make-huge": lambda: make_huge(folder) or 0, "check-huge": lambda: check_huge(folder, sys.argv[3])}
    sys.exit(commands[command]())
