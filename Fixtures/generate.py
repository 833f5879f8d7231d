#!/usr/bin/env python3
"""Writes gnorm's test fixtures: inputs, and expected outputs from independent references.

References: torch.nn.functional.group_norm / batch_norm (PyTorch, CPU) where torch has
the operation, and a float64 NumPy implementation of SPEC §1 where the point is
exactness beyond float32 (large offsets, float16/integer storage).

    pip install torch h5py numpy && python3 Fixtures/generate.py

Outputs (committed, small): cases.h5 (inputs), expected.h5 (one group per case:
y, mean, var), gamma.npy / beta.npy / bad-header.npy, params.h5, demo.h5.
"""
import os

import h5py
import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20181001)  # GN paper's arXiv month


def path(name):
    return os.path.join(HERE, name)


def torch_group_norm(x, groups, weight=None, bias=None, eps=1e-5, layout="nchw"):
    """torch.nn.functional.group_norm in float64 on the stored values; returns y, mean, var (N, G)."""
    t = torch.from_numpy(np.asarray(x, dtype=np.float64))
    if layout == "nhwc":
        t = t.movedim(-1, 1)
    w = None if weight is None else torch.from_numpy(np.asarray(weight, dtype=np.float64))
    b = None if bias is None else torch.from_numpy(np.asarray(bias, dtype=np.float64))
    y = torch.nn.functional.group_norm(t, groups, w, b, eps)
    n, c = t.shape[0], t.shape[1]
    flat = t.reshape(n, groups, -1)
    mean = flat.mean(dim=2)
    var = flat.var(dim=2, unbiased=False)
    if layout == "nhwc":
        y = y.movedim(1, -1)
    return y.numpy(), mean.numpy(), var.numpy()


def numpy_group_norm(x, groups, weight=None, bias=None, eps=1e-5):
    """SPEC §1 in float64 NumPy, NaN-confined per group, for cases torch cannot reference exactly."""
    x = np.asarray(x, dtype=np.float64)
    n, c = x.shape[0], x.shape[1]
    flat = x.reshape(n, groups, -1)
    mean = flat.mean(axis=2)
    var = ((flat - mean[..., None]) ** 2).mean(axis=2)
    y = (flat - mean[..., None]) / np.sqrt(var[..., None] + eps)
    y = y.reshape(x.shape)
    shape = (1, c) + (1,) * (x.ndim - 2)
    if weight is not None:
        y = y * np.asarray(weight, dtype=np.float64).reshape(shape)
    if bias is not None:
        y = y + np.asarray(bias, dtype=np.float64).reshape(shape)
    return y, mean, var


def torch_batch_norm(x, weight=None, bias=None, eps=1e-5, mean=None, var=None):
    t = torch.from_numpy(np.asarray(x, dtype=np.float64))
    w = None if weight is None else torch.from_numpy(np.asarray(weight, dtype=np.float64))
    b = None if bias is None else torch.from_numpy(np.asarray(bias, dtype=np.float64))
    if mean is None:
        dims = [0] + list(range(2, t.ndim))
        used_mean = t.mean(dim=dims)
        used_var = t.var(dim=dims, unbiased=False)
        y = torch.nn.functional.batch_norm(t, None, None, w, b, training=True, eps=eps)
    else:
        used_mean = torch.from_numpy(np.asarray(mean, dtype=np.float64))
        used_var = torch.from_numpy(np.asarray(var, dtype=np.float64))
        y = torch.nn.functional.batch_norm(t, used_mean.clone(), used_var.clone(), w, b, training=False, eps=eps)
    return y.numpy(), used_mean.numpy(), used_var.numpy()


def main():
    cases = {}  # name -> (input array, expected y, mean, var)
    f = h5py.File(path("cases.h5"), "w")
    e = h5py.File(path("expected.h5"), "w")

    def case(name, x, y, mean, var, **create):
        f.create_dataset(name, data=x, **create)
        g = e.create_group(name)
        g["y"], g["mean"], g["var"] = y, mean, var

    # The seed's example: x = randn(2,10,3,3) + 1, 2 groups.
    x = (rng.standard_normal((2, 10, 3, 3)) + 1).astype(np.float32)
    case("seed", x, *torch_group_norm(x, 2))

    # Group norm with affine parameters from datasets of INPUT and from .npy files.
    x = rng.standard_normal((3, 32, 5, 7)).astype(np.float32) * 3 - 2
    gamma = rng.uniform(0.5, 2.0, 32).astype(np.float32)
    beta = rng.uniform(-1, 1, 32).astype(np.float32)
    f["gamma"], f["beta"] = gamma, beta
    f["gamma_column"] = gamma.reshape(1, 32, 1)  # any shape with C elements, other axes 1
    np.save(path("gamma.npy"), gamma)
    np.save(path("beta.npy"), beta.astype(">f8"))
    case("affine", x, *torch_group_norm(x, 8, gamma, beta))

    # Channels last, with a SIMD tail (C = 20).
    x = rng.standard_normal((2, 6, 5, 20)).astype(np.float32)
    case("nhwc", x, *torch_group_norm(x, 4, layout="nhwc"))

    # Layer (G = 1) and instance (G = C) on rank 3 (one spatial axis).
    x = rng.standard_normal((2, 12, 9)).astype(np.float32) + 0.5
    case("layer", x, *torch_group_norm(x, 1))
    x = rng.standard_normal((2, 12, 9)).astype(np.float32) * 2
    case("instance", x, *torch_group_norm(x, 12))

    # Batch norm: training statistics, and eval with given mean/var.
    x = rng.standard_normal((4, 6, 5, 5)).astype(np.float32) + np.arange(6, dtype=np.float32).reshape(1, 6, 1, 1)
    case("batch", x, *torch_batch_norm(x))
    given_mean = rng.uniform(-1, 1, 6)
    given_var = rng.uniform(0.5, 2, 6)
    np.save(path("batch_mean.npy"), given_mean)
    np.save(path("batch_var.npy"), given_var)
    case("batch_eval", x, *torch_batch_norm(x, mean=given_mean, var=given_var))
    x = rng.standard_normal((3, 4, 4, 6)).astype(np.float32)
    y, m, v = torch_batch_norm(np.moveaxis(x, -1, 1))
    case("batch_nhwc", x, np.moveaxis(y, 1, -1), m, v)

    # Storage types: float64, float16, int16 (written as float32), big-endian float32.
    x = rng.standard_normal((2, 8, 4, 4)) * 1e3 + 7
    case("f64", x, *torch_group_norm(x, 4))
    x = rng.standard_normal((2, 8, 4, 4)).astype(np.float16)
    case("f16", x, *numpy_group_norm(x, 4))
    x = rng.integers(-300, 300, (2, 8, 4, 4)).astype(np.int16)
    case("i16", x, *numpy_group_norm(x, 4))
    x = rng.standard_normal((2, 8, 4, 4)).astype(">f4")
    case("f32be", x, *torch_group_norm(x.astype(np.float32), 4))

    # A large offset: float32 E[x²] − E[x]² collapses here; the float64 reference does not.
    x = (1e4 + rng.standard_normal((2, 16, 16, 16))).astype(np.float32)
    case("offset", x, *numpy_group_norm(x, 4))
    case("offset_nhwc", np.ascontiguousarray(np.moveaxis(x, 1, -1)),
         *(lambda r: (np.moveaxis(r[0], 1, -1), r[1], r[2]))(numpy_group_norm(x, 4)))

    # Constant group (exactly β) and a NaN group confined to itself.
    x = rng.standard_normal((2, 4, 3, 3)).astype(np.float32)
    x[0, 0:2] = 5.0
    x[1, 2, 1, 1] = np.nan
    beta4 = np.array([0.25, -0.5, 1.0, 2.0], dtype=np.float32)
    f["beta4"] = beta4
    case("special", x, *numpy_group_norm(x, 2, None, beta4))

    # Empty batch: shape (0, C, ...) and statistics (0, G).
    x = np.zeros((0, 8, 2, 2), dtype=np.float32)
    case("empty", x, x, np.zeros((0, 2)), np.zeros((0, 2)))

    # Chunked gzip + shuffle, one sample per chunk.
    x = rng.standard_normal((4, 16, 8, 8)).astype(np.float32)
    case("chunked", x, *torch_group_norm(x, 4), chunks=(1, 16, 8, 8), compression="gzip",
         compression_opts=1, shuffle=True)

    # Rank 2 (N, C): only selected with -d; no spatial axes.
    x = rng.standard_normal((5, 8)).astype(np.float32)
    case("rank2", x, *torch_group_norm(x, 2))
    e.close()

    # Objects that OUTPUT must keep.
    f.attrs["title"] = "gnorm fixtures"
    f.attrs["numbers"] = np.arange(3, dtype=np.int32)
    grp = f.create_group("meta/deep")
    grp.attrs["note"] = "keep me"
    grp["labels"] = np.array([b"cat", b"dog"])
    grp["table"] = np.array([(1, 2.0), (3, 4.0)], dtype=[("a", "i4"), ("b", "f8")])
    f["seed"].attrs["units"] = "volts"
    f["link_to_seed"] = h5py.SoftLink("/seed")
    f["external"] = h5py.ExternalLink("params.h5", "/w")
    f.close()

    with h5py.File(path("params.h5"), "w") as p:
        p["w"] = gamma.astype(np.float64)
        p["short"] = gamma[:7]

    with open(path("bad-header.npy"), "wb") as bad:
        bad.write(b"\x93NUMPY\x01\x00\x20\x00{'descr': '<f4', 'shape': (32," + b" " * 10)

    write_demo()


def write_demo():
    """An (8, 64, 32, 32) float32 image-like tensor, quantized so gzip+shuffle keeps it small."""
    yy, xx = np.mgrid[0:32, 0:32] / 32.0
    demo = np.empty((8, 64, 32, 32), dtype=np.float32)
    for n in range(8):
        for c in range(64):
            fx, fy, phase = rng.uniform(0.5, 3, 2).tolist() + [rng.uniform(0, 6.28)]
            image = np.sin(2 * np.pi * fx * xx + phase) * np.cos(2 * np.pi * fy * yy)
            image = image * rng.uniform(0.5, 4) + rng.uniform(-3, 3)
            demo[n, c] = np.round(image * 16) / 16
    with h5py.File(path("demo.h5"), "w") as d:
        d.create_dataset("x", data=demo, chunks=(1, 64, 32, 32), compression="gzip", compression_opts=6, shuffle=True)
        d["label"] = np.arange(8, dtype=np.int64)
        d.attrs["description"] = "gnorm demo: 8 image-like samples, 64 channels, 32x32"


def write_partial_chunks():
    """Chunks of 3 samples over N = 7: the last chunk is partial (added later, own generator)."""
    local = np.random.default_rng(7)
    x = local.standard_normal((7, 8, 6, 5)).astype(np.float32) * 2 + 1
    y, mean, var = torch_group_norm(x, 4)
    with h5py.File(path("cases.h5"), "a") as f:
        f.create_dataset("chunked3", data=x, chunks=(3, 8, 6, 5), compression="gzip", compression_opts=4, shuffle=True)
        f.create_dataset("chunked3_f64", data=x.astype(np.float64), chunks=(3, 8, 6, 5), compression="gzip")
    with h5py.File(path("expected.h5"), "a") as e:
        for name in ("chunked3", "chunked3_f64"):
            g = e.create_group(name)
            g["y"], g["mean"], g["var"] = y, mean, var


def write_bad_inputs():
    """Datasets gnorm must refuse with a clear status (added later, own generator)."""
    local = np.random.default_rng(11)
    with h5py.File(path("bad.h5"), "w") as f:
        f.create_dataset("lzf", data=np.repeat(local.standard_normal((2, 4, 1, 1)), 256, axis=3).astype(np.float32), compression="lzf")
        f["scalar"] = np.float32(1.5)
        f["vector"] = np.arange(4, dtype=np.float32)
        f["matrix_ok"] = np.ones((3, 4), dtype=np.float32)
        f["compound"] = np.zeros((2, 4, 3), dtype=[("a", "i4"), ("b", "f4")])
        f.create_dataset("enum", data=np.zeros((2, 4, 3), dtype=np.int8), dtype=h5py.enum_dtype({"A": 0, "B": 1}, basetype="i1"))
        f.create_dataset("reference", shape=(2, 4, 3), dtype=h5py.ref_dtype)
        f["strings"] = np.array([[["a"] * 3] * 4] * 2, dtype="S1")
        f.create_dataset("no_channels", shape=(2, 0, 3), dtype=np.float32)
        f.create_dataset("huge", shape=(2**40, 2**40, 2**40), dtype=np.float32, chunks=(1, 1, 1))


def write_eps_case():
    """A non-default eps (0.5) on tiny-variance groups, where eps dominates (added later, own generator)."""
    local = np.random.default_rng(13)
    x = (local.standard_normal((2, 6, 4, 4)) * 0.3).astype(np.float32)
    y, mean, var = torch_group_norm(x, 3, eps=0.5)
    with h5py.File(path("cases.h5"), "a") as f:
        f["eps"] = x
    with h5py.File(path("expected.h5"), "a") as e:
        g = e.create_group("eps")
        g["y"], g["mean"], g["var"] = y, mean, var


def write_layout_dtype_rows():
    """Channels-last float64 and float16, and batch mode on float16 (added later, own generator)."""
    local = np.random.default_rng(17)
    rows = {}
    x = local.standard_normal((2, 5, 4, 12)) * 100 - 3
    rows["nhwc_f64"] = (x, *torch_group_norm(x, 4, layout="nhwc"))
    x = local.standard_normal((2, 5, 4, 12)).astype(np.float16)
    y, mean, var = numpy_group_norm(np.moveaxis(x, -1, 1), 4)
    rows["nhwc_f16"] = (x, np.moveaxis(y, 1, -1), mean, var)
    x = (local.standard_normal((3, 6, 5, 5)) + 2).astype(np.float16)
    rows["batch_f16"] = (x, *torch_batch_norm(x.astype(np.float64)))
    with h5py.File(path("cases.h5"), "a") as f, h5py.File(path("expected.h5"), "a") as e:
        for name, (x, y, mean, var) in rows.items():
            f[name] = x
            g = e.create_group(name)
            g["y"], g["mean"], g["var"] = y, mean, var


if __name__ == "__main__":
    main()
    write_partial_chunks()
    write_bad_inputs()
    write_eps_case()
    write_layout_dtype_rows()
