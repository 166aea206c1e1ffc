#!/usr/bin/env bash
# bench/peers/grpc-cpp/build.sh OUT: builds the gRPC C++ callback-API echo server (echo_server.cc)
# into OUT. The stubs are generated from Protos/echo.proto into a temporary folder each build, so
# nothing generated is committed. Needs Debian's libgrpc++-dev, libprotobuf-dev, protobuf-compiler,
# protobuf-compiler-grpc and pkg-config (make bench installs them).
set -euo pipefail
[ $# = 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
protos=$(cd "$here/../../../Protos" && pwd)
out=$1
plugin=$(command -v grpc_cpp_plugin) || { echo "$0: grpc_cpp_plugin missing (Debian protobuf-compiler-grpc)" >&2; exit 2; }
gen=$(mktemp -d)
trap 'rm -rf "$gen"' EXIT
protoc -I "$protos" --cpp_out="$gen" --grpc_out="$gen" --plugin=protoc-gen-grpc="$plugin" \
  "$protos/echo.proto"
# shellcheck disable=SC2046 # pkg-config's flags are meant to split into words
g++ -std=c++17 -O2 -I "$gen" -o "$out" "$here/echo_server.cc" "$gen/echo.pb.cc" \
  "$gen/echo.grpc.pb.cc" $(pkg-config --cflags --libs grpc++ protobuf)
