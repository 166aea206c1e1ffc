#!/usr/bin/env bash
# make bench (scrape part): the time a Prometheus scrape of /metrics takes from EchoServer and, in
# the same run, from the Go reference server, alternating round by round. Both first serve the
# same unary RPCs, so every pre-initialised series exists and the served ones have values. One
# connection, one scrape at a time (as Prometheus scrapes), in the text format (no Accept
# header) and in OpenMetrics (what Prometheus asks for first).
#
# Knobs: ROUNDS [5]  SCRAPES per round [2000]
#        BENCH_SHARED folder with reference-go/ [../shared/bench]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${BENCH_SHARED:-$root/../shared/bench}
rounds=${ROUNDS:-5} scrapes=${SCRAPES:-2000}
[ -f "$shared/reference-go/build.sh" ] || {
  echo "bench: $shared has no reference-go/build.sh; set BENCH_SHARED" >&2; exit 2; }
command -v h2load >/dev/null || { echo "bench: h2load missing (make deps installs nghttp2-client)" >&2; exit 2; }

out=$root/.build-bench
mkdir -p "$out"
RELEASE_SCRATCH=$root/.build-static "$root/scripts/build-release.sh" EchoServer >&2
[ -x "$out/echo-reference" ] || bash "$shared/reference-go/build.sh" "$out/echo-reference" >&2

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
swift_port=$(free_port); go_port=$(free_port)
"$root/.build-static/release/EchoServer" --host 127.0.0.1 --port "$swift_port" --log-level warning &
pids=($!)
GRPC_SERVER_PORT=$go_port "$out/echo-reference" 2>/dev/null &
pids+=($!)
body=$(mktemp)
trap 'kill ${pids[*]} 2>/dev/null || true; rm -f "$body"' EXIT
sleep 1

printf '\x00\x00\x00\x00\x07\x0a\x05hello' >"$body"
openmetrics='application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.3'
for port in "$swift_port" "$go_port"; do
  h2load -c 4 -n 2000 -d "$body" -H 'content-type: application/grpc' -H 'te: trailers' \
    "http://127.0.0.1:$port/proto.EchoService/EchoService" | grep -q '2000 succeeded' || {
    echo "bench: the unary warm-up against port $port failed" >&2; exit 1; }
done

# One h2load --h1 run: "<mean µs> <bytes per scrape>".
scrape() {
  h2load --h1 -c 1 -n "$scrapes" ${2:+-H "accept: $2"} "http://127.0.0.1:$1/metrics" | awk '
    /^traffic:/ { for (i = 1; i <= NF; i++) if ($i == "data)") data = $(i - 1) }
    /^time for request:/ { mean = $6 }
    /succeeded/ { ok = $8 }
    END { sub(/us$/, "", mean); if (mean ~ /ms$/) { sub(/ms$/, "", mean); mean *= 1000 }
          print mean, ok }'
}

raw=$(mktemp)
for round in $(seq 1 "$rounds"); do
  for system in EchoServer go-reference; do
    port=$swift_port; [ "$system" = go-reference ] && port=$go_port
    for format in text openmetrics; do
      accept=; [ "$format" = openmetrics ] && accept=$openmetrics
      read -r mean ok < <(scrape "$port" "$accept")
      scraped=$(curl -s ${accept:+-H "accept: $accept"} "http://127.0.0.1:$port/metrics")
      size=$(printf '%s\n' "$scraped" | wc -c) series=$(printf '%s\n' "$scraped" | grep -vc '^#')
      printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$system" "$format" "$mean" "$size" "$series" "$ok" >>"$raw"
    done
  done
done

python3 - "$raw" "$scrapes" <<'PY'
import collections, statistics, sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
groups = collections.defaultdict(list)
for system, fmt, mean, size, series, ok in rows:
    if ok != sys.argv[2]:
        sys.exit(f"bench: only {ok} of {sys.argv[2]} scrapes of {system} ({fmt}) succeeded")
    groups[(system, fmt)].append((float(mean), int(size), int(series)))
print(f"{'system':<14}{'format':<13}{'ms/scrape':>10}{'(min-max)':>15}{'KB':>7}{'series':>8}")
medians = {}
for (system, fmt), values in groups.items():
    times = [v[0] / 1000 for v in values]
    medians[(system, fmt)] = statistics.median(times)
    print(f"{system:<14}{fmt:<13}{medians[(system, fmt)]:>10.3f}"
          f"{f'{min(times):.3f}-{max(times):.3f}':>15}{values[-1][1] / 1024:>7.1f}{values[-1][2]:>8}")
for fmt in ("text", "openmetrics"):
    if ("EchoServer", fmt) in medians and ("go-reference", fmt) in medians:
        ratio = medians[("EchoServer", fmt)] / medians[("go-reference", fmt)]
        print(f"EchoServer / go-reference, {fmt}: {ratio:.2f} of Go's time per scrape"
              f" (target: under 0.5 ms; {medians[('EchoServer', fmt)]:.3f} ms)")
PY
rm -f "$raw"
