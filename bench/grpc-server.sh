#!/usr/bin/env bash
# make bench (server part): the h2load matrix against EchoServer and, in the same run, against the
# Go reference of the original (grpc-go + cmux + go-grpc-prometheus), alternating system by system
# each round so both see the same machine noise. Prints each system's medians and the ratios the
# server issue sets as targets.
#
# When nghttpd (Debian's nghttp2-server) is installed, a third system runs the same requests
# against it serving the reply as a static file: C, the same nghttp2, no gRPC, no metrics. Its
# rate is the most this machine's load generator can drive, so ratios.py can tell a server
# limit from an h2load one.
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
RELEASE_SCRATCH=$root/.build-static "$root/scripts/build-release.sh" EchoServer >&2
[ -x "$out/echo-reference" ] || bash "$shared/reference-go/build.sh" "$out/echo-reference" >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
swift_port=$(free_port); go_port=$(free_port)
"$root/.build-static/release/EchoServer" --host 127.0.0.1 --port "$swift_port" \
  --threads "${THREADS:-1}" --log-level warning &
swift_pid=$!
GRPC_SERVER_PORT=$go_port "$out/echo-reference" 2>/dev/null &
go_pid=$!
ceiling_pid=
if command -v nghttpd >/dev/null; then
  # The reply EchoServer sends ("echo hello", length-prefixed) as the file at the method's path.
  www=$(mktemp -d); mkdir -p "$www/proto.EchoService"
  printf '\x00\x00\x00\x00\x0c\x0a\x0aecho hello' >"$www/proto.EchoService/EchoService"
  ceiling_port=$(free_port)
  nghttpd --no-tls -d "$www" "$ceiling_port" >/dev/null 2>&1 &
  ceiling_pid=$!
else
  echo "bench: nghttpd missing (Debian nghttp2-server): no load-generator ceiling row" >&2
fi
trap 'kill $swift_pid $go_pid $ceiling_pid 2>/dev/null || true; rm -rf "${www:-}"' EXIT
sleep 1

raw=$(mktemp)
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  SERVER_PID=$swift_pid LABEL=EchoServer RAW=$raw "$shared/run_h2load_grpc.sh" 127.0.0.1 "$swift_port" >/dev/null
  SERVER_PID=$go_pid LABEL=go-reference RAW=$raw "$shared/run_h2load_grpc.sh" 127.0.0.1 "$go_port" >/dev/null
  if [ -n "$ceiling_pid" ]; then
    CHECK=0 SERVER_PID=$ceiling_pid LABEL=nghttpd-file RAW=$raw \
      "$shared/run_h2load_grpc.sh" 127.0.0.1 "$ceiling_port" >/dev/null
  fi
done

"$shared/run_h2load_grpc.sh" --summarize "$raw"
python3 "$root/bench/ratios.py" h2load "$raw"
