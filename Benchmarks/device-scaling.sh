#!/bin/bash
# Thread scaling of gnorm on a many-core machine without Swift or HDF5 installed (the figures
# in Documentation/Cluster.md). Prepare beside it, on a machine that builds gnorm:
#   swift build -c release --static-swift-stdlib --scratch-path /tmp/s --product gnorm
#   (cd Benchmarks && swift build -c release --static-swift-stdlib --scratch-path /tmp/b --product gnorm-bench)
#   copy both binaries (stripped) and `ldd`'s libraries plus ld-linux-x86-64.so.2 into lib/,
#   tar them into bundle.txz; python3 Benchmarks/device_seed.py seed.h5 && xz -9 seed.h5
# then run `OUT=results bash device-scaling.sh` there.
exec > >(tee -a $OUT/log) 2>&1
cd "$(dirname "$0")"; B=/tmp/g; mkdir -p $B
unxz() { xz -dc "$1" 2>/dev/null || python3 -c "import lzma,sys;sys.stdout.buffer.write(lzma.open(sys.argv[1]).read())" "$1"; }
unxz bundle.txz | tar xf - -C $B || { echo "no xz"; exit 3; }
nproc; lscpu | grep -E 'Model name|^CPU\(s\)|Thread|Socket|NUMA node\(s\)|L3'; free -g | head -2
W=/tmp/w; [ "$(df --output=avail -k /dev/shm | tail -1)" -gt 20000000 ] && W=/dev/shm/w; mkdir -p $W; df -h $W | tail -1; echo "W=$W"
unxz seed.h5.xz > $W/seed.h5
G() { $B/lib/ld-linux-x86-64.so.2 --library-path $B/lib $B/gnorm "$@"; }
K() { $B/lib/ld-linux-x86-64.so.2 --library-path $B/lib $B/gnorm-bench "$@"; }
G --version
G apply -q -d /nchw --compression none $W/seed.h5 $W/in_nchw.h5 || exit 4
G apply -q -d /nhwc --layout nhwc --compression none $W/seed.h5 $W/in_nhwc.h5 || exit 4
ls -la $W
TIMEFORMAT=%R
t() { local s; s=$( { time "$@" >/dev/null 2>$W/err; } 2>&1 ); echo -n "$s "; [ -s $W/err ] && head -2 $W/err; }
echo "== end to end (seconds; 4 GiB float32 per run)"
for rep in 1 2 3; do
 for k in 1 2 4 8 16; do
  echo -n "rep $rep K=$k: "
  echo -n "stats-nchw "; t G stats -d /nchw --threads $k --format csv $W/in_nchw.h5
  echo -n "stats-nhwc "; t G stats -d /nhwc --layout nhwc --threads $k --format csv $W/in_nhwc.h5
  echo -n "stats-batch "; t G stats -d /nchw --mode batch --threads $k --format csv $W/in_nchw.h5
  echo -n "apply-nchw "; t G apply -q -f -d /nchw --threads $k $W/in_nchw.h5 $W/out.h5; rm -f $W/out.h5
  echo -n "apply-nhwc "; t G apply -q -f -d /nhwc --layout nhwc --threads $k $W/in_nhwc.h5 $W/out.h5; rm -f $W/out.h5
  echo
 done
 echo -n "dd conv=fsync: "; t dd if=$W/in_nchw.h5 of=$W/dd.out bs=16M conv=fsync; rm -f $W/dd.out; echo
done
echo "== kernel (gnorm-bench, avx2)"
for k in 1 2 4 8 16; do echo "K=$k"; K --threads $k --repeats 5 --cpu avx2; done
echo done
