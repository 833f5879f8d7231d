"""Inputs of `make test-mpi` (Fixtures/mpi/check.sh): small files whose sample counts and
chunks do not line up with the ranks' slices. Usage: make_inputs.py FOLDER"""
import sys
import h5py
import numpy as np

folder = sys.argv[1]
rng = np.random.default_rng(10)

with h5py.File(f"{folder}/contiguous.h5", "w") as f:
    f["x"] = rng.standard_normal((10, 8, 5, 3)).astype("f4")
    f["y"] = (rng.standard_normal((7, 4, 6)) * 3 + 1e4).astype("f8")
    f["x"].attrs["units"] = "K"
    f.attrs["title"] = "contiguous"

with h5py.File(f"{folder}/gzip.h5", "w") as f:
    # 3-row chunks: 10 rows are 4 chunks, never split evenly over 2, 3 or 4 ranks.
    f.create_dataset("x", data=rng.standard_normal((10, 8, 5, 3)).astype("f4"), chunks=(3, 8, 5, 3),
                     compression="gzip", shuffle=True)
    # Chunks that split samples (2 channels of 8): not aligned to anything.
    f.create_dataset("z", data=rng.standard_normal((11, 8, 4)).astype("f8"), chunks=(2, 2, 4),
                     compression="gzip")
    f["gamma"] = np.linspace(0.5, 2.0, 8)

with h5py.File(f"{folder}/few.h5", "w") as f:
    # N = 2 < K: some ranks have no rows.
    f["x"] = rng.standard_normal((2, 4, 9)).astype("f4")

with h5py.File(f"{folder}/types.h5", "w") as f:
    # Types HDF5 would convert: gnorm hands MPI-IO buffers already in the file's type.
    f["half"] = rng.standard_normal((6, 4, 5)).astype("f2")
    f["big"] = rng.standard_normal((6, 4, 5)).astype(">f4")
    f["bytes"] = rng.integers(0, 255, (9, 4, 5)).astype("u1")
    f.create_dataset("gz64", data=rng.standard_normal((9, 4, 5)), chunks=(4, 4, 5), compression="gzip")

# Several files for batch statistics merged over files, and their concatenation.
parts = [rng.standard_normal((n, 6, 7)) * 2 + 50 for n in (5, 1, 8, 3, 6)]
for index, part in enumerate(parts):
    with h5py.File(f"{folder}/part{index}.h5", "w") as f:
        f["x"] = part
with h5py.File(f"{folder}/parts.h5", "w") as f:
    f["x"] = np.concatenate(parts)
