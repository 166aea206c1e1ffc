#!/usr/bin/env python3
"""Writes the Grafana dashboards in docker/grafana/dashboards/ (server, client, overview).

The JSON is generated so that the three dashboards share one set of panel builders and every query
follows the same rules; Tests/deploy checks that the committed JSON matches this script's output,
that every panel has a Prometheus query, and (end to end, against a real Prometheus scraping the
real binaries) that every query returns data.

    python3 docker/grafana/generate_dashboards.py     # after editing, commit the JSON it writes

Query rules:
- Counters are only ever charted through rate(...[$__rate_interval]) (the original charted raw
  counters); latency comes from histogram_quantile over summed bucket rates, kept per `le`.
- Template variables are regex matchers (`=~"$job"`), and "All" is `.*`, so a panel works for any
  selection, and a test can substitute `.*` for every variable.
- Metric names are go-grpc-prometheus's exactly (shared/REFERENCE.md): grpc_server_* on the
  server, grpc_client_* on the gateway; the gateway's own HTTP metrics are the ones
  Sources/EchoClientCore/HTTPServerMetrics.swift defines (http_requests_total{method,route,status},
  http_request_duration_seconds{method,route}). Tests check every name against Sources/.
"""

from __future__ import annotations

import json
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parent / "dashboards"

#: The provisioned data source (docker/grafana/provisioning/datasources/prometheus.yml).
DS = {"type": "prometheus", "uid": "prometheus"}
RATE = "$__rate_interval"
QUANTILES = (("0.5", "p50"), ("0.9", "p90"), ("0.99", "p99"))


# ------------------------------------------------------------------------------------------------
# Panel builders
# ------------------------------------------------------------------------------------------------


def target(expr: str, legend: str = "", ref: str = "A") -> dict:
    return {
        "datasource": DS,
        "editorMode": "code",
        "expr": expr,
        "legendFormat": legend or "__auto",
        "range": True,
        "refId": ref,
    }


def targets(*pairs: tuple[str, str]) -> list[dict]:
    return [target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(pairs)]


def timeseries(title: str, description: str, tgts: list[dict], unit: str, *,
               width: int = 12, height: int = 8, stack: bool = False) -> dict:
    return {
        "type": "timeseries",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": tgts,
        "fieldConfig": {
            "defaults": {
                "unit": unit,
                "min": 0,
                "custom": {
                    "drawStyle": "line",
                    "lineWidth": 1,
                    "fillOpacity": 10,
                    "showPoints": "never",
                    "spanNulls": False,
                    "stacking": {"mode": "normal" if stack else "none", "group": "A"},
                },
            },
            "overrides": [],
        },
        "options": {
            "legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
            "tooltip": {"mode": "multi", "sort": "desc"},
        },
        "_size": (width, height),
    }


def stat(title: str, description: str, expr: str, unit: str, *, red_above: float | None = None,
         width: int = 4, decimals: int | None = None) -> dict:
    steps = [{"color": "green", "value": None}]
    if red_above is not None:
        steps.append({"color": "red", "value": red_above})
    defaults: dict = {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}}
    if decimals is not None:
        defaults["decimals"] = decimals
    return {
        "type": "stat",
        "title": title,
        "description": description,
        "datasource": DS,
        "targets": [target(expr, title)],
        "fieldConfig": {"defaults": defaults, "overrides": []},
        "options": {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "colorMode": "value",
            "graphMode": "area",
            "justifyMode": "auto",
            "textMode": "value",
        },
        "_size": (width, 4),
    }


def row(title: str) -> dict:
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "_size": (24, 1)}


def layout(panels: list[dict]) -> list[dict]:
    """Assigns ids and grid positions left to right, wrapping at Grafana's 24 columns."""
    x = y = row_height = 0
    placed = []
    for panel_id, panel in enumerate(panels, start=1):
        width, height = panel.pop("_size")
        if panel["type"] == "row" or x + width > 24:
            x, y, row_height = 0, y + row_height, 0
        panel["id"] = panel_id
        panel["gridPos"] = {"h": height, "w": width, "x": x, "y": y}
        x += width
        row_height = max(row_height, height)
        if panel["type"] == "row":
            x, y, row_height = 0, y + height, 0
        placed.append(panel)
    return placed


def query_variable(name: str, label: str, query: str) -> dict:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DS,
        "definition": query,
        "query": {"query": query, "refId": f"{name}-variable"},
        "refresh": 2,  # on time-range change: new replicas appear without a reload
        "includeAll": True,
        "allValue": ".*",
        "multi": True,
        "sort": 1,
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "options": [],
    }


def dashboard(uid: str, title: str, description: str, panels: list[dict],
              variables: list[dict]) -> dict:
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": ["grpc", "echo", "prometheus"],
        "editable": True,
        "graphTooltip": 1,  # shared crosshair
        "refresh": "5s",
        "time": {"from": "now-15m", "to": "now"},
        "timezone": "browser",
        "schemaVersion": 39,
        "version": 1,
        "links": [
            {"type": "dashboards", "tags": ["grpc"], "asDropdown": False, "title": "gRPC echo",
             "includeVars": False, "keepTime": True}
        ],
        "annotations": {
            "list": [{
                "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"},
                "enable": True, "hide": True, "iconColor": "rgba(0, 211, 255, 1)",
                "name": "Annotations & Alerts", "type": "dashboard",
            }]
        },
        "templating": {"list": variables},
        "panels": layout(panels),
    }


# ------------------------------------------------------------------------------------------------
# The server and client dashboards: the same questions asked of grpc_server_* and grpc_client_*
# ------------------------------------------------------------------------------------------------


def grpc_dashboard(side: str) -> dict:
    """`side` is "server" (EchoServer, job grpcserver) or "client" (EchoClient, job grpcclient)."""
    m = f"grpc_{side}"
    job = f"grpc{side}"
    sel = 'job=~"$job",instance=~"$instance",grpc_method=~"$method"'
    proc = 'job=~"$job",instance=~"$instance"'
    # Process-level series come from every target (Prometheus's own too, when job is "All"):
    # keep the targets that export this side's gRPC metrics.
    exporter = f"{m}_started_total"
    only_exporters = f" and on (job, instance) {exporter}"
    who = "handled by the server" if side == "server" else "made by the gateway"
    NOT_OK = ',grpc_code!="OK"'

    def rate(family: str, extra: str = "") -> str:
        return f"rate({m}_{family}{{{sel}{extra}}}[{RATE}])"

    def quantile(q: str, by: str) -> str:
        return f"histogram_quantile({q}, sum by ({by}, le) ({rate('handling_seconds_bucket')}))"

    def error_ratio(by: str) -> str:
        return (f"sum by ({by}) ({rate('handled_total', NOT_OK)})\n"
                f"/\nsum by ({by}) ({rate('handled_total')})")

    def inflight(by: str) -> str:  # started has no grpc_code label: sum both sides first
        return (f"sum by ({by}) ({m}_started_total{{{sel}}})\n-\n"
                f"sum by ({by}) ({m}_handled_total{{{sel}}})")

    panels = [
        row("At a glance"),
        stat("Requests/s", f"Calls {who} per second (all methods, all replicas).",
             f"sum({rate('handled_total')})", "reqps", width=5),
        stat("Error ratio", "Share of calls that ended with a code other than OK.",
             f"sum({rate('handled_total', NOT_OK)}) / sum({rate('handled_total')})",
             "percentunit", red_above=0.05, width=5, decimals=2),
        stat("p99 latency", "99th percentile of call latency over all selected methods.",
             f"histogram_quantile(0.99, sum by (le) ({rate('handling_seconds_bucket')}))",
             "s", red_above=0.25 if side == "server" else 0.5, width=5),
        stat("In-flight RPCs", "Calls started and not yet handled (started - handled).",
             f"sum({m}_started_total{{{sel}}}) - sum({m}_handled_total{{{sel}}})", "short",
             width=5),
        stat("Replicas up", f"Targets exporting {m}_* that answered the last scrape.",
             f"count(up{{{proc}}} == 1 and on (job, instance) {exporter}) or vector(0)",
             "short", width=4),

        row("Traffic"),
        timeseries("Requests/s by method and code",
                   f"Calls {who} per second, by method and gRPC status code (codes with traffic).",
                   targets((f"sum by (grpc_service, grpc_method, grpc_code) ({rate('handled_total')}) > 0",
                            "{{grpc_method}} {{grpc_code}}")),
                   "reqps"),
        timeseries("Error ratio by method",
                   "Non-OK calls / all calls, per method (empty while a method is idle).",
                   targets((error_ratio("grpc_service, grpc_method"), "{{grpc_method}}")),
                   "percentunit"),
        timeseries("Requests started/s by type",
                   "Calls started per second by RPC type (unary, client/server/bidi stream).",
                   targets((f"sum by (grpc_type) ({rate('started_total')})", "{{grpc_type}}")),
                   "reqps", width=8),
        timeseries("Messages received/s",
                   "Stream messages received per second by method (one per unary call).",
                   targets((f"sum by (grpc_method) ({rate('msg_received_total')})", "{{grpc_method}}")),
                   "short", width=8),
        timeseries("Messages sent/s",
                   "Stream messages sent per second by method (one per unary call).",
                   targets((f"sum by (grpc_method) ({rate('msg_sent_total')})", "{{grpc_method}}")),
                   "short", width=8),

        row("Latency"),
        timeseries("Latency p50 / p90 / p99 by method",
                   "Quantiles of call latency from the handling_seconds histogram "
                   "(go-grpc-prometheus default buckets, 5 ms to 10 s).",
                   targets(*[(quantile(q, "grpc_method"), f"{name} {{{{grpc_method}}}}")
                             for q, name in QUANTILES]),
                   "s"),
        timeseries("In-flight RPCs by method",
                   "Calls started and not yet handled, per method: streams that stay open show here.",
                   targets((inflight("grpc_method"), "{{grpc_method}}")),
                   "short"),

        row("Per replica"),
        timeseries("Requests/s by instance",
                   "Calls per second per replica: an even split means the load is balanced.",
                   targets((f"sum by (instance) ({rate('handled_total')})", "{{instance}}")),
                   "reqps", width=8),
        timeseries("p99 latency by instance", "99th percentile latency per replica.",
                   targets((quantile("0.99", "instance"), "{{instance}}")),
                   "s", width=8),
        timeseries("Error ratio by instance", "Non-OK calls / all calls, per replica.",
                   targets((error_ratio("instance"), "{{instance}}")),
                   "percentunit", width=8),

        row("Process"),
        timeseries("CPU", "CPU time used per second, per replica (1 = one core).",
                   targets((f"rate(process_cpu_seconds_total{{{proc}}}[{RATE}]){only_exporters}",
                            "{{instance}}")),
                   "percentunit", width=8),
        timeseries("Resident memory", "Resident set size per replica.",
                   targets((f"process_resident_memory_bytes{{{proc}}}{only_exporters}", "{{instance}}")),
                   "bytes", width=8),
        timeseries("Open file descriptors",
                   "Open fds per replica (sockets included) against the limit.",
                   targets((f"process_open_fds{{{proc}}}{only_exporters}", "{{instance}}"),
                           (f"process_max_fds{{{proc}}}{only_exporters}", "limit {{instance}}")),
                   "short", width=8),
    ]
    if side == "client":
        panels += gateway_panels(proc)
    variables = [
        query_variable("job", "job", f"label_values({m}_started_total, job)"),
        query_variable("instance", "instance", f'label_values({m}_started_total{{job=~"$job"}}, instance)'),
        query_variable("method", "method", f'label_values({m}_started_total{{job=~"$job"}}, grpc_method)'),
    ]
    # Open on this side's own job, with "All" still one click away.
    variables[0]["current"] = {"selected": True, "text": [job], "value": [job]}
    if side == "server":
        title, what = "gRPC server (EchoServer)", "every EchoServer replica"
    else:
        title, what = "gRPC client (EchoClient gateway)", "the EchoClient HTTP gateway's gRPC calls"
    return dashboard(f"grpc-{side}", title,
                     f"go-grpc-prometheus {m}_* metrics of {what}, and process metrics.",
                     panels, variables)


def gateway_panels(sel: str) -> list[dict]:
    """The gateway's HTTP side (EchoClientCore's HTTPServerMetrics): what browsers and the traffic
    generator see. Counter series appear with their first request, hence `or vector(0)`."""

    def rate(extra: str = "") -> str:
        return f"rate(http_requests_total{{{sel}{extra}}}[{RATE}])"

    SERVER_ERROR = ',status=~"5.."'
    latency = f'rate(http_request_duration_seconds_bucket{{{sel},route="/echo"}}[{RATE}])'
    return [
        row("HTTP gateway"),
        timeseries("Gateway requests/s by route and status",
                   "HTTP requests the gateway answered per second, by route and status.",
                   targets((f"sum by (route, status) ({rate()}) > 0", "{{route}} {{status}}")),
                   "reqps", width=8),
        timeseries("Gateway /echo latency p50 / p90 / p99",
                   "Whole-request latency of GET/POST /echo as the HTTP client sees it "
                   "(gRPC call included).",
                   targets(*[(f"histogram_quantile({q}, sum by (le) ({latency}))", f"{name} /echo")
                             for q, name in QUANTILES]),
                   "s", width=8),
        timeseries("Gateway 5xx ratio",
                   "Share of HTTP answers with a 5xx status (502/503/504 map gRPC failures).",
                   targets((f"(sum({rate(SERVER_ERROR)}) or vector(0))\n/\nsum({rate()})",
                            "5xx ratio")),
                   "percentunit", width=8),
    ]


# ------------------------------------------------------------------------------------------------
# Overview: both sides and the recording rules on one page
# ------------------------------------------------------------------------------------------------


def overview_dashboard() -> dict:
    jobs = 'job=~"grpcserver|grpcclient"'
    panels = [
        row("Health"),
        stat("Server replicas up", "EchoServer targets that answered the last scrape.",
             'sum(up{job="grpcserver"})', "short", width=6),
        stat("Gateways up", "EchoClient targets that answered the last scrape.",
             'sum(up{job="grpcclient"})', "short", width=6),
        stat("Alerts firing", "Alerts from docker/prometheus/rules/alerts.yml now firing "
             "(see Prometheus's /alerts page).",
             'count(ALERTS{alertstate="firing"}) or vector(0)', "short", red_above=1, width=6),
        stat("Server error ratio", "Non-OK calls / all calls on the servers (recording rule).",
             'sum(job_service_method_code:grpc_server_handled:rate1m{grpc_code!="OK"})\n/\n'
             'sum(job_service_method:grpc_server_handled:rate1m)',
             "percentunit", red_above=0.05, width=6, decimals=2),

        row("Both sides of the call"),
        timeseries("Requests/s: gateway calls vs server handled",
                   "The gateway's completed calls and the servers' handled calls: they match "
                   "unless calls fail before reaching a server.",
                   targets(('sum by (job) (job_service_method:grpc_client_handled:rate1m)', "client {{job}}"),
                           ('sum by (job) (job_service_method:grpc_server_handled:rate1m)', "server {{job}}")),
                   "reqps"),
        timeseries("Error ratio by side and method",
                   "Recording rules job_service_method:grpc_{server,client}_errors:ratio_rate1m "
                   "(the alerts' input; threshold 5%).",
                   targets(('job_service_method:grpc_client_errors:ratio_rate1m', "client {{grpc_method}}"),
                           ('job_service_method:grpc_server_errors:ratio_rate1m', "server {{grpc_method}}")),
                   "percentunit"),
        timeseries("p99 latency: client vs server",
                   "The gap between the two lines is network, queueing and the gateway itself "
                   "(recording rules; the p99 alerts fire above 0.5 s / 0.25 s).",
                   targets(('job_service_method:grpc_client_handling_seconds:histogram_quantile{quantile="0.99"}',
                            "client {{grpc_method}}"),
                           ('job_service_method:grpc_server_handling_seconds:histogram_quantile{quantile="0.99"}',
                            "server {{grpc_method}}")),
                   "s"),
        timeseries("Server p50 / p90 / p99",
                   "Latency quantiles on the servers, all replicas (recording rules).",
                   targets(*[(f'job_service_method:grpc_server_handling_seconds:histogram_quantile'
                              f'{{quantile="{q}"}}', f"{name} {{{{grpc_method}}}}")
                             for q, name in QUANTILES]),
                   "s"),

        row("Replicas and processes"),
        timeseries("Requests/s by server replica",
                   "Handled calls per replica (recording rule instance_job:grpc_server_handled:rate1m): "
                   "the gateway's round-robin should split them evenly.",
                   targets(('instance_job:grpc_server_handled:rate1m', "{{instance}}")),
                   "reqps", width=8),
        timeseries("CPU by process", "CPU time per second of every server and gateway process.",
                   targets((f"rate(process_cpu_seconds_total{{{jobs}}}[{RATE}])", "{{job}} {{instance}}")),
                   "percentunit", width=8),
        timeseries("Resident memory by process", "Resident set size of every server and gateway process.",
                   targets((f"process_resident_memory_bytes{{{jobs}}}", "{{job}} {{instance}}")),
                   "bytes", width=8),
    ]
    return dashboard("grpc-overview", "gRPC echo: overview",
                     "Gateway and servers side by side, built on the recording rules in "
                     "docker/prometheus/rules/recording.yml.",
                     panels, [])


DASHBOARDS = {
    "overview.json": overview_dashboard,
    "server.json": lambda: grpc_dashboard("server"),
    "client.json": lambda: grpc_dashboard("client"),
}


def render() -> dict[str, str]:
    """File name -> JSON text, exactly as committed."""
    return {name: json.dumps(build(), indent=2, sort_keys=False) + "\n" for name, build in DASHBOARDS.items()}


def main() -> None:
    OUT_DIR.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT_DIR / name).write_text(text)
        print(f"wrote {OUT_DIR / name}")


if __name__ == "__main__":
    main()
