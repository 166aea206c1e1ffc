#!/usr/bin/env bash
# Instructions the release EchoServer executes per unary RPC, counted by valgrind's callgrind:
# user space only (nghttp2, libc and the Swift code), and the same from run to run whatever else
# the machine is doing, so a change to the hot path can be compared before/after in one minute
# where timings would need many noisy rounds. Not a comparison with Go (the Go runtime does not
# run under valgrind); `make bench` is that.
#
#   bench/server-instructions.sh [CLIENTS STREAMS [REQUESTS]]     (default 16 10 20000)
#
# Prints the total and the top functions by inclusive count. Needs valgrind and h2load.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
clients=${1:-16} streams=${2:-10} requests=${3:-20000}
command -v valgrind >/dev/null || { echo "server-instructions: valgrind missing" >&2; exit 2; }
command -v h2load >/dev/null || { echo "server-instructions: h2load missing" >&2; exit 2; }
RELEASE_SCRATCH=$root/.build-static "$root/scripts/build-release.sh" EchoServer >&2

work=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true; rm -rf "$work"' EXIT
# valgrind 3.19 cannot read the DWARF 5 the Swift toolchain writes: count on a copy without it
# (symbols stay).
objcopy --strip-debug "$root/.build-static/release/EchoServer" "$work/EchoServer"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
valgrind --tool=callgrind --compress-strings=no --compress-pos=no \
  --callgrind-out-file="$work/callgrind.%p" \
  "$work/EchoServer" --host 127.0.0.1 --port "$port" --log-level warning >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 120); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.5; done

printf '\x00\x00\x00\x00\x07\x0a\x05hello' >"$work/body.bin"
load() {
  h2load -c "$clients" -m "$streams" -n "$1" -d "$work/body.bin" \
    -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$port/proto.EchoService/EchoService" | grep -E '^requests:'
}
load 2000 >/dev/null           # warm-up: connections, lazily set-up state, first allocations
callgrind_control --zero "$pid" >/dev/null 2>&1
load "$requests" >&2
callgrind_control --dump "$pid" >/dev/null 2>&1
kill "$pid"; wait "$pid" 2>/dev/null || true

python3 - "$work/callgrind.$pid.1" "$requests" <<'PY'
import collections, subprocess, sys
path, requests = sys.argv[1], int(sys.argv[2])
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
print(f"{total / requests:,.0f} instructions per RPC ({total:,} for {requests:,} RPCs)")
print("inclusive per RPC, our code and nghttp2's entry points:")
shown = [(name, cost) for name, cost in inclusive.most_common()
         if ("GRPCServerRuntime" in name or "NGHTTP2" in name or name.startswith("nghttp2_"))]
names = subprocess.run(["swift", "demangle", "--simplified", "--compact"], text=True,
                       input="\n".join(name for name, _ in shown[:15]), capture_output=True).stdout
for (_, cost), name in zip(shown[:15], names.splitlines()):
    print(f"{cost / requests:>9,.0f}  {name[:110]}")
PY
