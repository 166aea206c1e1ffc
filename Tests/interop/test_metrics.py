"""The Prometheus exposition on the gRPC port: exact go-grpc-prometheus series after a scripted
workload, pre-initialisation, bucket spelling, process_* families, content negotiation."""

from __future__ import annotations

import re

import grpc
import pytest
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as openmetrics_families,
)

from conftest import (
    BIDI, CLIENT_STREAM, GRPC_CODES_GO, RPC_TIMEOUT, SERVER_STREAM, UNARY, Metrics, deser,
    method_labels, poll_metrics, scrape, scrape_text, ser,
)

#: (path, grpc_type) of every registered method.
REGISTERED = [
    (UNARY, "unary"),
    (SERVER_STREAM, "server_stream"),
    (CLIENT_STREAM, "client_stream"),
    (BIDI, "bidi_stream"),
    ("/grpc.health.v1.Health/Check", "unary"),
    ("/grpc.health.v1.Health/Watch", "server_stream"),
    ("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", "bidi_stream"),
    ("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", "bidi_stream"),
]
#: The shared series of every unknown method (so random paths cannot add series).
UNKNOWN = ("/unknown/unknown", "unary")

BUCKETS_TEXT = ["0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10",
                "+Inf"]
PROCESS_FAMILIES = [
    "process_cpu_seconds_total", "process_open_fds", "process_max_fds",
    "process_virtual_memory_bytes", "process_resident_memory_bytes",
    "process_start_time_seconds",
]
COUNTERS = ["grpc_server_started_total", "grpc_server_msg_received_total",
            "grpc_server_msg_sent_total"]


def snapshot(metrics: Metrics, path: str, grpc_type: str) -> dict[str, float | None]:
    """Every server counter of one method, plus the histogram count, as a flat dict."""
    labels = method_labels(path, grpc_type)
    out: dict[str, float | None] = {c: metrics.value(c, **labels) for c in COUNTERS}
    for code in GRPC_CODES_GO:
        out[f"handled{{{code}}}"] = metrics.value("grpc_server_handled_total", grpc_code=code,
                                                  **labels)
    out["handling_seconds_count"] = metrics.value("grpc_server_handling_seconds_count", **labels)
    return out


def expected(started=0, received=0, sent=0, **codes) -> dict[str, float]:
    out = {"grpc_server_started_total": started, "grpc_server_msg_received_total": received,
           "grpc_server_msg_sent_total": sent}
    for code in GRPC_CODES_GO:
        out[f"handled{{{code}}}"] = codes.get(code, 0)
    out["handling_seconds_count"] = sum(codes.values())
    return out


# ------------------------------------------------------------------------------ fresh server


def test_every_method_preinitialised_with_all_codes(fresh_server):
    metrics = scrape(fresh_server.address)
    for path, grpc_type in REGISTERED + [UNKNOWN]:
        assert snapshot(metrics, path, grpc_type) == expected(), path
        labels = method_labels(path, grpc_type)
        assert metrics.value("grpc_server_handling_seconds_sum", **labels) == 0
        for le in BUCKETS_TEXT:
            assert metrics.value("grpc_server_handling_seconds_bucket", le=le, **labels) == 0, (
                path, le)


def test_no_series_for_unregistered_labels(fresh_server):
    metrics = scrape(fresh_server.address)
    allowed = {tuple(sorted(method_labels(p, t).items())) for p, t in REGISTERED + [UNKNOWN]}
    for name in COUNTERS + ["grpc_server_handled_total", "grpc_server_handling_seconds_count"]:
        series = metrics.series(name)
        got = {tuple(sorted((k, v) for k, v in s.items() if k.startswith("grpc_")
                            and k != "grpc_code")) for s in series}
        assert got == allowed, name
    handled_series = metrics.series("grpc_server_handled_total")
    assert len(handled_series) == len(allowed) * 17
    assert {s["grpc_code"] for s in handled_series} == set(GRPC_CODES_GO)


def test_metric_types(fresh_server):
    metrics = scrape(fresh_server.address)
    types = {name: family.type for name, family in metrics.families.items()}
    assert types["grpc_server_started"] == "counter"
    assert types["grpc_server_handled"] == "counter"
    assert types["grpc_server_msg_received"] == "counter"
    assert types["grpc_server_msg_sent"] == "counter"
    assert types["grpc_server_handling_seconds"] == "histogram"
    assert not any(name.startswith("grpc_client_") for name in types), (
        "the server exposes client metrics")


def run_workload(address: str, protos) -> None:
    with grpc.insecure_channel(address) as ch:
        unary = ch.unary_unary(UNARY, request_serializer=ser,
                               response_deserializer=deser(protos.Message))
        for word in ("a", "b", "c"):
            assert unary(protos.Message(message=word), timeout=RPC_TIMEOUT).message == \
                f"echo {word}"

        nope = ch.unary_unary("/proto.EchoService/Nope", request_serializer=ser,
                              response_deserializer=deser(protos.Message))
        with pytest.raises(grpc.RpcError) as info:
            nope(protos.Message(message="x"), timeout=RPC_TIMEOUT)
        assert info.value.code() == grpc.StatusCode.UNIMPLEMENTED

        stream = ch.unary_stream(SERVER_STREAM, request_serializer=ser,
                                 response_deserializer=deser(protos.Message))
        assert len(list(stream(protos.StreamingEchoRequest(message="s", count=2),
                               timeout=RPC_TIMEOUT))) == 2
        with pytest.raises(grpc.RpcError) as info:
            list(stream(protos.StreamingEchoRequest(message="s", count=1001),
                        timeout=RPC_TIMEOUT))
        assert info.value.code() == grpc.StatusCode.INVALID_ARGUMENT

        client = ch.stream_unary(CLIENT_STREAM, request_serializer=ser,
                                 response_deserializer=deser(protos.Message))
        assert client(iter(protos.Message(message=w) for w in "abc"),
                      timeout=RPC_TIMEOUT).message == "echo a b c"

        bidi = ch.stream_stream(BIDI, request_serializer=ser,
                                response_deserializer=deser(protos.Message))
        assert [r.message for r in bidi(iter(protos.Message(message=w) for w in "xy"),
                                        timeout=RPC_TIMEOUT)] == ["echo x", "echo y"]


WORKLOAD_EXPECTED = {
    (UNARY, "unary"): expected(started=3, received=3, sent=3, OK=3),
    (SERVER_STREAM, "server_stream"): expected(started=2, received=2, sent=2, OK=1,
                                               InvalidArgument=1),
    (CLIENT_STREAM, "client_stream"): expected(started=1, received=3, sent=1, OK=1),
    (BIDI, "bidi_stream"): expected(started=1, received=2, sent=2, OK=1),
    UNKNOWN: expected(started=1, received=0, sent=0, Unimplemented=1),
}


def test_exact_counters_after_workload(fresh_server, protos):
    run_workload(fresh_server.address, protos)

    def observed(m):
        return {key: snapshot(m, *key) for key in WORKLOAD_EXPECTED}

    metrics = poll_metrics(fresh_server.address, lambda m: observed(m) == WORKLOAD_EXPECTED)
    got = observed(metrics)
    for key, want in WORKLOAD_EXPECTED.items():
        diff = {k: (got[key][k], v) for k, v in want.items() if got[key][k] != v}
        assert not diff, f"{key}: (got, expected) = {diff}"
    # Methods the workload did not call stay at zero.
    for path, grpc_type in REGISTERED:
        if (path, grpc_type) not in WORKLOAD_EXPECTED:
            assert snapshot(metrics, path, grpc_type) == expected(), path


def test_histogram_consistent_after_workload(fresh_server, protos):
    run_workload(fresh_server.address, protos)
    metrics = poll_metrics(
        fresh_server.address,
        lambda m: m.value("grpc_server_handling_seconds_count",
                          **method_labels(BIDI, "bidi_stream")) == 1)
    for path, grpc_type in REGISTERED + [UNKNOWN]:
        labels = method_labels(path, grpc_type)
        buckets = [metrics.value("grpc_server_handling_seconds_bucket", le=le, **labels)
                   for le in BUCKETS_TEXT]
        assert None not in buckets, path
        assert buckets == sorted(buckets), f"{path}: buckets not cumulative {buckets}"
        count = metrics.value("grpc_server_handling_seconds_count", **labels)
        assert buckets[-1] == count, path
        total_handled = sum(metrics.value("grpc_server_handled_total", grpc_code=c, **labels)
                            for c in GRPC_CODES_GO)
        assert count == total_handled, path
        seconds = metrics.value("grpc_server_handling_seconds_sum", **labels)
        assert 0 <= seconds < 5 * max(count, 1), path
        if count:
            assert seconds > 0, f"{path}: {count} observations but a sum of 0"
    # Local echo calls are fast: every unary EchoService call falls in le=0.1.
    assert metrics.value("grpc_server_handling_seconds_bucket", le="0.1",
                         **method_labels(UNARY, "unary")) == 3


def test_health_and_reflection_calls_are_counted(fresh_server):
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    with grpc.insecure_channel(fresh_server.address) as ch:
        health = health_pb2_grpc.HealthStub(ch)
        health.Check(health_pb2.HealthCheckRequest(service=""), timeout=RPC_TIMEOUT)
        with pytest.raises(grpc.RpcError):
            health.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=RPC_TIMEOUT)
    check = ("/grpc.health.v1.Health/Check", "unary")
    want = expected(started=2, received=2, sent=1, OK=1, NotFound=1)
    metrics = poll_metrics(fresh_server.address, lambda m: snapshot(m, *check) == want)
    assert snapshot(metrics, *check) == want


# ------------------------------------------------------------------------------ format details


def test_bucket_le_spelling(fresh_server):
    text = scrape_text(fresh_server.address).body
    pattern = re.compile(
        r'^grpc_server_handling_seconds_bucket\{[^}]*grpc_method="EchoService"[^}]*'
        r'le="([^"]+)"\}', re.M)
    assert pattern.findall(text) == BUCKETS_TEXT


def test_process_families_present(fresh_server):
    metrics = scrape(fresh_server.address)
    import time

    for name in PROCESS_FAMILIES:
        value = metrics.value(name)
        assert value is not None, f"{name} missing"
        assert value >= 0, name
    assert metrics.value("process_open_fds") >= 3
    assert metrics.value("process_max_fds") >= metrics.value("process_open_fds")
    assert metrics.value("process_resident_memory_bytes") > 1_000_000
    assert metrics.value("process_virtual_memory_bytes") >= \
        metrics.value("process_resident_memory_bytes")
    start = metrics.value("process_start_time_seconds")
    assert time.time() - 120 < start <= time.time() + 1


def test_text_content_type(fresh_server):
    result = scrape_text(fresh_server.address)
    assert result.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    assert "# EOF" not in result.body
    assert int(result.headers["content-length"]) == len(result.body.encode())


def test_openmetrics_negotiation(fresh_server):
    result = scrape_text(
        fresh_server.address,
        headers={"Accept": "application/openmetrics-text;version=1.0.0,text/plain;q=0.5"})
    assert result.headers["content-type"].startswith("application/openmetrics-text")
    assert result.body.endswith("# EOF\n")
    families = {f.name: f for f in openmetrics_families(result.body)}
    assert families["grpc_server_handled"].type == "counter"
    assert families["grpc_server_handling_seconds"].type == "histogram"
    assert int(result.headers["content-length"]) == len(result.body.encode())


def test_plain_accept_header_gets_text(fresh_server):
    result = scrape_text(fresh_server.address, headers={"Accept": "text/plain"})
    assert result.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"


def test_head_metrics(fresh_server):
    from conftest import http_request

    result = http_request(fresh_server.address, "HEAD", "/metrics")
    assert result.status == 200
    assert result.body == ""
