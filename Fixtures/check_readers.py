#!/usr/bin/env python3
"""OUTPUT read back by the tool that wrote INPUT (issue 18), for check_output.py's `readers`.

    check(reader, INPUT, OUTPUT, opts, problems)

Each reader opens INPUT and OUTPUT with the tool's own API and checks that what the tool
returns is what h5py finds in OUTPUT for the normalized datasets (values, and type where
the tool decides it from attributes), and what the tool returned for INPUT for everything
else. The values themselves are judged against the float64 reference by check_output.py.
"""
import warnings

import h5py
import numpy as np


def _equal(a, b):
    a, b = np.asarray(a), np.asarray(b)
    if a.dtype.kind in "fc" and b.dtype.kind in "fc":
        return a.shape == b.shape and np.array_equal(a, b, equal_nan=True)
    return a.shape == b.shape and bool(np.all(a == b))


def _same_tree(a, b):
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_tree(a[k], b[k]) for k in a)
    return _equal(a, b)


def check_netcdf4(inp, out, opts, problems):
    """netCDF4-python masks _FillValue, every missing_value and what lies outside valid_range: the
    cells it masks in OUTPUT are those it masked in INPUT; its unmasked values are OUTPUT's."""
    import netCDF4
    normalized = {p.lstrip("/") for p in opts.datasets}
    with netCDF4.Dataset(inp) as a, netCDF4.Dataset(out) as b, h5py.File(out, "r") as h:
        for name, va in a.variables.items():
            vb = b.variables.get(name)
            if vb is None:
                problems.add("netCDF4: variable %s missing in OUTPUT" % name)
                continue
            xa, xb = va[...], vb[...]
            if name not in normalized:
                if not _equal(np.ma.getmaskarray(xa), np.ma.getmaskarray(xb)) or not _equal(
                        np.ma.filled(xa), np.ma.filled(xb)):
                    problems.add("netCDF4: %s reads differently" % name)
                continue
            quantize = [k for k in vb.ncattrs() if k.startswith("_Quantize")]
            if quantize:
                problems.add("netCDF4: %s still has %s" % (name, quantize))
            if not opts.mask:
                continue
            ma, mb = np.ma.getmaskarray(xa), np.ma.getmaskarray(xb)
            if not _equal(ma, mb):
                problems.add("netCDF4: %s masks %d cells in OUTPUT, %d in INPUT (or other ones)" % (
                    name, int(mb.sum()), int(ma.sum())))
            raw = h[name][()]
            if not _equal(np.asarray(xb)[~mb], raw[~mb]):
                problems.add("netCDF4: %s unmasked values are not OUTPUT's stored values" % name)


def check_anndata(inp, out, opts, problems):
    import anndata
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = anndata.read_h5ad(inp)
        try:
            b = anndata.read_h5ad(out)
        except Exception as e:  # noqa: BLE001
            problems.add("anndata.read_h5ad(OUTPUT) fails: %s" % str(e)[:150])
            return
    with h5py.File(out, "r") as h:
        if not _equal(a.X, b.X):
            problems.add("anndata: X differs")
        for frame in ("obs", "var"):
            fa, fb = getattr(a, frame), getattr(b, frame)
            if not fa.equals(fb):
                problems.add("anndata: %s differs" % frame)
        for key in a.layers:
            if key not in b.layers or not _equal(a.layers[key], b.layers[key]):
                problems.add("anndata: layers[%r] differs" % key)
        uns = {k: v for k, v in b.uns.items() if k != "gnorm"}
        if not _same_tree(dict(a.uns), uns):
            problems.add("anndata: uns differs beyond 'gnorm': %s vs %s" % (list(a.uns), list(uns)))
        for key in a.obsm:
            path = "/obsm/" + key
            if path in opts.datasets:
                if not _equal(b.obsm[key], h[path][()]) or b.obsm[key].dtype != h[path].dtype:
                    problems.add("anndata: obsm[%r] is not OUTPUT's normalized values" % key)
                stats = b.uns.get("gnorm", {}).get("obsm", {}).get(key)
                if stats is None:
                    problems.add("anndata: uns['gnorm']['obsm'][%r] missing" % key)
                    continue
                for name in ("mean", "var"):
                    if not _equal(stats.get(name), h[opts.stats_group + path + "/" + name][()]):
                        problems.add("anndata: uns['gnorm']['obsm'][%r][%r] is not the stored statistics" % (key, name))
            elif not _equal(a.obsm[key], b.obsm[key]):
                problems.add("anndata: obsm[%r] differs" % key)


def _check_matlab(name, load, inp, out, opts, problems):
    a, b = load(inp), load(out)
    with h5py.File(out, "r") as h:
        for key in a:
            if key.startswith("#") or key.startswith("__"):
                continue
            if key not in b:
                problems.add("%s: %s missing in OUTPUT" % (name, key))
            elif "/" + key in opts.datasets:
                stored = h["/" + key]
                got = np.asarray(b[key])
                if got.dtype != stored.dtype:
                    problems.add("%s: %s loads as %s, stored as %s (MATLAB_class)" % (name, key, got.dtype, stored.dtype))
                if not _equal(got, stored[()].T):
                    problems.add("%s: %s is not OUTPUT's normalized values" % (name, key))
            elif not _same_tree(a[key], b[key]):
                problems.add("%s: %s differs" % (name, key))


def check_mat73(inp, out, opts, problems):
    import mat73
    _check_matlab("mat73", mat73.loadmat, inp, out, opts, problems)


def check_hdf5storage(inp, out, opts, problems):
    import hdf5storage

    def load(path):
        # hdf5storage.loadmat hands files not named *.mat to SciPy; read() reads any of them.
        with h5py.File(path, "r") as f:
            keys = [k for k in f if not k.startswith("#")]
        return {k: hdf5storage.read(path="/" + k, filename=path) for k in keys}
    _check_matlab("hdf5storage", load, inp, out, opts, problems)


def check_tables(inp, out, opts, problems):
    import tables
    with tables.open_file(inp) as a, tables.open_file(out) as b, h5py.File(out, "r") as h:
        if a.title != b.title:
            problems.add("tables: file title %r vs %r" % (a.title, b.title))
        for node in a.walk_nodes("/", classname="Leaf"):
            try:
                other = b.get_node(node._v_pathname)
            except tables.NoSuchNodeError:
                problems.add("tables: %s missing in OUTPUT" % node._v_pathname)
                continue
            if node.title != other.title:
                problems.add("tables: %s title %r vs %r" % (node._v_pathname, node.title, other.title))
            if node._v_pathname in opts.datasets:
                if not _equal(other.read(), h[node._v_pathname][()]):
                    problems.add("tables: %s is not OUTPUT's normalized values" % node._v_pathname)
            elif not _equal(node.read(), other.read()):
                problems.add("tables: %s differs" % node._v_pathname)


READERS = {"netCDF4": check_netcdf4, "anndata": check_anndata, "mat73": check_mat73,
           "hdf5storage": check_hdf5storage, "tables": check_tables}


def check(reader, inp, out, opts, problems):
    try:
        READERS[reader](inp, out, opts, problems)
    except Exception as e:  # noqa: BLE001   a reader that cannot read OUTPUT is the finding
        problems.add("%s cannot read OUTPUT: %s: %s" % (reader, type(e).__name__, str(e)[:150]))
