#!/usr/bin/env bash
# The one release build of the shipped binaries, used by `make run`, `make bench` and both
# Dockerfiles, so what is measured is what is shipped.
#
#   scripts/build-release.sh PRODUCT...   builds the products
#   scripts/build-release.sh --bin-path   prints the folder the binaries land in
#
# --static-swift-stdlib links the Swift runtime into the binary (no toolchain needed at run time,
# about 2 MB less resident). -enforce-exclusivity=unchecked drops the run-time exclusivity checks
# (swift_beginAccess on every class property access) that cost about a seventh of the server's
# instructions per RPC; debug builds, which run the tests, keep them.
# RELEASE_SCRATCH sets the scratch folder (default: SwiftPM's .build).
set -euo pipefail
flags=(-c release --static-swift-stdlib -Xswiftc -enforce-exclusivity=unchecked)
if [ -n "${RELEASE_SCRATCH:-}" ]; then flags+=(--scratch-path "$RELEASE_SCRATCH"); fi
if [ "${1:-}" = --bin-path ]; then exec swift build "${flags[@]}" --show-bin-path; fi
for product in "$@"; do swift build "${flags[@]}" --product "$product"; done
