#!/usr/bin/env python3
"""A tiny trusted `gnorm apply` for the positive control of Fixtures/check_output.py.

    python3 Fixtures/reference_apply.py INPUT OUTPUT --manifest-entry NAME [-d PATH]...
    python3 Fixtures/reference_apply.py INPUT OUTPUT -d PATH... -g G [--layout L] [--mode M] [--eps E] [--no-mask]

OUTPUT = shutil.copyfile(INPUT), then h5py in mode r+ overwrites each selected dataset in place
with the float64 reference of SPEC §1 (check_output.reference: stored values, fill cells
excluded and kept) cast to the dataset's own type, adds /gnorm/PATH/{mean,var} with the
group attributes, the gnorm_* attributes, and appends a line to the root `history`.
Only the same-type case (--dtype same on float datasets) is supported: a dataset whose type
would change is refused. A virtual dataset is replaced by a regular one (same path, same
attributes in the same order) so that its sources stay untouched.
"""
import argparse
import os
import shutil
import sys

import h5py
import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import check_output as co  # noqa: E402


def regularize_virtual(f, path):
    """Replace the VDS at path by a regular dataset of the same type, shape, fill value and attributes."""
    d = f[path]
    data, dtype, shape, maxshape = d[()], d.dtype, d.shape, d.maxshape
    fill = np.zeros((1,), dtype)
    d.id.get_create_plist().get_fill_value(fill)
    attrs = [(n, d.attrs[n], h5py.h5a.open(d.id, n.encode()).dtype) for n in co.attr_names(d)]
    parent, name = path.rsplit("/", 1)
    g = f[parent or "/"]
    del g[name]
    new = g.create_dataset(name, data=data, dtype=dtype, maxshape=maxshape, fillvalue=fill[0])
    for n, v, t in attrs:
        new.attrs.create(n, v, dtype=t)
    return new


def apply(inp, out, opts):
    shutil.copyfile(inp, out)
    with h5py.File(out, "r+") as f:
        for path in opts.datasets:
            d = f[path]
            if d.dtype.kind != "f" or opts.dtype not in ("same", None):
                raise SystemExit("reference_apply.py: %s would change type (%s); not supported" % (path, d.dtype))
            if d.id.get_create_plist().get_layout() == h5py.h5d.VIRTUAL:
                d = regularize_virtual(f, path)
            x = d[()]
            mask = co.fill_mask(x, co.fill_values_of(d)) if opts.mask else np.zeros(x.shape, bool)
            y, mean, var = co.reference(x, opts, mask)
            y = np.where(mask, x, y)
            d[...] = y.astype(d.dtype)
            g = f.require_group("/gnorm" + path)
            g.create_dataset("mean", data=mean.astype("<f8"))
            g.create_dataset("var", data=var.astype("<f8"))
            # fixed-length ASCII strings and int32: NC_CHAR / NC_INT, valid even in netCDF-4 classic
            # model files, where NC_STRING and NC_INT64 attributes make netCDF-C refuse the file
            g.attrs["mode"] = np.bytes_(opts.mode)
            g.attrs["groups"] = np.int32(opts.groups)
            g.attrs["eps"] = np.float64(opts.eps)
            g.attrs["layout"] = np.bytes_(opts.layout)
            g.attrs["source"] = np.bytes_(os.path.basename(inp))
            g.attrs["version"] = np.bytes_("reference_apply")
            d.attrs["gnorm_mode"] = np.bytes_(opts.mode)
            d.attrs["gnorm_groups"] = np.int32(opts.groups)
            d.attrs["gnorm_eps"] = np.float64(opts.eps)
        line = "reference_apply.py %s %s" % (os.path.basename(inp), os.path.basename(out))
        old = f.attrs.get("history")
        if old is None:
            f.attrs["history"] = np.bytes_(line)
        else:
            fixed = isinstance(old, bytes)
            text = (old.decode() if fixed else str(old)).rstrip("\n") + "\n" + line
            f.attrs["history"] = np.bytes_(text.encode()) if fixed else text


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--manifest-entry", metavar="NAME")
    ap.add_argument("--manifest", default=co.DEFAULT_MANIFEST)
    ap.add_argument("-d", "--dataset", action="append")
    ap.add_argument("-g", "--groups", type=int)
    ap.add_argument("--layout", choices=("nchw", "nhwc"))
    ap.add_argument("--mode", choices=("group", "layer", "instance", "batch"))
    ap.add_argument("--eps", type=float)
    ap.add_argument("--no-mask", action="store_true")
    ap.add_argument("--dtype", choices=("same",))
    ap.add_argument("--no-tools", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--no-xarray", action="store_true", help=argparse.SUPPRESS)
    apply(ap.parse_args(argv).input, ap.parse_args(argv).output, co.options_from(ap.parse_args(argv)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
