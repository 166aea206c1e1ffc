#!/usr/bin/env bash
# The event-loop thread count against CPU per request: EchoServer with --threads 1 and with
# --threads 2, alternating round by round, under h2load pinned to a core of its own (CPU 1), so
# the server's extra thread competes with the load generator only as far as the kernel
# schedules it there. Prints h2load's medians (rps, latency, server CPU seconds per 10k
# requests) per thread count.
#
# Knobs: ROUNDS [3]  DURATION seconds per run [8]  MATRIX ["16,10 64,1"]  LOAD_CPU [1]
#        BENCH_SHARED folder with run_h2load_grpc.sh [../shared/bench]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${BENCH_SHARED:-$root/../shared/bench}
rounds=${ROUNDS:-3}
export DURATION=${DURATION:-8} MATRIX=${MATRIX:-"16,10 64,1"} REPS=1
export H2LOAD_PREFIX="taskset -c ${LOAD_CPU:-1}"
[ -x "$shared/run_h2load_grpc.sh" ] || {
  echo "bench: $shared has no run_h2load_grpc.sh; set BENCH_SHARED" >&2; exit 2; }
RELEASE_SCRATCH=$root/.build-static "$root/scripts/build-release.sh" EchoServer >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
pids=() ports=()
for threads in 1 2; do
  port=$(free_port)
  "$root/.build-static/release/EchoServer" --host 127.0.0.1 --port "$port" \
    --threads "$threads" --log-level warning &
  pids+=($!) ports+=("$port")
done
trap 'kill ${pids[*]} 2>/dev/null || true' EXIT
sleep 1

raw=$(mktemp)
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  for i in 0 1; do
    SERVER_PID=${pids[$i]} LABEL="threads=$((i + 1))" RAW=$raw \
      "$shared/run_h2load_grpc.sh" 127.0.0.1 "${ports[$i]}" >/dev/null
  done
done
"$shared/run_h2load_grpc.sh" --summarize "$raw"
rm -f "$raw"
