"""docker/grafana: the committed dashboards are what generate_dashboards.py writes, are valid JSON
with a Prometheus query on every panel (on the provisioned data source), use only variables they
define, chart counters through rate(), and use go-grpc-prometheus's metric names exactly; the
provisioning files point at them. (That every query returns data is test_e2e_stack.py's job.)"""

from __future__ import annotations

import importlib.util
import json
import re

import pytest
import yaml

from stack import DASHBOARD_DIR, REPO_ROOT, metric_names

GRAFANA = REPO_ROOT / "docker/grafana"
DASHBOARDS = sorted(DASHBOARD_DIR.glob("*.json"))
#: Where the exporters define their metric names: the go-grpc-prometheus library (grpc_*,
#: process_*) and the gateway's HTTP metrics (http_*).
METRIC_SOURCES = [REPO_ROOT / "Sources/GRPCPrometheus", REPO_ROOT / "Sources/EchoClientCore"]
#: Series that come from Prometheus itself, not from the exporters.
PROMETHEUS_SERIES = {"up", "ALERTS"}


def load(path) -> dict:
    return json.loads(path.read_text())


def query_panels(dashboard: dict) -> list[dict]:
    return [panel for panel in dashboard["panels"] if panel["type"] != "row"]


def datasource_uid() -> str:
    provisioned = yaml.safe_load((GRAFANA / "provisioning/datasources/prometheus.yml").read_text())
    (datasource,) = provisioned["datasources"]
    assert datasource["type"] == "prometheus"
    return datasource["uid"]


def test_three_dashboards() -> None:
    assert [p.name for p in DASHBOARDS] == ["client.json", "overview.json", "server.json"]
    uids = [load(p)["uid"] for p in DASHBOARDS]
    assert len(set(uids)) == 3


def test_committed_json_is_the_generators_output() -> None:
    spec = importlib.util.spec_from_file_location("generate_dashboards", GRAFANA / "generate_dashboards.py")
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    rendered = generator.render()
    assert sorted(rendered) == [p.name for p in DASHBOARDS]
    for path in DASHBOARDS:
        assert path.read_text() == rendered[path.name], (
            f"{path.name} differs from the generator: run python3 docker/grafana/generate_dashboards.py")


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_every_panel_has_a_prometheus_query(path) -> None:
    dashboard = load(path)
    uid = datasource_uid()
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    assert len(query_panels(dashboard)) >= 10
    for panel in query_panels(dashboard):
        assert panel["datasource"] == {"type": "prometheus", "uid": uid}, panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        for target in panel["targets"]:
            assert target["expr"].strip(), panel["title"]
            assert target["datasource"]["uid"] == uid
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24, panel["title"]


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_variables_are_defined_and_used_as_regexes(path) -> None:
    dashboard = load(path)
    defined = {variable["name"] for variable in dashboard["templating"]["list"]}
    for variable in dashboard["templating"]["list"]:
        assert variable["allValue"] == ".*" and variable["includeAll"], variable["name"]
        assert variable["datasource"]["uid"] == datasource_uid()
    for panel in query_panels(dashboard):
        for target in panel["targets"]:
            used = set(re.findall(r"\$\{?(\w+)\}?", target["expr"])) - {"__rate_interval"}
            assert used <= defined, f"{panel['title']}: {used - defined}"
            # A variable may hold several values or ".*": it has to be a regex matcher.
            assert not re.search(r'[^~]="\$', target["expr"]), panel["title"]
    if path.stem in ("server", "client"):
        assert defined == {"job", "instance", "method"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=[p.stem for p in DASHBOARDS])
def test_counters_are_charted_as_rates(path) -> None:
    """The original charted raw counters. Here a counter or bucket series is only read through
    rate(), except where started - handled counts calls in flight, or where a series only
    selects targets (`and on (job, instance) grpc_server_started_total`)."""
    for panel in query_panels(load(path)):
        for target in panel["targets"]:
            expr = target["expr"]
            for match in re.finditer(r"\b\w+_(total|bucket)\b", expr):
                before = expr[: match.start()]
                inside_rate = before.endswith("rate(")
                in_flight = "In-flight" in panel["title"] and re.search(r"_(started|handled)_total", match.group())
                filter_only = before.endswith("and on (job, instance) ")
                assert inside_rate or in_flight or filter_only, f"{panel['title']}: raw counter {match.group()}"


def test_panels_cover_the_issue() -> None:
    titles = {path.stem: {panel["title"] for panel in query_panels(load(path))} for path in DASHBOARDS}
    exprs = {path.stem: "\n".join(t["expr"] for p in query_panels(load(path)) for t in p["targets"])
             for path in DASHBOARDS}
    for side in ("server", "client"):
        for wanted in ("Requests/s by method and code", "Error ratio by method",
                       "Latency p50 / p90 / p99 by method", "In-flight RPCs by method",
                       "Messages received/s", "Messages sent/s", "Requests/s by instance", "CPU",
                       "Resident memory"):
            assert wanted in titles[side], (side, wanted)
        for q in ("0.5", "0.9", "0.99"):
            assert f"histogram_quantile({q}, sum by (grpc_method, le) (rate(grpc_{side}_handling_seconds_bucket" in exprs[side]
        assert "rate(process_cpu_seconds_total" in exprs[side]
    # The overview is built on the recording rules.
    assert "job_service_method:grpc_server_errors:ratio_rate1m" in exprs["overview"]
    assert "instance_job:grpc_server_handled:rate1m" in exprs["overview"]


def test_metric_names_are_go_grpc_prometheus_names() -> None:
    exported = set()
    for folder in METRIC_SOURCES:
        for source in folder.glob("*.swift"):
            exported |= set(re.findall(r'"((?:grpc|process|http)_[a-z_]+)"', source.read_text()))
    recorded = set()
    for rules in (REPO_ROOT / "docker/prometheus/rules").glob("*.yml"):
        for group in yaml.safe_load(rules.read_text())["groups"]:
            recorded |= {rule["record"] for rule in group["rules"] if "record" in rule}
    for path in DASHBOARDS:
        for panel in query_panels(load(path)):
            for target in panel["targets"]:
                for name in metric_names(target["expr"]):
                    family = re.sub(r"_(bucket|sum|count)$", "", name)
                    assert family in exported or name in recorded or name in PROMETHEUS_SERIES, (
                        f"{path.name} {panel['title']}: unknown metric {name}")


def test_provider_points_at_the_dashboards() -> None:
    provider = yaml.safe_load((GRAFANA / "provisioning/dashboards/dashboards.yml").read_text())
    (entry,) = provider["providers"]
    assert entry["type"] == "file"
    # compose.yaml mounts docker/grafana/dashboards at this path (test_compose checks the mount).
    compose = yaml.safe_load((REPO_ROOT / "compose.yaml").read_text())
    mounts = dict(v.split(":")[:2] for v in compose["services"]["grafana"]["volumes"])
    assert mounts["./docker/grafana/dashboards"] == entry["options"]["path"]
