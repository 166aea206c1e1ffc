"""End to end with real parts: two EchoServer replicas, EchoClient when built, and Debian's
Prometheus running the repository's prometheus.yml and rules (targets rewritten to loopback, nothing
else changed). Through Prometheus's HTTP API: every target is up, every panel query of every
dashboard returns data, every recording rule produces series, every rule is healthy, and a replica
that stops is reported by the target-down alert.

Tests run in file order; the last one stops a server replica.
"""

from __future__ import annotations

import time

import pytest
import yaml

import stack as st

#: How long one query may keep returning nothing before the test fails (rates and recording
#: rules need a scrape or an evaluation, 5 s each, after the stack's warm-up).
DATA_DEADLINE = 15.0

QUERIES = st.dashboard_queries()


def _needs_client(dashboard: str, expr: str) -> bool:
    return dashboard == "client" or "grpc_client" in expr or "grpcclient" in expr


def _wait_for_finite(api: st.PrometheusAPI, expr: str, *, range_query: bool) -> list[dict]:
    deadline = time.monotonic() + DATA_DEADLINE
    while True:
        result = api.query_range(expr) if range_query else api.query(expr)
        if st.finite_values(result) or time.monotonic() > deadline:
            return result
        time.sleep(1)


def test_every_target_is_up(stack) -> None:
    targets = stack.api.targets()
    jobs = sorted(t["labels"]["job"] for t in targets)
    expected = ["grpcserver", "grpcserver", "prometheus"] + (["grpcclient"] if stack.has_client else [])
    assert jobs == sorted(expected), stack.diagnostics()
    down = [(t["labels"]["job"], t["scrapeUrl"], t["lastError"]) for t in targets if t["health"] != "up"]
    assert not down, down
    instances = {t["labels"]["instance"] for t in targets if t["labels"]["job"] == "grpcserver"}
    assert instances == set(stack.server_addresses), "each replica is its own target"


def test_traffic_reached_the_servers(stack) -> None:
    counts = stack.traffic.counts
    assert counts.get("grpc ok", 0) > 20, counts
    assert counts.get("grpc INTERNAL", 0) > 0, counts  # the deliberate errors feed the error ratio
    if stack.has_client:
        assert counts.get("http 200", 0) > 10, counts


@pytest.mark.parametrize(("dashboard", "panel", "ref", "expr"), QUERIES,
                         ids=[f"{d}:{p}:{r}" for d, p, r, _ in QUERIES])
def test_panel_query_returns_data(stack, dashboard: str, panel: str, ref: str, expr: str) -> None:
    if _needs_client(dashboard, expr) and not stack.has_client:
        pytest.skip("EchoClient is not built yet (.build/debug/EchoClient): client panels unchecked")
    promql = st.grafana_to_promql(expr)
    # Grafana draws time series from range queries: ask the same way, over the last minute.
    result = _wait_for_finite(stack.api, promql, range_query=True)
    assert st.finite_values(result), (
        f"panel {panel!r} ({dashboard}.json, {ref}) has no data:\n{promql}\n{stack.diagnostics()}")


def _recording_rules() -> list[tuple[str, dict]]:
    rules = []
    for group in yaml.safe_load((st.PROMETHEUS_DIR / "rules/recording.yml").read_text())["groups"]:
        rules += [(rule["record"], rule.get("labels", {})) for rule in group["rules"]]
    return rules


RECORDS = _recording_rules()


@pytest.mark.parametrize(("record", "labels"), RECORDS,
                         ids=[r + "".join(f"{{{v}}}" for v in l.values()) for r, l in RECORDS])
def test_recording_rule_produces_series(stack, record: str, labels: dict) -> None:
    if "grpc_client" in record and not stack.has_client:
        pytest.skip("EchoClient is not built yet: client recording rules unchecked")
    matchers = ",".join([f'__name__="{record}"'] + [f'{k}="{v}"' for k, v in labels.items()])
    result = _wait_for_finite(stack.api, f"{{{matchers}}}", range_query=False)
    assert st.finite_values(result), f"{record} {labels} produced no finite sample: {result}"
    methods = {series["metric"].get("grpc_method") for series in result}
    if "job" in result[0]["metric"] and "grpc_method" in result[0]["metric"]:
        assert "EchoService" in methods, methods


def test_every_rule_is_loaded_and_healthy(stack) -> None:
    groups = stack.api.rules()
    loaded = {rule["name"]: rule for group in groups for rule in group["rules"]}
    committed = []
    for name in ("recording.yml", "alerts.yml"):
        for group in yaml.safe_load((st.PROMETHEUS_DIR / "rules" / name).read_text())["groups"]:
            committed += [rule.get("record") or rule["alert"] for rule in group["rules"]]
    assert set(committed) <= set(loaded), set(committed) - set(loaded)
    unhealthy = {name: rule.get("lastError") for name, rule in loaded.items() if rule["health"] != "ok"}
    assert not unhealthy, unhealthy
    firing = [rule["name"] for rule in loaded.values() if rule.get("state") == "firing"]
    assert not firing, f"a healthy stack fires no alert: {firing}"


def test_a_stopped_replica_is_reported_down(stack) -> None:
    """Stops the second replica: Prometheus marks its target down and GRPCTargetDown goes pending
    (it fires after `for: 1m`, longer than this suite waits)."""
    victim = stack.server_addresses[1]
    stack.servers[1].stop()
    deadline = time.monotonic() + 20
    alert = []
    while time.monotonic() < deadline and not alert:
        time.sleep(1)
        alert = stack.api.query(f'ALERTS{{alertname="GRPCTargetDown",instance="{victim}"}}')
    assert alert, f"GRPCTargetDown never became pending for {victim}\n{stack.diagnostics()}"
    assert alert[0]["metric"]["alertstate"] in ("pending", "firing")
    up = stack.api.query(f'up{{job="grpcserver",instance="{victim}"}}')
    assert up and up[0]["value"][1] == "0", up
    # The other replica still answers: GRPCServerNoReplicaUp stays quiet.
    assert not stack.api.query('ALERTS{alertname="GRPCServerNoReplicaUp"}')
