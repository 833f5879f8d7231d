#!/usr/bin/env python3
"""`gnorm invert` against a float64 NumPy reference.

    invert_cases.py roundtrip GNORM DIR   apply then invert, every dtype x layout x mode (and an affine,
                                          masked fill cells, integers back with --dtype): prints the
                                          worst errors in ulp and "ok", or what exceeds the README's bound
    invert_cases.py predictions GNORM DIR stats --mode batch --save on training files, apply with those
                                          statistics, then invert a predictions file without /gnorm
    invert_cases.py netcdf GNORM DIR      apply then invert a netCDF-4 file (fill cells, classic model):
                                          ncdump reads OUTPUT, xarray gives back the original values

Bounds (README, "gnorm invert"): with D = |x - mean| + |beta| sqrt(var + eps) / |gamma| (what the
normalized value is, back in x's units), the inverted x' of a stored x of type T meets
    float64:          |x' - x| <= 4 ulp(D) + 1/2 ulp(x)
    float32, float16: |x' - x| <= 2 ulp_T(D) + 1/2 ulp_T(x)
and x' is within 1/2 ulp_T (plus float64 roundings) of the float64 inverse of the stored
normalized values. Integers that apply stored as float32 come back exactly with --dtype.
"""
import subprocess
import sys

import h5py
import numpy as np

SHAPE = (3, 4, 5, 6)  # nchw: C = 4; nhwc: C = 6; G = 2 divides both
EPS = 1e-5
DTYPES = ["f2", "f4", "f8", ">f4", "i1", "u1", "i2", "u2", "i4", "i8"]
# Floats near zero as well as far from it: with an offset the round trip is mostly exact (the error,
# relative to x - mean, is far below an ulp of x); near zero it shows.
CENTERED = ["f2", "f4", "f8"]


def run(gnorm, *arguments):
    done = subprocess.run([gnorm, *arguments], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"gnorm {' '.join(arguments)}: status {done.returncode}: {done.stderr}")


def ulp(values, dtype):
    """The spacing of dtype's values at |values| (subnormal spacing near 0)."""
    kind = np.dtype(dtype).newbyteorder("=")
    magnitude = np.abs(np.asarray(values, dtype=np.float64)).astype(kind)
    return np.spacing(magnitude).astype(np.float64)


def data(dtype, rng, offset=1e2):
    kind = np.dtype(dtype)
    if kind.kind == "f":
        values = offset + 3 * rng.standard_normal(SHAPE)  # an offset: x - mean loses digits where done naively
        return values.astype(kind)
    low, high = (-100, 100) if kind.kind == "i" else (0, 200)
    return rng.integers(low, high, SHAPE).astype(kind)


def statistics(x, layout, mode, groups):
    """Mean and var broadcast to x's shape, float64, as SPEC section 1 defines them."""
    x = np.asarray(x, dtype=np.float64)
    if layout == "nhwc":
        x = np.moveaxis(x, -1, 1)
    n, c = x.shape[:2]
    if mode == "batch":
        axes = tuple(i for i in range(x.ndim) if i != 1)
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
    else:
        g = {"layer": 1, "instance": c, "group": groups}[mode]
        flat = x.reshape(n, g, -1)
        mean = np.repeat(flat.mean(axis=2), c // g, axis=1).reshape((n, c) + (1,) * (x.ndim - 2))
        var = np.repeat(flat.var(axis=2), c // g, axis=1).reshape((n, c) + (1,) * (x.ndim - 2))
        mean, var = np.broadcast_to(mean, x.shape), np.broadcast_to(var, x.shape)
    if layout == "nhwc":
        mean, var = np.moveaxis(np.broadcast_to(mean, x.shape), 1, -1), np.moveaxis(np.broadcast_to(var, x.shape), 1, -1)
    return mean, var


def channel_axis(layout):
    return 1 if layout == "nchw" else -1


def per_channel(values, layout, ndim):
    shape = [1] * ndim
    shape[channel_axis(layout)] = len(values)
    return np.asarray(values, dtype=np.float64).reshape(shape)


def roundtrip(gnorm, folder):
    rng = np.random.default_rng(23)
    source = f"{folder}/in.h5"
    with h5py.File(source, "w") as f:
        for dtype in DTYPES:
            f.create_dataset(dtype.replace(">", "be"), data=data(dtype, rng))
        for dtype in CENTERED:
            f.create_dataset(dtype + "-centered", data=data(dtype, rng, offset=0.25))
        masked = f.create_dataset("masked", data=data("f4", rng))
        values = masked[...]
        values[0, 1, 2, :3] = -999.0
        masked[...] = values
        masked.attrs["_FillValue"] = np.float32(-999.0)
    failures, worst = [], {}
    for layout in ("nchw", "nhwc"):
        channels = SHAPE[1] if layout == "nchw" else SHAPE[-1]
        gamma = np.linspace(0.5, 2.0, channels) * np.where(np.arange(channels) % 2, -1, 1)
        beta = np.linspace(-1.0, 3.0, channels)
        np.save(f"{folder}/gamma-{layout}.npy", gamma)
        np.save(f"{folder}/beta-{layout}.npy", beta)
        for mode in ("group", "layer", "instance", "batch"):
            for affine in (False, True):
                tag = f"{layout}-{mode}{'-affine' if affine else ''}"
                settings = ["--mode", mode, "--layout", layout] + (["-g", "2"] if mode == "group" else [])
                weights = ["--weight", f"{folder}/gamma-{layout}.npy", "--bias", f"{folder}/beta-{layout}.npy"]
                weights = weights if affine else []
                normalized, inverted = f"{folder}/n-{tag}.h5", f"{folder}/x-{tag}.h5"
                run(gnorm, "apply", "-q", *settings, *weights, source, normalized)
                run(gnorm, "invert", "-q", *weights, normalized, inverted)
                with h5py.File(source, "r") as fin, h5py.File(normalized, "r") as fn, h5py.File(inverted, "r") as fx:
                    if "gnorm" in fx:
                        failures.append(f"{tag}: /gnorm is still in OUTPUT")
                    for name in fin:
                        failures += check(
                            fin[name], fn[name], fx[name], fn[f"gnorm/{name}"], layout, mode,
                            gamma if affine else None, beta if affine else None, tag, worst)
                if affine or mode != "group":
                    continue
                # Integers back in their own type: exactly the original.
                for dtype in ("i1", "u1", "i2", "u2", "i4"):
                    name = dtype
                    typed = f"{folder}/t-{tag}-{dtype}.h5"
                    integer = {"i1": "int8", "u1": "uint8", "i2": "int16", "u2": "uint16", "i4": "int32"}[dtype]
                    run(gnorm, "invert", "-q", "-d", name, "--dtype", integer, normalized, typed)
                    with h5py.File(source, "r") as fin, h5py.File(typed, "r") as ft:
                        if ft[name].dtype != fin[name].dtype or not np.array_equal(ft[name][...], fin[name][...]):
                            failures.append(f"{tag} {name} --dtype {integer}: not the original integers")
    for key in sorted(worst):
        ratio, of_d, of_x = worst[key]
        print(f"{key}: |x' - x| <= {ratio:.3g} x the bound, {of_d:.3g} ulp(D), {of_x:.3g} ulp(x)")
    print("\n".join(failures) if failures else "ok")
    return 1 if failures else 0


def check(original, normalized, inverted, stored, layout, mode, gamma, beta, tag, worst):
    failures = []
    name = original.name
    x = original[...]
    kind = np.dtype(x.dtype)
    expected_type = kind if kind.kind == "f" else np.dtype("f4")
    if inverted.dtype != expected_type or inverted.shape != x.shape:
        return [f"{tag} {name}: {inverted.dtype} {inverted.shape}, expected {expected_type} {x.shape}"]
    if any(a.startswith("gnorm_") for a in inverted.attrs):
        failures.append(f"{tag} {name}: gnorm_* attributes remain")
    x = x.astype(np.float64)
    back = inverted[...].astype(np.float64)
    y = normalized[...].astype(np.float64)
    fill = original.attrs.get("_FillValue")
    keep = np.ones(x.shape, dtype=bool) if fill is None else x != fill
    if fill is not None and not np.array_equal(back[~keep], x[~keep]):
        failures.append(f"{tag} {name}: fill cells changed")
    ndim = x.ndim
    g = per_channel(gamma, layout, ndim) if gamma is not None else 1.0
    b = per_channel(beta, layout, ndim) if beta is not None else 0.0
    # The statistics apply stored, broadcast (the same ones the reference recomputes: checked).
    mean, var = stored_statistics(stored, x.shape, layout, mode)
    ref_mean, ref_var = statistics(np.where(keep, x, np.nan) if fill is not None else x, layout, mode, 2)
    if fill is None and not (np.allclose(mean, ref_mean, rtol=1e-12, atol=1e-9) and np.allclose(var, ref_var, rtol=1e-9)):
        failures.append(f"{tag} {name}: stored statistics differ from the reference")
    deviation = np.sqrt(var + EPS)
    d = np.abs(x - mean) + np.abs(b) * deviation / np.abs(g)
    unit = expected_type
    factor = 4 if unit == np.float64 else 2
    bound = factor * ulp(d, unit) + 0.5 * ulp(x, unit)
    error = np.abs(back - x)[keep]
    ratio = float(np.max(error / bound[keep]))
    if not np.all(error <= bound[keep]):
        failures.append(f"{tag} {name}: round trip off by {np.max(error):.3g}, {ratio:.3g} x the bound")
    # Against the float64 inverse of the values apply stored: one rounding to the stored type.
    reference = (y - b) * deviation / g + mean
    tolerance = 0.5 * ulp(reference, unit) * (1 + 1e-6) + 8 * ulp(d, np.float64)
    if not np.all(np.abs(back - reference)[keep] <= tolerance[keep]):
        failures.append(f"{tag} {name}: not the float64 inverse of the stored values rounded once")
    key = f"{np.dtype(unit).name} ({'from integers' if kind.kind in 'iu' else kind.str}{' centered' * ('centered' in name)})"
    nonzero = keep & (x != 0) & (d != 0)
    of_d = float(np.max((np.abs(back - x) / ulp(d, unit))[nonzero]))
    of_x = float(np.max((np.abs(back - x) / ulp(x, unit))[nonzero]))
    old = worst.get(key, (0, 0, 0))
    worst[key] = (max(old[0], ratio), max(old[1], of_d), max(old[2], of_x))
    return failures


def stored_statistics(group, shape, layout, mode):
    mean, var = group["mean"][...], group["var"][...]
    c = shape[channel_axis(layout)]
    if mode == "batch":
        return per_channel(mean, layout, len(shape)), per_channel(var, layout, len(shape))
    n, g = mean.shape
    full = [np.repeat(s, c // g, axis=1) for s in (mean, var)]
    out = []
    for s in full:
        s = s.reshape((n, c) + (1,) * (len(shape) - 2))
        if layout == "nhwc":
            s = np.moveaxis(s, 1, -1)
        out.append(np.broadcast_to(s, shape))
    return out


def predictions(gnorm, folder):
    rng = np.random.default_rng(5)
    shape = (6, 3, 8, 8)
    train = [f"{folder}/train{i}.h5" for i in range(2)]
    for path in train:
        with h5py.File(path, "w") as f:
            f["x"] = (273.0 + 10 * rng.standard_normal(shape)).astype("f4")
    run(gnorm, "stats", "--mode", "batch", "--save", f"{folder}/stats.h5", "--format", "csv", *train)
    spec = ["--mean", f"{folder}/stats.h5:/gnorm/x/mean", "--var", f"{folder}/stats.h5:/gnorm/x/var"]
    run(gnorm, "apply", "-q", "--mode", "batch", *spec, train[0], f"{folder}/train0-n.h5")
    # A model's predictions: normalized values in a file of their own, no /gnorm.
    with h5py.File(f"{folder}/train0-n.h5", "r") as fn, h5py.File(f"{folder}/pred.h5", "w") as fp:
        fp["x"] = fn["x"][...]
    run(gnorm, "invert", "-q", *spec, f"{folder}/pred.h5", f"{folder}/pred-k.h5")
    with h5py.File(f"{folder}/stats.h5", "r") as fs:
        mean, var = fs["gnorm/x/mean"][...], fs["gnorm/x/var"][...]
    with h5py.File(train[0], "r") as ft, h5py.File(f"{folder}/pred-k.h5", "r") as fk:
        x = ft["x"][...].astype(np.float64)
        back = fk["x"][...].astype(np.float64)
        if fk["x"].dtype != np.float32:
            print(f"dtype {fk['x'].dtype}")
            return 1
    m, v = per_channel(mean, "nchw", 4), per_channel(var, "nchw", 4)
    bound = 2 * ulp(np.abs(x - m), np.float32) + 0.5 * ulp(x, np.float32)
    error = np.abs(back - x)
    print(f"predictions: worst |x' - x| = {np.max(error / bound):.3g} of the bound")
    if not np.all(error <= bound):
        print(f"predictions: off by {np.max(error):.3g}")
        return 1
    print("ok")
    return 0


def netcdf(gnorm, folder):
    import netCDF4
    import xarray

    failures = []
    rng = np.random.default_rng(7)
    for model in ("NETCDF4", "NETCDF4_CLASSIC"):
        source = f"{folder}/in-{model}.nc"
        with netCDF4.Dataset(source, "w", format=model) as nc:
            for name, size in zip(("time", "band", "y", "x"), (3, 4, 6, 5)):
                nc.createDimension(name, size)
            variable = nc.createVariable("t", "f4", ("time", "band", "y", "x"), fill_value=np.float32(-9999))
            variable.units = "K"
            values = (280 + 15 * rng.standard_normal((3, 4, 6, 5))).astype("f4")
            values = np.ma.masked_array(values, mask=rng.random(values.shape) < 0.1)
            variable[:] = values
        normalized, inverted = f"{folder}/n-{model}.nc", f"{folder}/x-{model}.nc"
        run(gnorm, "apply", "-q", "-g", "2", source, normalized)
        run(gnorm, "invert", "-q", normalized, inverted)
        dump = subprocess.run(["ncdump", "-h", inverted], capture_output=True, text=True)
        if dump.returncode != 0 or "gnorm_" in dump.stdout:
            failures.append(f"{model}: ncdump -h: {dump.returncode} {dump.stderr}{dump.stdout}")
        with xarray.open_dataset(source) as original, xarray.open_dataset(inverted) as back:
            x, got = original["t"].values.astype(np.float64), back["t"].values.astype(np.float64)
            if back["t"].attrs.get("units") != "K" or any(k.startswith("gnorm_") for k in back["t"].attrs):
                failures.append(f"{model}: attributes {back['t'].attrs}")
            if not np.array_equal(np.isnan(x), np.isnan(got)):
                failures.append(f"{model}: the missing cells moved")
            keep = ~np.isnan(x)
            # Offset data: the float32 round trip is exact here (README bound: 2 ulp(D) + 1/2 ulp(x)).
            if not np.all(np.abs(got - x)[keep] <= 2 * ulp(np.abs(x - x[keep].mean()), np.float32)[keep]
                          + 0.5 * ulp(x, np.float32)[keep]):
                failures.append(f"{model}: values differ by up to {np.nanmax(np.abs(got - x)):.3g}")
    print("\n".join(failures) if failures else "ok")
    return 1 if failures else 0


if __name__ == "__main__":
    command, gnorm, folder = sys.argv[1:4]
    sys.exit({"roundtrip": roundtrip, "predictions": predictions, "netcdf": netcdf}[command](gnorm, folder))
