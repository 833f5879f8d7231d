"""The input of the samples-larger-than-memory checks of Fixtures/mpi/check.sh: /x holds 4
samples of 16 MiB (8x --memory-limit 2; 4 samples over 3 ranks leave them uneven), /z 3 gzip
samples of 4 MiB in chunks smaller than a sample. Usage: make_pieces.py FILE"""
import sys
import h5py
import numpy as np

rng = np.random.default_rng(20)
with h5py.File(sys.argv[1], "w") as f:
    f["x"] = (rng.standard_normal((4, 32, 64, 64, 32), dtype="f4") * 3 + 100).astype("f4")
    f.create_dataset("z", data=rng.standard_normal((3, 8, 32, 64, 64), dtype="f4"), chunks=(1, 1, 16, 64, 64),
                     compression="gzip", compression_opts=1, shuffle=True)
