#!/usr/bin/env python3
"""`make bench`: gnorm beside the references a skeptic would write, in one run.

1. Kernel: gnorm's kernel on reused buffers (Benchmarks/.build/release/gnorm-bench)
   beside torch.nn.functional.group_norm (its own process, after warm-up, same thread
   count), a float64 NumPy implementation (its own process, in-place, one thread) and
   memcpy (gnorm-bench, same threads). GB/s of input; ratios printed as they come out.
2. End to end: `gnorm apply` (and `gnorm stats`, `gnorm invert`) beside Benchmarks/references/
   h5py_numpy.py with and without fsync, torch_group_norm.py (fsync), `cp` + `sync FILE`
   and `dd bs=4M conv=fsync` (the I/O floor with durability); `gnorm stats` beside the
   h5py+NumPy statistics pass and `dd of=/dev/null`; `gnorm invert` of an apply OUTPUT
   (case invert-1g) beside `gnorm apply` of its source, references/h5py_numpy_invert.py and `cp`.
   Many small files (case many-files: 500 files of 1 MiB float32): one `gnorm apply
   --output-dir` over all of them beside one `gnorm apply IN OUT` per file under
   `xargs -P T` (--threads 1 each), a Python loop (references/h5py_numpy_many.py) with and
   without fsync, and `cp -r` + `sync` of the output files and folder.
3. Start-up (key startup): `gnorm --version`, `python -c "import h5py, numpy"` and
   `/bin/true`, alternating, median of 20 runs each (--quick 5), in ms per run.
4. Cold page cache (key cold): `gnorm apply` of a float32 file of --cold-gib GiB (default 4,
   --quick 1/16) beside `dd bs=16M conv=fsync` of the same file, INPUT fsynced and dropped from
   the page cache (POSIX_FADV_DONTNEED) before every run, runs alternating; gnorm ÷ dd per round.

Method, so that the figures measure the programs and not the machine's state:
- every input is written, then `sync`ed, before the first timing; each case reads its
  input through once before its runs (warm page cache: dropping caches needs root, so
  every program reads from memory and writes through the page cache to disk);
- `sync` runs before every timed run (the previous run's dirty pages are flushed
  outside the timing); each program writes its own OUTPUT, removed before its run;
- runs alternate: each round runs gnorm and every reference once, the order rotated
  per round; the table gives medians and the median (and range) of the per-round
  ratios time ÷ gnorm's time (> 1: gnorm took less time; < 1: gnorm took more);
- peak RSS of each process (the largest of it and its children) from `/usr/bin/time -f %M`;
- the first round compares each reference's first output sample with gnorm's.

Writes the Markdown to stdout and .bench/<date>.md, every timing to .bench/<date>.json.
--quick: tiny sizes, one round (a smoke test, not figures). --only KEY,...: only those
end-to-end cases (keys in cases(), e.g. many-files) and/or `startup`, `stored-types` (float16,
int16, uint8 beside float32 per byte of INPUT); the kernel runs
unless --skip-kernel. --gnorm PATH: time that binary instead of .build/release/gnorm.
"""
import argparse
import dataclasses
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

import h5py
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GNORM = os.path.join(ROOT, ".build/release/gnorm")
KERNEL_BENCH = os.path.join(ROOT, "Benchmarks/.build/release/gnorm-bench")
REFERENCES = os.path.join(ROOT, "Benchmarks/references")
PYTHON = sys.executable
MiB = 2**20


@dataclasses.dataclass
class Case:
    key: str
    label: str
    dtype: str = "float32"
    samples: int = 0               # N; each sample is `sample` (C, H, W)
    sample: tuple = (256, 64, 64)
    chunked: bool = False          # gzip-1 + shuffle, one sample per chunk
    source: str = ""               # another case's input file
    gnorm: tuple = ()              # extra `gnorm apply` options
    reference: tuple = ()          # the same for the Python references
    stats: bool = False            # `gnorm stats` instead of `apply`
    invert: bool = False           # `gnorm invert` of gnorm apply's OUTPUT, beside `gnorm apply` of the input
    files: int = 0                 # > 0: that many files of `shape` in a folder (outputs are folders)
    note: str = ""

    @property
    def shape(self):
        return (self.samples,) + self.sample

    @property
    def nbytes(self):
        """Data of every file together."""
        return int(np.prod(self.shape)) * np.dtype(self.dtype).itemsize * max(1, self.files)


def cases(quick):
    """The end-to-end rows. Full sizes in MiB of input; --quick divides sample counts by 32."""
    s = (lambda n: max(2, n // 32)) if quick else (lambda n: n)
    big = (256, 128, 128) if quick else (256, 512, 512)       # 16 MiB or 256 MiB of float32 per sample
    limit = "2" if quick else "32"                            # --memory-limit 8× smaller than a sample
    return [
        Case("f32-1g", "float32 {size} contiguous", samples=s(256)),
        Case("f32-gzip", "float32 {size} gzip-1+shuffle, 1 sample/chunk", samples=s(128), chunked=True),
        Case("f32-512", "float32 {size} contiguous", samples=s(128)),
        Case("f16-512", "float16 {size} contiguous", dtype="float16", samples=s(256)),
        Case("f64-512", "float64 {size} contiguous", dtype="float64", samples=s(64)),
        Case("i16-512", "int16 {size} → float32", dtype="int16", samples=s(256)),
        Case("u8-256", "uint8 {size} → float32", dtype="uint8", samples=s(256)),
        Case("f32-batch", "float32 {size} `--mode batch`", samples=s(128), source="f32-512",
             gnorm=("--mode", "batch"), reference=("--mode", "batch")),
        Case("f32-big", f"float32 {{size}}, sample 8× `--memory-limit {limit}`", samples=2, sample=big,
             gnorm=("--memory-limit", limit), note="references use one sample per slab"),
        Case("stats-1g", "`gnorm stats` float32 {size}", samples=s(256), source="f32-1g", stats=True),
        Case("invert-1g", "`gnorm invert` float32 {size} contiguous (an apply OUTPUT)", samples=s(256),
             source="f32-1g", invert=True),
        Case("many-files", f"{{files}} files × 1 MiB float32 (1, 64, 64, 64) contiguous, {{size}} in all",
             samples=1, sample=(64, 64, 64), files=20 if quick else 500,
             # /usr/bin/time reports the largest process under xargs, not the sum of those running at once.
             note="xargs: peak RSS of one of its processes"),
    ]


STARTUP = "startup"   # --only key of the start-up table (not an end-to-end case)
COLD = "cold"         # --only key of the cold-cache row (INPUT dropped from the page cache before each run)


def tools(case, src, folder, threads, gnorm):
    """(name, command, output or None) for gnorm first, then the references."""
    if case.files:
        return many_files_tools(case, src, folder, threads, gnorm)

    def out(name):
        return os.path.join(folder, f"out-{case.key}-{name}.h5")
    h5py_numpy = os.path.join(REFERENCES, "h5py_numpy.py")
    if case.stats:
        return [("gnorm stats", [gnorm, "stats", "--format", "csv", "--threads", str(threads), src], None),
                ("h5py+NumPy stats", [PYTHON, h5py_numpy, src, *case.reference], None),
                ("dd of=/dev/null", ["dd", f"if={src}", "of=/dev/null", "bs=4M", "status=none"], None)]
    if case.invert:
        # The input of `invert`: gnorm apply's OUTPUT of the source, made once, untimed.
        normalized = os.path.join(folder, f"in-{case.key}-normalized.h5")
        if not os.path.exists(normalized):
            run([gnorm, "apply", "-q", "--threads", str(threads), src, normalized])
            sync()
            read_through(normalized)
        return [
            ("gnorm invert", [gnorm, "invert", "-q", "-f", "--threads", str(threads), normalized, out("gnorm")],
             out("gnorm")),
            ("gnorm apply (of the source)", [gnorm, "apply", "-q", "-f", "--threads", str(threads), src, out("apply")],
             out("apply")),
            ("h5py+NumPy invert, fsync", [PYTHON, os.path.join(REFERENCES, "h5py_numpy_invert.py"), "--fsync",
                                          normalized, out("np")], out("np")),
            ("cp + sync", ["sh", "-c", 'cp "$1" "$2" && sync "$2"', "sh", normalized, out("cp")], out("cp")),
        ]
    torch_script = os.path.join(REFERENCES, "torch_group_norm.py")
    return [
        ("gnorm", [gnorm, "apply", "-q", "-f", "--threads", str(threads), *case.gnorm, src, out("gnorm")], out("gnorm")),
        ("h5py+NumPy, fsync", [PYTHON, h5py_numpy, "--fsync", *case.reference, src, out("np")], out("np")),
        ("h5py+NumPy, no fsync", [PYTHON, h5py_numpy, *case.reference, src, out("np-nofsync")], out("np-nofsync")),
        ("torch, fsync", [PYTHON, torch_script, "--fsync", "--threads", str(threads), *case.reference, src,
                          out("torch")], out("torch")),
        ("cp + sync", ["sh", "-c", 'cp "$1" "$2" && sync "$2"', "sh", src, out("cp")], out("cp")),
        ("dd conv=fsync", ["dd", f"if={src}", f"of={out('dd')}", "bs=4M", "conv=fsync", "status=none"], out("dd")),
    ]


def many_files_tools(case, src, folder, threads, gnorm):
    """The same for a folder of files: each output is a folder, made empty before each run."""
    def out(name):
        return os.path.join(folder, f"out-{case.key}-{name}")
    inputs = input_files(src)
    many = os.path.join(REFERENCES, "h5py_numpy_many.py")
    # What a user scripts today: one process per file, as many at once as there are threads.
    per_file = 'cd "$1" && printf "%s\\n" *.h5 | xargs -P "$3" -I{} "$4" apply -q -f --threads 1 {} "$2"/{}'
    return [
        ("gnorm, one process", [gnorm, "apply", "-q", "-f", "--threads", str(threads), "--output-dir", out("gnorm"),
                                *case.gnorm, *inputs], out("gnorm")),
        (f"gnorm per file (`xargs -P{threads}`, --threads 1)",
         ["sh", "-c", per_file, "sh", src, out("xargs"), str(threads), gnorm], out("xargs")),
        ("h5py+NumPy loop, fsync", [PYTHON, many, "--fsync", "--output-dir", out("np"), *case.reference, *inputs],
         out("np")),
        ("h5py+NumPy loop, no fsync", [PYTHON, many, "--output-dir", out("np-nofsync"), *case.reference, *inputs],
         out("np-nofsync")),
        # cp -r into the (empty) output folder, then fsync of every file and the folder.
        ("cp -r + sync", ["sh", "-c", 'cp -r "$1"/. "$2" && sync "$2" "$2"/*', "sh", src, out("cp")], out("cp")),
    ]


def input_files(folder):
    return sorted(os.path.join(folder, name) for name in os.listdir(folder) if name.endswith(".h5"))


def remove(path):
    if os.path.isdir(path):
        shutil.rmtree(path)
    elif os.path.exists(path):
        os.remove(path)


def size_on_disk(path):
    return sum(map(os.path.getsize, input_files(path))) if os.path.isdir(path) else os.path.getsize(path)


def run(command, stdout=subprocess.DEVNULL):
    """Wall seconds, peak RSS (MiB, the process and its children), exit status, stderr's tail."""
    # /usr/bin/time rather than wait4 here: a child's peak RSS starts at this (large) process's, forked.
    with tempfile.TemporaryFile() as stderr, tempfile.NamedTemporaryFile("r") as peak:
        start = time.perf_counter()
        rc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", peak.name, *command], stdout=stdout, stderr=stderr).returncode
        seconds = time.perf_counter() - start
        stderr.seek(0)
        tail = stderr.read()[-2000:].decode(errors="replace")
        lines = peak.read().strip().splitlines()
    rss = int(lines[-1]) / 1024 if lines and lines[-1].isdigit() else float("nan")
    return {"seconds": seconds, "rss_mib": rss, "rc": rc, "stderr": tail}


def sync():
    subprocess.run(["sync"], check=True)


def read_through(path):
    for name in input_files(path) if os.path.isdir(path) else [path]:
        with open(name, "rb", buffering=0) as f:
            while f.read(4 * MiB):
                pass


def make_inputs(path, case):
    """One file, or a folder of case.files files (different values in each)."""
    if not case.files:
        return make_input(path, case)
    os.makedirs(path)
    for i in range(case.files):
        make_input(os.path.join(path, f"{i:04d}.h5"), case, seed=i)


def make_input(path, case, seed=0):
    rng = np.random.default_rng(seed)
    kwargs = dict(chunks=(1,) + case.sample, compression="gzip", compression_opts=1, shuffle=True) if case.chunked else {}
    dtype = np.dtype(case.dtype)
    per_slab = max(1, 64 * MiB // (int(np.prod(case.sample)) * dtype.itemsize))
    with h5py.File(path, "w") as f:
        d = f.create_dataset("x", shape=case.shape, dtype=dtype, **kwargs)
        for start in range(0, case.samples, per_slab):
            shape = (min(per_slab, case.samples - start),) + case.sample
            if dtype.kind == "f":
                block = rng.standard_normal(shape, dtype=np.float32) * 2 + 1
            elif dtype == np.uint8:
                block = rng.integers(0, 256, shape, dtype=np.uint8)
            else:
                block = rng.integers(-3000, 3000, shape, dtype=dtype)
            d[start:start + shape[0]] = block.astype(dtype)


def first_sample_difference(reference, gnorm):
    """max |reference − gnorm| over the first sample of /x (float64), or None; of the first files for folders."""
    if os.path.isdir(reference) and os.path.isdir(gnorm):
        first = sorted(os.listdir(gnorm))[:1]
        if not first:
            return None
        reference, gnorm = os.path.join(reference, first[0]), os.path.join(gnorm, first[0])
    try:
        with h5py.File(reference, "r") as a, h5py.File(gnorm, "r") as b:
            return float(np.max(np.abs(a["x"][0].astype(np.float64) - b["x"][0].astype(np.float64))))
    except (OSError, KeyError):
        return None


def end_to_end(folder, rounds, threads, quick, only, gnorm, log):
    all_cases = [c for c in cases(quick) if not only or c.key in only]
    inputs = {}
    started = time.perf_counter()
    for case in all_cases:
        key = case.source if case.source and any(c.key == case.source for c in all_cases) else case.key
        if key not in inputs:
            inputs[key] = os.path.join(folder, f"in-{key}" + ("" if case.files else ".h5"))
            make_inputs(inputs[key], next(c for c in all_cases if c.key == key) if key != case.key else case)
    sync()
    log(f"inputs: {sum(map(size_on_disk, inputs.values())) / MiB:.0f} MiB written and synced "
        f"in {time.perf_counter() - started:.0f} s")
    results = []
    for case in all_cases:
        src = inputs[case.source if case.source in inputs else case.key]
        read_through(src)
        programs = tools(case, src, folder, threads, gnorm)
        record = {"case": dataclasses.asdict(case), "data_bytes": case.nbytes,
                  "input_bytes": size_on_disk(src), "runs": []}
        failed = set()
        for r in range(rounds):
            order = programs[r % len(programs):] + programs[:r % len(programs)]
            for name, command, output in order:
                if name in failed:
                    continue
                if output:
                    remove(output)
                    if case.files:
                        os.makedirs(output)   # --output-dir must exist; not part of the timing
                sync()
                result = run(command)
                result.update(tool=name, round=r, command=command)
                if result["rc"] != 0:
                    failed.add(name)
                    log(f"{case.key}: {name} exited {result['rc']}: {result['stderr'].strip()[-300:]}")
                gnorm_output = programs[0][2]
                if r == 0 and output and output != gnorm_output and result["rc"] == 0 and not name.startswith(("cp", "dd", "gnorm apply")):
                    if os.path.exists(gnorm_output):
                        result["max_abs_difference_first_sample"] = first_sample_difference(output, gnorm_output)
                if output and output != gnorm_output:
                    remove(output)
                record["runs"].append(result)
        for _, _, output in programs:
            if output:
                remove(output)
        if case.invert:
            remove(os.path.join(folder, f"in-{case.key}-normalized.h5"))
        sync()
        results.append(record)
        log(f"{case.key}: done ({time.perf_counter() - started:.0f} s so far)")
    for path in inputs.values():
        remove(path)
    return results


def size_label(nbytes):
    """Data size (uncompressed) as the table says it: MiB, or GiB from 1 GiB up."""
    return f"{nbytes / 2**30:.3g} GiB" if nbytes >= 2**30 else f"{nbytes / MiB:.3g} MiB"


def summarize(record):
    """Per program: median seconds, range, median and range of per-round time ÷ gnorm's, peak RSS."""
    runs = record["runs"]
    names = list(dict.fromkeys(r["tool"] for r in runs))
    gnorm = {r["round"]: r for r in runs if r["tool"] == names[0]}
    rows = []
    for name in names:
        mine = [r for r in runs if r["tool"] == name]
        ok = [r for r in mine if r["rc"] == 0]
        row = {"tool": name, "runs": len(mine), "failed": len(mine) - len(ok)}
        if ok:
            times = [r["seconds"] for r in ok]
            row.update(median=statistics.median(times), low=min(times), high=max(times),
                       rss=max(r["rss_mib"] for r in ok),
                       rate=record["data_bytes"] / statistics.median(times) / 1e9)
            ratios = [r["seconds"] / gnorm[r["round"]]["seconds"] for r in ok
                      if r["round"] in gnorm and gnorm[r["round"]]["rc"] == 0]
            if ratios:
                row.update(ratio=statistics.median(ratios), ratio_low=min(ratios), ratio_high=max(ratios))
            diffs = [r["max_abs_difference_first_sample"] for r in ok if r.get("max_abs_difference_first_sample") is not None]
            if diffs:
                row["difference"] = diffs[0]
        else:
            row["error"] = mine[0]["stderr"].strip().splitlines()[-1] if mine and mine[0]["stderr"].strip() else "failed"
        rows.append(row)
    return rows


def end_to_end_table(results):
    lines = [f"| input | program | median s | range s | GB/s of data | time ÷ gnorm's (range) | peak RSS MiB | max abs diff vs gnorm |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for record in results:
        case = record["case"]
        label = (case["label"].format(size=size_label(record["data_bytes"]), files=case["files"])
                 + (f" ({case['note']})" if case["note"] else ""))
        for i, row in enumerate(summarize(record)):
            first = label if i == 0 else ""
            if "median" not in row:
                lines.append(f"| {first} | {row['tool']} | fails: {row['error'][:120]} | | | | | |")
                continue
            ratio = "1" if i == 0 else (f"{row['ratio']:.2f} ({row['ratio_low']:.2f}–{row['ratio_high']:.2f})"
                                        if "ratio" in row else "—")
            diff = f"{row['difference']:.1e}" if "difference" in row else ""
            lines.append(f"| {first} | {row['tool']} | {row['median']:.2f} | {row['low']:.2f}–{row['high']:.2f} | "
                         f"{row['rate']:.2f} | {ratio} | {row['rss']:.0f} | {diff} |")
    return "\n".join(lines)


def evict(path):
    """Drops `path` from the page cache (fsync, then POSIX_FADV_DONTNEED: no root needed, other
    files' pages stay); returns the bytes still cached (`fincore`), or None without fincore."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)
    if not shutil.which("fincore"):
        return None
    out = subprocess.run(["fincore", "--bytes", "--noheadings", "--output", "RES", path],
                         capture_output=True, text=True).stdout.split()
    return int(out[0]) if out and out[0].isdigit() else None


def cold_cache(folder, gib, rounds, threads, gnorm, log):
    """`gnorm apply` beside `dd bs=16M conv=fsync` of the same float32 file, INPUT dropped from
    the page cache before every run (`evict`), runs alternating, order rotated per round."""
    per_sample = 256 * 64 * 64 * 4
    samples = max(2, int(gib * 2**30) // per_sample)
    src = os.path.join(folder, "in-cold.h5")
    started = time.perf_counter()
    block = np.random.default_rng(0).standard_normal((16, 256, 64, 64), dtype=np.float32)
    with h5py.File(src, "w") as f:
        d = f.create_dataset("x", shape=(samples, 256, 64, 64), dtype=np.float32)
        for start in range(0, samples, len(block)):
            count = min(len(block), samples - start)
            d[start:start + count] = block[:count] + np.float32(start % 7)
    sync()
    log(f"{COLD}: {os.path.getsize(src) / MiB:.0f} MiB written and synced in {time.perf_counter() - started:.0f} s")
    out = os.path.join(folder, "out-cold.h5")
    programs = [("gnorm", [gnorm, "apply", "-q", "-f", "--threads", str(threads), src, out]),
                ("dd conv=fsync", ["dd", f"if={src}", f"of={out}", "bs=16M", "conv=fsync", "status=none"])]
    runs = []
    try:
        for r in range(rounds):
            for name, command in programs[r % 2:] + programs[:r % 2]:
                remove(out)
                sync()
                cached = evict(src)
                result = run(command)
                result.update(tool=name, round=r, command=command, input_cached_bytes=cached)
                if result["rc"] != 0:
                    log(f"{COLD}: {name} exited {result['rc']}: {result['stderr'].strip()[-300:]}")
                runs.append(result)
    finally:
        remove(out)
        remove(src)
    log(f"{COLD}: done")
    return {"data_bytes": samples * per_sample, "samples": samples, "rounds": rounds, "runs": runs,
            "read_ahead_kb": read_file("/sys/block/" + block_device(folder) + "/queue/read_ahead_kb")}


def block_device(folder):
    """The disk under `folder` as /sys/block names it (vda for /dev/vda1), or ""."""
    source = command_output(["df", "--output=source", folder]).splitlines()[-1].strip()
    name = os.path.basename(os.path.realpath(source)) if source.startswith("/dev/") else ""
    while name and not os.path.exists(f"/sys/block/{name}"):
        name = name[:-1]
    return name


def read_file(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return "unknown"


def cold_table(record):
    """gnorm and dd: median s, range, GB/s, per-round gnorm ÷ dd (median, range), peak RSS."""
    lines = ["| program | median s | range s | GB/s of data | gnorm ÷ dd (range) | peak RSS MiB | INPUT cached at start |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"]
    runs = [r for r in record["runs"] if r["rc"] == 0]
    dd = {r["round"]: r["seconds"] for r in runs if r["tool"] == "dd conv=fsync"}
    ratios = [r["seconds"] / dd[r["round"]] for r in runs if r["tool"] == "gnorm" and r["round"] in dd]
    for name in ("gnorm", "dd conv=fsync"):
        mine = [r for r in runs if r["tool"] == name]
        if not mine:
            lines.append(f"| {name} | fails | | | | | |")
            continue
        times = [r["seconds"] for r in mine]
        ratio = (f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"
                 if name == "gnorm" and ratios else "1" if name != "gnorm" else "—")
        cached = [r["input_cached_bytes"] for r in mine if r["input_cached_bytes"] is not None]
        lines.append(f"| {name} | {statistics.median(times):.2f} | {min(times):.2f}–{max(times):.2f} | "
                     f"{record['data_bytes'] / statistics.median(times) / 1e9:.2f} | {ratio} | "
                     f"{max(r['rss_mib'] for r in mine):.0f} | {f'{max(cached) / MiB:.0f} MiB' if cached else '?'} |")
    return "\n".join(lines)


def cpu_has_avx2():
    with open("/proc/cpuinfo") as f:
        return any(line.startswith("flags") and " avx2" in line for line in f)


def kernel(threads, repeats, warmup, log):
    """gnorm's kernel on each instruction set this CPU has (the same bits on each), one run
    of every shape per set, then torch and NumPy on the same shapes."""
    sets = ["baseline", "avx2"] if cpu_has_avx2() else ["baseline"]
    rows = {}
    for cpu in sets:
        out = subprocess.run([KERNEL_BENCH, "--threads", str(threads), "--repeats", str(repeats), "--cpu", cpu],
                             check=True, capture_output=True, text=True).stdout.strip().splitlines()
        for line in out[1:]:
            shape, dtype, layout, _, rate, copy, _ = line.split(",")
            row = rows.setdefault((shape, dtype, layout),
                                  {"shape": shape, "dtype": dtype, "layout": layout, "memcpy": 0.0})
            row[cpu] = float(rate)
            row["memcpy"] = max(row["memcpy"], float(copy))  # measured beside each set: the faster
        log(f"kernel: gnorm --cpu {cpu} done")
    rows = list(rows.values())
    for row in rows:
        row["gnorm"] = max(row[cpu] for cpu in sets)
    specs = [f"{r['shape'].split()[0]}:{r['shape'].split()[1][1:]}:{r['dtype']}:{r['layout']}" for r in rows]
    reference = os.path.join(REFERENCES, "kernel.py")
    for impl, impl_repeats in [("torch", repeats), ("numpy", max(1, repeats // 3))]:
        lines = subprocess.run([PYTHON, reference, impl, "--threads", str(threads), "--repeats", str(impl_repeats),
                                "--warmup", str(warmup if impl == "torch" else 1), *specs],
                               check=True, capture_output=True, text=True).stdout.strip().splitlines()
        for row, line in zip(rows, lines):
            measured = json.loads(line)
            row[impl] = measured["GBps"]
            row[f"{impl}_seconds"] = measured["seconds"]
        log(f"kernel: {impl} done")
    return rows


def kernel_table(rows):
    lines = ["| shape | dtype | layout | gnorm baseline | gnorm avx2 | torch | NumPy f64 | memcpy | gnorm ÷ torch "
             "| gnorm ÷ memcpy |",
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        avx2 = f"{r['avx2']:.2f}" if "avx2" in r else "—"
        lines.append(f"| {r['shape']} | {r['dtype']} | {r['layout']} | {r['baseline']:.2f} | {avx2} | {r['torch']:.2f} | "
                     f"{r['numpy']:.2f} | {r['memcpy']:.2f} | {r['gnorm'] / r['torch']:.2f} | "
                     f"{r['gnorm'] / r['memcpy']:.0%} |")
    return "\n".join(lines)


def command_output(command):
    try:
        return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine(folder, threads, gnorm):
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor() or "unknown")
    memory = next((int(line.split()[1]) // 1024**2 for line in open("/proc/meminfo") if line.startswith("MemTotal")), 0)
    dirty = command_output(["git", "-C", ROOT, "status", "--porcelain", "--untracked-files=no"])
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu, "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)), "threads": threads,
        "memory_gib": memory, "kernel": platform.release(),
        "filesystem": command_output(["df", "--output=fstype", folder]).splitlines()[-1].strip(),
        "device": command_output(["df", "--output=source", folder]).splitlines()[-1].strip(),
        "bench_folder": folder,
        "load_average": open("/proc/loadavg").read().split()[:3],
        "gnorm_commit": command_output(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]) + ("+dirty" if dirty else ""),
        "gnorm_binary": gnorm, "gnorm_version": command_output([gnorm, "--version"]),
        "python": platform.python_version(), "torch": command_output([PYTHON, "-c", "import torch; print(torch.__version__)"]), "numpy": np.__version__,
        "h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version,
    }


def gnorm_label(m):
    """The checkout's commit, or the binary given with --gnorm (whose commit this script cannot know)."""
    if m["gnorm_binary"] == GNORM:
        return m["gnorm_commit"]
    return f"{m['gnorm_version']} `{m['gnorm_binary']}` (bench.py at {m['gnorm_commit']})"


def startup_seconds():
    """What importing the references' modules costs (included in their end-to-end times)."""
    times = {}
    for name, code in [("python + h5py + numpy", "import h5py, numpy"), ("python + torch + h5py", "import torch, h5py")]:
        times[name] = statistics.median(run([PYTHON, "-c", code])["seconds"] for _ in range(3))
    return times


def startup_runs(gnorm, rounds):
    """Wall ms of a process that does nothing: gnorm, Python importing the references' modules, /bin/true.

    Timed here without /usr/bin/time (its own fork and exec would be most of /bin/true's
    time); one untimed run of each first, so every binary and library is in the page cache;
    the order rotates per round as in the end-to-end rows.
    """
    programs = [("gnorm --version", [gnorm, "--version"]),
                ('python -c "import h5py, numpy"', [PYTHON, "-c", "import h5py, numpy"]),
                ("/bin/true", ["/bin/true"])]
    for _, command in programs:
        subprocess.run(command, stdout=subprocess.DEVNULL, check=True)
    runs = []
    for r in range(rounds):
        for name, command in programs[r % len(programs):] + programs[:r % len(programs)]:
            start = time.perf_counter()
            rc = subprocess.run(command, stdout=subprocess.DEVNULL).returncode
            runs.append({"tool": name, "round": r, "ms": (time.perf_counter() - start) * 1000, "rc": rc,
                         "command": command})
    return {"rounds": rounds, "runs": runs}


def startup_table(record):
    lines = ["| program | median ms | range ms | time ÷ gnorm's (range) |", "| --- | ---: | ---: | ---: |"]
    runs = record["runs"]
    names = list(dict.fromkeys(r["tool"] for r in runs))
    gnorm = {r["round"]: r["ms"] for r in runs if r["tool"] == names[0]}
    for i, name in enumerate(names):
        times = [r["ms"] for r in runs if r["tool"] == name]
        ratios = [r["ms"] / gnorm[r["round"]] for r in runs if r["tool"] == name]
        ratio = "1" if i == 0 else f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})"
        failed = sum(r["rc"] != 0 for r in runs if r["tool"] == name)
        lines.append(f"| {name}{f' ({failed} failed)' if failed else ''} | {statistics.median(times):.1f} | "
                     f"{min(times):.1f}–{max(times):.1f} | {ratio} |")
    return "\n".join(lines)


STORED_TYPES = "stored-types"   # --only key of the stored-types table (not an end-to-end case)


def stored_types(folder, rounds, threads, quick, gnorm, log, before=None):
    """`gnorm apply` of float32, float16, int16 and uint8 files of the same INPUT size (256 MiB; --quick
    8 MiB), shape (N, 256, 64, 64), N set by the element size, beside `dd conv=fsync` writing each OUTPUT
    size (the floor: int16 and uint8 become 2× and 4× the bytes as float32); runs alternate, order rotated
    per round, `sync` before each. Per program: median seconds, range, GB/s of INPUT, and per round the
    time ÷ the float32 run's time of that round (the same INPUT bytes: the ratio of time per INPUT byte).
    With `before` (another gnorm binary: main's, say), its float32 and float16 runs alternate with the
    others, for before/after rows measured side by side."""
    size = (8 if quick else 256) * MiB
    kinds = [("float32", "float32"), ("float16", "float16"), ("int16", "int16 → float32"),
             ("uint8", "uint8 → float32")]
    programs = []
    for dtype, label in kinds:
        sample = (256, 64, 64)
        samples = size // (int(np.prod(sample)) * np.dtype(dtype).itemsize)
        case = Case(f"st-{dtype}", label, dtype=dtype, samples=samples, sample=sample)
        src = os.path.join(folder, f"in-st-{dtype}.h5")
        make_input(src, case)
        out = os.path.join(folder, f"out-st-{dtype}.h5")
        programs.append((label, [gnorm, "apply", "-q", "-f", "--threads", str(threads), src, out], out, src))
        if before and dtype in ("float32", "float16"):
            programs.append((f"{label}, before", [before, "apply", "-q", "-f", "--threads", str(threads), src, out],
                             out, src))
    # The floor of each OUTPUT size: dd writing that many bytes, fsync'ed (float32 OUTPUT is 1×, 2×
    # and 4× the INPUT for float32/float16, int16 and uint8).
    for factor in (1, 2, 4):
        out = os.path.join(folder, f"out-st-dd{factor}")
        programs.append((f"dd conv=fsync, {size_label(factor * size)} (OUTPUT of {'int16' if factor == 2 else 'uint8'})"
                         if factor > 1 else f"dd conv=fsync, {size_label(size)} (OUTPUT of float32)",
                         ["dd", "if=/dev/zero", f"of={out}", "bs=4M", f"count={factor * size // (4 * MiB)}",
                          "conv=fsync", "status=none"], out, None))
    sync()
    for src in {p[3] for p in programs if p[3]}:
        read_through(src)
    runs = []
    for r in range(rounds):
        for label, command, out, _ in programs[r % len(programs):] + programs[:r % len(programs)]:
            remove(out)
            sync()
            result = run(command)
            result.update(tool=label, round=r, command=command)
            if result["rc"] != 0:
                log(f"{STORED_TYPES}: {label} exited {result['rc']}: {result['stderr'].strip()[-300:]}")
            runs.append(result)
            remove(out)
    for src in {p[3] for p in programs if p[3]}:
        remove(src)
    log(f"{STORED_TYPES}: done")
    return {"input_bytes": size, "runs": runs, "tools": [p[0] for p in programs]}


def stored_types_table(record):
    runs = record["runs"]
    base = {r["round"]: r["seconds"] for r in runs if r["tool"] == record["tools"][0] and r["rc"] == 0}
    lines = ["| INPUT | gnorm apply of, or dd | median s | range s | GB/s of INPUT | time per INPUT byte ÷ float32's (range) "
             "| peak RSS MiB |", "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for i, tool in enumerate(record["tools"]):
        ok = [r for r in runs if r["tool"] == tool and r["rc"] == 0]
        first = size_label(record["input_bytes"]) if i == 0 else ""
        if not ok:
            lines.append(f"| {first} | {tool} | fails | | | | |")
            continue
        times = [r["seconds"] for r in ok]
        ratios = [r["seconds"] / base[r["round"]] for r in ok if r["round"] in base]
        ratio = (f"{statistics.median(ratios):.2f} ({min(ratios):.2f}–{max(ratios):.2f})" if ratios else "—")
        lines.append(f"| {first} | {tool} | {statistics.median(times):.2f} | {min(times):.2f}–{max(times):.2f} | "
                     f"{record['input_bytes'] / statistics.median(times) / 1e9:.2f} | {ratio} | "
                     f"{max(r['rss_mib'] for r in ok):.0f} |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, one round: a smoke test")
    parser.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--rounds", type=int, help="end-to-end rounds (default 3; --quick 1)")
    parser.add_argument("--kernel-repeats", type=int, help="timed kernel runs (default 9; --quick 1)")
    parser.add_argument("--only", help=f"comma-separated end-to-end case keys (see cases()) and/or {STARTUP}, {COLD}, {STORED_TYPES}")
    parser.add_argument("--cold-gib", type=float, help=f"GiB of float32 in the {COLD} row (default 4; --quick 1/16)")
    parser.add_argument("--gnorm", default=GNORM, help="the gnorm binary to time (default .build/release/gnorm)")
    parser.add_argument("--before", help=f"another gnorm binary whose float32 and float16 runs alternate with "
                        f"--gnorm's in the {STORED_TYPES} table (before/after rows)")
    parser.add_argument("--skip-kernel", action="store_true")
    parser.add_argument("--skip-end-to-end", action="store_true")
    parser.add_argument("--folder", default=os.environ.get("BENCH_DIR", os.path.join(ROOT, ".bench")),
                        help="where inputs and outputs are written (BENCH_DIR; default .bench/)")
    args = parser.parse_args()
    only = set(args.only.split(",")) if args.only else None
    unknown = (only or set()) - {c.key for c in cases(args.quick)} - {STARTUP, COLD, STORED_TYPES}
    if unknown:
        parser.error(f"--only: no case {', '.join(sorted(unknown))}")
    rounds = args.rounds or (1 if args.quick else 3)
    repeats = args.kernel_repeats or (1 if args.quick else 9)
    warmup = 1 if args.quick else 3
    results_folder = os.path.join(ROOT, ".bench")
    os.makedirs(results_folder, exist_ok=True)
    os.makedirs(args.folder, exist_ok=True)
    work = tempfile.mkdtemp(prefix="work-", dir=args.folder)
    began = time.perf_counter()

    def log(message):
        print(f"[{time.perf_counter() - began:6.0f} s] {message}", file=sys.stderr, flush=True)

    info = machine(work, args.threads, args.gnorm)
    mode = "quick (tiny sizes: a smoke test, not figures)" if args.quick else "full"
    log(f"{mode}: kernel {repeats} timed runs (torch after {warmup} warm-up), end to end {rounds} rounds")
    report = {"machine": info, "mode": mode, "rounds": rounds, "kernel_repeats": repeats, "torch_warmup": warmup}
    try:
        if not args.skip_kernel:
            report["kernel"] = kernel(args.threads, repeats, warmup, log)
        if not args.skip_end_to_end and (not only or only - {STARTUP, COLD, STORED_TYPES}):
            report["startup_seconds"] = startup_seconds()
            report["end_to_end"] = end_to_end(work, rounds, args.threads, args.quick, only, args.gnorm, log)
        if not args.skip_end_to_end and (not only or STARTUP in only):
            report["startup"] = startup_runs(args.gnorm, 5 if args.quick else 20)
            log("startup: done")
        if not args.skip_end_to_end and (not only or COLD in only):
            report["cold"] = cold_cache(work, args.cold_gib or (1 / 16 if args.quick else 4), rounds, args.threads,
                                        args.gnorm, log)
        if not args.skip_end_to_end and (not only or STORED_TYPES in only):
            report["stored_types"] = stored_types(work, rounds, args.threads, args.quick, args.gnorm, log,
                                                  args.before)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    info["load_average_end"] = open("/proc/loadavg").read().split()[:3]
    report["seconds"] = time.perf_counter() - began

    m = info
    text = [f"Measured {m['date'][:10]} ({mode}): {m['cpu']}, {m['usable_cores']} of {m['cores']} cores, "
            f"{m['memory_gib']} GiB, Linux {m['kernel']}, bench folder on {m['filesystem']} ({m['device']}); "
            f"gnorm {gnorm_label(m)}, torch {m['torch']}, NumPy {m['numpy']}, h5py {m['h5py']} (HDF5 {m['hdf5']}), "
            f"Python {m['python']}. Load average {' '.join(m['load_average'])} at start, "
            f"{' '.join(m['load_average_end'])} at end. Warm page cache (inputs written and synced before timing)."]
    if "kernel" in report:
        text += ["", f"Kernel, {args.threads} threads, GB/s of input, median of {repeats} "
                 f"(torch in its own process after {warmup} warm-up calls; NumPy f64 one thread, median of "
                 f"{max(1, repeats // 3)}); gnorm on each `--cpu` this CPU has (the same bits), memcpy the faster "
                 f"of its runs beside each; the ratios use gnorm's faster set; gnorm ÷ torch "
                 f"above 1: gnorm faster, below 1: slower.",
                 "", kernel_table(report["kernel"])]
    if "end_to_end" in report:
        startup = ", ".join(f"{k} {v:.2f} s" for k, v in report["startup_seconds"].items())
        text += ["", f"End to end, {rounds} round(s), programs alternating (order rotated per round), `sync` before "
                 f"every run; gnorm and torch on {args.threads} threads. time ÷ gnorm's: per-round ratio, median "
                 f"(range); above 1 gnorm took less time, below 1 more. Reference start-up included ({startup}).",
                 "", end_to_end_table(report["end_to_end"])]
    if "startup" in report:
        text += ["", f"Start-up, wall ms per run of a process that does nothing, median of {report['startup']['rounds']} "
                 "(alternating, order rotated per round, after one untimed run each); time ÷ gnorm's: per-round "
                 "ratio, median (range).", "", startup_table(report["startup"])]
    if "cold" in report:
        cold = report["cold"]
        text += ["", f"Cold page cache ({COLD}): float32 {size_label(cold['data_bytes'])} contiguous "
                 f"({cold['samples']} × 256×64×64), `gnorm apply` beside `dd bs=16M conv=fsync` of the same file, "
                 f"{cold['rounds']} round(s) alternating; before every run OUTPUT removed, `sync`, INPUT fsynced and "
                 f"dropped from the page cache (POSIX_FADV_DONTNEED; last column: what `fincore` still found). "
                 f"gnorm ÷ dd: per-round ratio, median (range); the target is 1.1 or less. Disk read-ahead "
                 f"{cold['read_ahead_kb']} KiB.", "", cold_table(cold)]
    if "stored_types" in report:
        text += ["", f"Stored types, `gnorm apply` of files of the same INPUT size, {args.threads} threads, "
                 f"{rounds} round(s) alternating, `sync` before each run; time per byte of INPUT ÷ float32's: "
                 "per-round ratio, median (range).", "", stored_types_table(report["stored_types"])]
    text += ["", f"Total {report['seconds'] / 60:.1f} min."]
    markdown = "\n".join(text)
    print(markdown)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S") + ("-quick" if args.quick else "")
    with open(os.path.join(results_folder, f"{stamp}.md"), "w") as f:
        f.write(markdown + "\n")
    with open(os.path.join(results_folder, f"{stamp}.json"), "w") as f:
        json.dump(report, f, indent=1)
    log(f"wrote .bench/{stamp}.md and .bench/{stamp}.json")


if __name__ == "__main__":
    main()
