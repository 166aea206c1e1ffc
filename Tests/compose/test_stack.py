"""compose.yaml running for real: three `grpcserver` replicas, the gateway, Prometheus and the
traffic generator on the suite's own network, checked from the host through the published
loopback ports and from Prometheus in its container. The last test stops a replica; tests run in
file order."""

from __future__ import annotations

import time
from collections import Counter

import pytest
import yaml

from client import EchoLoad, Gateway, PrometheusAPI, finite_values
from engine import PROJECT, REPO_ROOT, Stack, parse_time

RULES = REPO_ROOT / "docker/prometheus/rules"
#: Scrape interval 5 s, DNS refresh 10 s: a minute covers discovery and the 1m rate windows.
PROMETHEUS_DEADLINE = 90.0


@pytest.fixture(scope="module")
def gateway(stack: Stack) -> Gateway:
    return Gateway(stack.host_port("grpcclient", 8081))


@pytest.fixture(scope="module")
def prometheus(stack: Stack) -> PrometheusAPI:
    return PrometheusAPI(f"127.0.0.1:{stack.host_port('prometheus', 9090)}")


def replica_addresses(stack: Stack) -> set[str]:
    return {next(iter(c["NetworkSettings"]["Networks"].values()))["IPAddress"]
            for c in stack.containers("grpcserver")}


def eventually(check, deadline: float, what: str, interval: float = 1.0):
    """Calls `check` until it returns something true; fails with its last answer."""
    until = time.monotonic() + deadline
    last = None
    while time.monotonic() < until:
        last = check()
        if last:
            return last
        time.sleep(interval)
    pytest.fail(f"{what} not seen within {deadline:.0f} s (last: {last})", pytrace=False)


# ---- Start-up ---------------------------------------------------------------------------------


def test_every_service_runs_healthy(stack: Stack) -> None:
    for service in stack.services:
        containers = stack.containers(service)
        assert len(containers) == stack.scale.get(service, 1), service
        assert {stack.health_status(c) for c in containers} == {"healthy"}, service


def test_services_start_in_depends_on_order(stack: Stack) -> None:
    """Every container of a service started after each of its service_healthy dependencies'
    containers had passed a health check."""
    definition = stack.definition["services"]
    for service in stack.services:
        for dependency, rule in definition[service].get("depends_on", {}).items():
            assert rule["condition"] == "service_healthy", (service, dependency)
            healthy_at = max(parse_time(check["End"]) for c in stack.snapshots[service][dependency]
                             for check in c["State"]["Health"]["Log"] if check["ExitCode"] == 0)
            for container in stack.containers(service):
                started = parse_time(container["State"]["StartedAt"])
                assert started > healthy_at, f"{container['Name']} started before {dependency} was healthy"


def test_project_binaries_run_as_uid_10001(stack: Stack) -> None:
    for service in ("grpcserver", "grpcclient"):
        for container in stack.containers(service):
            status = stack.podman.run("exec", container["Name"], "cat", "/proc/1/status")
            uids = next(line.split()[1:] for line in status.splitlines() if line.startswith("Uid:"))
            assert set(uids) == {"10001"}, (container["Name"], uids)


def test_traffic_stays_on_the_suites_network_and_loopback(stack: Stack) -> None:
    network = f"{PROJECT}_default"
    for service in stack.services:
        for container in stack.containers(service):
            settings = container["NetworkSettings"]
            assert set(settings["Networks"]) == {network}, container["Name"]
            for bindings in (settings.get("Ports") or {}).values():
                for binding in bindings or []:
                    assert binding["HostIp"] == "127.0.0.1", (container["Name"], binding)


# ---- The gateway, from the host -----------------------------------------------------------------


def test_gateway_page_loads(gateway: Gateway) -> None:
    answer = gateway.request("GET", "/")
    assert answer.status == 200
    assert answer.headers["content-type"].startswith("text/html")
    assert b"<title>gRPC echo client</title>" in answer.body


def test_get_echo_answers_byte_for_byte(gateway: Gateway) -> None:
    answer = gateway.request("GET", "/echo?m=hello")
    assert answer.status == 200
    assert answer.body == b"Response: echo hello"


def test_post_echo_round_robins_over_every_replica(stack: Stack, gateway: Gateway) -> None:
    replicas = [gateway.post_echo(f"rr-{i}").json()["replica"] for i in range(60)]
    counts = Counter(replica.rsplit(":", 1)[0] for replica in replicas)
    assert set(counts) == replica_addresses(stack), counts
    # Round robin: no replica gets much more than its third (the traffic service's calls
    # interleave with these, so the split is not exact).
    assert max(counts.values()) - min(counts.values()) <= 12, counts


# ---- Prometheus, in its container ---------------------------------------------------------------


def _targets_by_job(prometheus: PrometheusAPI) -> dict[str, dict[str, str]]:
    jobs: dict[str, dict[str, str]] = {}
    for target in prometheus.targets():
        jobs.setdefault(target["labels"]["job"], {})[target["labels"]["instance"]] = target["health"]
    return jobs


def test_prometheus_finds_every_replica_and_the_gateway(stack: Stack,
                                                        prometheus: PrometheusAPI) -> None:
    servers = {f"{address}:8080" for address in replica_addresses(stack)}
    gateways = {f"{next(iter(c['NetworkSettings']['Networks'].values()))['IPAddress']}:8081"
                for c in stack.containers("grpcclient")}

    def every_target_up():
        jobs = _targets_by_job(prometheus)
        wanted = {"grpcserver": servers, "grpcclient": gateways}
        ok = all(set(jobs.get(job, {})) == instances and
                 set(jobs[job].values()) == {"up"} for job, instances in wanted.items())
        return ok or jobs

    eventually(every_target_up, PROMETHEUS_DEADLINE, "one up target per replica and the gateway")


def test_traffic_service_requests_reach_the_client_metrics(gateway: Gateway,
                                                           prometheus: PrometheusAPI) -> None:
    """The traffic service is the only sender besides this suite: Prometheus counts many more
    Echo calls at the gateway than the suite has sent."""
    query = ('sum(grpc_client_started_total{job="grpcclient",grpc_service="proto.EchoService",'
             'grpc_method="EchoService"})')

    def beyond_own_requests():
        values = finite_values(prometheus.query(query))
        return values and values[0] >= gateway.echo_requests + 40 and values[0]

    eventually(beyond_own_requests, PROMETHEUS_DEADLINE,
               f"Echo calls beyond the suite's own {gateway.echo_requests}")


@pytest.mark.parametrize("metric", ["grpc_server_msg_sent_total", "grpc_server_msg_received_total",
                                    "grpc_client_msg_sent_total"])
def test_original_demo_panel_queries_answer(prometheus: PrometheusAPI, metric: str) -> None:
    eventually(lambda: finite_values(prometheus.query(metric)), PROMETHEUS_DEADLINE, metric)


def _recording_rules() -> list[tuple[str, dict]]:
    rules = []
    for group in yaml.safe_load((RULES / "recording.yml").read_text())["groups"]:
        rules += [(rule["record"], rule.get("labels", {})) for rule in group["rules"]]
    return rules


@pytest.mark.parametrize(("record", "labels"), _recording_rules(),
                         ids=lambda v: v if isinstance(v, str) else ",".join(v.values()))
def test_recording_rule_produces_series(prometheus: PrometheusAPI, record: str,
                                        labels: dict) -> None:
    matchers = ",".join([f'__name__="{record}"'] + [f'{k}="{v}"' for k, v in labels.items()])
    eventually(lambda: prometheus.query("{" + matchers + "}"), PROMETHEUS_DEADLINE, record)


# ---- A replica stopped --------------------------------------------------------------------------


def test_stopping_a_replica_loses_no_request(stack: Stack, gateway: Gateway,
                                             prometheus: PrometheusAPI, report: list[str]) -> None:
    """`podman stop` (SIGTERM, then the grace period) on one replica under load: every /echo is
    answered, the two left take the calls, and Prometheus stops counting the stopped one as up."""
    victim = stack.containers("grpcserver")[-1]
    address = next(iter(victim["NetworkSettings"]["Networks"].values()))["IPAddress"]
    load = EchoLoad(gateway).start()
    try:
        time.sleep(3)
        stack.podman.run("stop", "-t", "15", victim["Name"], timeout=60)
        stopped_at = time.time()
        time.sleep(10)
    finally:
        load.stop()
    assert not load.failures, f"{len(load.failures)} failed of {len(load.answers)}: {load.failures[:5]}"
    after = Counter(r.rsplit(":", 1)[0] for t, _, r in load.answers if t > stopped_at + 1)
    assert address not in after, after
    assert len(after) == 2 and min(after.values()) > 10, after

    def marked_down():
        health = _targets_by_job(prometheus).get("grpcserver", {}).get(f"{address}:8080")
        return health != "up" and (health or "gone from DNS discovery")

    seen = eventually(marked_down, 30, "the stopped target down")
    report.append(f"replica stopped under load: {len(load.answers)} requests, "
                  f"{len(load.failures)} failed; its target: {seen}; after: {dict(after)}")
