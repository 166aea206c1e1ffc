#!/usr/bin/env bash
# make bench (client part): the wrk matrix against EchoClient's /echo?m=hello and, in the same run,
# against the Go reference gateway (net/http + grpc-go + go-grpc-prometheus), each in front of its
# own server, alternating system by system each round. CPU per request counts gateway + server.
#
# Knobs: ROUNDS [3]  DURATION seconds per run [10]  CONNS ["1 16 64"]
#        THREADS event-loop threads of EchoServer and EchoClient each [1: on a 2-core machine
#        that also runs the load generator, one loop per process costs the least CPU per
#        request; bench/threads.sh measures it]
#        BENCH_SHARED folder with run_wrk.sh and reference-go/ [../shared/bench]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${BENCH_SHARED:-$root/../shared/bench}
rounds=${ROUNDS:-3}
export DURATION=${DURATION:-10} CONNS=${CONNS:-"1 16 64"} REPS=1
if [ ! -x "$shared/run_wrk.sh" ] || [ ! -f "$shared/reference-go/build.sh" ]; then
  echo "bench: $shared has no run_wrk.sh or reference-go/build.sh; set BENCH_SHARED" >&2
  exit 2
fi
command -v wrk >/dev/null || { echo "bench: wrk missing (make deps installs it)" >&2; exit 2; }

out=$root/.build-bench
mkdir -p "$out"
RELEASE_SCRATCH=$root/.build-static "$root/scripts/build-release.sh" EchoServer EchoClient >&2
[ -x "$out/echo-reference" ] || bash "$shared/reference-go/build.sh" "$out/echo-reference" >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
swift_server=$(free_port); swift_client=$(free_port); go_server=$(free_port); go_client=$(free_port)
"$root/.build-static/release/EchoServer" --host 127.0.0.1 --port "$swift_server" \
  --threads "${THREADS:-1}" --log-level warning &
pids=($!)
"$root/.build-static/release/EchoClient" --host 127.0.0.1 --port "$swift_client" \
  --server "127.0.0.1:$swift_server" --threads "${THREADS:-1}" --log-level warning &
pids+=($!)
GRPC_SERVER_PORT=$go_server "$out/echo-reference" 2>/dev/null &
pids+=($!)
GRPC_SERVER_HOST=127.0.0.1 GRPC_SERVER_PORT=$go_server GRPC_CLIENT_PORT=$go_client \
  "$out/echo-reference" client 2>/dev/null &
pids+=($!)
trap 'kill ${pids[*]} 2>/dev/null || true' EXIT
sleep 1

raw=$(mktemp)
for round in $(seq 1 "$rounds"); do
  echo "round $round/$rounds" >&2
  SERVER_PID=${pids[1]},${pids[0]} LABEL=EchoClient RAW=$raw \
    "$shared/run_wrk.sh" "http://127.0.0.1:$swift_client/echo?m=hello" >/dev/null
  SERVER_PID=${pids[3]},${pids[2]} LABEL=go-reference RAW=$raw \
    "$shared/run_wrk.sh" "http://127.0.0.1:$go_client/echo?m=hello" >/dev/null
done

"$shared/run_wrk.sh" --summarize "$raw"
python3 "$root/bench/ratios.py" wrk "$raw"
