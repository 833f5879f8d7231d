#!/usr/bin/env python3
"""Checks many `gnorm apply` outputs of the corpus in one process (the test suite's driver).

    check_corpus.py RUNS.json

RUNS.json is a list of {"input", "output", "entry", "arguments", "manifest"}: `entry` names the
corpus file in `manifest` (default Fixtures/corpus/manifest.json), `arguments` are check_output.py's extra
flags (e.g. ["--dtype", "f64"], ["--no-mask"]). Prints every problem, prefixed by the
run, and exits 1 if there was any. First, the checker's own reference is checked against
PyTorch's results (run_controls.reference_control): the values are judged by it.
"""
import io
import json
import sys
from contextlib import redirect_stdout

import check_output
import run_controls


def main(path):
    with open(path) as f:
        runs = json.load(f)
    printed = io.StringIO()
    with redirect_stdout(printed):
        reference_agrees = run_controls.reference_control()
    if not reference_agrees:
        print(printed.getvalue(), end="")
        return 1
    failed = 0
    for run in runs:
        argv = [run["input"], run["output"], "--manifest-entry", run["entry"]] + run.get("arguments", [])
        if "manifest" in run:
            argv += ["--manifest", run["manifest"]]
        printed = io.StringIO()
        with redirect_stdout(printed):
            status = check_output.main(argv)
        label = " ".join([run["entry"]] + run.get("label", []))
        if status != 0:
            failed += 1
            for line in printed.getvalue().splitlines():
                print(f"{label}: {line}")
    print(f"{len(runs)} outputs checked, {failed} with problems")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
