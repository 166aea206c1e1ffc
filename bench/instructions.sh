#!/usr/bin/env bash
# Instructions a release binary executes per request, counted by valgrind's callgrind: user space
# only (nghttp2, libc and the Swift code), and the same from run to run whatever else the machine
# is doing, so a change to the hot path can be compared before/after in one minute where timings
# would need many noisy rounds. Not a comparison with Go (the Go runtime does not run under
# valgrind); `make bench` is that.
#
#   bench/instructions.sh server [CLIENTS STREAMS [REQUESTS]]   EchoServer per unary RPC
#                                                              (default 16 10 20000, h2load)
#   bench/instructions.sh gateway [CLIENTS [REQUESTS]]         EchoClient per GET /echo?m=hello
#                                                              (default 16 20000, h2load --h1;
#                                                              the server it calls runs normally)
#   bench/instructions.sh scrape [REQUESTS]                    EchoServer per GET /metrics
#                                                              (default 2000, one connection,
#                                                              after 1000 RPCs so series have
#                                                              values)
#
# One event-loop thread each, so counts compare across machines and commits whatever the cores.
# Prints the total and the top functions by inclusive count. Needs valgrind and h2load.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: bench/instructions.sh server|gateway ...}
case $target in
  server) clients=${2:-16} streams=${3:-10} requests=${4:-20000} binary=EchoServer
    modules="GRPCServerRuntime|NGHTTP2|nghttp2_" ;;
  gateway) clients=${2:-16} streams=1 requests=${3:-20000} binary=EchoClient
    modules="EchoClientCore|GRPCClientChannel|HTTP1Serving|NGHTTP2|NIOHTTP1|nghttp2_" ;;
  scrape) clients=1 streams=1 requests=${2:-2000} binary=EchoServer
    modules="GRPCPrometheus|Prometheus|GRPCServerRuntime|HTTP1Serving|NIOHTTP1" ;;
  *) echo "instructions: the target is server, gateway or scrape, not $target" >&2; exit 2 ;;
esac
command -v valgrind >/dev/null || { echo "instructions: valgrind missing" >&2; exit 2; }
command -v h2load >/dev/null || { echo "instructions: h2load missing" >&2; exit 2; }
RELEASE_SCRATCH=$root/.build-static "$root/scripts/build-release.sh" EchoServer EchoClient >&2
bin=$root/.build-static/release

work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 120); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.5; done; }
# valgrind 3.19 cannot read the DWARF 5 the Swift toolchain writes: count on a copy without it
# (symbols stay).
objcopy --strip-debug "$bin/$binary" "$work/$binary"
callgrind=(valgrind --tool=callgrind --compress-strings=no --compress-pos=no
  --callgrind-out-file="$work/callgrind.%p")
port=$(free_port)
if [ "$target" != gateway ]; then
  "${callgrind[@]}" "$work/EchoServer" --host 127.0.0.1 --port "$port" --threads 1 --log-level warning \
    >/dev/null 2>&1 &
  pid=$!
  pids+=("$pid")
  printf '\x00\x00\x00\x00\x07\x0a\x05hello' >"$work/body.bin"
  load() {
    h2load -c "$clients" -m "$streams" -n "$1" -d "$work/body.bin" \
      -H 'content-type: application/grpc' -H 'te: trailers' \
      "http://127.0.0.1:$port/proto.EchoService/EchoService" | grep -E '^requests:'
  }
  if [ "$target" = scrape ]; then
    wait_port "$port"
    load 1000 >/dev/null
    load() { h2load --h1 -c 1 -n "$1" "http://127.0.0.1:$port/metrics" | grep -E '^requests:'; }
  fi
else
  server_port=$(free_port)
  "$bin/EchoServer" --host 127.0.0.1 --port "$server_port" --threads 1 --log-level warning &
  pids+=($!)
  wait_port "$server_port"
  "${callgrind[@]}" "$work/EchoClient" --host 127.0.0.1 --port "$port" \
    --server "127.0.0.1:$server_port" --threads 1 --log-level warning >/dev/null 2>&1 &
  pid=$!
  pids+=("$pid")
  load() { h2load --h1 -c "$clients" -n "$1" "http://127.0.0.1:$port/echo?m=hello" | grep -E '^requests:'; }
fi
wait_port "$port"
load 2000 >/dev/null           # warm-up: connections, lazily set-up state, first allocations
callgrind_control --zero "$pid" >/dev/null 2>&1
load "$requests" >&2
callgrind_control --dump "$pid" >/dev/null 2>&1
kill "$pid"; wait "$pid" 2>/dev/null || true

python3 - "$work/callgrind.$pid.1" "$requests" "$modules" "$target" <<'PY'
import collections, re, subprocess, sys
path, requests, modules, target = sys.argv[1], int(sys.argv[2]), re.compile(sys.argv[3]), sys.argv[4]
unit = {"server": "RPC", "gateway": "request", "scrape": "scrape"}[target]
own, inclusive, function, callee, in_call = collections.Counter(), collections.Counter(), None, None, False
for line in open(path):
    line = line.rstrip("\n")
    if line.startswith("fn="): function = line[3:]; continue
    if line.startswith("cfn="): callee = line[4:]; continue
    if line.startswith("calls="): in_call = True; continue
    fields = line.split()
    if len(fields) >= 2 and (line[:1].isdigit() or line[:1] in "+-*"):
        cost = int(fields[1])
        if in_call:
            in_call = False
            if callee != function: inclusive[function] += cost
        else:
            own[function] += cost; inclusive[function] += cost
total = sum(own.values())
print(f"{total / requests:,.0f} instructions per {unit} ({total:,} for {requests:,} {unit}s)")
print(f"inclusive per {unit}, our code and nghttp2's entry points:")
shown = [(name, cost) for name, cost in inclusive.most_common() if modules.search(name)]
names = subprocess.run(["swift", "demangle", "--simplified", "--compact"], text=True,
                       input="\n".join(name for name, _ in shown[:15]), capture_output=True).stdout
for (_, cost), name in zip(shown[:15], names.splitlines()):
    print(f"{cost / requests:>9,.0f}  {name[:110]}")
PY
