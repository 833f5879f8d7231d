#!/usr/bin/env bash
# End-to-end checks of gnorm-mpi under `mpirun -n 1..4` against the serial gnorm (`make test-mpi`);
# with GNORM_LAUNCHER=srun, under `srun --mpi=pmix -n 1..4` in a Slurm allocation or cluster
# (Fixtures/slurm/check.sh, `make test-slurm`, which checks interrupts under Slurm itself).
# Usage: check.sh SERIAL_GNORM MPI_GNORM PYTHON   (PYTHON with h5py and NumPy)
set -uo pipefail
SERIAL=$1 MPI=$2 PY=$3
HERE=$(cd "$(dirname "$0")" && pwd)
W=$(mktemp -d "${TMPDIR:-/tmp}/gnorm-mpi-check.XXXXXX")
trap 'rm -rf "$W"' EXIT
# Shared memory between ranks of one machine; no network transports probed.
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OMPI_MCA_osc=^ucx OMPI_MCA_mtl=^ofi,psm,psm2
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
LAUNCHER=${GNORM_LAUNCHER:-mpirun}
if [ "$LAUNCHER" = srun ]; then
    # More tasks than the node's CPUs: --overcommit; a rank that fails ends the step.
    launch() { local k=$1; shift; timeout 120 srun --quiet --mpi=pmix --overcommit --kill-on-bad-exit=1 -n "$k" "$@"; }
    # A step costs seconds to start: under srun a subset of the inputs and formats (one of each kind).
    INPUTS="gzip types" MODES=("--groups 2" "--mode batch") FORMATS="json table"
else
    launch() { local k=$1; shift; timeout 120 mpirun -q --oversubscribe -n "$k" "$@"; }
    INPUTS="contiguous gzip few types" MODES=("--groups 2" "--mode batch" "--mode instance") FORMATS="csv json ndjson table"
fi
mpi() { local k=$1; shift; launch "$k" "$MPI" "$@"; }
leftovers() { ls -a "$W" | grep -c gnorm-tmp; }

"$PY" "$HERE/make_inputs.py" "$W" || exit 1

echo "apply: OUTPUT of K ranks vs serial OUTPUT (=: bitwise, every object; N ulp: largest distance)"
printf '%-34s %-8s %-8s %-8s %-8s\n' "input / options" K=1 K=2 K=3 K=4
apply_case() {  # name input options...
    local name=$1 input=$2; shift 2
    "$SERIAL" apply -q --no-history "$@" "$W/$input" "$W/serial.h5" -f || { bad "serial $name"; return; }
    local line; line=$(printf '%-34s' "$name")
    for k in 1 2 3 4; do
        if ! mpi "$k" apply -q --no-history "$@" "$W/$input" "$W/k$k.h5" -f; then
            bad "K=$k $name: status $?"; line+=" $(printf '%-8s' FAIL)"; continue
        fi
        if h5diff -q "$W/serial.h5" "$W/k$k.h5" >/dev/null 2>&1; then
            ok; line+=" $(printf '%-8s' =)"
        else
            # Only batch statistics may differ (merge order); h5diff lists the objects.
            local result; result=$("$PY" "$HERE/compare.py" "$W/serial.h5" "$W/k$k.h5" 1 2>&1)
            if [ $? -eq 0 ] && [[ "$*" == *batch* ]]; then ok; line+=" $(printf '%-8s' "${result#max }")"
            else bad "K=$k $name: $result"; line+=" $(printf '%-8s' DIFF)"; fi
        fi
        [ "$(leftovers)" = 0 ] || bad "K=$k $name: temporary file left"
    done
    echo "$line"
}
for input in $INPUTS; do
    apply_case "$input group -g 2" "$input.h5" --groups 2
    apply_case "$input layer" "$input.h5" --mode layer
    apply_case "$input instance" "$input.h5" --mode instance
    apply_case "$input batch" "$input.h5" --mode batch
done
if [ "$LAUNCHER" = mpirun ]; then
    apply_case "contiguous --compression gzip=4" contiguous.h5 --groups 2 --compression gzip=4
    apply_case "gzip --compression none" gzip.h5 --groups 2 --compression none
    apply_case "contiguous --dtype f64" contiguous.h5 --groups 2 --dtype f64
    apply_case "gzip --dtype f16" gzip.h5 --groups 2 --dtype f16
fi
apply_case "types --dtype f32 (f64 -> f32)" types.h5 --groups 2 --dtype f32
apply_case "gzip batch --weight --bias" gzip.h5 --mode batch --weight /gamma --bias /gamma

# Batch mode: the same bits on every repeat of the same K.
for k in 2 3; do
    mpi "$k" apply -q --no-history --mode batch "$W/gzip.h5" "$W/r1.h5" -f && mpi "$k" apply -q --no-history --mode batch "$W/gzip.h5" "$W/r2.h5" -f \
        && h5diff -q "$W/r1.h5" "$W/r2.h5" >/dev/null && ok || bad "batch K=$k not repeatable"
done

echo "invert: OUTPUT of K ranks (from a serial apply OUTPUT) vs serial invert's, bitwise"
printf '%-34s %-8s %-8s %-8s %-8s\n' "input / options" K=1 K=2 K=3 K=4
invert_case() {  # name input apply-options... -- invert-options...
    local name=$1 input=$2; shift 2
    local forward=() backward=()
    while [ $# -gt 0 ] && [ "$1" != -- ]; do forward+=("$1"); shift; done
    [ $# -gt 0 ] && shift
    backward=("$@")
    "$SERIAL" apply -q --no-history "${forward[@]}" "$W/$input" "$W/normalized.h5" -f \
        && "$SERIAL" invert -q --no-history "${backward[@]}" "$W/normalized.h5" "$W/serial.h5" -f \
        || { bad "serial invert $name"; return; }
    local line; line=$(printf '%-34s' "$name")
    for k in 1 2 3 4; do
        if mpi "$k" invert -q --no-history "${backward[@]}" "$W/normalized.h5" "$W/k$k.h5" -f \
            && h5diff -q "$W/serial.h5" "$W/k$k.h5" >/dev/null 2>&1; then
            ok; line+=" $(printf '%-8s' =)"
        else
            bad "K=$k invert $name"; line+=" $(printf '%-8s' DIFF)"
        fi
        [ "$(leftovers)" = 0 ] || bad "K=$k invert $name: temporary file left"
    done
    echo "$line"
}
for input in contiguous gzip few types; do
    invert_case "$input group -g 2" "$input.h5" --groups 2
    invert_case "$input batch" "$input.h5" --mode batch
done
invert_case "gzip instance --weight --bias" gzip.h5 --mode instance --weight /gamma --bias /gamma \
    -- --weight /gamma --bias /gamma
invert_case "contiguous --dtype f64" contiguous.h5 --groups 2 -- --dtype f64
invert_case "gzip --dtype int16 --clip" gzip.h5 --groups 2 -- --dtype int16 --clip

echo "stats: K ranks print byte for byte what serial gnorm prints"
for input in $INPUTS; do
    for mode in "${MODES[@]}"; do
        for format in $FORMATS; do
            "$SERIAL" stats $mode --format "$format" --limit 0 "$W/$input.h5" > "$W/s.txt" 2>&1
            for k in 1 2 3 4; do
                mpi "$k" stats $mode --format "$format" --limit 0 "$W/$input.h5" > "$W/m.txt" 2>&1
                cmp -s "$W/s.txt" "$W/m.txt" && ok || bad "stats $input $mode $format K=$k"
            done
        done
    done
done
echo "  $((passed)) checks passed so far"

echo "stats over several files (batch, files spread over the ranks, merged in file order)"
parts=("$W"/part0.h5 "$W"/part1.h5 "$W"/part2.h5 "$W"/part3.h5 "$W"/part4.h5)
"$SERIAL" stats --mode batch --format json "${parts[@]}" > "$W/s.json"
"$SERIAL" stats --mode batch --format json "$W/parts.h5" > "$W/whole.json"
for k in 1 2 3 4; do
    mpi "$k" stats --mode batch --format json --save "$W/saved$k.h5" "${parts[@]}" > "$W/m.json" \
        && cmp -s "$W/s.json" "$W/m.json" && ok || bad "many-file stats K=$k"
    "$PY" - "$W/m.json" "$W/whole.json" <<'PY' && ok || bad "many-file stats K=$k vs concatenated data"
import json, sys
a, b = (json.load(open(p))["datasets"][0] for p in sys.argv[1:])
for key in ("mean", "var"):
    for x, y in zip(a[key], b[key]):
        assert abs(x - y) <= 1e-12 * max(abs(y), 1e-300), (key, x, y)
PY
    [ -f "$W/saved$k.h5" ] && ok || bad "--save K=$k"
done

echo "failures: one error line, the SPEC status, no temporary file, no hang"
expect_failure() {  # name status k args...
    local name=$1 want=$2 k=$3; shift 3
    mpi "$k" "$@" > /dev/null 2> "$W/err.txt"
    local got=$? lines; lines=$(grep -c -E '^(gnorm: error:|Error:)' "$W/err.txt")
    if [ "$got" = "$want" ] && [ "$lines" = 1 ] && [ "$(leftovers)" = 0 ]; then ok
    else bad "$name: status $got (want $want), $lines error lines, $(leftovers) temporary files"; cat "$W/err.txt"; fi
}
cp "$W/gzip.h5" "$W/corrupt.h5"
"$PY" - "$W/corrupt.h5" <<'PY'
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    info = f["x"].id.get_chunk_info_by_coord((9, 0, 0, 0))  # the last chunk: rank 1's of 2
with open(sys.argv[1], "r+b") as f:
    f.seek(info.byte_offset + 20); f.write(b"\xde\xad\xbe\xef" * 8)
PY
expect_failure "corrupt chunk read by rank 1 of 2" 74 2 apply -q --groups 2 "$W/corrupt.h5" "$W/out.h5"
expect_failure "corrupt chunk, stats, 3 ranks" 74 3 stats --groups 2 "$W/corrupt.h5"
expect_failure "groups do not divide C" 65 3 apply -q --groups 3 "$W/contiguous.h5" "$W/out.h5"
expect_failure "missing INPUT" 66 2 apply -q "$W/nothing.h5" "$W/out.h5"
expect_failure "OUTPUT exists" 73 2 apply -q --groups 2 "$W/contiguous.h5" "$W/gzip.h5"
expect_failure "usage" 64 4 apply --bogus "$W/contiguous.h5" "$W/out.h5"
[ ! -e "$W/out.h5" ] && ok || bad "OUTPUT left after a failure"

# Issue 20: samples larger than --memory-limit, streamed in pieces by each rank (its samples),
# every piece's write collective: OUTPUT and statistics bitwise the serial ones, memory per rank.
K_PIECES=2 PIECE_MODES=("--groups 4" "--mode instance" "--mode batch")
[ "$LAUNCHER" = srun ] && K_PIECES=3 PIECE_MODES=("--groups 4" "--mode batch")
echo "samples 8x --memory-limit 2 in pieces, K=$K_PIECES: bitwise serial; peak RSS per rank (MiB)"
"$PY" "$HERE/make_pieces.py" "$W/pieces.h5" || exit 1
# Under 2 MiB of budget plus the fixed overhead of a debug gnorm-mpi (runtime, libhdf5, OpenMPI;
# PMIx under srun): 46-47 MiB per rank measured under mpirun, 49-51 under srun; the whole-sample
# path holds 16 MiB more.
RSS_LIMIT_KIB=$(((2 + 56) << 10))
for options in "${PIECE_MODES[@]}"; do
    "$SERIAL" apply -q --no-history --memory-limit 2 $options "$W/pieces.h5" "$W/serial.h5" -f \
        || { bad "serial pieces $options"; continue; }
    rm -f "$W"/rss.*
    # Each rank under /usr/bin/time, its peak RSS in a file named by its pid.
    if launch "$K_PIECES" sh -c 'exec /usr/bin/time -f %M -o "$0.$$" "$@"' "$W/rss" "$MPI" \
        apply -q --no-history --memory-limit 2 $options "$W/pieces.h5" "$W/pieces.h5.out" -f; then
        h5diff -q "$W/serial.h5" "$W/pieces.h5.out" > /dev/null && ok || bad "pieces $options: OUTPUT differs"
    else
        bad "pieces $options: status $?"
    fi
    rss=$(cat "$W"/rss.* 2>/dev/null | sort -n | tr '\n' ' ')
    [ "$(echo $rss | wc -w)" = "$K_PIECES" ] && ok || bad "pieces $options: $(echo $rss | wc -w) RSS figures"
    for kib in $rss; do [ "$kib" -lt "$RSS_LIMIT_KIB" ] && ok || bad "pieces $options: peak RSS $kib KiB"; done
    [ "$(leftovers)" = 0 ] && ok || bad "pieces $options: temporary file left"
    echo "  apply $options: peak RSS per rank $(for kib in $rss; do printf '%d ' $((kib >> 10)); done)"
    "$SERIAL" stats $options --memory-limit 2 --format json "$W/pieces.h5" > "$W/s.txt" 2>&1
    mpi "$K_PIECES" stats $options --memory-limit 2 --format json "$W/pieces.h5" > "$W/m.txt" 2>&1
    cmp -s "$W/s.txt" "$W/m.txt" && ok || bad "pieces stats $options: not the serial report"
done

# A rank killed, and mpirun interrupted, while writing a file of many slabs.
"$PY" -c "import h5py, numpy as np; h5py.File('$W/long.h5','w')['x'] = np.random.default_rng(1).standard_normal((4000, 16, 32, 32)).astype('f4')"
# Issue 20: process 0's progress bar counts every rank's samples (alone it would stop at 134 of 400).
echo "progress under K=3: the bar reaches every sample, in each pass"
"$PY" -c "import h5py, numpy as np; h5py.File('$W/prog.h5','w')['x'] = np.random.default_rng(2).standard_normal((400, 16, 32, 32)).astype('f4')"
for mode in "--groups 4" "--mode batch" "stats"; do
    if [ "$mode" = stats ]; then
        mpi 3 stats --progress --groups 4 --memory-limit 1 "$W/prog.h5" > /dev/null 2> "$W/err.txt"; want="400/400 samples"
    else
        mpi 3 apply --progress --memory-limit 1 $mode "$W/prog.h5" "$W/prog-out.h5" -f 2> "$W/err.txt"; want="400/400 samples"
    fi
    [ "$mode" = "--mode batch" ] && want="400/400 samples pass 2/2"
    counts=$(tr '\r' '\n' < "$W/err.txt" | grep -o '[0-9]*/400 samples\( pass [12]/2\)\?')
    last=$(echo "$counts" | tail -n 1)
    most=$(echo "$counts" | cut -d/ -f1 | sort -n | tail -n 1)
    [ "$last" = "$want" ] && [ "$most" -le 400 ] && ok || bad "progress $mode: last '$last', largest $most"
    echo "  $mode: $(echo "$counts" | wc -l) updates, the last '$last'"
done

# Under srun, Fixtures/slurm/check.sh stops runs its own way (scancel, srun --kill-on-bad-exit).
[ "$LAUNCHER" = srun ] && { echo "test-mpi (srun): $passed passed, $failed failed"; [ "$failed" = 0 ]; exit; }
copy_done() {  # waits (at most 60 s) until the temporary OUTPUT holds the whole copy of INPUT
    local tries=600 name
    while true; do
        name=$(ls -a "$W" | grep gnorm-tmp | head -n 1)
        [ -n "$name" ] && [ "$(stat -c %s "$W/$name")" -ge "$(stat -c %s "$W/long.h5")" ] && return 0
        tries=$((tries - 1)); [ "$tries" -gt 0 ] || return 1; sleep 0.1
    done
}
# Scripts/gnorm-launch turns mpirun's status after an interrupt (1) into gnorm's own, 130.
LAUNCH=$(cd "$HERE/../.." && pwd)/Scripts/gnorm-launch
for signal in KILL-rank1 INT-mpirun TERM-mpirun INT-gnorm-launch TERM-gnorm-launch; do
    case $signal in *gnorm-launch) wrapper=$LAUNCH ;; *) wrapper="" ;; esac
    # Job control: mpirun in its own process group, SIGINT not ignored as in a plain background job.
    set -m
    $wrapper mpirun -q --oversubscribe -n 2 "$MPI" apply -q --groups 4 --memory-limit 1 "$W/long.h5" \
        "$W/out.h5" -f > /dev/null 2> "$W/err.txt" &
    launcher=$!
    set +m
    copy_done || bad "$signal: no complete temporary file within 60 s"
    if [ "$signal" = KILL-rank1 ]; then
        for pid in $(pgrep -f "long.h5"); do
            tr '\0' '\n' < /proc/$pid/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && kill -KILL "$pid"
        done
    else
        kill -"${signal%%-*}" "$launcher"
    fi
    for _ in $(seq 1200); do kill -0 "$launcher" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$launcher" 2>/dev/null && { bad "$signal: still running after 120 s"; kill -KILL "$launcher"; }
    wait "$launcher"; got=$?
    case $signal in
        *-gnorm-launch) want=130 ;;
        *) want=nonzero ;;  # mpirun's own status: 1 after an interrupt, 137 after a rank's SIGKILL
    esac
    if { [ "$want" = nonzero ] && [ "$got" != 0 ] || [ "$got" = "$want" ]; } && [ "$(leftovers)" = 0 ] && [ ! -e "$W/out.h5" ]; then ok
    else bad "$signal: status $got, $(leftovers) temporary files"; fi
    echo "  $signal: status $got, $(leftovers) temporary files"
done

echo "test-mpi: $passed passed, $failed failed"
[ "$failed" = 0 ]
