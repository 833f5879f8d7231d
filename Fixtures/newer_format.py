"""Writes Fixtures/newer_format.h5: a file that only HDF5 2.0 or later reads, as h5py 3.16 (whose
wheels bundle HDF5 2.0.0) writes a filtered chunked dataset with libver="latest" (layout message
version 5). gnorm refuses it with one line naming the HDF5 it was built with, status 66.
Usage: .venv/bin/python Fixtures/newer_format.py"""
import os

import h5py
import numpy as np

major = int(h5py.version.hdf5_version.split(".")[0])
assert major >= 2, "h5py %s bundles HDF5 %s; HDF5 2.x writes the newer layout" % (
    h5py.__version__, h5py.version.hdf5_version)
path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "newer_format.h5")
with h5py.File(path, "w", libver="latest") as f:
    f.create_dataset("x", data=np.arange(2 * 4 * 3 * 3, dtype="<f4").reshape(2, 4, 3, 3), chunks=(1, 4, 3, 3),
                     compression="gzip")
    f.attrs["writer"] = "h5py %s, HDF5 %s, libver='latest'" % (h5py.__version__, h5py.version.hdf5_version)
print(path, os.path.getsize(path), "bytes")
