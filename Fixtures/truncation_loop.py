#!/usr/bin/env python3
"""Issue 21 item 1's loop: INPUT truncated at a random moment while `gnorm apply` reads it.

    truncation_loop.py GNORM RUNS [--in-place] [--memory-limit MIB]

Makes a 64 MiB contiguous float32 INPUT (read from a mapping) and a 64 MiB chunked one (read
through HDF5), runs gnorm once on each untouched for the reference OUTPUT, then RUNS times per
file: gnorm apply, truncate INPUT to 0 bytes after a random delay within the run's duration,
wait. A run that exits 0 must have committed the reference OUTPUT (or, --in-place, left INPUT
as the reference or truncated after the commit); any other status must be 74 (66 when the
truncation came before gnorm opened INPUT) with one line, no OUTPUT and no temporary file. Prints the counts; exits 1 on any wrong OUTPUT.
"""
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np


def make(folder):
    rng = np.random.default_rng(21)
    values = (2 + rng.standard_normal((64, 16, 128, 128))).astype("<f4")
    with h5py.File(f"{folder}/contiguous.h5", "w") as f:
        f.create_dataset("x", data=values)
    with h5py.File(f"{folder}/chunked.h5", "w") as f:
        f.create_dataset("x", data=values, chunks=(1, 16, 128, 128))


def values(path):
    with h5py.File(path, "r") as f:
        return f["x"][...], f["gnorm/x/mean"][...], f["gnorm/x/var"][...]


def same(path, reference):
    try:
        got = values(path)
    except Exception:
        return False
    return all(np.array_equal(a, b) for a, b in zip(got, reference))


def main():
    gnorm, runs = sys.argv[1], int(sys.argv[2])
    in_place = "--in-place" in sys.argv
    limit = sys.argv[sys.argv.index("--memory-limit") + 1] if "--memory-limit" in sys.argv else "16"
    random.seed(21)
    counts = {}
    wrong = 0
    with tempfile.TemporaryDirectory() as folder:
        make(folder)
        for name in ("contiguous", "chunked"):
            pristine = f"{folder}/{name}.h5"
            work = f"{folder}/work"
            os.makedirs(work)
            options = ["apply", "-q", "-g", "4", "--memory-limit", limit]
            shutil.copy(pristine, f"{work}/in.h5")
            started = time.monotonic()
            subprocess.run([gnorm, *options, f"{work}/in.h5", f"{work}/reference.h5"], check=True)
            duration = time.monotonic() - started
            reference = values(f"{work}/reference.h5")
            os.remove(f"{work}/reference.h5")
            for _ in range(runs):
                shutil.copy(pristine, f"{work}/in.h5")
                target = [f"{work}/in.h5"] if in_place else [f"{work}/in.h5", f"{work}/out.h5"]
                process = subprocess.Popen(
                    [gnorm, *options, *(["--in-place"] if in_place else []), *target],
                    stderr=subprocess.PIPE, text=True)
                time.sleep(random.uniform(0, duration))
                os.truncate(f"{work}/in.h5", 0)
                _, stderr = process.communicate()
                status = process.returncode
                left = sorted(set(os.listdir(work)) - {"in.h5", "out.h5"})
                if status == 0:
                    committed = f"{work}/in.h5" if in_place else f"{work}/out.h5"
                    ok = (in_place and os.path.getsize(committed) == 0) or same(committed, reference)
                else:
                    # 66: truncated before gnorm opened it (not an HDF5 file); 74: while it read it.
                    ok = status in (66, 74) and stderr.count("\n") == 1 and (
                        in_place and os.path.getsize(f"{work}/in.h5") == 0
                        or not in_place and not os.path.exists(f"{work}/out.h5"))
                ok = ok and not left
                key = f"{name} exit {status}"
                counts[key] = counts.get(key, 0) + 1
                if not ok:
                    wrong += 1
                    print(f"WRONG: {name} exit {status} left {left}: {stderr.strip()}")
                for leftover in ["out.h5", *left]:
                    if os.path.exists(f"{work}/{leftover}"):
                        os.remove(f"{work}/{leftover}")
            shutil.rmtree(work)
    for key in sorted(counts):
        print(f"{key}: {counts[key]}")
    print(f"wrong: {wrong} of {2 * runs} runs{' (--in-place)' if in_place else ''}")
    sys.exit(1 if wrong else 0)


if __name__ == "__main__":
    main()
