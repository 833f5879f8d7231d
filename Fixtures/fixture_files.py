"""What Fixtures/make_corpus.py and Fixtures/make_formats.py share: the tiny test tensor, the
manifest entries Fixtures/check_output.py reads, and the check that HDF5 1.10's tools (and
netCDF's, for netCDF files) read every file written."""
import json
import subprocess
import sys

import numpy as np

N, C, H, W = 4, 8, 5, 3
G = 4


def tensor(seed, shape=(N, C, H, W), offset=0.0, dtype=np.float32):
    """Per-channel offsets and scales so that groups really differ."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    chan_axis = 1
    cshape = [1] * len(shape)
    cshape[chan_axis] = shape[chan_axis]
    x = x * (1 + np.arange(shape[chan_axis]).reshape(cshape)) + offset + 3 * np.arange(shape[chan_axis]).reshape(cshape)
    return x.astype(dtype)


def manifest_entry(name, datasets, netcdf, producer, groups=G, layout="nchw", mode="group", eps=1e-5, **rest):
    """datasets: {path: expected output dtype (numpy str, byte order included)}; `rest` follows
    the common fields in the order given (the manifests' key order is part of their bytes)."""
    return {
        "name": name,
        "netcdf": netcdf,
        "producer": producer,
        "datasets": [{"path": p, "expected_dtype": dt} for p, dt in datasets.items()],
        "groups": groups,
        "layout": layout,
        "mode": mode,
        "eps": eps,
        **rest,
    }


def write_manifest(file, comment, entries):
    with open(file, "w") as f:
        json.dump({"comment": comment, "files": entries}, f, indent=1, ensure_ascii=False)
        f.write("\n")


def verify(entries, path):
    """Exits naming the file that `h5dump -H` (or `ncdump -h`) cannot read."""
    for e in entries:
        p = path(e["name"])
        r = subprocess.run(["h5dump", "-H", p], capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit("h5dump -H (HDF5 1.10 tools) cannot read %s:\n%s" % (p, r.stderr[-2000:]))
        if e["netcdf"]:
            r = subprocess.run(["ncdump", "-h", p], capture_output=True, text=True)
            if r.returncode != 0:
                sys.exit("ncdump -h cannot read %s:\n%s" % (p, r.stderr[-2000:]))
