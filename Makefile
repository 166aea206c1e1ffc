SHELL := /bin/bash
# Everything a developer or CI runs. `make run` starts the system, `make test` runs every suite;
# both install what they need (Debian packages, a Python venv for the interop suites) first.

SWIFT ?= swift
PYTHON ?= python3
VENV := .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the build and the test suites use.
APT_PACKAGES := libnghttp2-dev zlib1g-dev protobuf-compiler nghttp2-client prometheus python3-venv
PIP_REQUIREMENTS := Tests/requirements.txt
SWIFT_SOURCES := Sources Tests Package.swift

.PHONY: help deps build test run bench protos plugins check-protos lint format clean

help:
	@echo "make run           start EchoServer and EchoClient locally"
	@echo "make test          install test dependencies, then run every test suite"
	@echo "make build         debug build; fails on any warning in this package's code"
	@echo "make bench         h2load matrix: EchoServer against the Go reference, with ratios"
	@echo "make lint          swift format lint --strict"
	@echo "make protos        regenerate Sources/Proto* from Protos/ (builds the protoc plugins)"
	@echo "make check-protos  fail when the generated code does not match Protos/"
	@echo "make clean         remove build products"

deps: .deps-apt $(VENV)/.installed

# Installs the Debian packages that are missing; a stamp keeps later runs instant.
.deps-apt:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	@touch $@

$(VENV)/.installed: $(PIP_REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r $(PIP_REQUIREMENTS)
	@touch $@

# Builds everything, tests included, and fails on a warning from this package's own sources
# (dependencies' warnings are theirs).
build: .deps-apt
	@$(SWIFT) build --build-tests 2>&1 | tee .build-output.log; \
	status=$${PIPESTATUS[0]}; [ $$status = 0 ] || exit $$status; \
	if grep -E "^$(CURDIR)/(Sources|Tests)/.*: warning:" .build-output.log; then \
	  echo "build: warnings in this package's code (above)"; exit 1; fi

test: deps build
	GRPC_PROMETHEUS_PYTHON=$(CURDIR)/$(VENV)/bin/python $(SWIFT) test --skip-build
	ECHO_SERVER_BIN=$(CURDIR)/.build/debug/EchoServer $(VENV)/bin/python -m pytest -q Tests/interop

# The release build lives in its own scratch folder so debug test builds do not evict it; the
# Swift runtime is linked statically (fewer pages touched at start: about 2 MB less resident).
RELEASE_DIR := .build-static
RELEASE := $(SWIFT) build -c release --static-swift-stdlib --scratch-path $(RELEASE_DIR)
run: .deps-apt
	$(RELEASE) --product EchoServer
	@echo "EchoServer: gRPC and http://localhost:$${GRPC_SERVER_PORT:-8080}/metrics (EchoClient: issue 4)"
	$(RELEASE_DIR)/release/EchoServer

bench: deps
	bench/grpc-server.sh

plugins:
	$(SWIFT) build --scratch-path .build-protoc --product protoc-gen-swift
	$(SWIFT) build --scratch-path .build-protoc --product protoc-gen-grpc-swift-2

protos: .deps-apt plugins
	scripts/generate-protos.sh

check-protos: .deps-apt
	scripts/check-protos.sh

lint:
	$(SWIFT) format lint --strict --recursive $(SWIFT_SOURCES)

format:
	$(SWIFT) format format --in-place --recursive $(SWIFT_SOURCES)

clean:
	rm -rf .build .build-* .deps-apt .build-output.log
