# syntax=docker/dockerfile:1
# EchoClient image (the HTTP gateway): built in the official Swift image, run in Debian slim with
# only the runtime libraries. Build from the repository root (compose.yaml does):
#   docker build -f docker/client.Dockerfile -t grpc-prometheus-echo-client:0.1.0 .
#
# Both stages are Debian 12 (bookworm): the binary links the system libnghttp2 (1.52, soname
# libnghttp2.so.14) and zlib at build time, and finds the same sonames at run time.

# Package.swift needs swift-tools-version 6.1+; the project is built and tested with 6.3.
ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${SWIFT_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libnghttp2-dev zlib1g-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src

# Dependencies first, so that editing Sources/ does not fetch them again. Package.resolved is
# not committed (.gitignore): the glob copies it when a local checkout has one.
COPY Package.* ./
RUN --mount=type=cache,target=/src/.build,id=grpc-prometheus-echo-swiftpm,sharing=locked \
    swift package resolve

# Tests/ too: SwiftPM checks that every target's folder in Package.swift exists before building
# any product (only Tests/TestSupport's sources are a regular target; nothing else is compiled).
COPY Sources ./Sources
COPY Tests ./Tests

# scripts/build-release.sh is the release build `make run` and `make bench` use: the Swift runtime
# and Foundation linked statically, so the runtime image needs no Swift toolchain (what is left
# dynamic is glibc, libstdc++/libgcc (both in debian:bookworm-slim), libnghttp2 and zlib), and no
# run-time exclusivity checks. The build cache mount keeps .build between builds (shared with the
# other image; `locked` serialises the two when compose builds them together). `install -s`
# strips the symbol tables, more than half of the file (a crash backtrace then shows addresses
# instead of function names).
COPY scripts/build-release.sh ./scripts/
RUN --mount=type=cache,target=/src/.build,id=grpc-prometheus-echo-swiftpm,sharing=locked \
    scripts/build-release.sh EchoClient \
 && install -D -s -m 0755 "$(scripts/build-release.sh --bin-path)/EchoClient" /out/EchoClient

FROM ${RUNTIME_IMAGE}
# Only the two libraries the binary links; no ca-certificates (nothing here speaks TLS).
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libnghttp2-14 zlib1g \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 echo \
 && useradd --system --uid 10001 --gid 10001 --no-create-home --shell /usr/sbin/nologin echo
COPY --from=build /out/EchoClient /usr/local/bin/EchoClient

USER 10001:10001
# The original's variables: the gateway's port, and the gRPC server it calls. In compose the host
# name resolves to every server replica (one A record each) and the client round-robins over them.
ENV GRPC_CLIENT_PORT=8081 \
    GRPC_SERVER_HOST=grpcserver \
    GRPC_SERVER_PORT=8080
EXPOSE 8081
# `EchoClient healthcheck` exits 0 while the gateway answers /healthz on its port.
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=3 \
  CMD ["/usr/local/bin/EchoClient", "healthcheck"]
# SIGTERM: stop accepting, finish in-flight requests, close the gRPC channel, exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/EchoClient"]
CMD ["serve", "--host", "0.0.0.0"]
