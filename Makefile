# gnorm — see README.md. `make run` and `make test` work on a fresh Debian machine.
PREFIX ?= /usr/local
SWIFT ?= swift
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
RELEASE_BIN = .build/release/gnorm
DEMO = Fixtures/demo.h5
DEMO_OUT = $(or $(TMPDIR),/tmp)/gnorm-demo-out.h5

.PHONY: deps build release run test bench fuzz sanitize install uninstall clean

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

install: release
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(RELEASE_BIN) $(DESTDIR)$(PREFIX)/bin/gnorm

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/gnorm

clean:
	rm -rf .build .build-* .bench .venv
