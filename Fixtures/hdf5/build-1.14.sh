#!/usr/bin/env bash
# Builds HDF5 1.14.6 from Debian's own source package (Debian's registry, nothing from elsewhere)
# once into a cache folder outside git, for `make test-hdf5-1.14`. Usage: build-1.14.sh PREFIX.
# Adds a deb-src entry for the suites that carry 1.14 (trixie, sid) on the URI this machine's
# apt sources already use, downloads the source, configures the serial C library with the high-level
# API (no Fortran, no C++), installs it under PREFIX and writes the hdf5.pc (and hdf5-serial.pc,
# which wins over Debian's own) that its autotools build lacks. A finished PREFIX is left as it is.
set -euo pipefail
prefix=${1:?usage: build-1.14.sh PREFIX}
version=1.14.6
debian_version=1.14.6+repack-2
sudo=$([ "$(id -u)" = 0 ] || echo sudo)

# Upstream's autotools install has no pkg-config file (its CMake build writes hdf5.pc): the same
# contents under both names gnorm's Package.swift may ask for (flags SwiftPM accepts: no rpath here,
# the Makefile links one).
write_pc() {
  mkdir -p "$prefix/lib/pkgconfig"
  for name in hdf5 hdf5-serial; do
    printf '%s\n' "prefix=$prefix" 'libdir=${prefix}/lib' 'includedir=${prefix}/include' '' 'Name: HDF5' \
      "Description: HDF5 $version (serial, built from Debian's source package for gnorm's tests)" \
      "Version: $version" 'Libs: -L${libdir} -lhdf5' 'Cflags: -I${includedir}' > "$prefix/lib/pkgconfig/$name.pc"
  done
}
# Debian's patches applied (dpkg-source -x); configured as Debian's serial flavour is in what gnorm
# needs: thread-safe (gnorm calls HDF5 from its I/O threads; without it the test suite ends in
# "double free or corruption"), which upstream calls unsupported next to the high-level library.
# No tools or tests: gnorm's tests use Debian's h5diff. A cache built with other options is rebuilt.
options="--disable-fortran --disable-cxx --enable-hl --enable-threadsafe --enable-unsupported --disable-tests \
--disable-tools --enable-build-mode=production"
if [ "$(cat "$prefix/.complete" 2>/dev/null)" = "$options" ]; then write_pc; exit 0; fi
rm -rf "$prefix"

# The deb-src entry: the first Debian URI of this machine's sources (deb822 or one-line format).
uri=$(sed -n 's/^URIs:[[:space:]]*\(\S*debian\/\?\)$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
[ -n "$uri" ] || uri=$(sed -n 's/^deb[[:space:]]\+\(\S*debian\/\?\)[[:space:]].*/\1/p' /etc/apt/sources.list 2>/dev/null | head -n 1)
[ -n "$uri" ] || uri=http://deb.debian.org/debian
list=/etc/apt/sources.list.d/gnorm-hdf5-src.sources
if [ ! -e "$list" ]; then
  printf 'Types: deb-src\nURIs: %s\nSuites: trixie sid\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$uri" | $sudo tee "$list" >/dev/null
fi
command -v dpkg-source >/dev/null && command -v make >/dev/null && command -v gcc >/dev/null || \
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq dpkg-dev build-essential >/dev/null

work=$prefix.build
rm -rf "$work" && mkdir -p "$work"
cd "$work"
$sudo apt-get update -qq
apt-get source --download-only -qq "hdf5=$debian_version"
dpkg-source -x --no-check hdf5_"$debian_version".dsc src >/dev/null
cd src
# shellcheck disable=SC2086
./configure -q $options --prefix="$prefix" >/dev/null
make -s -j"${JOBS:-2}" >/dev/null
make -s install >/dev/null

write_pc
rm -rf "$work"
echo "$options" > "$prefix/.complete"
echo "HDF5 $version installed in $prefix"
