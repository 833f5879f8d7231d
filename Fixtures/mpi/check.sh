#!/usr/bin/env bash
# End-to-end checks of gnorm-mpi under `mpirun -n 1..4` against the serial gnorm (`make test-mpi`).
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
mpi() { local k=$1; shift; timeout 120 mpirun -q --oversubscribe -n "$k" "$MPI" "$@"; }
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
for input in contiguous gzip few types; do
    apply_case "$input group -g 2" "$input.h5" --groups 2
    apply_case "$input layer" "$input.h5" --mode layer
    apply_case "$input instance" "$input.h5" --mode instance
    apply_case "$input batch" "$input.h5" --mode batch
done
apply_case "contiguous --compression gzip=4" contiguous.h5 --groups 2 --compression gzip=4
apply_case "gzip --compression none" gzip.h5 --groups 2 --compression none
apply_case "contiguous --dtype f64" contiguous.h5 --groups 2 --dtype f64
apply_case "gzip --dtype f16" gzip.h5 --groups 2 --dtype f16
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
for input in contiguous gzip few types; do
    for mode in "--groups 2" "--mode batch" "--mode instance"; do
        for format in csv json ndjson table; do
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

# A rank killed, and mpirun interrupted, while writing a file of many slabs.
"$PY" -c "import h5py, numpy as np; h5py.File('$W/long.h5','w')['x'] = np.random.default_rng(1).standard_normal((4000, 16, 32, 32)).astype('f4')"
for signal in KILL-rank1 INT-mpirun TERM-mpirun; do
    timeout 120 mpirun -q --oversubscribe -n 2 "$MPI" apply -q --groups 4 --memory-limit 1 "$W/long.h5" "$W/out.h5" -f \
        > /dev/null 2> "$W/err.txt" &
    launcher=$!
    sleep 2
    if [ "$signal" = KILL-rank1 ]; then
        for pid in $(pgrep -f "long.h5"); do
            tr '\0' '\n' < /proc/$pid/environ 2>/dev/null | grep -qx OMPI_COMM_WORLD_RANK=1 && kill -KILL "$pid"
        done
    else
        kill -"${signal%-mpirun}" "$launcher"
    fi
    wait "$launcher"; got=$?
    if [ "$got" != 0 ] && [ "$got" != 124 ] && [ "$(leftovers)" = 0 ] && [ ! -e "$W/out.h5" ]; then ok
    else bad "$signal: status $got, $(leftovers) temporary files"; fi
    echo "  $signal: status $got, $(leftovers) temporary files"
done

echo "test-mpi: $passed passed, $failed failed"
[ "$failed" = 0 ]
