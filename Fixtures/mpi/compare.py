"""Compares two OUTPUTs of gnorm dataset by dataset: exit 0 when every numeric dataset is
within ULPS units in the last place of its stored type (0: bitwise) and every other dataset
equal. Usage: compare.py A.h5 B.h5 ULPS"""
import sys
import h5py
import numpy as np

a_path, b_path, ulps = sys.argv[1], sys.argv[2], int(sys.argv[3])
worst = 0


def ulp_distance(a, b):
    kind = {2: np.int16, 4: np.int32, 8: np.int64}[a.dtype.itemsize]
    ia = a.astype(a.dtype.newbyteorder("=")).view(kind).astype(np.int64)
    ib = b.astype(b.dtype.newbyteorder("=")).view(kind).astype(np.int64)
    # Map sign-magnitude to a monotonic integer line.
    ia = np.where(ia < 0, np.iinfo(kind).min - ia, ia)
    ib = np.where(ib < 0, np.iinfo(kind).min - ib, ib)
    same_nan = np.isnan(a) & np.isnan(b)
    return np.where(same_nan, 0, np.abs(ia - ib))


def visit(name, obj):
    global worst
    if not isinstance(obj, h5py.Dataset):
        return
    with h5py.File(b_path, "r") as other:
        theirs = other[name]
        if obj.shape != theirs.shape or obj.dtype != theirs.dtype:
            sys.exit(f"{name}: {obj.shape} {obj.dtype} vs {theirs.shape} {theirs.dtype}")
        mine, their_values = obj[()], theirs[()]
        if obj.dtype.kind == "f" and obj.size:
            distance = int(ulp_distance(np.asarray(mine), np.asarray(their_values)).max())
            worst = max(worst, distance)
            if distance > ulps:
                sys.exit(f"{name}: {distance} ulps apart (allowed {ulps})")
        elif not np.array_equal(mine, their_values):
            sys.exit(f"{name}: values differ")


with h5py.File(a_path, "r") as f:
    f.visititems(visit)
print(f"max {worst} ulp")
