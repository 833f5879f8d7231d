#!/usr/bin/env bash
# gnorm-mpi under Slurm (`make test-slurm`, as root): a one-node cluster in a scratch folder
# (munged as the munge user, slurmctld and slurmd as root, all stopped on exit whatever happens),
# then Fixtures/mpi/check.sh through `srun --mpi=pmix -n K` (K = 1..4), the README's job script
# through sbatch, scancel of a running job, a rank killed, and the statuses of interrupted runs.
# Usage: check.sh SERIAL_GNORM MPI_GNORM PYTHON   (PYTHON with h5py and NumPy)
set -uo pipefail
SERIAL=$1 MPI=$2 PY=$3
HERE=$(cd "$(dirname "$0")" && pwd)
LAUNCH=$(cd "$HERE/../.." && pwd)/Scripts/gnorm-launch
[ "$(id -u)" = 0 ] || { echo "test-slurm starts slurmd and munged: run it as root"; exit 1; }
# The scratch folder: every daemon's state, spool, logs and sockets, and the test files.
S=$(mktemp -d "${TMPDIR:-/tmp}/gnorm-slurm.XXXXXX")
chmod 755 "$S"
W=$S/work
mkdir -p "$W" "$S/state" "$S/spool" "$S/log" "$S/munge"
export SLURM_CONF=$S/slurm.conf
# Bounded waits: poll a condition every 0.1 s for at most N seconds.
wait_for() {  # SECONDS COMMAND...
    local tries=$(($1 * 10)); shift
    while ! "$@"; do
        tries=$((tries - 1))
        [ "$tries" -gt 0 ] || return 1
        sleep 0.1
    done
}
stop_daemon() {  # PIDFILE
    [ -s "$1" ] || return 0
    local pid; pid=$(cat "$1")
    kill -TERM "$pid" 2>/dev/null || return 0
    wait_for 20 eval "! kill -0 $pid 2>/dev/null" || kill -KILL "$pid" 2>/dev/null
}
stop_cluster() {
    # shellcheck disable=SC2046
    scancel --quiet --full $(squeue --noheader --format=%i 2>/dev/null) >/dev/null 2>&1
    stop_daemon "$S/slurmd.pid"
    stop_daemon "$S/slurmctld.pid"
    stop_daemon "$S/munge/pid"
    if [ "${failed:-0}" != 0 ]; then tail -n 20 "$S"/log/*.log; fi
    rm -rf "$S"
}
trap stop_cluster EXIT
trap 'exit 130' INT TERM

echo "starting a one-node Slurm cluster in $S"
dd if=/dev/urandom of="$S/munge/munge.key" bs=128 count=1 status=none
chown -R munge:munge "$S/munge"
chmod 400 "$S/munge/munge.key"
runuser -u munge -- munged --socket="$S/munge/socket" --key-file="$S/munge/munge.key" \
    --pid-file="$S/munge/pid" --log-file="$S/munge/log" --seed-file="$S/munge/seed" \
    || { echo "munged did not start"; cat "$S/munge/log"; exit 1; }
# The node as slurmd sees it (its real CPU count); 4 tasks on fewer CPUs need --overcommit.
node=$(slurmd -C | head -n 1)
host=$(hostname -s)
cat > "$SLURM_CONF" <<EOF
ClusterName=gnormci
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$S/munge/socket
SlurmctldPort=16817
SlurmdPort=16818
StateSaveLocation=$S/state
SlurmdSpoolDir=$S/spool
SlurmctldPidFile=$S/slurmctld.pid
SlurmdPidFile=$S/slurmd.pid
SlurmctldLogFile=$S/log/slurmctld.log
SlurmdLogFile=$S/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=pmix
ReturnToService=2
KillWait=10
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
slurmctld -f "$SLURM_CONF" || { echo "slurmctld did not start"; exit 1; }
slurmd -f "$SLURM_CONF" || { echo "slurmd did not start"; exit 1; }
node_idle() { sinfo --noheader --format=%T 2>/dev/null | grep -qx idle; }
wait_for 60 node_idle || { echo "the node did not become idle"; sinfo; failed=1; exit 1; }
srun --mpi=list 2>&1 | grep -q pmix || { echo "Slurm has no pmix plugin"; failed=1; exit 1; }

passed=0 failed=0
ok() { passed=$((passed + 1)); }
bad() { failed=$((failed + 1)); echo "FAIL: $*"; }
leftovers() { ls -a "$W" | grep -c gnorm-tmp; }
# Ranks of one node talk through shared memory; as root mpirun needs these too (the job script's mpirun).
export OMPI_MCA_pml=ob1 OMPI_MCA_btl=self,vader OMPI_MCA_osc=^ucx OMPI_MCA_mtl=^ofi,psm,psm2

echo "== Fixtures/mpi/check.sh through srun --mpi=pmix -n K"
if GNORM_LAUNCHER=srun "$HERE/../mpi/check.sh" "$SERIAL" "$MPI" "$PY"; then ok; else bad "check.sh under srun"; fi

"$PY" "$HERE/../mpi/make_inputs.py" "$W" || exit 1
"$PY" -c "import h5py, numpy as np; h5py.File('$W/long.h5','w')['x'] = np.random.default_rng(1).standard_normal((4000, 16, 32, 32)).astype('f4')"
job_state() { scontrol show job "$1" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | cut -d= -f2; }
job_exit() { scontrol show job "$1" 2>/dev/null | grep -o ' ExitCode=[0-9:]*' | cut -d= -f2; }
job_ended() { case "$(job_state "$1")" in PENDING | RUNNING | COMPLETING | CONFIGURING | "") return 1 ;; esac; }
temporary_file() { ls -a "$W" | grep -q gnorm-tmp; }
# The temporary OUTPUT holds the whole copy of INPUT: every rank is past its start, writing.
copy_done() {
    local name; name=$(ls -a "$W" | grep gnorm-tmp | head -n 1)
    [ -n "$name" ] && [ "$(stat -c %s "$W/$name")" -ge "$(stat -c %s "$W/long.h5")" ]
}

echo "== the README's job script through sbatch (-n 4): apply, then batch statistics over many files"
cat > "$W/job.sh" <<EOF
#!/bin/bash
#SBATCH --job-name=gnorm
#SBATCH -n 4
#SBATCH --overcommit
#SBATCH --output=$W/job-%j.out
set -e
cd $W
srun --mpi=pmix $MPI apply -q --groups 2 --no-history gzip.h5 gzip-norm.h5
srun --mpi=pmix $MPI apply -q --mode batch --no-history contiguous.h5 contiguous-norm.h5
srun --mpi=pmix $MPI stats --mode batch --format json --save stats.h5 part0.h5 part1.h5 part2.h5 part3.h5 part4.h5 > stats.json
srun --mpi=pmix $MPI apply -q --groups 3 contiguous.h5 refused.h5 || echo "refused with status \$?"
EOF
# The same names as the job's (OUTPUT and the report name their sources).
(
    cd "$W" || exit 1
    "$SERIAL" apply -q --groups 2 --no-history gzip.h5 gzip-serial.h5
    "$SERIAL" apply -q --mode batch --no-history contiguous.h5 contiguous-serial.h5
    "$SERIAL" stats --mode batch --format json --save stats-serial.h5 part{0,1,2,3,4}.h5 > stats-serial.json
)
job=$(sbatch --parsable "$W/job.sh")
wait_for 300 job_ended "$job" || bad "job $job still $(job_state "$job") after 300 s"
state=$(job_state "$job") code=$(job_exit "$job")
[ "$state" = COMPLETED ] && [ "$code" = 0:0 ] && ok || bad "job $job: $state, exit code $code"
h5diff -q "$W/gzip-serial.h5" "$W/gzip-norm.h5" && ok || bad "sbatch apply --groups 2: OUTPUT differs from serial"
h5diff -q "$W/contiguous-serial.h5" "$W/contiguous-norm.h5" && ok || bad "sbatch apply --mode batch: OUTPUT differs"
cmp -s "$W/stats-serial.json" "$W/stats.json" && ok || bad "sbatch stats: not byte for byte the serial report"
h5diff -q "$W/stats-serial.h5" "$W/stats.h5" && ok || bad "sbatch stats --save: not the serial statistics"
grep -qx "refused with status 65" "$W/job-$job.out" && ok || bad "sbatch: --groups 3 of 8 channels not status 65"
[ "$(grep -c '^gnorm: error:' "$W/job-$job.out")" = 1 ] && ok || bad "sbatch: not one error line"
[ "$(leftovers)" = 0 ] && [ ! -e "$W/refused.h5" ] && ok || bad "sbatch: temporary file or refused OUTPUT left"
echo "  job $job: $state, exit code $code"

echo "== scancel of a running job: the ranks remove the temporary OUTPUT, the job says CANCELLED"
cat > "$W/long-job.sh" <<EOF
#!/bin/bash
#SBATCH -n 2
#SBATCH --overcommit
#SBATCH --output=$W/long-%j.out
srun --mpi=pmix $MPI apply -q --groups 4 --memory-limit 1 $W/long.h5 $W/out.h5 -f
EOF
job=$(sbatch --parsable "$W/long-job.sh")
if wait_for 120 copy_done; then
    scancel "$job"
    wait_for 60 job_ended "$job" || bad "cancelled job $job still $(job_state "$job")"
    state=$(job_state "$job") code=$(job_exit "$job")
    # The batch shell ends by SIGTERM (ExitCode 0:15); the ranks exit 130 after their clean-up.
    [ "$state" = CANCELLED ] && [ "$(leftovers)" = 0 ] && [ ! -e "$W/out.h5" ] && ok \
        || bad "scancel: $state, exit code $code, $(leftovers) temporary files"
    grep -q "exit code 130" "$W/long-$job.out" && ok || bad "scancel: the ranks did not exit 130"
    echo "  scancel: job $state, exit code $code; $(grep -o 'tasks [0-9-]*: Exited with exit code [0-9]*' "$W/long-$job.out")"
else
    bad "job $job wrote no temporary file in 120 s ($(job_state "$job"))"
    scancel "$job"
fi

echo "== a rank killed (SIGKILL, as the out-of-memory killer does) and interrupted launchers"
# run_and_stop NAME WANT LAUNCHER...: starts the long apply, stops it once its temporary file is
# there, expects status WANT, no temporary file and no OUTPUT.
run_and_stop() {
    local name=$1 want=$2; shift 2
    # Job control: the launcher in its own process group, SIGINT not ignored as in a plain background job.
    set -m
    "$@" apply -q --groups 4 --memory-limit 1 "$W/long.h5" "$W/out.h5" -f > /dev/null 2> "$W/err.txt" &
    local launcher=$!
    set +m
    if ! wait_for 60 copy_done; then bad "$name: no temporary file in 60 s"; kill -KILL "$launcher"; return; fi
    case $name in
        kill-rank1*)
            for pid in $(pgrep -f "$W/long.h5"); do
                tr '\0' '\n' < "/proc/$pid/environ" 2>/dev/null | grep -qx SLURM_PROCID=1 && kill -KILL "$pid"
            done ;;
        *-INT) kill -INT "$launcher" ;;
        *) kill -TERM "$launcher" ;;
    esac
    wait_for 120 eval "! kill -0 $launcher 2>/dev/null" || { bad "$name: still running after 120 s"; kill -KILL "$launcher"; }
    wait "$launcher"
    local got=$?
    if [ "$got" = "$want" ] && [ "$(leftovers)" = 0 ] && [ ! -e "$W/out.h5" ]; then ok
    else bad "$name: status $got (want $want), $(leftovers) temporary files"; cat "$W/err.txt"; fi
    echo "  $name: status $got, $(leftovers) temporary files"
    rm -f "$W"/.out.h5.gnorm-tmp*
}
srun_n() { echo srun --quiet --overcommit -n "$1"; }
# srun --kill-on-bad-exit ends the step with SIGTERM to the others (without it, the pmix plugin's
# clean-up killed rank 0 with SIGKILL and left its temporary file); 137 is rank 1's SIGKILL.
run_and_stop kill-rank1-of-3 137 $(srun_n 3) --kill-on-bad-exit=1 "$MPI"
run_and_stop kill-rank1-gnorm-launch 137 "$LAUNCH" $(srun_n 3) "$MPI"
for signal in INT TERM; do
    run_and_stop "gnorm-launch-srun-$signal" 130 "$LAUNCH" $(srun_n 2) "$MPI"
    run_and_stop "gnorm-launch-mpirun-$signal" 130 "$LAUNCH" mpirun -q --oversubscribe --allow-run-as-root -n 2 "$MPI"
done

echo "test-slurm: $passed passed, $failed failed"
[ "$failed" = 0 ]
