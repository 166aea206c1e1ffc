#!/usr/bin/env bash
# make bench (server part): the h2load matrix against EchoServer and, in the same run, against
# other gRPC servers answering the same unary proto.EchoService/EchoService, alternating system by
# system each round so all see the same machine noise. Prints each system's medians, EchoServer's
# ratios to every peer and, per conf, the peer with the highest rate and the one with the least
# CPU per request.
#
# The systems, each on a free 127.0.0.1 port, started once and measured every round:
#   EchoServer            this project's release build, THREADS event loops
#   go-reference          the original (grpc-go + cmux + go-grpc-prometheus), from BENCH_SHARED
#   grpc-swift-2          grpc-swift-2's GRPCServer on its NIO HTTP/2 transport, no interceptors
#                         (the GRPCSwiftEchoPeer product, sources in bench/peers/grpc-swift-2)
#   grpc-swift-2+metrics  the same binary with --metrics: the project's ServerMetricsInterceptor
#                         recording into a Prometheus registry, the metrics EchoServer records
#   grpc-cpp              gRPC C++'s callback API (bench/peers/grpc-cpp), Debian's libgrpc++;
#                         skipped, with a note, when its Debian packages are missing
#   nghttpd-file          when nghttpd (Debian's nghttp2-server) is installed: the reply served
#                         as a static file, C, the same nghttp2, no gRPC, no metrics. Its rate is
#                         the most this machine's load generator can drive, so ratios.py can tell
#                         a server limit from an h2load one.
# The peers keep their stacks' default threading (grpc-swift-2 and gRPC C++ one thread per core,
# grpc-go every core), whatever THREADS is. Each build is skipped when its binary is up to date
# (SwiftPM's own check for the two Swift products; the Go reference is built once).
# A full run is about (systems x confs x (DURATION + 1 s)) x ROUNDS: 13 minutes by default.
#
# Knobs: ROUNDS [3]  DURATION seconds per run [10]  MATRIX ["1,1 16,1 64,1 16,10"]
#        THREADS EchoServer event-loop threads [1]
#        BENCH_SHARED folder with run_h2load_grpc.sh and reference-go/ [../shared/bench]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${BENCH_SHARED:-$root/../shared/bench}
rounds=${ROUNDS:-3}
export DURATION=${DURATION:-10} MATRIX=${MATRIX:-"1,1 16,1 64,1 16,10"} REPS=1
if [ ! -x "$shared/run_h2load_grpc.sh" ] || [ ! -f "$shared/reference-go/build.sh" ]; then
  echo "bench: $shared has no run_h2load_grpc.sh or reference-go/build.sh; set BENCH_SHARED" >&2
  exit 2
fi
command -v h2load >/dev/null || { echo "bench: h2load missing (make deps installs nghttp2-client)" >&2; exit 2; }

out=$root/.build-bench
mkdir -p "$out"
RELEASE_SCRATCH=$root/.build-static "$root/scripts/build-release.sh" EchoServer GRPCSwiftEchoPeer >&2
[ -x "$out/echo-reference" ] || bash "$shared/reference-go/build.sh" "$out/echo-reference" >&2
cpp=$root/bench/peers/grpc-cpp
cpp_bin=
if command -v grpc_cpp_plugin >/dev/null && command -v protoc >/dev/null \
  && pkg-config --exists grpc++ protobuf 2>/dev/null; then
  cpp_bin=$out/grpc-cpp-echo
  if [ ! -x "$cpp_bin" ] || [ -n "$(find "$cpp" "$root/Protos/echo.proto" -newer "$cpp_bin")" ]; then
    echo "bench: building the gRPC C++ peer (about 1.5 minutes)" >&2
    "$cpp/build.sh" "$cpp_bin" >&2
  fi
else
  echo "bench: gRPC C++ missing (Debian libgrpc++-dev libprotobuf-dev protobuf-compiler-grpc" \
    "pkg-config; make bench installs them): no grpc-cpp row" >&2
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
# Every system as "LABEL PID PORT CHECK", in the order each round measures them; CHECK is
# run_h2load_grpc.sh's preflight (0 for the static file, which sends no grpc-status).
systems=()
pids=()
www=
raw=$(mktemp)
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$raw" ${www:+"$www"}' EXIT
# start LABEL CHECK PORT COMMAND...: starts COMMAND in the background as the system LABEL, its
# stderr in .build-bench/LABEL.log.
start() {
  local label=$1 check=$2 port=$3
  shift 3
  "$@" >/dev/null 2>"$out/$label.log" &
  pids+=($!)
  systems+=("$label $! $port $check")
}

bin=$root/.build-static/release
port=$(free_port)
start EchoServer 1 "$port" "$bin/EchoServer" --host 127.0.0.1 --port "$port" \
  --threads "${THREADS:-1}" --log-level warning
port=$(free_port)
start go-reference 1 "$port" env GRPC_SERVER_PORT="$port" "$out/echo-reference"
port=$(free_port)
start grpc-swift-2 1 "$port" "$bin/GRPCSwiftEchoPeer" --port "$port"
port=$(free_port)
start grpc-swift-2+metrics 1 "$port" "$bin/GRPCSwiftEchoPeer" --port "$port" --metrics
if [ -n "$cpp_bin" ]; then
  port=$(free_port)
  start grpc-cpp 1 "$port" "$cpp_bin" --port "$port"
fi
if command -v nghttpd >/dev/null; then
  # The reply EchoServer sends ("echo hello", length-prefixed) as the file at the method's path.
  www=$(mktemp -d)
  mkdir -p "$www/proto.EchoService"
  printf '\x00\x00\x00\x00\x0c\x0a\x0aecho hello' >"$www/proto.EchoService/EchoService"
  port=$(free_port)
  start nghttpd-file 0 "$port" nghttpd --no-tls -d "$www" "$port"
else
  echo "bench: nghttpd missing (Debian nghttp2-server): no load-generator ceiling row" >&2
fi

# Every system listening before the first run, or the bench stops saying which one is not.
for system in "${systems[@]}"; do
  read -r label pid port _ <<<"$system"
  for _ in $(seq 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && continue 2
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: $label (pid $pid) is not listening on port $port; $out/$label.log ends:" >&2
  tail -5 "$out/$label.log" >&2
  exit 1
done

for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  for system in "${systems[@]}"; do
    read -r label pid port check <<<"$system"
    CHECK=$check SERVER_PID=$pid LABEL=$label RAW=$raw \
      "$shared/run_h2load_grpc.sh" 127.0.0.1 "$port" >/dev/null
  done
done

"$shared/run_h2load_grpc.sh" --summarize "$raw"
python3 "$root/bench/ratios.py" h2load "$raw"
python3 "$root/bench/plot.py" "$raw" "$out/server.svg"
echo "plot: $out/server.svg (the README's is docs/bench-server.svg, from the run it describes)"
