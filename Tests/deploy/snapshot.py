#!/usr/bin/env python3
"""Draws a picture of the server dashboard from real data, for the README.

Grafana cannot run here (no Docker, no Grafana package), so this does the honest next best thing:
it starts the same real processes as the end-to-end test (two EchoServer replicas, EchoClient when
built, Debian's Prometheus with the repository's config and rules), drives a few minutes of
changing traffic, stops one replica near the end, then runs the server dashboard's own panel
queries (from docker/grafana/dashboards/server.json) as range queries and plots them with
matplotlib in the dashboard's layout. The picture says so in its title.

    .venv/bin/python Tests/deploy/snapshot.py collect /tmp/snapshot.json      # ~3 minutes
    python -m pip install matplotlib   # in any venv; not a test dependency
    python Tests/deploy/snapshot.py render /tmp/snapshot.json docker/grafana/server-dashboard-snapshot.png
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
import time
from pathlib import Path

#: Panels drawn, by title, in this order (3 x 3 grid).
PANELS = [
    "Requests/s by method and code", "Error ratio by method", "Latency p50 / p90 / p99 by method",
    "Requests/s by instance", "In-flight RPCs by method", "Messages sent/s",
    "CPU", "Resident memory", "p99 latency by instance",
]
#: Traffic phases: (seconds, requests per second per replica).
PHASES = [(45, 15.0), (45, 60.0), (60, 30.0)]
#: Seconds before the end at which the second replica is stopped.
STOP_REPLICA_BEFORE_END = 45


def collect(out: Path) -> None:
    import stack as st

    dashboard = json.loads((st.DASHBOARD_DIR / "server.json").read_text())
    panels = {p["title"]: p for p in dashboard["panels"]}
    started: list[st.Process] = []
    try:
        servers = [st.start_server() for _ in range(2)]
        started += [process for process, _ in servers]
        addresses = [address for _, address in servers]
        client = None
        if st.client_binary().exists():
            client, client_address = st.start_client(addresses[0])
            started.append(client)
        workdir = Path(tempfile.mkdtemp(prefix="snapshot-"))
        prometheus, listen = st.start_prometheus(
            workdir, servers=addresses, clients=[client_address] if client else [])
        started.append(prometheus)
        api = st.PrometheusAPI(listen)
        begin = time.time()
        total = sum(seconds for seconds, _ in PHASES)
        for index, (seconds, rate) in enumerate(PHASES):
            traffic = st.Traffic(addresses, None, rate=rate, max_seconds=seconds).start()
            phase_end = time.monotonic() + seconds
            while time.monotonic() < phase_end:
                if index == len(PHASES) - 1 and time.time() - begin >= total - STOP_REPLICA_BEFORE_END:
                    servers[1][0].stop()
                time.sleep(1)
            traffic.stop()
            print(f"phase {index + 1}/{len(PHASES)} done: {traffic.counts}", file=sys.stderr)
        time.sleep(6)  # one more scrape after the last requests
        seconds = time.time() - begin
        data = {"seconds": seconds, "panels": {}}
        for title in PANELS:
            panel = panels[title]
            series = []
            for target in panel["targets"]:
                # The dashboard's default selection: job grpcserver, every instance and method.
                promql = st.grafana_to_promql(target["expr"], {"job": "grpcserver"})
                result = api.query_range(promql, seconds=seconds, step=5)
                for item in result:
                    legend = target["legendFormat"]
                    for key, value in item["metric"].items():
                        legend = legend.replace("{{" + key + "}}", value)
                    series.append({"legend": legend, "values": item["values"]})
            data["panels"][title] = {"unit": panel["fieldConfig"]["defaults"]["unit"], "series": series}
        out.write_text(json.dumps(data))
        print(f"wrote {out}", file=sys.stderr)
    finally:
        for process in reversed(started):
            process.stop()


def render(data_file: Path, out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    data = json.loads(data_file.read_text())
    plt.style.use("dark_background")
    fig, axes = plt.subplots(3, 3, figsize=(18, 11), facecolor="#111217")
    fig.suptitle("gRPC server (EchoServer) dashboard panels, drawn with matplotlib from a real Prometheus "
                 "(not a Grafana screenshot)\n2 EchoServer replicas on loopback, grpcio traffic in three "
                 "phases, replica 2 stopped near the end; queries from docker/grafana/dashboards/server.json",
                 fontsize=12, color="#d8d9da")
    for ax, title in zip(axes.flat, PANELS):
        panel = data["panels"][title]
        ax.set_facecolor("#181b1f")
        ax.set_title(title, loc="left", fontsize=11, color="#d8d9da")
        t0 = min((float(s["values"][0][0]) for s in panel["series"] if s["values"]), default=0)
        # Idle methods' quantiles and ratios are NaN throughout: leave them out, then show the
        # unary EchoService (the original's method) first.
        drawn = [s for s in panel["series"] if any(math.isfinite(float(v)) for _, v in s["values"])]
        drawn.sort(key=lambda s: (not s["legend"].endswith("EchoService"), s["legend"]))
        for series in drawn[:8]:
            xs = [(float(t) - t0) / 60 for t, _ in series["values"]]
            ys = [float(v) for _, v in series["values"]]
            ax.plot(xs, ys, linewidth=1.4, label=series["legend"])
        ax.set_xlabel("minutes", fontsize=8, color="#8e8e8e")
        ax.grid(color="#2c3235", linewidth=0.6)
        ax.tick_params(labelsize=8, colors="#8e8e8e")
        unit = panel["unit"]
        if unit == "percentunit":
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        elif unit == "s":
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v * 1000:.1f} ms"))
        elif unit == "bytes":
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v / 2**20:.1f} MiB"))
        if panel["series"]:
            ax.legend(fontsize=7, loc="upper left", framealpha=0.3)
        else:
            ax.text(0.5, 0.5, "No data", transform=ax.transAxes, ha="center", color="#8e8e8e")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(out, dpi=80, facecolor=fig.get_facecolor())
    print(f"wrote {out}", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "collect":
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        collect(Path(sys.argv[2]))
    elif len(sys.argv) == 4 and sys.argv[1] == "render":
        render(Path(sys.argv[2]), Path(sys.argv[3]))
    else:
        sys.exit(__doc__)
