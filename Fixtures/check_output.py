#!/usr/bin/env python3
"""Independent checker for issue 8: OUTPUT of `gnorm apply` is INPUT with only the normalized values changed.

    python3 Fixtures/check_output.py INPUT OUTPUT --manifest-entry NAME
    python3 Fixtures/check_output.py INPUT OUTPUT -d PATH [-d PATH]... -g G \
        [--layout nchw|nhwc] [--mode group|layer|instance|batch] [--eps E] [--no-mask] \
        [--dtype same|f16|f32|f64] [--no-tools] [--no-xarray]

Exit status 0 when OUTPUT honours SPEC §3; otherwise one line per problem on stdout and exit 1
(2 for a usage error). With --manifest-entry the settings come from Fixtures/corpus/manifest.json
(explicit flags override them). Uses only h5py, numpy, xarray and the HDF5/netCDF command-line
tools (h5diff, ncdump) - no gnorm code. Importable: check(input, output, Options) returns the list
of problems, and every check_* function below is usable on its own.

What is compared (INPUT vs OUTPUT):
  * user block (size and bytes) and the file creation properties;
  * a walk of every object reachable from "/" through hard links: per group the links in
    creation order where the group tracks it (else name order), their kind and target (soft:
    path, external: file and path, hard: object class); hard links to one object must remain
    one object (equality classes of object addresses, never raw addresses); OUTPUT may only
    add the link "/gnorm" (or the entry's stats_group, e.g. "gnorm" in /uns for AnnData);
  * per object: whether attribute creation order is tracked, attribute names in that order,
    attribute types exactly (H5Tequal, numpy dtype incl. byte order, string cset/padding,
    committed or not and which named type), dataspace class and shape, and values bitwise,
    with object references resolved to the object's canonical path and region references to
    (path, selection);
  * named (committed) datatypes: same type; datasets and attributes using them still share them;
  * every dataset that is not normalized: type, shape, maxshape, layout (contiguous/compact/
    chunked/virtual), chunks, filter pipeline (ids, flags, client data), fill value (defined or
    not, bitwise), fill/alloc time, external storage, VDS mappings, values bitwise (NaN-aware
    because bitwise), and `h5diff INPUT OUTPUT PATH PATH` exits 0 (not run where the dataset or
    its attributes hold references: h5diff follows them and compares the targets' data, which
    differ legitimately when a target is normalized, e.g. the REFERENCE_LIST of a scale);
  * every normalized dataset: same shape/maxshape; dtype as expected (--dtype same: the input
    type for floats with its byte order; float32 for integers); same layout, chunks and filter
    ids (client data too when the type is unchanged) - except that a virtual dataset must have
    become a regular one; a committed type stays the same named type when the type is
    unchanged; fill value kept or converted; attributes equal to INPUT's apart from the
    gnorm_mode/gnorm_groups/gnorm_eps additions (after the others) and the CF rules;
    DIMENSION_LIST resolving to the same scales; values against a float64 NumPy reference of
    SPEC §1; /gnorm/PATH/mean and /var (float64, (N, G) or (C,) for batch) against the
    reference statistics; the attributes of group /gnorm/PATH;
  * root attribute `history`: OUTPUT's starts with INPUT's (when there was one) and adds a
    line. It may stay at its place or move to the end of the root's attributes (netCDF-C and
    HDF5 rewrite a longer string attribute by delete + create); the other attributes keep their
    order;
  * netCDF files: `ncdump -h OUTPUT` works, its header equals INPUT's once history, gnorm_*,
    group gnorm and the CF-rule changes are taken out; xarray.open_dataset(OUTPUT, engine=e)
    for e in netcdf4, h5netcdf gives the same dims, coords, data_vars order and attrs.

Decisions (document here, since SPEC leaves them open):
  * A packed CF variable (integer with scale_factor/add_offset) is normalized on its stored
    numbers: raw integers converted to float64. Normalization is affine-invariant, so this
    equals normalizing the unpacked values, except for fill cells, which are excluded either
    way. The reference therefore computes on raw stored values with fill cells excluded.
    scale_factor, add_offset, valid_min, valid_max, valid_range, actual_range and netCDF's
    _Quantize... attributes go away from every normalized dataset; _FillValue / missing_value
    are converted to a new type; a MATLAB_class names the new type (single/double).
  * Fill cells: elements equal to the dataset's `_FillValue` or `missing_value` attribute
    (any of them when they are arrays); a NaN fill value matches NaN elements. They are left
    out of the statistics and OUTPUT holds what they held (converted to OUTPUT's type) there.
    Elements outside valid_range (valid_min/valid_max) are left out too, and OUTPUT holds the
    first fill marker there (NaN without one). --no-mask: all are data. A group with only fill
    cells has NaN statistics.
  * Statistics under /gnorm, or the manifest entry's stats_group (AnnData: /uns/gnorm); the
    entry's readers (check_readers.py) read OUTPUT back with the tool that wrote INPUT.
  * Tolerances: float32 output |y - ref| <= 1e-5 + 1e-5 |ref|; float16 within 1 ulp of
    ref.astype(float16); float64 1e-12 + 1e-12 |ref|. Statistics rtol 1e-9 (atol 1e-12).
  * Weight/bias (--weight/--bias), --mean/--var and --compression are not modelled: weight 1,
    bias 0, computed statistics, filters as in INPUT.
"""
import argparse
import glob
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field

import h5py
import hdf5plugin  # noqa: F401  (registers blosc/lz4/bz2/... for h5py)
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_MANIFEST = os.path.join(HERE, "corpus", "manifest.json")
CF_PACKING_ATTRS = ("scale_factor", "add_offset", "valid_min", "valid_max", "valid_range", "actual_range")
# netCDF-C's quantization attributes: normalized values are no longer quantized.
QUANTIZE_ATTRS = ("_QuantizeBitGroomNumberOfSignificantDigits", "_QuantizeGranularBitRoundNumberOfSignificantDigits",
                  "_QuantizeBitRoundNumberOfSignificantBits")
# Attributes that describe the raw values: removed from every normalized dataset (SPEC §3).
DROPPED_ATTRS = CF_PACKING_ATTRS + QUANTIZE_ATTRS
FILL_ATTRS = ("_FillValue", "missing_value")
GNORM_DSET_ATTRS = ("gnorm_mode", "gnorm_groups", "gnorm_eps")
GNORM_GROUP_ATTRS = ("mode", "groups", "eps", "layout", "source", "version")
LAYOUT_NAMES = {h5py.h5d.COMPACT: "compact", h5py.h5d.CONTIGUOUS: "contiguous", h5py.h5d.CHUNKED: "chunked",
                h5py.h5d.VIRTUAL: "virtual"}


@dataclass
class Options:
    datasets: list = field(default_factory=list)
    groups: int = 32
    layout: str = "nchw"
    mode: str = "group"
    eps: float = 1e-5
    mask: bool = True
    dtype: str = "same"
    expected_dtypes: dict = field(default_factory=dict)   # path -> numpy dtype str (from the manifest)
    netcdf: bool = None            # None: detect (_NCProperties or .nc)
    stats_group: str = "/gnorm"    # where OUTPUT holds the statistics (AnnData: /uns/gnorm)
    readers: list = field(default_factory=list)  # the writing tools that must read OUTPUT back
    tools: bool = True             # h5diff / ncdump
    xarray: bool = True


class Problems(list):
    def add(self, msg):
        self.append(msg)


# ============================================================================ walk

@dataclass
class Walk:
    """Everything reachable from '/' through hard links, named canonically (first path in link order)."""
    file: h5py.File
    canon: dict = field(default_factory=dict)      # addr -> canonical path
    kinds: dict = field(default_factory=dict)      # canonical path -> 'group' | 'dataset' | 'datatype'
    links: dict = field(default_factory=dict)      # group canonical path -> [(name, kind, detail)]
    aliases: dict = field(default_factory=dict)    # canonical path -> sorted list of hard-link paths
    order_tracked: dict = field(default_factory=dict)  # group canonical path -> bool


def addr_of(obj_or_id):
    oid = obj_or_id if isinstance(obj_or_id, h5py._objects.ObjectID) else obj_or_id.id
    return h5py.h5o.get_info(oid).addr


def link_order_tracked(group):
    return bool(group.id.get_create_plist().get_link_creation_order() & h5py.h5p.CRT_ORDER_TRACKED)


def link_names(group):
    """Link names in creation order where tracked, else in name order."""
    names = []
    idx = h5py.h5.INDEX_CRT_ORDER if link_order_tracked(group) else h5py.h5.INDEX_NAME
    group.id.links.iterate(lambda n: names.append(n.decode("utf-8", "surrogateescape")), idx_type=idx)
    return names


def obj_kind(obj):
    if isinstance(obj, h5py.Group):
        return "group"
    if isinstance(obj, h5py.Dataset):
        return "dataset"
    return "datatype"


def join(parent, name):
    return ("/" if parent == "/" else parent + "/") + name


def walk(f):
    w = Walk(f)
    root_addr = addr_of(f)
    w.canon[root_addr] = "/"
    w.kinds["/"] = "group"
    w.aliases["/"] = ["/"]
    queue = ["/"]
    while queue:
        gpath = queue.pop(0)
        g = f[gpath]
        w.order_tracked[gpath] = link_order_tracked(g)
        entries = []
        for name in link_names(g):
            lnk = g.get(name, getlink=True)
            full = join(gpath, name)
            if isinstance(lnk, h5py.SoftLink):
                entries.append((name, "soft", lnk.path))
            elif isinstance(lnk, h5py.ExternalLink):
                entries.append((name, "external", (lnk.filename, lnk.path)))
            else:
                obj = g[name]
                a = addr_of(obj)
                if a not in w.canon:
                    w.canon[a] = full
                    w.kinds[full] = obj_kind(obj)
                    w.aliases[full] = []
                    if isinstance(obj, h5py.Group):
                        queue.append(full)
                canon = w.canon[a]
                w.aliases[canon].append(full)
                entries.append((name, "hard", w.kinds[canon]))
        w.links[gpath] = entries
    for k in w.aliases:
        w.aliases[k] = sorted(w.aliases[k])
    return w


# ============================================================================ values, references, types

def describe_region(f, ref):
    space = h5py.h5r.get_region(ref, f.id)
    if space is None:
        return ("null-region",)
    return describe_selection(space)


def describe_selection(space):
    stype = space.get_select_type()
    if stype == h5py.h5s.SEL_HYPERSLABS:
        try:
            sel = ("hyperslab", space.get_select_hyper_blocklist().tolist())
        except Exception:  # noqa: BLE001   (unlimited VDS selections)
            sel = ("hyperslab", repr(space.get_regular_hyperslab()))
    elif stype == h5py.h5s.SEL_POINTS:
        sel = ("points", space.get_select_elem_pointlist().tolist())
    elif stype == h5py.h5s.SEL_ALL:
        sel = ("all",)
    else:
        sel = ("none",)
    try:
        dims = space.get_simple_extent_dims()
    except Exception:  # noqa: BLE001   (VDS source spaces may have unlimited/unknown extents)
        dims = None
    return sel + (dims,)


def resolve_ref(w, ref):
    if not ref:
        return ("null-ref",)
    try:
        obj = w.file[ref]
    except Exception as e:  # noqa: BLE001
        return ("unresolvable-ref", type(e).__name__)
    path = w.canon.get(addr_of(obj), "<unreachable %s>" % obj.name)
    if isinstance(ref, h5py.RegionReference):
        return ("region", path, describe_region(w.file, ref))
    return ("object", path)


def canon_value(w, v):
    """A comparable form: references resolved, numbers as (dtype, bytes) so NaN and -0 compare bitwise."""
    if isinstance(v, h5py.Reference):
        return resolve_ref(w, v)
    if isinstance(v, h5py.Empty):
        return ("empty", np.dtype(v.dtype).str)
    if isinstance(v, np.ndarray):
        if v.dtype.hasobject:
            return ("array", v.shape, tuple(canon_value(w, e) for e in v.ravel()))
        return ("array", v.dtype.str, v.shape, v.tobytes())
    if isinstance(v, np.void):
        if v.dtype.hasobject:
            return ("record",) + tuple(canon_value(w, v[n]) for n in v.dtype.names)
        return ("record", v.dtype.str, v.tobytes())
    if isinstance(v, np.generic):
        return ("scalar", v.dtype.str, v.tobytes())
    if isinstance(v, (bytes, str)):
        return v
    return repr(v)


def short(v, n=70):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "..."


def type_signature(w, tid):
    """Exact identity of an HDF5 type for comparison across files: encoded description + committed target."""
    committed = tid.committed()
    target = w.canon.get(addr_of(tid), "<unreachable>") if committed else None
    try:
        # H5Tencode refuses committed types: describe a transient copy instead
        desc = (tid.copy() if committed else tid).encode()
    except Exception:  # noqa: BLE001
        desc = None
    dt = tid.dtype
    info = h5py.check_string_dtype(dt)
    s = (str(dt.str) if dt.names is None else str(dt.descr), tid.get_class(), tid.get_size(),
         None if info is None else (info.encoding, info.length))
    try:
        order = tid.get_order()
    except Exception:  # noqa: BLE001
        order = None
    return {"sig": s, "order": order, "encoded": desc, "committed": committed, "named": target}


# ============================================================================ attributes

def attr_order_tracked(obj):
    plist = obj.id.get_create_plist()
    try:
        return bool(plist.get_attr_creation_order() & h5py.h5p.CRT_ORDER_TRACKED)
    except Exception:  # noqa: BLE001
        return False


def attr_names(obj):
    names = []
    idx = h5py.h5.INDEX_CRT_ORDER if attr_order_tracked(obj) else h5py.h5.INDEX_NAME
    h5py.h5a.iterate(obj.id, lambda n: names.append(n.decode("utf-8", "surrogateescape")), index_type=idx)
    return names


def attr_record(w, obj, name):
    aid = h5py.h5a.open(obj.id, name.encode("utf-8", "surrogateescape"))
    space = aid.get_space()
    rec = {"type": type_signature(w, aid.get_type()), "space": (space.get_simple_extent_type(),
                                                                space.get_simple_extent_dims())}
    try:
        rec["value"] = canon_value(w, obj.attrs[name])
    except Exception as e:  # noqa: BLE001
        rec["value"] = ("unreadable", type(e).__name__, str(e)[:60])
    return rec


def compare_attr(where, name, a, b, problems, compare_type=True):
    if compare_type:
        for k in ("sig", "order", "encoded", "committed", "named"):
            if a["type"][k] != b["type"][k]:
                problems.add("%s: attribute %r type differs (%s): %s vs %s" % (
                    where, name, k, short(a["type"][k]), short(b["type"][k])))
                break
        if a["space"] != b["space"]:
            problems.add("%s: attribute %r dataspace differs: %s vs %s" % (where, name, a["space"], b["space"]))
    if a["value"] != b["value"]:
        problems.add("%s: attribute %r value differs: %s vs %s" % (where, name, short(a["value"]), short(b["value"])))


def check_attributes(path, win, wout, problems, expected=None, ignore=()):
    """Attribute order (creation order where tracked), types and values. expected: a callable that
    maps INPUT's [(name, record)] to the expected OUTPUT list, for normalized datasets."""
    oi, oo = win.file[path], wout.file[path]
    where = path
    if attr_order_tracked(oi) != attr_order_tracked(oo):
        problems.add("%s: attribute creation order tracked %s in INPUT, %s in OUTPUT" % (
            where, attr_order_tracked(oi), attr_order_tracked(oo)))
    ni = [n for n in attr_names(oi) if n not in ignore]
    no = [n for n in attr_names(oo) if n not in ignore]
    ri = [(n, attr_record(win, oi, n)) for n in ni]
    ro = [(n, attr_record(wout, oo, n)) for n in no]
    if expected is not None:
        ri = expected(ri)
        if not attr_order_tracked(oo):
            ri = sorted(ri, key=lambda r: r[0].encode("utf-8", "surrogateescape"))
    names_i, names_o = [n for n, _ in ri], [n for n, _ in ro]
    if names_i != names_o:
        if sorted(names_i) == sorted(names_o):
            problems.add("%s: attribute order differs: %s vs %s" % (where, names_i, names_o))
        else:
            missing = [n for n in names_i if n not in names_o]
            extra = [n for n in names_o if n not in names_i]
            problems.add("%s: attributes differ: missing %s, unexpected %s" % (where, missing, extra))
    dout = dict(ro)
    for n, rec in ri:
        if rec is not None and n in dout:
            compare_attr(where, n, rec, dout[n], problems, compare_type=rec.get("type") is not None)


# ============================================================================ file level

def userblock(path):
    with h5py.File(path, "r") as f:
        size = f.userblock_size
    with open(path, "rb") as fh:
        return fh.read(size)


def check_userblock(inp, out, problems):
    a, b = userblock(inp), userblock(out)
    if len(a) != len(b):
        problems.add("user block: %d bytes in INPUT, %d in OUTPUT" % (len(a), len(b)))
    elif a != b:
        i = next(k for k in range(len(a)) if a[k] != b[k])
        problems.add("user block: content differs from byte %d" % i)


def check_file_properties(fin, fout, problems):
    pi, po = fin.id.get_create_plist(), fout.id.get_create_plist()
    for getter in ("get_userblock", "get_sizes", "get_version", "get_file_space_strategy",
                   "get_link_creation_order", "get_attr_creation_order"):
        a, b = getattr(pi, getter)(), getattr(po, getter)()
        if a != b:
            problems.add("file creation property %s: %s vs %s" % (getter[4:], a, b))


# ============================================================================ structure

def check_links(win, wout, problems, stats_base="/gnorm"):
    stats_parent, stats_name = stats_base.rsplit("/", 1)
    stats_parent = stats_parent or "/"
    for gpath, entries in win.links.items():
        if gpath not in wout.links:
            problems.add("%s: group missing in OUTPUT (or no longer reachable as the same group)" % gpath)
            continue
        out_entries = wout.links[gpath]
        if gpath == stats_parent:
            if stats_name not in [e[0] for e in out_entries]:
                problems.add("%s: missing in OUTPUT" % stats_base)
            out_entries = [e for e in out_entries if e[0] != stats_name]
        if win.order_tracked[gpath] != wout.order_tracked[gpath]:
            problems.add("%s: link creation order tracked %s in INPUT, %s in OUTPUT" % (
                gpath, win.order_tracked[gpath], wout.order_tracked[gpath]))
        ni, no = [e[0] for e in entries], [e[0] for e in out_entries]
        if ni != no:
            if sorted(ni) == sorted(no):
                problems.add("%s: link order differs: %s vs %s" % (gpath, ni, no))
            else:
                problems.add("%s: links differ: missing %s, unexpected %s" % (
                    gpath, [n for n in ni if n not in no], [n for n in no if n not in ni]))
        dout = {e[0]: e for e in out_entries}
        for e in entries:
            o = dout.get(e[0])
            if o is not None and o[1:] != e[1:]:
                problems.add("%s: link %r is %s %s in INPUT, %s %s in OUTPUT" % (
                    gpath, e[0], e[1], short(e[2], 50), o[1], short(o[2], 50)))


def check_hard_link_classes(win, wout, problems, stats_base="/gnorm"):
    """Names that are one object in INPUT must be one object in OUTPUT (and no more names)."""
    for canon, names in win.aliases.items():
        if canon.startswith(stats_base):
            continue
        out = wout.aliases.get(canon)
        if out is None:
            # reachable under another canonical name?
            alt = [c for c, ns in wout.aliases.items() if canon in ns]
            out = wout.aliases[alt[0]] if alt else None
        if out is None:
            problems.add("%s: object missing in OUTPUT" % canon)
        elif out != names:
            problems.add("%s: hard-link names of this object are %s in INPUT, %s in OUTPUT" % (canon, names, out))


def check_kinds(win, wout, problems):
    for p, k in win.kinds.items():
        ko = wout.kinds.get(p)
        if ko is not None and ko != k:
            problems.add("%s: %s in INPUT, %s in OUTPUT" % (p, k, ko))


def check_named_types(win, wout, problems):
    for p, k in win.kinds.items():
        if k != "datatype" or wout.kinds.get(p) != "datatype":
            continue
        a = type_signature(win, win.file[p].id)
        b = type_signature(wout, wout.file[p].id)
        if (a["sig"], a["encoded"]) != (b["sig"], b["encoded"]):
            problems.add("%s: named datatype differs: %s vs %s" % (p, a["sig"], b["sig"]))


# ============================================================================ datasets

def dcpl_record(d):
    dcpl = d.id.get_create_plist()
    layout = dcpl.get_layout()
    rec = {"layout": LAYOUT_NAMES.get(layout, layout)}
    rec["chunks"] = dcpl.get_chunk() if layout == h5py.h5d.CHUNKED else None
    filters = []
    for i in range(dcpl.get_nfilters()):
        code, flags, values, name = dcpl.get_filter(i)
        filters.append((code, flags, tuple(values)))
    rec["filters"] = filters
    rec["fill_defined"] = dcpl.fill_value_defined()
    rec["fill_time"] = dcpl.get_fill_time()
    rec["alloc_time"] = dcpl.get_alloc_time()
    rec["external"] = [dcpl.get_external(i) for i in range(dcpl.get_external_count())]
    if layout == h5py.h5d.VIRTUAL:
        vm = []
        for i in range(dcpl.get_virtual_count()):
            vs, ss = dcpl.get_virtual_vspace(i), dcpl.get_virtual_srcspace(i)
            vm.append((dcpl.get_virtual_filename(i), dcpl.get_virtual_dsetname(i),
                       describe_selection(vs), describe_selection(ss)))
        rec["virtual"] = vm
    return rec


def fill_bytes(d):
    """The dataset's fill value property as bytes of its own type (None when the type has no fixed size)."""
    if d.dtype.hasobject:
        return None
    arr = np.zeros((1,), dtype=d.dtype)
    try:
        d.id.get_create_plist().get_fill_value(arr)
    except Exception:  # noqa: BLE001
        return None
    return arr.tobytes()


def read_all(d):
    try:
        return d[()]
    except Exception as e:  # noqa: BLE001
        return ("unreadable", type(e).__name__, str(e)[:80])


def check_plain_dataset(path, win, wout, problems):
    di, do = win.file[path], wout.file[path]
    ti, to = type_signature(win, di.id.get_type()), type_signature(wout, do.id.get_type())
    for k in ("sig", "order", "encoded", "committed", "named"):
        if ti[k] != to[k]:
            problems.add("%s: dataset type differs (%s): %s vs %s" % (path, k, short(ti[k]), short(to[k])))
            break
    if di.shape != do.shape or di.maxshape != do.maxshape:
        problems.add("%s: shape/maxshape %s/%s vs %s/%s" % (path, di.shape, di.maxshape, do.shape, do.maxshape))
    ri, ro = dcpl_record(di), dcpl_record(do)
    for k in ri:
        if ri[k] != ro.get(k):
            problems.add("%s: %s differs: %s vs %s" % (path, k, short(ri[k]), short(ro.get(k))))
    if fill_bytes(di) != fill_bytes(do):
        problems.add("%s: fill value differs: %s vs %s" % (path, fill_bytes(di), fill_bytes(do)))
    vi, vo = canon_value(win, read_all(di)), canon_value(wout, read_all(do))
    if vi != vo:
        problems.add("%s: values differ%s" % (path, first_difference(di, do)))


_WALKS = {}


def walk_cache(f):
    key = f.id.id
    if key not in _WALKS:
        _WALKS[key] = walk(f)
    return _WALKS[key]


def first_difference(di, do):
    try:
        a, b = np.asarray(di[()]), np.asarray(do[()])
        if a.shape != b.shape or a.dtype != b.dtype:
            return ""
        if a.dtype.hasobject:
            fi, fo = di.file, do.file
            wi, wo = walk_cache(fi), walk_cache(fo)
            ca = [canon_value(wi, v) for v in a.ravel()]
            cb = [canon_value(wo, v) for v in b.ravel()]
            bad = [k for k in range(len(ca)) if ca[k] != cb[k]]
            if not bad:
                return ""
            i = np.unravel_index(bad[0], a.shape)
            return " (%d elements; first at %s: %s vs %s)" % (len(bad), tuple(int(k) for k in i),
                                                           short(ca[bad[0]], 60), short(cb[bad[0]], 60))
        av = a.reshape(-1).view(np.uint8).reshape(a.size, -1) if a.size else a
        bv = b.reshape(-1).view(np.uint8).reshape(b.size, -1) if b.size else b
        bad = np.nonzero((av != bv).any(axis=1))[0]
        if len(bad) == 0:
            return ""
        i = np.unravel_index(bad[0], a.shape)
        return " (%d elements; first at %s: %r vs %r)" % (len(bad), tuple(int(k) for k in i), a[i], b[i])
    except Exception:  # noqa: BLE001
        return ""


def has_references(dt):
    """True when a dtype holds object/region references (directly, in fields or in vlen elements)."""
    if h5py.check_ref_dtype(dt) is not None:
        return True
    if dt.names:
        return any(has_references(dt.fields[n][0]) for n in dt.names)
    base = h5py.check_vlen_dtype(dt)
    if base is not None and base is not dt and not isinstance(base, type):
        return has_references(np.dtype(base))
    if dt.subdtype is not None:
        return has_references(dt.subdtype[0])
    return False


def h5diff_applies(d):
    """h5diff follows references and compares the data of their targets: where a dataset's values or
    attributes hold references (REFERENCE_LIST of a scale, object/region reference datasets), a
    normalized target would make it differ legitimately. Those are compared by check_plain_dataset."""
    if has_references(d.dtype):
        return False
    for n in d.attrs:
        try:
            if has_references(h5py.h5a.open(d.id, n.encode()).dtype):
                return False
        except Exception:  # noqa: BLE001
            return False
    return True


def debian_plugins():
    """Debian's serial filter plugins: pkg-config's PluginDir of hdf5-serial, else the folder under
    /usr/lib/<multiarch>/ of whatever architecture this is; None where there is none."""
    r = subprocess.run(["pkg-config", "--variable=PluginDir", "hdf5-serial"], capture_output=True, text=True)
    if r.returncode == 0 and r.stdout.strip():
        return r.stdout.strip()
    found = sorted(glob.glob("/usr/lib/*/hdf5/serial/plugins"))
    return found[0] if found else None


def check_h5diff(inp, out, path, problems):
    # netCDF4-python points HDF5_PLUGIN_PATH at its own plugins when imported; the C tools
    # need Debian's (lzf, lz4, blosc) too.
    env = dict(os.environ)
    env["HDF5_PLUGIN_PATH"] = ":".join(p for p in (debian_plugins(), env.get("HDF5_PLUGIN_PATH")) if p)
    r = subprocess.run(["h5diff", inp, out, path, path], capture_output=True, text=True, env=env)
    if r.returncode == 1:
        msg = r.stdout.strip().splitlines() or ["?"]
        problems.add("%s: h5diff finds differences: %s" % (path, short(" | ".join(msg[:3]), 160)))
    elif r.returncode != 0:
        problems.add("%s: h5diff exit %d, it cannot compare (unreadable data? missing filter plugin?)%s" % (
            path, r.returncode, (": " + short(r.stderr.strip().splitlines()[-1], 120)) if r.stderr.strip() else ""))


# ============================================================================ normalization reference

def fill_values_of(d):
    vals = []
    for n in FILL_ATTRS:
        if n in d.attrs:
            v = np.asarray(d.attrs[n]).ravel()
            if v.dtype.kind in "iufb":
                vals.extend(v.tolist())
    return vals


def fill_mask(x, vals):
    m = np.zeros(x.shape, bool)
    for v in vals:
        if isinstance(v, float) and np.isnan(v):
            m |= np.isnan(x)
        else:
            m |= (x == v)
    return m


def valid_range_of(d):
    """(min, max) from valid_range, else valid_min/valid_max (None where absent), as netCDF4-python reads them."""
    if "valid_range" in d.attrs and np.asarray(d.attrs["valid_range"]).size == 2:
        lo, hi = np.asarray(d.attrs["valid_range"]).ravel().tolist()
        return lo, hi
    lo = np.asarray(d.attrs["valid_min"]).ravel()[0].item() if "valid_min" in d.attrs else None
    hi = np.asarray(d.attrs["valid_max"]).ravel()[0].item() if "valid_max" in d.attrs else None
    return lo, hi


def out_of_range_mask(x, d):
    """Cells outside the valid range: masked like fill, written as the first fill marker (NaN without one)."""
    lo, hi = valid_range_of(d)
    m = np.zeros(x.shape, bool)
    with np.errstate(invalid="ignore"):
        if lo is not None:
            m |= x < lo
        if hi is not None:
            m |= x > hi
    return m


def reference(x, opts, mask):
    """float64 SPEC §1 (weight 1, bias 0) on stored values; mask: elements left out of the statistics.
    Returns y (float64, fill cells untouched), mean, var."""
    x = np.asarray(x, dtype=np.float64)
    m = np.asarray(mask, bool)
    if opts.layout == "nhwc":
        x, m = np.moveaxis(x, -1, 1), np.moveaxis(m, -1, 1)
    n, c = x.shape[0], x.shape[1]
    valid = ~m
    if opts.mode == "batch":
        xs = np.moveaxis(x, 1, 0).reshape(c, -1)
        vs = np.moveaxis(valid, 1, 0).reshape(c, -1)
    else:
        g = {"layer": 1, "instance": c}.get(opts.mode, opts.groups)
        xs = np.ascontiguousarray(x).reshape(n, g, -1)
        vs = np.ascontiguousarray(valid).reshape(n, g, -1)
    with np.errstate(invalid="ignore", divide="ignore"):
        cnt = vs.sum(-1)
        mean = np.where(vs, xs, 0).sum(-1) / cnt
        var = np.where(vs, (xs - mean[..., None]) ** 2, 0).sum(-1) / cnt
        y = (xs - mean[..., None]) / np.sqrt(var[..., None] + opts.eps)
    y = np.where(vs, y, xs)
    if opts.mode == "batch":
        y = np.moveaxis(y.reshape((c, n) + x.shape[2:]), 0, 1)
    else:
        y = y.reshape(x.shape)
    if opts.layout == "nhwc":
        y = np.moveaxis(y, 1, -1)
    return y, mean, var


def expected_dtype(path, d, opts):
    if path in opts.expected_dtypes and opts.dtype == "same":
        return np.dtype(opts.expected_dtypes[path])
    if opts.dtype == "same":
        return d.dtype if d.dtype.kind == "f" else np.dtype("<f4")
    return np.dtype({"f16": "<f2", "f32": "<f4", "f64": "<f8"}[opts.dtype])


def compare_normalized_values(path, y, ref, mask, fill_out, problems):
    y64 = y.astype(np.float64)
    ok = np.ones(y.shape, bool)
    # fill cells: stay fill (NaN-aware)
    if mask.any():
        fo = fill_out.astype(np.float64)
        same = (y64 == fo) | (np.isnan(y64) & np.isnan(fo))
        bad = mask & ~same
        if bad.any():
            i = tuple(int(k) for k in np.argwhere(bad)[0])
            problems.add("%s: %d fill cells not kept as fill; first at %s: %r, expected %r" % (
                path, bad.sum(), i, y[i], fill_out[i]))
        ok &= ~mask
    if y.dtype == np.float16:
        r16 = ref.astype(np.float16).astype(np.float64)
        tol = np.spacing(np.abs(ref.astype(np.float16))).astype(np.float64)
        close = np.abs(y64 - r16) <= tol
    elif y.dtype.itemsize >= 8:
        close = np.abs(y64 - ref) <= 1e-12 + 1e-12 * np.abs(ref)
    else:
        close = np.abs(y64 - ref) <= 1e-5 + 1e-5 * np.abs(ref)
    close |= np.isnan(y64) & np.isnan(ref)
    bad = ok & ~close
    if bad.any():
        i = tuple(int(k) for k in np.argwhere(bad)[0])
        problems.add("%s: %d normalized values off the float64 reference; first at %s: %r, expected %r" % (
            path, bad.sum(), i, y[i], ref[i]))


def check_statistics(path, wout, mean, var, opts, problems):
    gpath = opts.stats_group + path
    f = wout.file
    if gpath not in f:
        problems.add("%s: missing in OUTPUT" % gpath)
        return
    for name, ref in (("mean", mean), ("var", var)):
        p = gpath + "/" + name
        if p not in f or not isinstance(f[p], h5py.Dataset):
            problems.add("%s: missing in OUTPUT" % p)
            continue
        d = f[p]
        if d.dtype != np.dtype("<f8") and d.dtype != np.dtype(">f8"):
            problems.add("%s: dtype %s, expected float64" % (p, d.dtype))
        if d.shape != ref.shape:
            problems.add("%s: shape %s, expected %s" % (p, d.shape, ref.shape))
            continue
        got = d[()]
        if not np.allclose(got, ref, rtol=1e-9, atol=1e-12, equal_nan=True):
            i = tuple(int(k) for k in np.argwhere(~np.isclose(got, ref, rtol=1e-9, atol=1e-12, equal_nan=True))[0])
            problems.add("%s: differs from the reference; first at %s: %r, expected %r" % (p, i, got[i], ref[i]))
    g = f[gpath]
    want = {"mode": opts.mode, "groups": None, "eps": opts.eps, "layout": opts.layout}
    for a in GNORM_GROUP_ATTRS:
        if a not in g.attrs:
            problems.add("%s: attribute %r missing" % (gpath, a))
            continue
        v = g.attrs[a]
        if isinstance(v, bytes):
            v = v.decode()
        if a in ("mode", "layout") and v != want[a]:
            problems.add("%s: attribute %r is %r, expected %r" % (gpath, a, v, want[a]))
        if a == "eps" and not np.isclose(float(v), opts.eps, rtol=1e-12, atol=0):
            problems.add("%s: attribute eps is %r, expected %r" % (gpath, v, opts.eps))
        if a == "groups" and opts.mode == "group" and int(v) != opts.groups:
            problems.add("%s: attribute groups is %r, expected %r" % (gpath, v, opts.groups))


MATLAB_CLASSES = {"<f4": b"single", "<f8": b"double", ">f4": b"single", ">f8": b"double"}


def expected_normalized_attrs(d_in, out_dtype):
    """Maps INPUT's attribute records to those OUTPUT's normalized dataset should have (before gnorm_*):
    DROPPED_ATTRS removed, fill markers converted to a new type, MATLAB_class naming the new type."""
    type_changed = np.dtype(out_dtype) != d_in.dtype

    def f(records):
        out = []
        for n, rec in records:
            if n in GNORM_DSET_ATTRS:
                continue
            if n in DROPPED_ATTRS:
                continue
            if n == "MATLAB_class" and type_changed:
                rec = dict(rec, type=None)  # its value is checked below
            if type_changed and n in FILL_ATTRS:
                v = np.asarray(d_in.attrs[n]).astype(out_dtype)
                rec = {"type": None, "value": ("converted", v.tobytes()), "space": rec["space"]}
            out.append((n, rec))
        return out + [(n, None) for n in GNORM_DSET_ATTRS]
    return f


def check_normalized_attributes(path, win, wout, out_dtype, opts, problems):
    di, do = win.file[path], wout.file[path]
    exp = expected_normalized_attrs(di, out_dtype)
    sub = Problems()
    check_attributes(path, win, wout, sub, expected=exp)
    for msg in sub:
        # records we cannot predict exactly (converted fills, gnorm_*) are checked below instead
        if ("attribute 'gnorm_" in msg or "attribute '_FillValue'" in msg or "attribute 'missing_value'" in msg
                or "attribute 'MATLAB_class'" in msg) and " value differs" in msg:
            continue
        problems.add(msg)
    if "MATLAB_class" in di.attrs and np.dtype(out_dtype) != di.dtype and "MATLAB_class" in do.attrs:
        got = np.asarray(do.attrs["MATLAB_class"]).tobytes().rstrip(b"\0")
        want = MATLAB_CLASSES.get(np.dtype(out_dtype).str)
        if want is not None and got != want:
            problems.add("%s: MATLAB_class is %r, expected %r" % (path, got, want))
    for n in FILL_ATTRS:
        if n in di.attrs and n in do.attrs and np.dtype(out_dtype) != di.dtype:
            a = do.attrs[n]
            want = np.asarray(di.attrs[n]).astype(out_dtype)
            if np.asarray(a).dtype != np.dtype(out_dtype).newbyteorder("=") and np.asarray(a).dtype != out_dtype:
                problems.add("%s: attribute %r has type %s, expected %s (the new type)" % (
                    path, n, np.asarray(a).dtype, np.dtype(out_dtype)))
            if not np.array_equal(np.asarray(a).astype(np.float64), want.astype(np.float64), equal_nan=True):
                problems.add("%s: attribute %r is %r, expected %r" % (path, n, a, want))
    want = {"gnorm_mode": opts.mode, "gnorm_groups": None, "gnorm_eps": opts.eps}
    for n in GNORM_DSET_ATTRS:
        if n not in do.attrs:
            continue
        v = do.attrs[n]
        v = v.decode() if isinstance(v, bytes) else v
        if n == "gnorm_mode" and v != opts.mode:
            problems.add("%s: gnorm_mode is %r, expected %r" % (path, v, opts.mode))
        if n == "gnorm_eps" and not np.isclose(float(v), opts.eps, rtol=1e-12, atol=0):
            problems.add("%s: gnorm_eps is %r, expected %r" % (path, v, opts.eps))
        if n == "gnorm_groups" and opts.mode == "group" and int(v) != opts.groups:
            problems.add("%s: gnorm_groups is %r, expected %r" % (path, v, opts.groups))


def check_normalized_storage(path, win, wout, out_dtype, problems):
    di, do = win.file[path], wout.file[path]
    if di.shape != do.shape or di.maxshape != do.maxshape:
        problems.add("%s: shape/maxshape %s/%s vs %s/%s" % (path, di.shape, di.maxshape, do.shape, do.maxshape))
    if do.dtype != out_dtype:
        problems.add("%s: dtype %s, expected %s" % (path, do.dtype.str, np.dtype(out_dtype).str))
    ti, to = type_signature(win, di.id.get_type()), type_signature(wout, do.id.get_type())
    same_type = di.dtype == do.dtype
    if same_type and (ti["committed"], ti["named"]) != (to["committed"], to["named"]):
        problems.add("%s: committed type %s in INPUT, %s in OUTPUT" % (path, ti["named"], to["named"]))
    ri, ro = dcpl_record(di), dcpl_record(do)
    if ri["layout"] == "virtual":
        if ro["layout"] == "virtual":
            problems.add("%s: still a virtual dataset in OUTPUT (its sources would hold normalized values)" % path)
    else:
        for k in ("layout", "chunks", "external"):
            if ri[k] != ro[k]:
                problems.add("%s: %s differs: %s vs %s" % (path, k, ri[k], ro[k]))
        fi = ri["filters"] if same_type else [(c, fl) for c, fl, v in ri["filters"]]
        fo = ro["filters"] if same_type else [(c, fl) for c, fl, v in ro["filters"]]
        if fi != fo:
            problems.add("%s: filters differ: %s vs %s" % (path, fi, fo))
    if ri["fill_defined"] != ro["fill_defined"]:
        problems.add("%s: fill value defined %s vs %s" % (path, ri["fill_defined"], ro["fill_defined"]))
    fbi, fbo = fill_bytes(di), fill_bytes(do)
    if fbi is not None and fbo is not None:
        a = np.frombuffer(fbi, dtype=di.dtype)[0]
        b = np.frombuffer(fbo, dtype=do.dtype)[0]
        want = np.asarray(a).astype(do.dtype)
        if want.tobytes() != np.asarray(b, dtype=do.dtype).tobytes():
            problems.add("%s: fill value %r, expected %r" % (path, b, want))


def check_normalized_dataset(path, win, wout, opts, problems):
    di = win.file[path]
    if path not in wout.file or not isinstance(wout.file[path], h5py.Dataset):
        problems.add("%s: normalized dataset missing in OUTPUT" % path)
        return
    do = wout.file[path]
    out_dtype = expected_dtype(path, di, opts)
    check_normalized_storage(path, win, wout, out_dtype, problems)
    check_normalized_attributes(path, win, wout, out_dtype, opts, problems)
    x = di[()]
    markers = fill_values_of(di)
    held = fill_mask(x, markers) if opts.mask else np.zeros(x.shape, bool)
    outside = out_of_range_mask(x, di) & ~held if opts.mask else np.zeros(x.shape, bool)
    mask = held | outside
    ref, mean, var = reference(x, opts, mask)
    if do.shape == di.shape:
        fill_out = x.astype(do.dtype) if do.dtype.kind == "f" else x
        if outside.any():
            fill_out = np.where(outside, np.asarray(markers[0] if markers else np.nan).astype(do.dtype), fill_out)
        compare_normalized_values(path, do[()], ref, mask, fill_out, problems)
    check_statistics(path, wout, mean, var, opts, problems)


# ============================================================================ root history

def check_root_attributes(win, wout, problems):
    fin, fout = win.file, wout.file
    check_attributes("/", win, wout, problems, ignore=("history",))
    if "history" not in fout.attrs:
        problems.add("/: attribute 'history' missing in OUTPUT")
        return
    hi = fin.attrs.get("history")
    ho = fout.attrs["history"]
    ho_s = ho.decode() if isinstance(ho, bytes) else str(ho)
    if hi is not None:
        hi_s = hi.decode() if isinstance(hi, bytes) else str(hi)
        if not ho_s.startswith(hi_s.rstrip("\n")) or len(ho_s.rstrip("\n")) <= len(hi_s.rstrip("\n")):
            problems.add("/: history %r does not append a line to INPUT's %r" % (short(ho_s, 60), short(hi_s, 60)))
        ni, no = attr_names(fin), attr_names(fout)
        if attr_order_tracked(fin) and no != ni and no != [n for n in ni if n != "history"] + ["history"]:
            problems.add("/: history moved: attribute order %s vs %s" % (ni, no))
    else:
        if not ho_s.strip():
            problems.add("/: history is empty")
        if attr_order_tracked(fin) and attr_names(fout)[-1] != "history":
            problems.add("/: new history attribute is not the last one: %s" % attr_names(fout))


# ============================================================================ netCDF

def ncdump_statements(path):
    r = subprocess.run(["ncdump", "-h", path], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip()
    stmts, cur, skip_depth = [], "", 0
    lines = r.stdout.splitlines()[1:]
    for line in lines:
        s = line.strip()
        if skip_depth:
            if s.startswith("group:"):
                skip_depth += 1
            elif s.startswith("} // group"):
                skip_depth -= 1
            continue
        if s.startswith("group: gnorm {"):
            skip_depth = 1
            continue
        if not s:
            continue
        cur = (cur + " " + s) if cur else s
        if s.endswith(";") or s.endswith(":") or s.endswith("{") or s.startswith("}") or s.startswith("//"):
            stmts.append(cur)
            cur = ""
    if cur:
        stmts.append(cur)
    return stmts, None


def nc_attr_owner(stmt):
    m = re.match(r"^(?:\w+ )?([^\s:]*):([^\s=]+) =", stmt)
    return (m.group(1), m.group(2)) if m else None


def check_netcdf_header(inp, out, changed, packed, problems):
    """changed: names of normalized variables whose type changed; packed: the normalized ones (their
    DROPPED_ATTRS go)."""
    si, err = ncdump_statements(inp)
    if si is None:
        return
    so, err = ncdump_statements(out)
    if so is None:
        problems.add("ncdump -h OUTPUT fails: %s" % short(err, 150))
        return

    def norm(stmts, is_input):
        res = []
        for s in stmts:
            if s == "// global attributes:":
                continue  # OUTPUT gains the section, with history, where INPUT had no global attribute
            a = nc_attr_owner(s)
            if a:
                var, name = a
                if var == "" and name == "history":
                    continue
                if name.startswith("gnorm_"):
                    continue
                if var in changed and name in FILL_ATTRS:
                    continue
                if is_input and var in packed and name in DROPPED_ATTRS:
                    continue
            else:
                m = re.match(r"^(\w+(?: \w+)?) (\w+)\((.*)\) ;$", s)
                if m and m.group(2) in changed:
                    s = "<type> %s(%s) ;" % (m.group(2), m.group(3))
            res.append(s)
        return res
    a, b = norm(si, True), norm(so, False)
    if a != b:
        import difflib
        d = [ln for ln in difflib.unified_diff(a, b, lineterm="", n=0) if not ln.startswith(("---", "+++", "@@"))]
        problems.add("ncdump -h header differs (beyond history/gnorm_*/CF changes): %s" % short(" | ".join(d[:6]), 300))


def check_xarray(inp, out, normalized, packed, problems):
    import xarray as xr
    import warnings
    for engine in ("netcdf4", "h5netcdf"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                a = xr.open_dataset(inp, engine=engine)
            except Exception:  # noqa: BLE001   INPUT itself not readable by this engine: nothing to compare
                continue
            try:
                b = xr.open_dataset(out, engine=engine)
            except Exception as e:  # noqa: BLE001
                problems.add("xarray.open_dataset(OUTPUT, engine=%r) fails: %s" % (engine, short(str(e), 120)))
                a.close()
                continue
        with a, b:
            where = "xarray[%s]" % engine
            if dict(a.sizes) != dict(b.sizes):
                problems.add("%s: dims %s vs %s" % (where, dict(a.sizes), dict(b.sizes)))
            if list(a.coords) != list(b.coords):
                problems.add("%s: coords %s vs %s" % (where, list(a.coords), list(b.coords)))
            if list(a.data_vars) != list(b.data_vars):
                problems.add("%s: data_vars %s vs %s" % (where, list(a.data_vars), list(b.data_vars)))
            ga = {k: v for k, v in a.attrs.items() if k != "history"}
            gb = {k: v for k, v in b.attrs.items() if k != "history"}
            if list(ga) != list(gb) or any(not _same(ga[k], gb[k]) for k in ga):
                problems.add("%s: global attrs differ: %s vs %s" % (where, short(ga, 80), short(gb, 80)))
            for name in a.variables:
                if name not in b.variables:
                    continue
                va, vb = a.variables[name], b.variables[name]
                aa = {k: v for k, v in va.attrs.items()
                      if not (name in packed and k in DROPPED_ATTRS)}
                ab = {k: v for k, v in vb.attrs.items() if not k.startswith("gnorm_")}
                if va.dims != vb.dims:
                    problems.add("%s: %s dims %s vs %s" % (where, name, va.dims, vb.dims))
                if list(aa) != list(ab) or any(not _same(aa[k], ab[k]) for k in aa):
                    problems.add("%s: %s attrs differ: %s vs %s" % (where, name, short(aa, 80), short(ab, 80)))
                if name not in normalized:
                    if va.dtype != vb.dtype or not _same(va.values, vb.values):
                        problems.add("%s: %s values or dtype differ" % (where, name))


def _same(x, y):
    try:
        x, y = np.asarray(x), np.asarray(y)
        if x.dtype.kind in "fc" and y.dtype.kind in "fc":
            return x.shape == y.shape and np.array_equal(x, y, equal_nan=True)
        if x.dtype.kind == "O" or y.dtype.kind == "O":
            return x.shape == y.shape and all(
                a == b or (a != a and b != b) for a, b in zip(x.ravel().tolist(), y.ravel().tolist()))
        return x.shape == y.shape and bool(np.all(x == y))
    except Exception:  # noqa: BLE001
        return repr(x) == repr(y)


def is_netcdf(path, f):
    return "_NCProperties" in f.attrs or path.endswith(".nc")


# ============================================================================ driver

def check(inp, out, opts):
    problems = Problems()
    if not os.path.exists(out):
        problems.add("OUTPUT %s does not exist" % out)
        return problems
    try:
        fout = h5py.File(out, "r")
    except Exception as e:  # noqa: BLE001
        problems.add("OUTPUT is not a readable HDF5 file: %s" % short(str(e), 100))
        return problems
    with h5py.File(inp, "r") as fin, fout:
        check_userblock(inp, out, problems)
        check_file_properties(fin, fout, problems)
        win, wout = walk(fin), walk(fout)
        _WALKS.clear()
        _WALKS[fin.id.id], _WALKS[fout.id.id] = win, wout
        check_links(win, wout, problems, opts.stats_group)
        check_hard_link_classes(win, wout, problems, opts.stats_group)
        check_kinds(win, wout, problems)
        check_named_types(win, wout, problems)
        selected = set()
        for p in opts.datasets:
            if p not in fin or not isinstance(fin[p], h5py.Dataset):
                problems.add("%s: not a dataset in INPUT (bad -d)" % p)
                continue
            selected.add(win.canon[addr_of(fin[p])])
        # settings per selected path are looked up by the name given; keep the canonical name too
        opts.expected_dtypes.update({win.canon[addr_of(fin[p])]: v for p, v in list(opts.expected_dtypes.items())
                                     if p in fin})
        for p, k in win.kinds.items():
            if p.startswith(opts.stats_group + "/") or p == opts.stats_group or wout.kinds.get(p) is None:
                continue
            if p == "/":
                check_root_attributes(win, wout, problems)
            elif p in selected:
                check_normalized_dataset(p, win, wout, opts, problems)
            else:
                check_attributes(p, win, wout, problems)
                if k == "dataset" and wout.kinds.get(p) == "dataset":
                    check_plain_dataset(p, win, wout, problems)
                    if opts.tools and h5diff_applies(fin[p]):
                        check_h5diff(inp, out, p, problems)
        if is_netcdf(inp, fin) if opts.netcdf is None else opts.netcdf:
            names = {p.lstrip("/") for p in selected if p.count("/") == 1}
            changed = {n for n in names if expected_dtype("/" + n, fin["/" + n], opts) != fin["/" + n].dtype}
            packed = {n for n in changed if fin["/" + n].dtype.kind in "iu"
                      and any(a in fin["/" + n].attrs for a in ("scale_factor", "add_offset"))}
            nc_needed = True
        else:
            nc_needed = False
    if nc_needed:
        if opts.tools:
            check_netcdf_header(inp, out, changed, names, problems)
        if opts.xarray:
            check_xarray(inp, out, names, names, problems)
    if opts.readers:
        import check_readers
        for reader in opts.readers:
            check_readers.check(reader, inp, out, opts, problems)
    return problems


def load_manifest_entry(name, manifest=DEFAULT_MANIFEST):
    with open(manifest) as f:
        m = json.load(f)
    for e in m["files"]:
        if e["name"] == name or e["name"] == os.path.basename(name):
            return e
    raise SystemExit("check_output.py: no entry %r in %s" % (name, manifest))


def options_from(args):
    o = Options()
    if args.manifest_entry:
        e = load_manifest_entry(args.manifest_entry, args.manifest)
        o.datasets = [d["path"] for d in e["datasets"]]
        o.expected_dtypes = {d["path"]: d["expected_dtype"] for d in e["datasets"]}
        o.groups, o.layout, o.mode, o.eps, o.netcdf = e["groups"], e["layout"], e["mode"], e["eps"], e["netcdf"]
        o.stats_group = e.get("stats_group", o.stats_group)
        o.readers = e.get("readers", [])
    if args.dataset:
        o.datasets = args.dataset
        o.expected_dtypes = {k: v for k, v in o.expected_dtypes.items() if k in args.dataset}
    for k in ("groups", "layout", "mode", "eps", "dtype"):
        v = getattr(args, k)
        if v is not None:
            setattr(o, k, v)
    o.mask = not args.no_mask
    o.tools = not args.no_tools
    o.xarray = not args.no_xarray
    if not o.datasets:
        raise SystemExit("check_output.py: say which datasets were normalized (-d or --manifest-entry)")
    return o


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--manifest-entry", metavar="NAME")
    ap.add_argument("--manifest", default=DEFAULT_MANIFEST)
    ap.add_argument("-d", "--dataset", action="append")
    ap.add_argument("-g", "--groups", type=int)
    ap.add_argument("--layout", choices=("nchw", "nhwc"))
    ap.add_argument("--mode", choices=("group", "layer", "instance", "batch"))
    ap.add_argument("--eps", type=float)
    ap.add_argument("--no-mask", action="store_true")
    ap.add_argument("--dtype", choices=("same", "f16", "f32", "f64"))
    ap.add_argument("--no-tools", action="store_true", help="skip h5diff and ncdump")
    ap.add_argument("--no-xarray", action="store_true")
    args = ap.parse_args(argv)
    problems = check(args.input, args.output, options_from(args))
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
