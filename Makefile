# gnorm — see README.md. `make run` and `make test` work on a fresh Debian machine.
PREFIX ?= /usr/local
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE_BIN = .build/release/gnorm
DEMO = Fixtures/demo.h5
DEMO_OUT = $(or $(TMPDIR),/tmp)/gnorm-demo-out.h5

.PHONY: deps build release run test bench fuzz sanitize install uninstall clean
FUZZ_SECONDS ?= 60
FUZZ_TOOLSET = Fuzz/.build/toolset.json

# System libraries: installed only when pkg-config cannot find them.
deps:
	@pkg-config --exists hdf5-serial libdeflate libisal || { \
	  echo "installing libhdf5-dev libdeflate-dev libisal-dev"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq libhdf5-dev libdeflate-dev libisal-dev pkg-config >/dev/null; }

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release

run: release
	$(RELEASE_BIN) ls $(DEMO)
	$(RELEASE_BIN) apply --groups 32 --force $(DEMO) $(DEMO_OUT)
	$(RELEASE_BIN) ls $(DEMO_OUT)
	$(RELEASE_BIN) stats --format table --limit 8 $(DEMO)

test: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

# Kernel and end-to-end benchmarks against PyTorch, NumPy, h5py, cp and h5repack.
bench: release
	$(SWIFT) build -c release --package-path Benchmarks
	@command -v h5repack >/dev/null || $(SUDO) apt-get install -y -qq hdf5-tools >/dev/null
	@[ -x .venv/bin/python ] || python3 -m venv --system-site-packages .venv
	@.venv/bin/python -c "import torch, h5py, numpy" 2>/dev/null || .venv/bin/pip install -q torch h5py numpy
	.venv/bin/python Benchmarks/bench.py $(BENCH_ARGS)

# libFuzzer targets (.npy reader, SPEC parser, stats over a mutated file image) under
# AddressSanitizer, FUZZ_SECONDS each; new corpus entries land in Fixtures/fuzz/.
# gold crashes linking them, so the toolset points at the toolchain's lld.
fuzz: deps
	@mkdir -p Fuzz/.build
	@printf '{"schemaVersion": "1.0", "linker": {"path": "%s"}}\n' "$$(dirname $$(readlink -f $$(command -v swift)))/ld.lld" > $(FUZZ_TOOLSET)
	$(SWIFT) build --package-path Fuzz -c debug -Xswiftc -sanitize=fuzzer,address --toolset $(PWD)/$(FUZZ_TOOLSET)
	Fuzz/.build/debug/FuzzNumpy -max_total_time=$(FUZZ_SECONDS) -max_len=1024 -print_final_stats=1 Fixtures/fuzz/npy
	Fuzz/.build/debug/FuzzSpec -max_total_time=$(FUZZ_SECONDS) -max_len=256 -print_final_stats=1 Fixtures/fuzz/spec
	LSAN_OPTIONS=suppressions=$(PWD)/Fuzz/lsan.supp Fuzz/.build/debug/FuzzStats -max_total_time=$(FUZZ_SECONDS) \
	  -max_len=4096 -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 Fixtures/fuzz/stats

# The test suite under AddressSanitizer, then ThreadSanitizer (kernel threads, I/O thread).
sanitize: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	LSAN_OPTIONS=suppressions=$(PWD)/Fuzz/lsan.supp $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	$(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan --filter "GroupNormKernelTests|GnormPipelineTests"

install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(RELEASE_BIN) $(DESTDIR)$(PREFIX)/bin/gnorm

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/gnorm

clean:
	rm -rf .build .build-* .bench .venv Benchmarks/.build Fuzz/.build
