SHELL := /bin/bash
# Everything a developer or CI runs. `make run` starts the system, `make test` runs every suite;
# both install what they need (Debian packages, a Python venv for the interop suites) first.

SWIFT ?= swift
PYTHON ?= python3
VENV := .venv
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the build and the test suites use.
APT_PACKAGES := libnghttp2-dev zlib1g-dev protobuf-compiler nghttp2-client prometheus python3-venv \
  chromium chromium-driver wrk
PIP_REQUIREMENTS := Tests/requirements.txt
SWIFT_SOURCES := Sources Tests Fuzz bench/peers Package.swift

.PHONY: help deps build test test-asan test-tsan test-deploy test-compose fuzz run run-prometheus bench bench-instructions protos plugins check-protos lint format clean

help:
	@echo "make run           start EchoServer and EchoClient locally"
	@echo "make test          install test dependencies, then run every test suite"
	@echo "make test-asan     the Swift and interop suites against an AddressSanitizer build"
	@echo "make test-tsan     the same against a ThreadSanitizer build, two event loops each"
	@echo "make test-deploy   compose/Dockerfile/Prometheus/Grafana/k8s checks + end-to-end under Prometheus"
	@echo "make test-compose  compose.yaml run for real on podman: images built, stack started and checked"
	@echo "make fuzz          libFuzzer targets (Fuzz/) from their seed corpora, FUZZ_SECONDS each"
	@echo "make run-prometheus  Prometheus with docker/prometheus config, scraping make run's processes"
	@echo "make build         debug build; fails on any warning in this package's code"
	@echo "make bench         h2load and wrk matrices: EchoServer/EchoClient against the Go reference and gRPC peers"
	@echo "make bench-instructions  instructions per request of EchoServer and EchoClient (callgrind; repeatable)"
	@echo "make lint          swift format lint --strict"
	@echo "make protos        regenerate Sources/Proto* from Protos/ (builds the protoc plugins)"
	@echo "make check-protos  fail when the generated code does not match Protos/"
	@echo "make clean         remove build products"

deps: .deps-apt $(VENV)/.installed

# Installs the Debian packages of $(1) that are missing.
define apt_install
	@missing=$$(for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages: $$missing"; \
	  $(SUDO) apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
endef

# A stamp keeps later runs instant.
.deps-apt:
	$(call apt_install,$(APT_PACKAGES))
	@touch $@

$(VENV)/.installed: $(PIP_REQUIREMENTS)
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install -q -r $(PIP_REQUIREMENTS)
	@touch $@

# Builds everything, tests included, and fails on a warning from this package's own sources
# (dependencies' warnings are theirs).
# The Swift suites and the interop suite (real clients, damaged input, floods) against an
# AddressSanitizer build: the code on unsafe pointers (nghttp2 glue, header blocks, stream map,
# memory pool) under a memory checker. Leak reports are off: process-lifetime globals (lazy
# statics, the test runner's own objects) would be listed as leaks at exit. The soak runs 10 s
# here: its memory bound is skipped on a sanitized build, its descriptor count is not.
test-asan: deps
	$(SWIFT) build --build-tests --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0 GRPC_PROMETHEUS_PYTHON=$(CURDIR)/$(VENV)/bin/python \
	  $(SWIFT) test --skip-build --sanitize=address --scratch-path .build-asan
	ASAN_OPTIONS=detect_leaks=0 ECHO_SERVER_BIN=$(CURDIR)/.build-asan/debug/EchoServer \
	  ECHO_CLIENT_BIN=$(CURDIR)/.build-asan/debug/EchoClient \
	  ECHO_SERVER_SANITIZED=1 GRPC_PROMETHEUS_SOAK_SECONDS=10 $(VENV)/bin/python -m pytest -q Tests/interop

# The same suites against a ThreadSanitizer build, with every server and gateway on two event
# loops (in-process: GRPC_PROMETHEUS_TEST_THREADS; processes: ECHO_THREADS), so connections on
# different loops share the registry, the connection limit and the channel's picker as they do
# in production. A race fails the run: TSan's exit code in the Swift suites, and in the processes
# halt_on_error, which ends the process and so the test that met it. The project's locks are
# NIO's (pthread): TSan cannot see Synchronization.Mutex on Linux (its futex lives in the
# uninstrumented standard library) and reports every access one guards. grpc-swift-2's transport
# uses that Mutex, so the two Swift suites that run it in-process as the peer are skipped here;
# the interop suite tests the same server against independent peers. Not in CI: the build alone
# takes about 16 minutes on two cores.
test-tsan: deps
	$(SWIFT) build --build-tests --sanitize=thread --scratch-path .build-tsan
	TSAN_OPTIONS=halt_on_error=1 GRPC_PROMETHEUS_TEST_THREADS=2 \
	  GRPC_PROMETHEUS_PYTHON=$(CURDIR)/$(VENV)/bin/python \
	  $(SWIFT) test --skip-build --sanitize=thread --scratch-path .build-tsan \
	    --skip EchoServerTests --skip GRPCPrometheusInterceptorsTests
	TSAN_OPTIONS=halt_on_error=1 ECHO_THREADS=2 ECHO_TIME_SCALE=3 ECHO_SERVER_SANITIZED=1 \
	  GRPC_PROMETHEUS_SOAK_SECONDS=10 \
	  ECHO_SERVER_BIN=$(CURDIR)/.build-tsan/debug/EchoServer \
	  ECHO_CLIENT_BIN=$(CURDIR)/.build-tsan/debug/EchoClient \
	  $(VENV)/bin/python -m pytest -q Tests/interop

# libFuzzer, with AddressSanitizer, on the code that reads what peers send (Fuzz/*: the server's
# connection behind the socket, the HTTP/1.1 request parser, the gRPC deframer, the gateway's
# routing), each target for FUZZ_SECONDS from its committed seeds (Fuzz/Corpus, written by
# Fuzz/make_seeds.py). Inputs that reach new code collect in .build-fuzz/corpus; a failure stops
# the run and leaves its input in .build-fuzz/<target>-crash-*, to become a regression test. Leak
# reports are off as in test-asan (the server a target makes once lives until exit), and so is
# Swift's backtracer, whose reading of a crashed process AddressSanitizer reports in place of the
# precondition that failed.
FUZZ_TARGETS := FuzzServerConnection FuzzHTTP1Server FuzzGRPCDeframer FuzzGatewayRoute
FUZZ_SECONDS ?= 60
fuzz: .deps-apt
	@for target in $(FUZZ_TARGETS); do \
	  GRPC_PROMETHEUS_FUZZ=1 $(SWIFT) build --scratch-path .build-fuzz --product $$target \
	    -Xswiftc -sanitize=fuzzer,address 2>&1 | grep -v "Cannot export local symbol"; \
	  [ $${PIPESTATUS[0]} = 0 ] || exit 1; \
	done
	@for target in $(FUZZ_TARGETS); do \
	  mkdir -p .build-fuzz/corpus/$$target; \
	  echo "fuzzing $$target for $(FUZZ_SECONDS) s"; \
	  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=detect_leaks=0 .build-fuzz/debug/$$target \
	    -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	    -artifact_prefix=.build-fuzz/$$target- .build-fuzz/corpus/$$target Fuzz/Corpus/$$target \
	    || exit 1; \
	done

build: .deps-apt
	@$(SWIFT) build --build-tests 2>&1 | tee .build-output.log; \
	status=$${PIPESTATUS[0]}; [ $$status = 0 ] || exit $$status; \
	if grep -E "^$(CURDIR)/(Sources|Tests|bench)/.*: warning:" .build-output.log; then \
	  echo "build: warnings in this package's code (above)"; exit 1; fi

test: deps build
	GRPC_PROMETHEUS_PYTHON=$(CURDIR)/$(VENV)/bin/python $(SWIFT) test --skip-build
	ECHO_SERVER_BIN=$(CURDIR)/.build/debug/EchoServer $(VENV)/bin/python -m pytest -q Tests/interop
	ECHO_SERVER_BIN=$(CURDIR)/.build/debug/EchoServer ECHO_CLIENT_BIN=$(CURDIR)/.build/debug/EchoClient \
	  $(VENV)/bin/python -m pytest -q Tests/browser
	$(MAKE) --no-print-directory test-deploy

# compose.yaml run for real (Tests/compose): podman with runc as the engine (no Docker engine or
# registry here), podman-compose from the venv, stand-in base images built from Debian packages,
# the project's images built by compose from the real Dockerfiles. CLEAN=1 forgets the build
# cache first. A cold run is mostly one release build inside the container.
COMPOSE_APT_PACKAGES := podman runc containernetworking-plugins \
  golang-github-containernetworking-plugin-dnsname debootstrap
test-compose: deps
	$(call apt_install,$(COMPOSE_APT_PACKAGES))
	COMPOSE_CLEAN=$(CLEAN) $(VENV)/bin/python -m pytest -q Tests/compose

# The deployment suite: compose.yaml, Dockerfiles, Prometheus rules (promtool), Grafana dashboards
# and k8s manifests statically, then the real binaries under the real Prometheus (about 30 s).
test-deploy: deps
	ECHO_SERVER_BIN=$(CURDIR)/.build/debug/EchoServer $(VENV)/bin/python -m pytest -q Tests/deploy

# Prometheus (Debian package) with the compose stack's prometheus.yml and rules, its targets
# rewritten to the local ports `make run` uses (deploy/local_prometheus.py): http://127.0.0.1:9090
PROMETHEUS_LISTEN ?= 127.0.0.1:9090
run-prometheus: deps
	$(VENV)/bin/python deploy/local_prometheus.py --exec --listen $(PROMETHEUS_LISTEN) \
	  --server 127.0.0.1:$${GRPC_SERVER_PORT:-8080} --client 127.0.0.1:$${GRPC_CLIENT_PORT:-8081}

# The release build (scripts/build-release.sh, as in the images) lives in its own scratch folder
# so debug test builds do not evict it.
export RELEASE_SCRATCH := .build-static
run: .deps-apt
	scripts/build-release.sh EchoServer EchoClient
	@bin=$$(scripts/build-release.sh --bin-path); \
	$$bin/EchoServer & server=$$!; \
	trap 'kill $$server 2>/dev/null; wait $$server' EXIT INT TERM; \
	echo "EchoServer: gRPC and http://localhost:$${GRPC_SERVER_PORT:-8080}/metrics"; \
	echo "EchoClient: open http://localhost:$${GRPC_CLIENT_PORT:-8081}/ (Ctrl-C stops both)"; \
	$$bin/EchoClient

# nghttpd for the load-generator ceiling; gRPC C++ and its code generator for the grpc-cpp peer.
BENCH_APT_PACKAGES := nghttp2-server libgrpc++-dev libprotobuf-dev protobuf-compiler \
  protobuf-compiler-grpc pkg-config
bench: deps
	$(call apt_install,$(BENCH_APT_PACKAGES))
	bench/grpc-server.sh
	bench/http-client.sh
	bench/scrape.sh

# Instruction counts do not depend on machine noise: the quick check for a hot-path change.
bench-instructions: .deps-apt
	$(call apt_install,valgrind)
	bench/instructions.sh server 16 10
	bench/instructions.sh server 64 1
	bench/instructions.sh gateway 16
	bench/instructions.sh scrape

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
