# Seed for Benchmarks/device-scaling.sh (usage: python3 device_seed.py seed.h5).
# Seed for the device's scaling run: 2 GiB float32 per dataset stored as gzip chunks that
# repeat a few random 4 MiB chunks (write_direct_chunk), so the file travels at ~1 MB.
import h5py, numpy as np, zlib, sys
rng = np.random.default_rng(7)
def chunks(shape, count=8):
    out = []
    for k in range(count):
        tile = (rng.standard_normal(4096).astype(np.float32) * (1 + k) + k)
        data = np.resize(tile, shape).astype(np.float32)
        out.append(zlib.compress(data.tobytes(), 9))
    return out
with h5py.File(sys.argv[1], "w") as f:
    for name, shape, chunk in [("nchw", (32, 256, 256, 256), (1, 16, 256, 256)),
                               ("nhwc", (32, 256, 256, 256), (1, 16, 256, 256))]:
        d = f.create_dataset(name, shape, np.float32, chunks=chunk, compression="gzip", compression_opts=9)
        blobs = chunks(chunk)
        i = 0
        for n in range(shape[0]):
            for c0 in range(0, shape[1], chunk[1]):
                d.id.write_direct_chunk((n, c0, 0, 0), blobs[i % len(blobs)]); i += 1
