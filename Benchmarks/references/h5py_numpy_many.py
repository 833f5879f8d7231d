#!/usr/bin/env python3
"""The h5py + NumPy reference for `gnorm apply INPUT... --output-dir DIR`: one Python process
normalizing every INPUT in a loop, as a user would script many small files.

Each file goes through h5py_numpy.py's own normalize_file (preallocated slab buffers, float64
in place, statistics under /gnorm/<name>/), written to DIR/NAME. --fsync fsyncs each
OUTPUT once it is closed and DIR once at the end (what a careful script does; gnorm
instead issues one syncfs per batch of 64 files, then renames and syncs the folder).

    h5py_numpy_many.py INPUT... --output-dir DIR [--groups G] [--mode group|batch] [--fsync]
"""
import argparse
import os

from h5py_numpy import add_options, fsync_path, normalize_file


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("inputs", nargs="+")
    parser.add_argument("--output-dir", required=True)
    add_options(parser)
    args = parser.parse_args()
    for source in args.inputs:
        target = os.path.join(args.output_dir, os.path.basename(source))
        normalize_file(source, target, args)
        if args.fsync:
            fsync_path(target)
    if args.fsync:
        fsync_path(args.output_dir)


if __name__ == "__main__":
    main()
