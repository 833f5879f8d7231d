#!/usr/bin/env python3
"""Validates Fixtures/check_output.py both ways, and optionally runs a gnorm binary on the corpus.

    python3 Fixtures/run_controls.py [--gnorm PATH] [--keep DIR]
    python3 Fixtures/run_controls.py --formats-only --gnorm PATH     (the test suite's run)

Reference control: the checker's float64 reference (check_output.reference) against PyTorch's
group_norm/batch_norm results in Fixtures/expected.h5 (Fixtures/generate.py): the positive
control's outputs come from that same reference, so this is what ties them to torch.
Positive control: Fixtures/reference_apply.py on every corpus file, with the datasets whose type
stays (the checker must pass). Negative controls: files derived from a passing output with one
known defect each (the checker must fail, naming it). With --gnorm: `gnorm apply` on every
corpus file with the manifest's settings, then the checker; its findings are listed per file;
and the format negative controls: gnorm's passing OUTPUT of a Fixtures/formats file with one
planted defect each that the format's rules or its own tool (check_readers.py) must catch.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")
sys.path.insert(0, HERE)
import check_output as co  # noqa: E402


def manifest():
    with open(os.path.join(CORPUS, "manifest.json")) as f:
        return json.load(f)["files"]


def same_type_datasets(e):
    with h5py.File(os.path.join(CORPUS, e["name"]), "r") as f:
        return [d["path"] for d in e["datasets"] if f[d["path"]].dtype.kind == "f"
                and np.dtype(d["expected_dtype"]) == f[d["path"]].dtype]


def run_check(inp, out, entry, datasets=None, extra=()):
    args = [sys.executable, os.path.join(HERE, "check_output.py"), inp, out, "--manifest-entry", entry]
    for d in datasets or []:
        args += ["-d", d]
    args += list(extra)
    r = subprocess.run(args, capture_output=True, text=True)
    lines = (r.stdout + r.stderr).strip().splitlines()
    return r.returncode, lines


def system_hdf5_reads_lzf():
    """Debian's hdf5-plugin-lzf is under-linked (undefined symbol lzf_decompress) unless liblzf is preloaded."""
    r = subprocess.run(["h5dump", "-d", "/keep_lzf", os.path.join(CORPUS, "h5py_lzf.h5")], capture_output=True)
    return r.returncode == 0


def reference_output(tmp, e, datasets):
    inp = os.path.join(CORPUS, e["name"])
    out = os.path.join(tmp, e["name"])
    args = [sys.executable, os.path.join(HERE, "reference_apply.py"), inp, out, "--manifest-entry", e["name"]]
    for d in datasets:
        args += ["-d", d]
    subprocess.run(args, check=True)
    return inp, out


# Cases of Fixtures/expected.h5 computed by torch (generate.py), with the options they used.
TORCH_CASES = {
    "seed": co.Options(groups=2), "layer": co.Options(mode="layer"),
    "instance": co.Options(mode="instance"), "nhwc": co.Options(groups=4, layout="nhwc"),
    "f64": co.Options(groups=4), "batch": co.Options(mode="batch"),
    "batch_nhwc": co.Options(mode="batch", layout="nhwc"), "rank2": co.Options(groups=2),
}


def reference_control():
    print("== reference control: check_output.reference against torch (Fixtures/expected.h5)")
    ok = True
    with h5py.File(os.path.join(HERE, "cases.h5"), "r") as cases, \
            h5py.File(os.path.join(HERE, "expected.h5"), "r") as expected:
        for name, opts in TORCH_CASES.items():
            if opts is None:
                continue
            x = cases[name][...]
            y, mean, var = co.reference(x, opts, np.zeros(x.shape, bool))
            torch_y = expected[name]["y"][...].astype(np.float64)
            worst = float(np.max(np.abs(y - torch_y)))
            stats = np.allclose(mean.ravel(), expected[name]["mean"][...].ravel(), rtol=1e-12, atol=1e-12) and \
                np.allclose(var.ravel(), expected[name]["var"][...].ravel(), rtol=1e-12, atol=1e-12)
            good = worst <= 1e-12 and stats
            ok &= good
            print("%-12s max |y - torch| %.1e, statistics %s  %s" % (name, worst, "equal" if stats else "DIFFER",
                                                                  "ok" if good else "FAILED"))
    return ok


def positive(tmp):
    print("== positive control: reference_apply.py (same-type datasets) -> check_output.py must pass")
    ok = True
    for e in manifest():
        ds = same_type_datasets(e)
        inp, out = reference_output(tmp, e, ds)
        rc, lines = run_check(inp, out, e["name"], ds)
        env = e["name"] == "h5py_lzf.h5" and not system_hdf5_reads_lzf()
        print("%-26s rc=%d  -d %s%s" % (e["name"], rc, " -d ".join(ds),
                                      "  (not counted: the system HDF5 cannot read lzf here)" if env else ""))
        for ln in lines:
            print("    " + ln)
        ok &= rc == 0 or env
    return ok


# ---------------------------------------------------------------- negative controls: one defect each

def neg_h5py_copy(src, dst):
    """rebuild the passing output object by object with h5py (Group.copy) into a new file"""
    with h5py.File(src, "r") as fi, h5py.File(dst, "w", track_order=True) as fo:
        for name in fi:
            try:
                fi.copy(name, fo, name=name)
            except (KeyError, RuntimeError):   # the dangling soft link: nothing to copy
                pass
        for k in fi.attrs:
            fo.attrs[k] = fi.attrs[k]


def neg_attr_reordered(src, dst):
    """delete and re-create attribute 'units' of /data/x (creation order tracked): it moves last"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        a = f["data/x"]
        v = a.attrs["units"]
        del a.attrs["units"]
        a.attrs["units"] = v


def neg_ref_retargeted(src, dst):
    """/refs/objrefs[3] pointed at /data/aux; point it at /types/reading"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        f["refs/objrefs"][3] = f["types/reading"].ref


def neg_one_ulp(src, dst):
    """one element of the non-normalized /data/aux one ulp up"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        d = f["data/aux"]
        v = d[0, 0, 0, 0]
        d[0, 0, 0, 0] = np.nextafter(v, np.inf)


def neg_userblock_dropped(src, dst):
    """h5unjam: the same file without its user block"""
    subprocess.run(["h5unjam", "-i", src, "-o", dst], check=True, capture_output=True)


def neg_value_off(src, dst):
    """one normalized value of /data/x off by 1e-3"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        f["data/x"][1, 3, 2, 1] += np.float32(1e-3)


def neg_fill_cell_lost(src, dst):
    """nc4_python: a fill cell of /precip overwritten by 0"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        f["precip"][0, 0, 0, 0] = 0


def neg_history_not_appended(src, dst):
    """nc4_python: history left as in INPUT"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f, h5py.File(os.path.join(CORPUS, "nc4_python.nc"), "r") as fi:
        f.attrs["history"] = fi.attrs["history"]


def neg_vlen_string_attr(src, dst):
    """ncgen_classic: gnorm_mode written as a vlen (NC_STRING) attribute, invalid in the classic model"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        a = f["field"].attrs
        kept = [(n, a[n]) for n in ("gnorm_groups", "gnorm_eps")]
        for n in ("gnorm_mode", "gnorm_groups", "gnorm_eps"):
            del a[n]
        a["gnorm_mode"] = "group"          # h5py writes str as a vlen UTF-8 string
        for n, v in kept:
            a[n] = v


def neg_be_to_le(src, dst):
    """h5py_bigendian: /be/x rewritten little-endian (same values)"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        d = f["be/x"]
        data, attrs = d[()], [(n, d.attrs[n]) for n in d.attrs]
        del f["be/x"]
        n = f["be"].create_dataset("x", data=data.astype("<f4"), chunks=(1, 5, 3, 8), compression="gzip",
                                   fillvalue=np.float32(-5))
        for k, v in attrs:
            n.attrs[k] = v


NEGATIVES = [
    ("h5py_structure.h5", neg_h5py_copy),
    ("h5py_structure.h5", neg_attr_reordered),
    ("h5py_structure.h5", neg_ref_retargeted),
    ("h5py_structure.h5", neg_one_ulp),
    ("h5py_structure.h5", neg_userblock_dropped),
    ("h5py_structure.h5", neg_value_off),
    ("nc4_python.nc", neg_fill_cell_lost),
    ("nc4_python.nc", neg_history_not_appended),
    ("ncgen_classic.nc", neg_vlen_string_attr),
    ("h5py_bigendian.h5", neg_be_to_le),
]


def negative(tmp):
    print("== negative controls: one defect each -> check_output.py must fail")
    ok = True
    entries = {e["name"]: e for e in manifest()}
    for name, fn in NEGATIVES:
        e = entries[name]
        ds = same_type_datasets(e)
        inp, good = reference_output(tmp, e, ds)
        bad = os.path.join(tmp, fn.__name__ + "-" + name)
        fn(good, bad)
        rc, lines = run_check(inp, bad, name, ds)
        print("%-26s %-26s rc=%d  (%s)" % (name, fn.__name__, rc, fn.__doc__.strip()))
        for ln in lines[:8]:
            print("    " + ln)
        if len(lines) > 8:
            print("    ... %d more" % (len(lines) - 8))
        ok &= rc == 1
    return ok


# beyond the manifest's settings: type changes (datasets replaced) and the other modes
EXTRA_GNORM = [
    ("h5py_structure.h5", ["--dtype", "f64"]),
    ("h5py_structure.h5", ["--dtype", "f16"]),
    ("h5py_vds.h5", ["--dtype", "f64"]),
    ("h5py_filters.h5", ["--dtype", "f16"]),
    ("nc4_python.nc", ["--mode", "batch"]),
    ("h5py_bigendian.h5", ["--mode", "instance"]),
    ("xr_netcdf4.nc", ["--no-mask"]),
]


def gnorm_runs(tmp, gnorm):
    print("== gnorm %s on the corpus (manifest settings) -> check_output.py" % gnorm)
    runs = [(e, []) for e in manifest()]
    entries = {e["name"]: e for e in manifest()}
    runs += [(entries[n], extra) for n, extra in EXTRA_GNORM]
    for k, (e, extra) in enumerate(runs):
        inp = os.path.join(CORPUS, e["name"])
        out = os.path.join(tmp, "gnorm-%d-%s" % (k, e["name"]))
        if os.path.exists(out):
            os.remove(out)
        mode = extra[extra.index("--mode") + 1] if "--mode" in extra else e["mode"]
        args = [gnorm, "apply", "-q", "--layout", e["layout"], "--eps", repr(e["eps"])]
        args += ["-g", str(e["groups"])] if mode == "group" else []
        args += extra if "--mode" in extra else extra + ["--mode", mode]
        for d in e["datasets"]:
            args += ["-d", d["path"]]
        r = subprocess.run(args + [inp, out], capture_output=True, text=True)
        label = "%s %s" % (e["name"], " ".join(extra))
        if r.returncode != 0:
            print("%-40s gnorm exit %d: %s" % (label, r.returncode, r.stderr.strip()[:300]))
            continue
        rc, lines = run_check(inp, out, e["name"], extra=extra)
        print("%-40s gnorm exit 0, checker rc=%d, %d problems" % (label, rc, len(lines)))
        for ln in lines[:12]:
            print("    " + ln[:240])
        if len(lines) > 12:
            print("    ... %d more" % (len(lines) - 12))


# ---------------------------------------------------------------- Fixtures/formats: planted defects

FORMATS = os.path.join(HERE, "formats")


def fneg_anndata_root_group(src, dst):
    """anndata: statistics moved from /uns/gnorm to /gnorm (read_h5ad fails on a root group)"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        f.move("uns/gnorm", "gnorm")


def fneg_matlab_class_kept(src, dst):
    """matlab: MATLAB_class of the float32 /img left 'int16' (mat73 would load the wrong class)"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        f["img"].attrs.modify("MATLAB_class", np.bytes_("int16"))


def fneg_quantize_kept(src, dst):
    """nc4_quantized: _QuantizeBitGroomNumberOfSignificantDigits left on the normalized /bitgroom"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        f["bitgroom"].attrs["_QuantizeBitGroomNumberOfSignificantDigits"] = np.int32(3)


def fneg_second_missing_value_normalized(src, dst):
    """ncgen_missing: a cell that held the second missing_value (-32768) written as a normalized value"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        f["v"][0, 0, 1] = np.float32(0.5)


def fneg_out_of_range_kept(src, dst):
    """ncgen_missing: the cell outside valid_range (5000) kept as 5000 (OUTPUT has no valid_range)"""
    shutil.copyfile(src, dst)
    with h5py.File(dst, "r+") as f:
        f["w"][0, 0, 2] = np.float32(5000)


FORMAT_NEGATIVES = [
    ("anndata.h5ad", fneg_anndata_root_group),
    ("matlab_v73.mat", fneg_matlab_class_kept),
    ("nc4_quantized.nc", fneg_quantize_kept),
    ("ncgen_missing.nc", fneg_second_missing_value_normalized),
    ("ncgen_missing.nc", fneg_out_of_range_kept),
]


def format_negative(tmp, gnorm):
    print("== format negative controls: gnorm's OUTPUT (must pass), then one defect each (must fail)")
    manifest_path = os.path.join(FORMATS, "manifest.json")
    with open(manifest_path) as f:
        entries = {e["name"]: e for e in json.load(f)["files"]}
    ok = True
    for name, fn in FORMAT_NEGATIVES:
        e = entries[name]
        inp = os.path.join(FORMATS, name)
        good = os.path.join(tmp, "formats-good-" + name)
        args = [gnorm, "apply", "-q", "-f", "-g", str(e["groups"])]
        for d in e["datasets"]:
            args += ["-d", d["path"]]
        subprocess.run(args + [inp, good], check=True)
        extra = ["--manifest", manifest_path]
        rc_good, _ = run_check(inp, good, name, extra=extra)
        bad = os.path.join(tmp, fn.__name__ + "-" + name)
        fn(good, bad)
        rc, lines = run_check(inp, bad, name, extra=extra)
        print("%-20s %-38s good rc=%d, defect rc=%d  (%s)" % (name, fn.__name__, rc_good, rc, fn.__doc__.strip()))
        for ln in lines[:6]:
            print("    " + ln[:200])
        ok &= rc_good == 0 and rc == 1
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gnorm")
    ap.add_argument("--keep", help="write outputs to this folder instead of a temporary one")
    ap.add_argument("--formats-only", action="store_true", help="only the format negative controls (needs --gnorm)")
    args = ap.parse_args()
    tmp = args.keep or tempfile.mkdtemp(prefix="gnorm-controls-")
    os.makedirs(tmp, exist_ok=True)
    if args.formats_only:
        ok = format_negative(tmp, args.gnorm)
        print("format negative controls %s" % ("PASSED" if ok else "FAILED"))
        if not args.keep:
            shutil.rmtree(tmp)
        return 0 if ok else 1
    shutil.copyfile(os.path.join(CORPUS, "h5py_external_target.h5"), os.path.join(tmp, "h5py_external_target.h5"))
    pos = reference_control() and positive(tmp)
    neg = negative(tmp)
    if args.gnorm:
        gnorm_runs(tmp, args.gnorm)
        neg = format_negative(tmp, args.gnorm) and neg
    print("positive control %s, negative controls %s" % ("PASSED" if pos else "FAILED",
                                                         "PASSED" if neg else "FAILED"))
    if not args.keep:
        shutil.rmtree(tmp)
    return 0 if pos and neg else 1


if __name__ == "__main__":
    sys.exit(main())
