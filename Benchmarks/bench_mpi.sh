#!/usr/bin/env bash
# make bench-mpi: serial gnorm vs gnorm-mpi under mpirun -n 1 and -n 2 on one float32 file
# (1 GiB by default), medians of alternating rounds; then batch statistics over many files,
# gnorm stats (serial, K = 2) vs a NumPy loop over h5py. Markdown table on stdout and in .bench/mpi.md.
# One machine shows the cost of MPI-IO, not a speedup: MPI is for going beyond one machine.
set -euo pipefail
SERIAL= MPI= PY=python3 MB=1024 REPEATS=3 FILES=16
while [ $# -gt 0 ]; do
    case $1 in
        --serial) SERIAL=$2; shift 2 ;; --mpi) MPI=$2; shift 2 ;; --python) PY=$2; shift 2 ;;
        --megabytes) MB=$2; shift 2 ;; --repeats) REPEATS=$2; shift 2 ;; --files) FILES=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 64 ;;
    esac
done
W=$(mktemp -d "${TMPDIR:-/tmp}/gnorm-bench-mpi.XXXXXX")
trap 'rm -rf "$W"' EXIT
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OMPI_MCA_osc=^ucx OMPI_MCA_mtl=^ofi,psm,psm2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
"$PY" - "$W" "$MB" "$FILES" <<'PY'
import sys, h5py, numpy as np
folder, mb, files = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = max(2, mb * 2**20 // (64 * 64 * 64 * 4))       # samples of (64, 64, 64) float32
rng = np.random.default_rng(0)
with h5py.File(f"{folder}/big.h5", "w") as f:
    x = f.create_dataset("x", (n, 64, 64, 64), "f4")
    for start in range(0, n, 16):
        x[start:start + 16] = rng.standard_normal((min(16, n - start), 64, 64, 64), dtype="f4")
per = max(1, n // files)
for i in range(files):
    with h5py.File(f"{folder}/part{i:03}.h5", "w") as f:
        f["x"] = rng.standard_normal((per, 64, 64, 64), dtype="f4")
PY
sync
seconds() { local start end; start=$(date +%s.%N); "$@" > /dev/null; end=$(date +%s.%N); echo "$end - $start" | bc; }
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
declare -A times
names=("gnorm" "gnorm-mpi, mpirun -n 1" "gnorm-mpi, mpirun -n 2")
for round in $(seq "$REPEATS"); do
    times[0]+=" $(seconds "$SERIAL" apply -q --no-history --groups 32 "$W/big.h5" "$W/out.h5" -f)"
    times[1]+=" $(seconds mpirun -q -n 1 "$MPI" apply -q --no-history --groups 32 "$W/big.h5" "$W/out.h5" -f)"
    times[2]+=" $(seconds mpirun -q --oversubscribe -n 2 "$MPI" apply -q --no-history --groups 32 "$W/big.h5" "$W/out.h5" -f)"
done
size=$(stat -c %s "$W/big.h5")
parts=("$W"/part*.h5)
stats_times=("" "" "")
for round in $(seq "$REPEATS"); do
    stats_times[0]+=" $(seconds "$SERIAL" stats --mode batch --format csv "${parts[@]}")"
    stats_times[1]+=" $(seconds mpirun -q --oversubscribe -n 2 "$MPI" stats --mode batch --format csv "${parts[@]}")"
    stats_times[2]+=" $(seconds "$PY" -c "
import sys, h5py, numpy as np
n = s = q = 0
for p in sys.argv[1:]:
    with h5py.File(p) as f:
        x = f['x'][()].astype('f8')
    # per-channel count, mean, M2 of this file, merged (Chan) into the running totals
    m = x.mean(axis=(0, 2, 3)); c = x.size // x.shape[1]; m2 = ((x - m[None, :, None, None])**2).sum(axis=(0, 2, 3))
    if n == 0: n, s, q = c, m, m2
    else:
        d = m - s; t = n + c; s = s + d * c / t; q = q + m2 + d * d * n * c / t; n = t
print(s, q / n)" "${parts[@]}")"
done
parts_size=$(cat "${parts[@]}" | wc -c)
{
    echo "# gnorm-mpi on one machine ($(nproc) cores, $(date -u +%F))"
    echo
    echo "apply --groups 32 on $((size >> 20)) MiB float32 (contiguous), median of $REPEATS rounds, fsync included:"
    echo
    echo "| run | median s | MB/s | rounds |"
    echo "| --- | ---: | ---: | --- |"
    for i in 0 1 2; do
        m=$(median ${times[$i]})
        echo "| ${names[$i]} | $m | $(echo "$size / $m / 1000000" | bc) | ${times[$i]# } |"
    done
    echo
    echo "batch statistics over ${#parts[@]} files ($((parts_size >> 20)) MiB), median of $REPEATS rounds:"
    echo
    echo "| run | median s | MB/s |"
    echo "| --- | ---: | ---: |"
    labels=("gnorm stats --mode batch" "gnorm-mpi stats --mode batch, mpirun -n 2" "NumPy loop (h5py, float64, Chan merge)")
    for i in 0 1 2; do
        m=$(median ${stats_times[$i]})
        echo "| ${labels[$i]} | $m | $(echo "$parts_size / $m / 1000000" | bc) |"
    done
} | tee "$W/mpi.md"
mkdir -p .bench && cp "$W/mpi.md" .bench/mpi.md
