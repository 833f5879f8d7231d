#!/usr/bin/env python3
"""Writes Fixtures/formats/: files made by the tools users normalize, for issue 18 ("OUTPUT
readable by the tool that wrote INPUT").

    make test-deps                    # anndata, tables, hdf5storage, mat73, netCDF4; nco, netcdf-bin
    python3 Fixtures/make_formats.py

One file per tool: ncgen with a vector missing_value and a valid_range, netCDF4-python with
quantization (BitGroom, GranularBitRound, BitRound), NCO's ncpdq packing, AnnData's
write_h5ad, MATLAB v7.3 (hdf5storage), PyTables. Fixtures/formats/manifest.json has the same
form as Fixtures/corpus/manifest.json, plus `stats_group` (where OUTPUT holds the statistics)
and `readers` (the tools that must read OUTPUT back: Fixtures/check_readers.py); the
corpus test runs each entry as it runs the corpus. Tensors are tiny, seeds fixed.
"""
import importlib.metadata
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import netCDF4
import numpy as np

from fixture_files import C, G, H, N, W, manifest_entry, tensor, verify, write_manifest

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "formats")
MANIFEST = []


def path(name):
    return os.path.join(OUT, name)


def entry(name, datasets, netcdf, producer, exercises, groups=G, stats_group="/gnorm", readers=()):
    MANIFEST.append(manifest_entry(name, datasets, netcdf, producer, groups, stats_group=stats_group,
                                   readers=list(readers), exercises=exercises))


def ncgen_missing():
    """The issue's vector missing_value, and a valid_range whose outside values are masked."""
    cdl = """netcdf mv {
dimensions: n = 1 ; c = 2 ; x = 4 ;
variables:
  short v(n, c, x) ; v:_FillValue = -32767s ; v:missing_value = -32767s, -32768s ;
  short w(n, c, x) ; w:_FillValue = -1s ; w:valid_range = 0s, 1000s ; w:units = "K" ;
data:
  v = 100, -32768, -32768, 200, 300, 400, -32767, 500 ;
  w = 10, 20, 5000, 30, -1, 40, -50, 60 ;
}
"""
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "mv.cdl")
        with open(source, "w") as f:
            f.write(cdl)
        subprocess.run(["ncgen", "-k", "nc4", "-o", path("ncgen_missing.nc"), source], check=True)
    entry("ncgen_missing.nc", {"/v": "<f4", "/w": "<f4"}, True, "ncgen -k nc4 (netCDF-C, Debian netcdf-bin)",
          "int16 with a vector missing_value (-32767, -32768) and _FillValue: the statistics are over the five "
          "data cells (mean 300, var 20000) and the masked cells keep -32768 / -32767; int16 with valid_range "
          "[0, 1000]: 5000 and -50 are masked and become the _FillValue -1", groups=1, readers=["netCDF4"])


def nc4_quantized():
    with netCDF4.Dataset(path("nc4_quantized.nc"), "w") as d:
        d.history = "made by make_formats.py"
        for dim, size in zip("nchw", (N, C, H, W)):
            d.createDimension(dim, size)
        for name, mode, digits in (("bitgroom", "BitGroom", 3), ("granular", "GranularBitRound", 3),
                                   ("bitround", "BitRound", 9)):
            v = d.createVariable(name, "f4", ("n", "c", "h", "w"), zlib=True, significant_digits=digits,
                                 quantize_mode=mode, fill_value=np.float32(-999))
            v.units = "m"
            x = tensor(len(name), offset=1e3)
            x[0, 0, 0, 0] = -999
            v[:] = x
    entry("nc4_quantized.nc", {"/bitgroom": "<f4", "/granular": "<f4", "/bitround": "<f4"}, True,
          "netCDF4-python %s (netCDF-C %s) quantize_mode" % (netCDF4.__version__, netCDF4.__netcdf4libversion__),
          "netCDF-C quantization (_QuantizeBitGroomNumberOfSignificantDigits, "
          "_QuantizeGranularBitRoundNumberOfSignificantDigits, _QuantizeBitRoundNumberOfSignificantBits): removed "
          "from the normalized variables, which are no longer quantized; a _FillValue cell each",
          readers=["netCDF4"])


def ncpdq_packed():
    with tempfile.TemporaryDirectory() as tmp:
        plain = os.path.join(tmp, "plain.nc")
        with netCDF4.Dataset(plain, "w") as d:
            for dim, size in zip("nchw", (N, C, H, W)):
                d.createDimension(dim, size)
            v = d.createVariable("temp", "f8", ("n", "c", "h", "w"), fill_value=-9999.0)
            v.units = "K"
            x = tensor(11, offset=280, dtype=np.float64)
            x[1, 2, 0, 0] = -9999.0
            v[:] = x
        subprocess.run(["ncpdq", "-O", "-4", "-P", "all_new", plain, path("ncpdq_packed.nc")], check=True)
    version = subprocess.run(["ncks", "--version"], capture_output=True, text=True).stderr.strip().splitlines()
    entry("ncpdq_packed.nc", {"/temp": "<f4"}, True, "NCO ncpdq -P all_new (%s)" % (version[-1] if version else "?"),
          "NCO-packed int16 (scale_factor, add_offset, _FillValue): OUTPUT is float32 without the packing "
          "attributes, the fill cell kept", readers=["netCDF4"])


def anndata_file():
    import anndata as ad
    import pandas as pd
    rng = np.random.default_rng(5)
    a = ad.AnnData(
        X=rng.standard_normal((N, 6)).astype("f4"),
        obs=pd.DataFrame({"batch": pd.Categorical(["a", "b", "a", "b"])}, index=[f"cell{i}" for i in range(N)]),
        var=pd.DataFrame(index=[f"gene{i}" for i in range(6)]),
        obsm={"img": tensor(21), "pca": rng.standard_normal((N, 2)).astype("f4")},
        layers={"counts": rng.integers(0, 5, (N, 6)).astype("i4")},
        uns={"note": "made by make_formats.py", "params": {"k": 3}})
    a.write_h5ad(path("anndata.h5ad"))
    entry("anndata.h5ad", {"/obsm/img": "<f4"}, False, "anndata %s write_h5ad" % importlib.metadata.version("anndata"),
          "AnnData: statistics under /uns/gnorm with AnnData's encoding attributes; read_h5ad reads OUTPUT "
          "(obs, var, X, layers, uns kept) with the normalized obsm['img'] and the statistics in uns['gnorm']",
          stats_group="/uns/gnorm", readers=["anndata"])


def matlab_file():
    import hdf5storage
    # MATLAB is column-major: an array of MATLAB size (W, H, C, N) is the HDF5 dataset (N, C, H, W).
    x = tensor(31, dtype=np.float64)
    hdf5storage.savemat(path("matlab_v73.mat"), {
        "img": np.round(x * 100).astype(np.int16).T, "ref": tensor(32, dtype=np.float64).T, "label": "demo",
    }, format="7.3", matlab_compatible=True)
    entry("matlab_v73.mat", {"/img": "<f4"}, False, "hdf5storage %s savemat format 7.3" % hdf5storage.__version__,
          "MATLAB v7.3 (512-byte MATLAB header as user block, MATLAB_class attributes): the int16 /img becomes "
          "float32 and its MATLAB_class 'single', so mat73 and hdf5storage load a single array",
          readers=["mat73", "hdf5storage"])


def pytables_file():
    import tables
    with tables.open_file(path("pytables.h5"), "w", title="made by make_formats.py") as t:
        filters = tables.Filters(complevel=4, complib="zlib", shuffle=True, fletcher32=True)
        arr = t.create_carray("/", "img", obj=tensor(41), filters=filters, chunkshape=(1, C, H, W), title="images")
        arr.attrs.units = "counts"
        group = t.create_group("/", "meta", "metadata")
        table = t.create_table(group, "runs", {"id": tables.Int32Col(), "name": tables.StringCol(8)})
        table.append([(1, b"a"), (2, b"b")])
        t.create_array(group, "labels", obj=np.arange(N, dtype=np.int64))
    entry("pytables.h5", {"/img": "<f4"}, False, "PyTables %s" % tables.__version__,
          "PyTables: CLASS/VERSION/TITLE attributes, a Table, a zlib+shuffle+fletcher32 CArray; tables.open_file "
          "reads OUTPUT back", readers=["tables"])


def main():
    os.makedirs(OUT, exist_ok=True)
    for make in (ncgen_missing, nc4_quantized, ncpdq_packed, anndata_file, matlab_file, pytables_file):
        make()
    write_manifest(path("manifest.json"),
                   "written by Fixtures/make_formats.py; read by Fixtures/check_output.py "
                   "--manifest Fixtures/formats/manifest.json --manifest-entry NAME", MANIFEST)
    verify(MANIFEST, path)
    total = sum(os.path.getsize(path(e["name"])) for e in MANIFEST)
    print("%d files, %d bytes in %s" % (len(MANIFEST), total, OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
