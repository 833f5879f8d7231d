#!/usr/bin/env python3
"""Writes Fixtures/corpus/: small HDF5 / netCDF-4 files from real producers, for issue 8
("OUTPUT is INPUT with only the normalized values changed").

    pip install h5py numpy netCDF4 h5netcdf xarray hdf5plugin   # plus netcdf-bin for ncgen
    python3 Fixtures/make_corpus.py

One file per producer or HDF5 feature; Fixtures/corpus/manifest.json says, for each file,
which datasets to pass to `gnorm apply -d`, with which -g/--layout, the expected output
dtype of each normalized dataset, and what the file exercises. Fixtures/check_output.py
reads the manifest (`--manifest-entry NAME`) and checks an OUTPUT against its INPUT.

Everything is deterministic (fixed seeds, h5py without timestamps; only h5py_vds.h5 differs in
two bytes of HDF5's own VDS global-heap bookkeeping from run to run) and tiny: tensors are
(N, C, H, W) = (4, 8, 5, 3) (or (4, 5, 3, 8) for nhwc) and -g 4, so the folder stays well
under 1 MB even with the two > 64 KiB attributes.

Files must stay readable by the HDF5 1.10 that gnorm and the Debian tools link against:
the wheels of h5py / netCDF4 bundle newer HDF5 releases, so h5py files pin
libver <= v110 where a newer format is needed (dense attributes), and the script
finishes by running `h5dump -H` (and `ncdump -h` for netCDF) on every file.
"""
import json
import os
import shutil
import subprocess
import sys

import h5py
import hdf5plugin
import netCDF4
import numpy as np
import xarray as xr

from fixture_files import C, G, H, N, W, manifest_entry, tensor, verify as verify_files, write_manifest

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "corpus")
MANIFEST = []


def path(name):
    return os.path.join(OUT, name)


def entry(name, datasets, netcdf, producer, exercises, notes="", groups=G, layout="nchw",
          mode="group", eps=1e-5):
    """datasets: {path: expected output dtype (numpy str, byte order included)}."""
    MANIFEST.append(manifest_entry(name, datasets, netcdf, producer, groups, layout, mode, eps,
                                   exercises=exercises, notes=notes))


# --------------------------------------------------------------------------- netCDF4-python

def make_nc4_python():
    """netCDF4-python (netCDF-C): unlimited time, coordinate variables, a float32 4-D variable,
    a float64 second variable (left alone), a vlen string variable with a fill value, a
    variable with _FillValue and fill cells, global + variable attributes, history."""
    name = "nc4_python.nc"
    ds = netCDF4.Dataset(path(name), "w", format="NETCDF4")
    ds.title = "gnorm corpus: netCDF4-python producer"
    ds.Conventions = "CF-1.8"
    ds.institution = "gnorm tests"
    ds.history = "2024-01-01T00:00:00Z: created by Fixtures/make_corpus.py"
    ds.levels = np.array([1, 2, 3], dtype=np.int32)
    ds.createDimension("time", None)
    ds.createDimension("channel", C)
    ds.createDimension("y", H)
    ds.createDimension("x", W)
    t = ds.createVariable("time", "f8", ("time",))
    t.units = "hours since 2000-01-01 00:00:00"
    t.calendar = "standard"
    ch = ds.createVariable("channel", "i4", ("channel",))
    ch.long_name = "channel index"
    yv = ds.createVariable("y", "f4", ("y",))
    yv.units = "m"
    xv = ds.createVariable("x", "f4", ("x",))
    xv.units = "m"
    temp = ds.createVariable("temperature", "f4", ("time", "channel", "y", "x"),
                             zlib=True, complevel=4, shuffle=True, chunksizes=(1, C, H, W))
    temp.units = "K"
    temp.long_name = "air temperature"
    temp.standard_name = "air_temperature"
    hum = ds.createVariable("humidity", "f8", ("time", "channel", "y", "x"))
    hum.units = "1"
    hum.long_name = "specific humidity (not normalized)"
    precip = ds.createVariable("precip", "f4", ("time", "channel", "y", "x"), fill_value=np.float32(-1.0e30))
    precip.units = "mm"
    precip.long_name = "precipitation with fill cells"
    station = ds.createVariable("station", str, ("channel",), fill_value="none")
    station.long_name = "station name (vlen string with fill value)"

    t[:] = np.arange(N, dtype=np.float64) * 6
    ch[:] = np.arange(C, dtype=np.int32)
    yv[:] = np.linspace(0, 400, H, dtype=np.float32)
    xv[:] = np.linspace(0, 200, W, dtype=np.float32)
    temp[:] = 273.15 + tensor(1)
    hum[:] = tensor(2, dtype=np.float64) * 1e-3
    p = tensor(3)
    mask = np.zeros(p.shape, bool)
    mask[0, 0, 0, :] = True      # three fill cells in (n=0, g=0)
    mask[2, 5, 1:4, 1] = True    # three in (n=2, g=2)
    precip[:] = np.ma.masked_array(p, mask)
    for i in range(0, C, 2):     # every other station written; the rest read as the fill "none"
        station[i] = "station-%d" % i
    ds.close()
    entry(name, {"/temperature": "<f4", "/precip": "<f4"}, True, "netCDF4-python %s (netCDF-C %s)" % (
        netCDF4.__version__, netCDF4.__netcdf4libversion__),
        "netCDF-4 with unlimited dim and dimension scales, coordinate variables, creation order of "
        "links and attributes as netCDF-C tracks it, _Netcdf4Dimid/_NCProperties, vlen string "
        "variable with _FillValue, gzip+shuffle chunked variable, _FillValue with 6 fill cells, "
        "root history attribute present (gnorm appends a line)",
        "/humidity (f8) and /station must stay bit-identical; /precip's fill cells (-1e30) are "
        "left out of the statistics and stay -1e30")


# --------------------------------------------------------------------------- xarray

def xarray_dataset():
    t2m = tensor(4) + 280
    t2m[1, 2, 0, 0] = np.nan       # NaN is the _FillValue: two missing cells
    t2m[3, 7, 4, 2] = np.nan
    rng = np.random.default_rng(5)
    raw = rng.integers(-3000, 3000, size=(N, C, H, W)).astype(np.int16)
    decoded = raw.astype(np.float64) * 0.01 + 10.0
    decoded[0, 1, 2, :] = np.nan   # -> -9999 on disk
    decoded[3, 4, 0, 0] = np.nan
    ds = xr.Dataset(
        {
            "t2m": (("time", "channel", "y", "x"), t2m,
                    {"units": "K", "long_name": "2 m temperature"}),
            "counts": (("time", "channel", "y", "x"), decoded,
                       {"units": "1", "long_name": "packed counts",
                        "valid_range": np.array([-5000, 5000], dtype=np.int16)}),
        },
        coords={
            "time": ("time", np.array(["2000-01-01T00", "2000-01-01T06", "2000-01-01T12",
                                       "2000-01-01T18"], dtype="datetime64[ns]")),
            "channel": ("channel", np.arange(C, dtype=np.int32)),
            "y": ("y", np.linspace(0, 400, H)),
            "x": ("x", np.linspace(0, 200, W)),
            "lat": (("y", "x"), np.arange(H * W, dtype=np.float64).reshape(H, W) / 10),
        },
        attrs={"title": "gnorm corpus: xarray producer", "Conventions": "CF-1.8",
               "source": "synthetic"},
    )
    encoding = {
        "t2m": {"dtype": "float32", "_FillValue": np.float32(np.nan)},
        "counts": {"dtype": "int16", "scale_factor": 0.01, "add_offset": 10.0, "_FillValue": np.int16(-9999)},
        "time": {"units": "hours since 2000-01-01", "calendar": "proleptic_gregorian"},
    }
    return ds, encoding


def make_xarray(engine):
    name = "xr_%s.nc" % engine
    ds, enc = xarray_dataset()
    ds.to_netcdf(path(name), engine=engine, encoding=enc)
    entry(name, {"/t2m": "<f4", "/counts": "<f4"}, True,
          "xarray %s to_netcdf(engine=%r) (%s)" % (xr.__version__, engine,
                                                     "h5netcdf %s" % __import__("h5netcdf").__version__
                                                     if engine == "h5netcdf" else "netCDF4 %s" % netCDF4.__version__),
          "xarray output: dimension coordinates incl. CF time, a 2-D auxiliary coordinate (lat, "
          "'coordinates' attribute), float32 var with NaN _FillValue and 2 NaN cells, int16 packed "
          "var (scale_factor/add_offset/_FillValue=-9999/valid_range) with 4 fill cells",
          "/counts is packed int16: OUTPUT stores float32, drops scale_factor/add_offset/valid_range, "
          "_FillValue becomes float32 -9999 and the fill cells stay -9999. Statistics are on the "
          "raw stored integers (affine-invariant). /t2m: NaN equals its NaN _FillValue, so the NaN "
          "cells are fill (masked) and stay NaN; reference_apply.py only handles /t2m "
          "(same type).")


# --------------------------------------------------------------------------- ncgen

def make_ncgen(kind, name):
    rng = np.random.default_rng(6)
    data = tensor(7).ravel()
    data_txt = []
    for i, v in enumerate(data):
        data_txt.append("_" if i in (5, 6, 100, 101, 102) else "%.7g" % v)   # _ = fill
    flags = rng.integers(0, 200, size=N * C * H * W)
    flags_txt = ["_" if i in (0, 1, 479) else str(v) for i, v in enumerate(flags)]
    big = ("gnorm-dense-attribute-" * 3300)[:70000]   # 70000 chars > 64 KiB: dense attribute storage
    cdl = """netcdf %s {
dimensions:
	time = UNLIMITED ; // (%d currently)
	channel = %d ;
	y = %d ;
	x = %d ;
variables:
	double time(time) ;
		time:units = "days since 2000-01-01" ;
	int channel(channel) ;
	float y(y) ;
	float x(x) ;
	float field(time, channel, y, x) ;
		field:long_name = "ncgen float variable with fill cells" ;
		field:_FillValue = -999.f ;
		field:_ChunkSizes = 2, 8, 5, 3 ;
		field:_DeflateLevel = 2 ;
		field:_Shuffle = "true" ;
	short flags(time, channel, y, x) ;
		flags:long_name = "integer variable with _FillValue (becomes float32)" ;
		flags:_FillValue = -1s ;
		flags:description = "%s" ;
	float other(channel, y) ;
		other:note = "not normalized" ;

// global attributes:
		:title = "gnorm corpus: ncgen -k %s" ;
		:history = "created by ncgen from Fixtures/make_corpus.py\\n" ;
		:big = "%s" ;
data:

 time = 0, 1, 2, 3 ;

 channel = %s ;

 y = %s ;

 x = %s ;

 field = %s ;

 flags = %s ;

 other = %s ;
}
""" % (name[:-3], N, C, H, W, "x" * 200 if kind == "nc4" else "y" * 10, kind,
       big if kind == "nc4" else "small", ", ".join(str(i) for i in range(C)),
       ", ".join(str(v) for v in np.linspace(0, 400, H)), ", ".join(str(v) for v in np.linspace(0, 200, W)),
       ", ".join(data_txt), ", ".join(flags_txt), ", ".join("%.3f" % v for v in rng.standard_normal(C * H)))
    cdl_path = path(name[:-3] + ".cdl.tmp")
    with open(cdl_path, "w") as f:
        f.write(cdl)
    subprocess.run(["ncgen", "-k", kind, "-o", path(name), cdl_path], check=True)
    os.remove(cdl_path)
    entry(name, {"/field": "<f4", "/flags": "<f4"}, True, "ncgen -k %s (netCDF-C, Debian netcdf-bin)" % kind,
          ("netCDF-4" if kind == "nc4" else "netCDF-4 classic model (_nc3_strict)")
          + " written by netCDF-C itself: unlimited dim, deflate+shuffle chunking from CDL, "
          "float _FillValue with 5 fill cells, int16 with _FillValue=-1 (3 fill cells; becomes float32 "
          "with _FillValue -1.0f, not packed)"
          + (", a 70000-byte global attribute (dense attribute storage)" if kind == "nc4" else ""),
          "/other must stay identical; history gets a line appended")


# --------------------------------------------------------------------------- h5py

USERBLOCK = (b"GNORM-CORPUS USER BLOCK v1\n" + b"This 512-byte user block must survive gnorm apply.\n")


def make_external_target():
    name = "h5py_external_target.h5"
    with h5py.File(path(name), "w") as f:
        d = f.create_dataset("payload", data=tensor(8))
        d.attrs["role"] = "target of /ext in h5py_structure.h5"
    entry(name, {"/payload": "<f4"}, False, "h5py %s" % h5py.__version__,
          "the target of an external link from h5py_structure.h5; a plain contiguous float32 dataset")


def make_structure():
    """User block, track_order, all link kinds, committed types, references, dimension scales, fill values."""
    name = "h5py_structure.h5"
    ub = USERBLOCK + bytes(range(256)) * 2
    ub = ub[:512]
    with h5py.File(path(name), "w", userblock_size=512, track_order=True) as f:
        # root attributes in non-alphabetical creation order, mixed types
        f.attrs["zeta"] = np.int32(7)
        f.attrs["alpha"] = "vlen utf-8 string ∑"
        f.attrs.create("mid_fixed", np.bytes_("fixed ascii"), dtype="S11")
        f.attrs["empty"] = h5py.Empty("f8")
        f.attrs["array"] = np.arange(6, dtype=">i2").reshape(2, 3)

        types = f.create_group("types", track_order=True)
        types["celsius"] = np.dtype("<f4")
        types["pair"] = np.dtype([("a", "<i4"), ("b", "<f8")])
        reading = types.create_dataset("reading", data=np.arange(5, dtype=np.float32), dtype=types["celsius"])
        pairs = types.create_dataset("pairs", (3,), dtype=types["pair"])
        pairs[...] = np.array([(1, 1.5), (2, 2.5), (3, 3.5)], dtype=pairs.dtype)

        data = f.create_group("data", track_order=True)
        x = data.create_dataset("x", data=tensor(9), chunks=(2, C, H, W), fillvalue=np.float32(np.nan),
                                track_order=True)
        x.attrs["units"] = "K"
        x.attrs["b_second"] = np.float64(2.0)
        x.attrs["a_third"] = np.array([1, 2, 3], dtype=np.uint8)
        x.attrs.create("in_celsius", np.float32(21.5), dtype=types["celsius"])  # attribute of a committed type
        z = data.create_dataset("z", data=tensor(10), dtype=types["celsius"], track_order=True)
        z.attrs["note"] = "normalized dataset whose type is the committed /types/celsius"
        aux = data.create_dataset("aux", shape=(N, C, H, W), dtype="<f8", chunks=(1, C, H, W), fillvalue=-1.0,
                                  track_order=True)
        aux[0:2] = tensor(11, shape=(2, C, H, W), dtype=np.float64)   # chunks 2, 3 never written: fill
        scales = {}
        for i, (dn, n) in enumerate((("n", N), ("c", C), ("h", H), ("w", W))):
            s = data.create_dataset(dn, data=np.arange(n, dtype=np.float64) * (i + 1))
            s.make_scale("dim_" + dn)
            x.dims[i].attach_scale(s)
            aux.dims[i].attach_scale(s)
            scales[dn] = s
        x.dims[1].label = "channel"
        data["x_alias"] = x                         # hard link: a second name of the normalized dataset
        f["alias_group"] = data                     # hard link to a group: /alias_group/x is /data/x
        f["soft_x"] = h5py.SoftLink("/data/x")
        f["soft_dangling"] = h5py.SoftLink("/does/not/exist")
        f["ext"] = h5py.ExternalLink("h5py_external_target.h5", "/payload")

        refs = f.create_group("refs", track_order=True)
        objrefs = refs.create_dataset("objrefs", data=[x.ref, data.ref, types["celsius"].ref, aux.ref, z.ref],
                                      dtype=h5py.ref_dtype)
        regs = refs.create_dataset("regrefs", (3,), dtype=h5py.regionref_dtype)
        regs[0] = x.regionref[0, 0:2, 1:3, :]
        regs[1] = aux.regionref[1, ::2, 0, 0:2]
        regs[2] = scales["c"].regionref[2:5]
        refs.attrs["target"] = x.ref
        refs.attrs["region"] = x.regionref[3, 4:8, :, 1]
        refs.attrs.create("many", [aux.ref, x.ref, f.ref], dtype=h5py.ref_dtype)
        x.attrs["see_also"] = aux.ref
        objrefs.attrs["self"] = objrefs.ref

        unordered = f.create_group("unordered")     # no creation-order tracking: name order
        unordered.attrs["b"] = 1
        unordered.attrs["a"] = 2
        unordered.create_dataset("k2", data=np.arange(4, dtype="<u2"))
        unordered.create_dataset("k1", data=np.array([b"ab", b"cd"], dtype="S2"))
        unordered.create_dataset("scalar", data=np.float64(3.25))
        unordered.create_dataset("vlen_strings", data=["α", "beta", ""], dtype=h5py.string_dtype())
    with open(path(name), "r+b") as fh:
        fh.write(ub)
    entry(name, {"/data/x": "<f4", "/data/z": "<f4"}, False, "h5py %s" % h5py.__version__,
          "512-byte user block; track_order root/groups/datasets (links and attributes in "
          "non-alphabetical creation order) and a group without (name order); hard link second "
          "name /data/x_alias and hard-linked group /alias_group; soft link, dangling soft link, "
          "external link (to h5py_external_target.h5); committed types /types/celsius (used by "
          "datasets /types/reading, /data/z and attribute /data/x@in_celsius) and a committed "
          "compound /types/pair; object references and region references in datasets and attributes "
          "(pointing at /data/x, groups, types, root); dimension scales attached to two 4-D datasets "
          "(DIMENSION_LIST / REFERENCE_LIST) and a dimension label; NaN fill value on /data/x; "
          "fill value -1 on /data/aux with unwritten chunks; Empty, fixed/vlen string, big-endian "
          "int attributes",
          "-d /data/x -d /data/z. /data/x_alias and /alias_group/x are the same object and must stay so")


def make_bigendian():
    name = "h5py_bigendian.h5"
    with h5py.File(path(name), "w") as f:
        be = f.create_group("be")
        x = be.create_dataset("x", data=tensor(12, shape=(N, C, H, W)).transpose(0, 2, 3, 1), dtype=">f4",
                              chunks=(1, H, W, C), compression="gzip", fillvalue=np.float32(-5))
        x.attrs["byte_order"] = "big"
        be.create_dataset("keep", data=np.linspace(-1, 1, 24).reshape(2, 3, 4), dtype=">f8")
        le = f.create_group("le")
        le.create_dataset("x", data=tensor(13, shape=(N, C, H, W)).transpose(0, 2, 3, 1), dtype="<f4")
        f.create_dataset("mixed_attr_holder", data=0).attrs.create("be_attr", np.arange(3), dtype=">f8")
    entry(name, {"/be/x": ">f4", "/le/x": "<f4"}, False, "h5py %s" % h5py.__version__,
          "channels-last layout (nhwc) on big-endian '>f4' (gzip chunked, fill value -5) and "
          "little-endian float32; a big-endian float64 dataset and attribute left alone",
          "--layout nhwc -g 4; /be/x must stay '>f4' (big-endian) under --dtype same", layout="nhwc")


def make_dense_attrs():
    name = "h5py_dense_attrs.h5"
    with h5py.File(path(name), "w", libver=("v108", "v110"), track_order=True) as f:
        f.attrs["big_text"] = np.bytes_(("root-attribute-over-64-KiB;" * 2600)[:70000])
        x = f.create_dataset("x", data=tensor(14), chunks=(1, C, H, W), track_order=True)
        for i in range(20):   # > 8 attributes: dense storage, and creation order != name order
            x.attrs["attr_%02d" % ((i * 7) % 20)] = np.int64(i)
        x.attrs["big_array"] = np.arange(9000, dtype=np.float64)   # 72000 bytes
        f.create_dataset("keep", data=np.arange(12, dtype=np.int32).reshape(3, 4)).attrs["tiny"] = 1
    entry(name, {"/x": "<f4"}, False, "h5py %s, libver=('v108','v110')" % h5py.__version__,
          "attributes > 64 KiB (a 70000-byte fixed string on the root, a 72000-byte float64 array on /x) "
          "and 21 attributes on /x in creation order 0,7,14,1,... (dense attribute storage, "
          "object header v2)",
          "the large attributes must survive byte for byte, in the same order")


def make_vds():
    name = "h5py_vds.h5"
    with h5py.File(path(name), "w") as f:
        a = f.create_dataset("src/a", data=tensor(15, shape=(2, C, H, W)))
        b = f.create_dataset("src/b", data=tensor(16, shape=(2, C, H, W)) + 100)
        for vname in ("vds", "vds_keep"):
            layout = h5py.VirtualLayout(shape=(N, C, H, W), dtype="<f4")
            layout[0:2] = h5py.VirtualSource(".", "src/a", shape=a.shape)
            layout[2:4] = h5py.VirtualSource(".", "src/b", shape=b.shape)
            v = f.create_virtual_dataset(vname, layout, fillvalue=np.float32(-7))
            v.attrs["note"] = "virtual: rows 0-1 from /src/a, 2-3 from /src/b"
    entry(name, {"/vds": "<f4"}, False, "h5py %s" % h5py.__version__,
          "a virtual dataset mapping two sources (same file, '.'); a second VDS /vds_keep on the same "
          "sources that is not normalized",
          "OUTPUT's /vds becomes a regular dataset (SPEC §3); /src/a, /src/b and /vds_keep (still "
          "virtual) must be unchanged - gnorm never writes to VDS sources")


def q(x):
    """Quantized to multiples of 1/8: the low mantissa bytes are zero, so every filter really compresses
    (random floats are incompressible and lzf/bz2 then store chunks raw, exercising nothing)."""
    return (np.round(x.astype(np.float64) * 8) / 8).astype(x.dtype)


def make_filters():
    name = "h5py_filters.h5"
    with h5py.File(path(name), "w") as f:
        ck = (2, C, H, W)
        f.create_dataset("contiguous", data=tensor(17))
        f.create_dataset("compact", data=tensor(18, dtype=np.float64),
                         dcpl=_compact_dcpl((N, C, H, W), np.float64))
        f.create_dataset("gzip_shuffle", data=q(tensor(19)), chunks=ck, compression="gzip", compression_opts=6,
                         shuffle=True)
        f.create_dataset("fletcher32", data=tensor(20), chunks=ck, fletcher32=True)
        f.create_dataset("blosc", data=q(tensor(22)), chunks=ck,
                         **hdf5plugin.Blosc(cname="lz4", clevel=5, shuffle=hdf5plugin.Blosc.SHUFFLE))
        f.create_dataset("lz4", data=q(tensor(23)), chunks=ck, **hdf5plugin.LZ4())
        f.create_dataset("bz2", data=q(tensor(24)), chunks=ck, **hdf5plugin.BZip2(blocksize=9))
        f.create_dataset("f16", data=q(tensor(25, dtype=np.float16)), chunks=ck, compression="gzip")
        f.create_dataset("int16_gzip", data=(tensor(26) * 50).astype(np.int16), chunks=ck, compression="gzip",
                         shuffle=True)
        keep = f.create_group("keep")
        keep.create_dataset("blosc", data=q(tensor(27)), chunks=ck,
                            **hdf5plugin.Blosc(cname="zstd", clevel=3, shuffle=hdf5plugin.Blosc.BITSHUFFLE))
        keep.create_dataset("scaleoffset", data=np.arange(40, dtype=np.int32).reshape(4, 10), chunks=(2, 10),
                            scaleoffset=0)
        for n in ("gzip_shuffle", "blosc", "lz4", "bz2", "f16", "int16_gzip", "keep/blosc"):
            assert f[n].id.get_storage_size() < f[n].nbytes, "%s does not compress" % n
    entry(name, {"/contiguous": "<f4", "/compact": "<f8", "/gzip_shuffle": "<f4", "/fletcher32": "<f4",
                 "/blosc": "<f4", "/lz4": "<f4", "/bz2": "<f4", "/f16": "<f2",
                 "/int16_gzip": "<f4"}, False, "h5py %s + hdf5plugin %s" % (h5py.__version__, hdf5plugin.version),
          "storage layouts contiguous / compact (f64) / chunked, and filters gzip+shuffle, fletcher32, "
          "blosc-lz4 (32001), lz4 (32004), bz2 (307), float16 gzip, int16 gzip+shuffle "
          "(-> float32); /keep/* (blosc-zstd bitshuffle, scaleoffset int32) not normalized. Filtered "
          "inputs are quantized to 1/8 so that every filter really compresses",
          "needs the filter plugins: Debian's /usr/lib/<multiarch>/hdf5/serial/plugins for the C "
          "tools and gnorm, `import hdf5plugin` for h5py. Each normalized dataset keeps its layout and "
          "filter pipeline; /int16_gzip becomes float32 with its chunks and gzip+shuffle")


def make_lzf():
    name = "h5py_lzf.h5"
    with h5py.File(path(name), "w") as f:
        f.create_dataset("lzf", data=q(tensor(21)), chunks=(2, C, H, W), compression="lzf", shuffle=True)
        f.create_dataset("keep_lzf", data=np.arange(100, dtype=np.int64), chunks=(10,), compression="lzf")
        for d in f.values():
            assert d.id.get_storage_size() < d.nbytes, "%s does not compress" % d.name
    entry(name, {"/lzf": "<f4"}, False, "h5py %s (its built-in lzf filter, id 32000)" % h5py.__version__,
          "h5py's own lzf compression (shuffle+lzf on a quantized float32, and an int64 /keep_lzf left alone)",
          "Debian's hdf5-plugin-lzf (liblzf_filter.so) is under-linked (undefined symbol lzf_decompress): "
          "HDF5 C tools and gnorm cannot read lzf chunks unless liblzf is preloaded "
          "(LD_PRELOAD=/usr/lib/<multiarch>/liblzf.so.1 from package liblzf1); kept in its own file so "
          "the other filters are testable without it")


def _compact_dcpl(shape, dtype):
    dcpl = h5py.h5p.create(h5py.h5p.DATASET_CREATE)
    dcpl.set_layout(h5py.h5d.COMPACT)
    return dcpl


# --------------------------------------------------------------------------- main

def verify():
    verify_files(MANIFEST, path)


def main():
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    make_nc4_python()
    make_xarray("netcdf4")
    make_xarray("h5netcdf")
    make_ncgen("nc4", "ncgen_nc4.nc")
    make_ncgen("nc7", "ncgen_classic.nc")
    make_external_target()
    make_structure()
    make_bigendian()
    make_dense_attrs()
    make_vds()
    make_filters()
    make_lzf()
    verify()
    write_manifest(path("manifest.json"),
                   "written by Fixtures/make_corpus.py; read by Fixtures/check_output.py "
                   "--manifest-entry NAME. expected_dtype is numpy's dtype.str (byte order "
                   "included) of the normalized dataset in OUTPUT under --dtype same.", MANIFEST)
    with open(path("README.md"), "w") as f:
        f.write("# gnorm test corpus (issue 8)\n\nWritten by `python3 Fixtures/make_corpus.py`; "
                "checked with `python3 Fixtures/check_output.py INPUT OUTPUT --manifest-entry NAME`; "
                "the checker is validated by `python3 Fixtures/run_controls.py [--gnorm PATH]`. "
                "Settings per file are in manifest.json.\n\n")
        for e in MANIFEST:
            f.write("## %s\n\n- producer: %s\n- normalize: `%s -g %d --layout %s`%s\n- exercises: %s\n"
                    % (e["name"], e["producer"], " ".join("-d " + d["path"] for d in e["datasets"]),
                       e["groups"], e["layout"], " (netCDF)" if e["netcdf"] else "", e["exercises"]))
            f.write("- expected dtypes: %s\n" % ", ".join("%s %s" % (d["path"], d["expected_dtype"])
                                                        for d in e["datasets"]))
            if e["notes"]:
                f.write("- notes: %s\n" % e["notes"])
            f.write("\n")
    total = sum(os.path.getsize(path(n)) for n in os.listdir(OUT))
    print("wrote %d files, %d bytes, to %s" % (len(os.listdir(OUT)), total, OUT))


if __name__ == "__main__":
    main()
