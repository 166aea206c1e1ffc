"""Ratios of EchoServer/EchoClient to every other system of a run_h2load_grpc.sh or run_wrk.sh RAW
file (the Go reference and, for h2load, the other gRPC servers bench/grpc-server.sh runs), then
per conf the peer with the highest rate and the one with the least CPU per request.
Usage: ratios.py h2load|wrk RAWFILE"""
import collections
import statistics
import sys

kind, path = sys.argv[1], sys.argv[2]
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip() and not l.startswith("#")]
# Column positions in the two scripts' RAW rows.
cols = {"h2load": dict(rps=4, p50=5, p99=7, cpu=10, rss=11),
        "wrk": dict(rps=4, p50=5, p99=7, cpu=9, rss=10)}[kind]
# h2load runs one thread: at about a core busy it, not the server, sets the request rate.
LOAD_GENERATOR_CORES = 13
SATURATED = 0.95
ours = {"h2load": "EchoServer", "wrk": "EchoClient"}[kind]
groups = collections.defaultdict(list)
for row in rows:
    groups[(row[0], row[2])].append(row)


def median(label, conf, key):
    values = [float(r[cols[key]]) for r in groups.get((label, conf), []) if r[cols[key]] not in ("", "NA", "nan")]
    return statistics.median(values) if values else float("nan")


confs = sorted({c for (_, c) in groups}, key=lambda c: [int(x) for x in c.split(",")])
# nghttpd serving the reply as a static file (bench/grpc-server.sh): what h2load reaches against a
# server that does almost nothing.
CEILING = "nghttpd-file"
# The original, whose rate the server issue asks EchoServer to double.
REFERENCE = "go-reference"
others = sorted({l for (l, _) in groups if l not in (ours, CEILING)}, key=lambda l: (l != REFERENCE, l))
# Where the load generator kept its core busy against EchoServer: the same confs for every peer.
saturated = {}
if kind == "h2load":
    for conf in confs:
        cores = statistics.median(float(row[LOAD_GENERATOR_CORES]) for row in groups[(ours, conf)])
        if cores >= SATURATED:
            saturated[conf] = cores
for other in others:
    print(f"\nratios {ours} / {other} (medians; higher rps is better, lower latency/CPU/RSS is better)")
    print(f"{'conf':>7}{'rps':>8}{'p50':>8}{'p99':>8}{'cpu/req':>9}{'rss':>7}")
    for conf in confs:
        r = {k: median(ours, conf, k) / median(other, conf, k) for k in cols}
        note = f"  h2load at {saturated[conf]:.2f} cores *" if conf in saturated else ""
        print(f"{conf:>7}{r['rps']:>8.2f}{r['p50']:>8.2f}{r['p99']:>8.2f}{r['cpu']:>9.2f}{r['rss']:>7.2f}{note}")
if saturated:
    print(f"* h2load (one thread) kept its core busy against {ours} at {', '.join(saturated)}:"
          " the request rate there is the load generator's ceiling, not the server's.")

if kind == "h2load" and any(label == CEILING for (label, _) in groups):
    print(f"\nload-generator reference: h2load against {CEILING} (nghttpd: C, the same nghttp2, the reply"
          " as a static file, no gRPC)")
    doubled_for = [o for o in others if o == REFERENCE]
    print(f"{'conf':>7}{'nghttpd rps':>13}{ours + ' rps':>16}{'/ nghttpd':>12}"
          + "".join(f"{'2 x ' + o:>20}" for o in doubled_for))
    above = []
    for conf in confs:
        ceiling = median(CEILING, conf, "rps")
        row = f"{conf:>7}{ceiling:>13,.0f}{median(ours, conf, 'rps'):>16,.0f}{median(ours, conf, 'rps') / ceiling:>12.2f}"
        for other in doubled_for:
            doubled = 2 * median(other, conf, "rps")
            row += f"{doubled:>19,.0f}{'!' if doubled > ceiling else ' '}"
            if doubled > ceiling:
                above.append(f"{conf} ({other})")
        print(row)
    if above:
        print(f"! twice the reference's rate is above what h2load reaches against nghttpd at {', '.join(above)}:"
              " there the load generator, not the server, bounds the ratio on this machine.")

# The strongest peer per conf on each count, so one line says where ours stands against the best
# of them: the highest rate (our rate over it, higher is better) and the least server CPU per
# request (our CPU per request over it, lower is better).
if others:
    print(f"\nbest peer per conf (of {', '.join(others)}; {ours} / that peer)")
    for conf in confs:
        rates = {o: median(o, conf, "rps") for o in others}
        rates = {o: v for o, v in rates.items() if v == v}
        costs = {o: median(o, conf, "cpu") for o in others}
        costs = {o: v for o, v in costs.items() if v == v}
        line = f"{conf:>7}"
        if rates:
            fastest = max(rates, key=rates.get)
            line += (f"  highest rps: {fastest} {rates[fastest]:,.0f}"
                     f" ({ours} x{median(ours, conf, 'rps') / rates[fastest]:.2f})")
        if costs:
            cheapest = min(costs, key=costs.get)
            line += (f"  lowest cpu-s/10k: {cheapest} {costs[cheapest]:.3f}"
                     f" ({ours} x{median(ours, conf, 'cpu') / costs[cheapest]:.2f})")
        print(line)
