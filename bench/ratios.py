"""Ratios of EchoServer/EchoClient to the Go reference from a run_h2load_grpc.sh or run_wrk.sh RAW
file, against the targets the issues set. Usage: ratios.py h2load|wrk RAWFILE"""
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
others = sorted({l for (l, _) in groups if l != ours})
for other in others:
    print(f"\nratios {ours} / {other} (medians; higher rps is better, lower latency/CPU/RSS is better)")
    print(f"{'conf':>7}{'rps':>8}{'p50':>8}{'p99':>8}{'cpu/req':>9}{'rss':>7}")
    saturated = []
    for conf in confs:
        r = {k: median(ours, conf, k) / median(other, conf, k) for k in cols}
        note = ""
        if kind == "h2load":
            cores = statistics.median(float(row[LOAD_GENERATOR_CORES]) for row in groups[(ours, conf)])
            if cores >= SATURATED:
                note = f"  h2load at {cores:.2f} cores *"
                saturated.append(conf)
        print(f"{conf:>7}{r['rps']:>8.2f}{r['p50']:>8.2f}{r['p99']:>8.2f}{r['cpu']:>9.2f}{r['rss']:>7.2f}{note}")
    if saturated:
        print(f"* h2load (one thread) kept its core busy against {ours} at {', '.join(saturated)}:"
              " the request rate there is the load generator's ceiling, not the server's.")
