# gnorm — see README.md. `make run` and `make test` work on a fresh Debian machine.
PREFIX ?= /usr/local
# bash for process substitution in the manual check.
SHELL := /bin/bash
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE_BIN = .build/release/gnorm
DEMO = Fixtures/demo.h5
DEMO_OUT = $(or $(TMPDIR),/tmp)/gnorm-demo-out.h5

# swift-format (shipped with the toolchain as `swift format`) checks the tree against .swift-format.
LINT_PATHS = Sources Tests Benchmarks/Sources Fuzz/Sources Package.swift Benchmarks/Package.swift Fuzz/Package.swift

.PHONY: lint format deps test-deps build release run test bench fuzz sanitize sanitize-address sanitize-thread manual install uninstall clean \
  deps-mpi build-mpi test-mpi bench-mpi deps-slurm test-slurm deps-hdf5-1.14 test-hdf5-1.14
FUZZ_SECONDS ?= 60
FUZZ_TOOLSET = Fuzz/.build/toolset.json

# System libraries and HDF5's filter plugins (lzf, LZ4, BZip2, Blosc: what h5py and hdf5plugin
# users write), installed only when missing. Debian's folders are found by its multiarch triplet
# (x86-64, aarch64, ...), never written out. HDF5_PC is the pkg-config name Package.swift picks
# (hdf5-serial where it exists, else hdf5; see README, Building against another HDF5).
MULTIARCH := $(shell dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch 2>/dev/null)
PLUGINS = /usr/lib/$(MULTIARCH)/hdf5/serial/plugins
HDF5_PC = $(or $(GNORM_HDF5_PKG_CONFIG),$(shell for d in $$(echo "$$PKG_CONFIG_PATH" | tr : ' '); do \
  [ -e $$d/hdf5-serial.pc ] && { echo hdf5-serial; exit; }; [ -e $$d/hdf5.pc ] && { echo hdf5; exit; }; done; \
  pkg-config --exists hdf5-serial 2>/dev/null && echo hdf5-serial || echo hdf5))
deps:
	@pkg-config --exists $(HDF5_PC) libdeflate libisal && [ -e $(PLUGINS)/liblzf_filter.so ] \
	  && [ -e $(PLUGINS)/libh5lz4.so ] && [ -e $(PLUGINS)/libH5Zblosc.so ] && ldconfig -p | grep -q liblzf.so.1 || { \
	  echo "installing libhdf5-dev libdeflate-dev libisal-dev and HDF5 filter plugins"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libhdf5-dev libdeflate-dev \
	    libisal-dev pkg-config hdf5-plugin-lzf liblzf1 hdf5-filter-plugin hdf5-filter-plugin-blosc-serial >/dev/null; }

# What the tests check OUTPUT with: HDF5's and netCDF's tools, NCO (ncpdq packs a test file),
# h5py, netCDF4, xarray, and the tools whose files Fixtures/formats holds (anndata, PyTables,
# hdf5storage, mat73: OUTPUT read back by them) in .venv; /usr/bin/time measures peak RSS.
TEST_PYTHON = $(CURDIR)/.venv/bin/python
test-deps: deps
	@command -v h5diff >/dev/null && command -v ncdump >/dev/null && command -v ncpdq >/dev/null && [ -x /usr/bin/time ] || { \
	  echo "installing hdf5-tools netcdf-bin nco time"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq hdf5-tools netcdf-bin nco python3-venv time >/dev/null; }
	@[ -x $(TEST_PYTHON) ] || python3 -m venv --system-site-packages .venv
	@$(TEST_PYTHON) -c "import h5py, numpy, netCDF4, h5netcdf, xarray, hdf5plugin" 2>/dev/null || \
	  $(TEST_PYTHON) -m pip install -q h5py numpy netCDF4 h5netcdf xarray hdf5plugin
	@$(TEST_PYTHON) -c "import anndata, tables, hdf5storage, mat73" 2>/dev/null || \
	  $(TEST_PYTHON) -m pip install -q anndata tables hdf5storage mat73

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

run: release
	$(RELEASE_BIN) ls $(DEMO)
	$(RELEASE_BIN) apply --groups 32 --force $(DEMO) $(DEMO_OUT)
	$(RELEASE_BIN) ls $(DEMO_OUT)
	$(RELEASE_BIN) stats --format table --limit 8 $(DEMO)

# The command-line suites run the release binary, the one users run (GNORM_TEST_BINARY): on 2
# cores the suite takes ~50 s with it against ~72 s with the debug binary.
test: test-deps
	$(SWIFT) build --build-tests
	$(SWIFT) build -c release --product gnorm
	GNORM_TEST_PYTHON=$(TEST_PYTHON) GNORM_TEST_HDF5_VERSION=$$(pkg-config --modversion $(HDF5_PC)) \
	  GNORM_TEST_BINARY=$(CURDIR)/.build/release/gnorm $(SWIFT) test --skip-build
	@# The committed manual page must be what the help text generates (its date line aside).
	@$(SWIFT) package --allow-writing-to-package-directory generate-manual >/dev/null
	@diff <(grep -v '^\.Dd' Documentation/gnorm.1) <(grep -v '^\.Dd' .build/plugins/GenerateManual/outputs/gnorm/gnorm.1) \
	  || { echo "Documentation/gnorm.1 is stale: run make manual"; exit 1; }

# gnorm-mpi: the same code built with the MPI trait against Debian's parallel libhdf5 (OpenMPI),
# in its own scratch path. pkg-config hdf5-openmpi, never plain hdf5 (which the package repoints).
MPI_SCRATCH = .build-mpi
MPI_RELEASE_BIN = $(MPI_SCRATCH)/release/gnorm
deps-mpi: deps
	@pkg-config --exists hdf5-openmpi && command -v mpirun >/dev/null || { \
	  echo "installing libhdf5-openmpi-dev openmpi-bin"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libhdf5-openmpi-dev openmpi-bin >/dev/null; }

build-mpi: deps-mpi
	$(SWIFT) build -c release --traits MPI --scratch-path $(MPI_SCRATCH)

# The MPI build's test suite, one test at a time (Debian's parallel libhdf5 is not thread-safe),
# then Fixtures/mpi/check.sh: mpirun -n 1..4 against the serial gnorm, each run under timeout.
test-mpi: test-deps deps-mpi
	$(SWIFT) build
	$(SWIFT) build --build-tests --traits MPI --scratch-path $(MPI_SCRATCH)
	@# Debian has no blosc plugin for parallel HDF5; hdf5plugin's (not linked to a libhdf5) serves both.
	GNORM_TEST_PYTHON=$(TEST_PYTHON) GNORM_TEST_BINARY=$(CURDIR)/$(MPI_SCRATCH)/debug/gnorm \
	  HDF5_PLUGIN_PATH=$$(pkg-config --variable=PluginDir hdf5-openmpi):$$($(TEST_PYTHON) -c 'import hdf5plugin; print(hdf5plugin.PLUGIN_PATH)') \
	  $(SWIFT) test --skip-build --no-parallel --traits MPI --scratch-path $(MPI_SCRATCH)
	Fixtures/mpi/check.sh $(CURDIR)/.build/debug/gnorm $(CURDIR)/$(MPI_SCRATCH)/debug/gnorm $(TEST_PYTHON)

# Slurm (as root): munge and Slurm's daemons and client; Slurm's pmix plugin comes with slurmd and
# finds libpmix through libpmix-dev (pulled by libopenmpi-dev).
deps-slurm: deps-mpi
	@command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v srun >/dev/null \
	  && command -v munged >/dev/null || { \
	  echo "installing slurmctld slurmd slurm-client munge"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq slurmctld slurmd \
	    slurm-client munge >/dev/null; }

# gnorm-mpi under Slurm: Fixtures/slurm/check.sh starts munged, slurmctld and slurmd on a one-node
# configuration in a scratch folder (stopped at the end whatever happens), runs Fixtures/mpi/check.sh
# through srun -n 1..4, the README's job script through sbatch, scancel, a killed rank, interrupts.
test-slurm: test-deps deps-slurm
	$(SWIFT) build
	$(SWIFT) build --traits MPI --scratch-path $(MPI_SCRATCH)
	$(SUDO) Fixtures/slurm/check.sh $(CURDIR)/.build/debug/gnorm $(CURDIR)/$(MPI_SCRATCH)/debug/gnorm $(TEST_PYTHON)

# Serial gnorm vs gnorm-mpi with K = 1, 2 on a 1 GiB file, and stats over many files vs a NumPy
# loop (BENCH_MPI_ARGS="--megabytes 64 --repeats 1" for a smoke test). Results in .bench/mpi.md.
bench-mpi: release build-mpi test-deps
	Benchmarks/bench_mpi.sh --serial $(RELEASE_BIN) --mpi $(MPI_RELEASE_BIN) --python $(TEST_PYTHON) $(BENCH_MPI_ARGS)

# HDF5 1.14 (what Debian 13, Fedora, conda-forge and Homebrew ship) beside Debian 12's 1.10.8: built
# once from Debian's own source package into a cache folder outside git (Fixtures/hdf5/build-1.14.sh,
# 5 minutes of CPU, 19 on a busy 2-core machine), then gnorm built against it in its own scratch
# path, chosen by PKG_CONFIG_PATH alone (its hdf5-serial.pc wins over Debian's), and the whole test
# suite run against it, corpus checks included. The binary finds that libhdf5 by its rpath.
# As root the cache is /var/cache's, which every user can read: the tests run gnorm as nobody too.
HDF5_114_PREFIX ?= $(if $(filter 0,$(shell id -u)),/var/cache,$(or $(XDG_CACHE_HOME),$(HOME)/.cache))/gnorm-hdf5/1.14.6
HDF5_114_SCRATCH = .build-hdf5-1.14
HDF5_114_ENV = PKG_CONFIG_PATH=$(HDF5_114_PREFIX)/lib/pkgconfig
HDF5_114_LINK = -Xlinker -rpath -Xlinker $(HDF5_114_PREFIX)/lib
deps-hdf5-1.14:
	Fixtures/hdf5/build-1.14.sh $(HDF5_114_PREFIX)

test-hdf5-1.14: test-deps deps-hdf5-1.14
	$(HDF5_114_ENV) $(SWIFT) build --build-tests --scratch-path $(HDF5_114_SCRATCH) $(HDF5_114_LINK)
	@# The binary must run on the 1.14 library, not Debian's (ldd names the file it resolves).
	@ldd $(HDF5_114_SCRATCH)/debug/gnorm | grep -q '$(HDF5_114_PREFIX)/lib/libhdf5.so' \
	  || { echo "$(HDF5_114_SCRATCH)/debug/gnorm is not linked to $(HDF5_114_PREFIX)"; exit 1; }
	@# That libhdf5 looks for plugins in its own prefix. hdf5plugin's (blosc, lz4, bz2; they link no
	@# libhdf5) come first; Debian's folder serves lzf, which hdf5plugin lacks: its plugin links
	@# Debian's libhdf5 1.10, but the HDF5 calls it makes bind to the 1.14 library already loaded.
	$(HDF5_114_ENV) GNORM_TEST_PYTHON=$(TEST_PYTHON) GNORM_TEST_BINARY=$(CURDIR)/$(HDF5_114_SCRATCH)/debug/gnorm \
	  GNORM_TEST_HDF5_VERSION=1.14.6 \
	  HDF5_PLUGIN_PATH=$$($(TEST_PYTHON) -c 'import hdf5plugin; print(hdf5plugin.PLUGIN_PATH)'):$(PLUGINS) \
	  $(SWIFT) test --skip-build --scratch-path $(HDF5_114_SCRATCH)

# The tree formatted as .swift-format says, and no line over 120 columns (strings included).
lint:
	$(SWIFT) format lint --strict -r $(LINT_PATHS)
	@! LC_ALL=C.UTF-8 grep -rnE --include='*.swift' '^.{121,}' $(LINT_PATHS) || { echo "lines over 120 columns"; exit 1; }

format:
	$(SWIFT) format format -i -r --parallel $(LINT_PATHS)

# Kernel and end-to-end benchmarks against PyTorch, NumPy, h5py, cp and dd (Benchmarks/bench.py;
# BENCH_ARGS=--quick for a smoke test). Results land in .bench/.
bench: release
	$(SWIFT) build -c release --package-path Benchmarks
	@[ -x .venv/bin/python ] || python3 -m venv --system-site-packages .venv
	@.venv/bin/python -c "import torch, h5py, numpy" 2>/dev/null || .venv/bin/pip install -q torch h5py numpy
	.venv/bin/python Benchmarks/bench.py $(BENCH_ARGS)

# libFuzzer targets (.npy reader, SPEC parser, stats over a mutated file image) under
# AddressSanitizer, FUZZ_SECONDS each; new corpus entries land in Fixtures/fuzz/.
# gold crashes linking them, so the toolset points at the toolchain's lld.
fuzz: deps
	@mkdir -p Fuzz/.build
	@printf '{"schemaVersion": "1.0", "linker": {"path": "%s"}}\n' "$$(dirname $$(readlink -f $$(command -v swift)))/ld.lld" > $(FUZZ_TOOLSET)
	$(SWIFT) build --package-path Fuzz -c release -Xswiftc -sanitize=fuzzer,address --toolset $(CURDIR)/$(FUZZ_TOOLSET)
	Fuzz/.build/release/FuzzNumpy -max_total_time=$(FUZZ_SECONDS) -max_len=1024 -print_final_stats=1 Fixtures/fuzz/npy
	Fuzz/.build/release/FuzzSpec -max_total_time=$(FUZZ_SECONDS) -max_len=256 -print_final_stats=1 Fixtures/fuzz/spec
	@# libhdf5 keeps (and on some corrupt-file error paths loses) memory between inputs, which
	@# makes libFuzzer leak-check after every input (10x slower) and LeakSanitizer report at exit;
	@# both are about libhdf5's allocations (Fuzz/lsan.supp). AddressSanitizer still checks every access.
	LSAN_OPTIONS=suppressions=$(CURDIR)/Fuzz/lsan.supp Fuzz/.build/release/FuzzStats -detect_leaks=0 -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=4096 -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 Fixtures/fuzz/stats
	LSAN_OPTIONS=suppressions=$(CURDIR)/Fuzz/lsan.supp Fuzz/.build/release/FuzzApply -detect_leaks=0 -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=4096 -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 Fixtures/fuzz/apply

# The test suite under AddressSanitizer and ThreadSanitizer (kernel threads, I/O thread).
sanitize: sanitize-address sanitize-thread

sanitize-address: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	LSAN_OPTIONS=suppressions=$(CURDIR)/Fuzz/lsan.supp $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan

# CI runs this one too: the kernel's and the pipeline's threads.
sanitize-thread: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --filter "GroupNormKernelTests|GnormPipelineTests"

# Regenerates Documentation/gnorm.1 from the help text (swift-argument-parser's plugin) and the
# help snapshots that CommandTests compares with (Tests/gnormTests/Help/*.txt).
manual: deps
	$(SWIFT) package --allow-writing-to-package-directory generate-manual
	cp .build/plugins/GenerateManual/outputs/gnorm/gnorm.1 Documentation/gnorm.1
	$(SWIFT) build --product gnorm
	.build/debug/gnorm --help > Tests/gnormTests/Help/gnorm.txt
	for command in apply invert stats ls; do .build/debug/gnorm $$command --help > Tests/gnormTests/Help/$$command.txt; done

# The binary, bash/zsh/fish completions (generated by swift-argument-parser) and the manual.
install: release
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions $(DESTDIR)$(PREFIX)/share/zsh/site-functions \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(RELEASE_BIN) $(DESTDIR)$(PREFIX)/bin/gnorm
	@# gnorm-mpi beside gnorm where parallel HDF5 is installed (make deps-mpi); never required.
	@if pkg-config --exists hdf5-openmpi; then \
	  $(SWIFT) build -c release --traits MPI --scratch-path $(MPI_SCRATCH) && \
	  install -m 755 $(MPI_RELEASE_BIN) $(DESTDIR)$(PREFIX)/bin/gnorm-mpi && \
	  install -m 755 Scripts/gnorm-launch $(DESTDIR)$(PREFIX)/bin/gnorm-launch; fi
	install -m 644 Documentation/gnorm.1 $(DESTDIR)$(PREFIX)/share/man/man1/gnorm.1
	$(RELEASE_BIN) --generate-completion-script bash > $(DESTDIR)$(PREFIX)/share/bash-completion/completions/gnorm
	$(RELEASE_BIN) --generate-completion-script zsh > $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_gnorm
	$(RELEASE_BIN) --generate-completion-script fish > $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/gnorm.fish

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/gnorm $(DESTDIR)$(PREFIX)/bin/gnorm-mpi $(DESTDIR)$(PREFIX)/bin/gnorm-launch $(DESTDIR)$(PREFIX)/share/man/man1/gnorm.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/gnorm $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_gnorm \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/gnorm.fish

clean:
	rm -rf .build .build-* .bench .venv Benchmarks/.build Fuzz/.build
