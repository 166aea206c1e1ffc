"""Processes ending under load, and what the clients see.

SIGTERM to EchoServer while the gateway forwards a steady load: nothing accepted is lost, what
comes after the drain starts is refused cleanly (503 UNAVAILABLE), the server exits 0 well
within its grace period. SIGTERM to the gateway: its in-flight requests complete, new ones are
refused cleanly, it exits 0. A 2 MB bidi echo still undelivered at SIGTERM arrives whole. And
EchoServer killed (SIGKILL) and restarted on its port: every request meanwhile gets a 503 within
the call deadline, and the gateway finds the new server within about a second.

Each test prints its figures (`pytest -s` shows them).
"""

from __future__ import annotations

import time
from concurrent import futures

import grpc

from conftest import BIDI, grpc_frame, poll_metrics
from gateway_load import GatewayLoad, Outcome, stack_factory  # noqa: F401
from h2client import GRPC_HEADERS, H2Client

#: How long past a bound a process or an answer may take (a loaded 2-core machine).
SLACK = 2.0
GRACE = 5.0
DEADLINE = 1.0
CLIENTS = 4


def describe(outcomes: list[Outcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.kind] = counts.get(outcome.kind, 0) + 1
    return dict(sorted(counts.items()))


def in_flight_at(outcomes: list[Outcome], moment: float) -> list[Outcome]:
    return [o for o in outcomes if o.started <= moment < o.ended]


def assert_clean_unavailable(outcome: Outcome) -> None:
    assert outcome.status == 503 and "UNAVAILABLE" in outcome.body, outcome


def warm_up(load: GatewayLoad, answers: int = 40) -> None:
    assert load.wait_for(lambda o: sum(x.status == 200 for x in o) >= answers, timeout=15), (
        load.counts())


def echo_reply(protos, text: str) -> bytes:
    return grpc_frame(protos.Message(message=text).SerializeToString())


def replies_in(data: bytes, protos) -> list[str]:
    """The messages of a gRPC DATA stream."""
    messages, at = [], 0
    while at + 5 <= len(data):
        length = int.from_bytes(data[at + 1:at + 5], "big")
        messages.append(protos.Message.FromString(data[at + 5:at + 5 + length]).message)
        at += 5 + length
    assert at == len(data), f"{len(data) - at} bytes of a partial message at the end"
    return messages


# ---- SIGTERM --------------------------------------------------------------------------------


def test_sigterm_to_the_server_under_gateway_load_loses_nothing(stack_factory):
    """Drain: calls the server has accepted complete; after GOAWAY the gateway refuses cleanly
    (503 UNAVAILABLE) rather than resetting or hanging; the server exits 0 within its grace
    period; and no HTTP request of the load is lost."""
    stack = stack_factory(("--grace-period", str(GRACE)), ("--deadline", str(DEADLINE)))
    with GatewayLoad(stack.address, clients=CLIENTS) as load:
        warm_up(load)
        stack.server.sigterm()
        signalled = time.monotonic()
        code = stack.server.wait(GRACE + SLACK)
        exited_after = time.monotonic() - signalled
        load.wait_for(lambda o: sum(x.started > signalled + exited_after for x in o) >= 20, 5)
    outcomes = load.snapshot()
    before = [o for o in outcomes if o.ended < signalled]
    during = in_flight_at(outcomes, signalled)
    after = [o for o in outcomes if o.started > signalled]
    print(f"\nserver SIGTERM: exit {code} after {exited_after:.3f} s; all {describe(outcomes)}; "
          f"in flight at the signal {describe(during)}; after it {describe(after)}")
    assert code == 0, stack.server.log_text()
    assert exited_after < GRACE, f"exited {exited_after:.1f} s after SIGTERM, past its grace"
    assert all(o.status == 200 for o in before), describe(before)
    lost = [o for o in outcomes if o.status not in (200, 503)]
    assert not lost, f"{len(lost)} lost: {lost[:3]}"
    for outcome in outcomes:
        if outcome.status == 503:
            assert_clean_unavailable(outcome)
            assert outcome.ended > signalled, outcome  # refused only once the drain starts
    assert all(o.status == 503 for o in after if o.started > signalled + exited_after), (
        "answers after the server had exited")
    assert "EchoServer stopped" in stack.server.log_text()


def slow_echo_upstream(protos, delay: float) -> tuple[grpc.Server, str]:
    """A grpcio server whose `EchoService` answers `echo <message>` after ``delay`` seconds."""

    def echo(request, context):
        time.sleep(delay)
        return protos.Message(message="echo " + request.message)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(
        "proto.EchoService", {"EchoService": grpc.unary_unary_rpc_method_handler(
            echo, request_deserializer=protos.Message.FromString,
            response_serializer=protos.Message.SerializeToString)}),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    return server, f"127.0.0.1:{port}"


def test_sigterm_to_the_gateway_completes_in_flight_requests_and_refuses_new_ones(
        stack_factory, protos):
    """The upstream (grpcio) answers after 300 ms, so every load client has a request in flight
    when the gateway gets SIGTERM: each completes 200 (with `Connection: close`); what comes
    after is refused cleanly (connect refused, or 503 + close); exit 0 within the grace."""
    upstream, address = slow_echo_upstream(protos, delay=0.3)
    try:
        gateway = stack_factory.gateway(address, "--deadline", "5", "--grace-period", str(GRACE))
        with GatewayLoad(gateway.address, clients=6) as load:
            warm_up(load, answers=12)
            time.sleep(0.15)  # mid-call, not at a turn of the lock-stepped clients
            gateway.sigterm()
            signalled = time.monotonic()
            code = gateway.wait(GRACE + SLACK)
            exited_after = time.monotonic() - signalled
            load.wait_for(lambda o: sum(x.started > signalled + exited_after for x in o) >= 12,
                          5)
        outcomes = load.snapshot()
    finally:
        upstream.stop(0)
    during = in_flight_at(outcomes, signalled)
    after = [o for o in outcomes if o.started > signalled]
    print(f"\ngateway SIGTERM: exit {code} after {exited_after:.3f} s; in flight at the signal "
          f"{describe(during)}; after it {describe(after)}")
    assert code == 0, gateway.log_text()
    assert exited_after < GRACE, f"exited {exited_after:.1f} s after SIGTERM, past its grace"
    assert len(during) >= 4 and all(o.status == 200 and o.close for o in during), during
    for outcome in after:
        if outcome.kind == "503":
            assert outcome.close, outcome
        elif outcome.kind == "closed idle":  # RFC 9112 section 9.6: idle close at any time
            assert outcome.started <= signalled + exited_after, outcome
        else:
            assert outcome.kind in ("refused", "200"), outcome
    closed_idle = [o for o in outcomes if o.kind == "closed idle"]
    assert len(closed_idle) <= 6, closed_idle  # at most once per connection, at the signal
    assert not [o for o in outcomes if o.kind in ("lost", "wrong body")]
    assert "EchoClient stopped" in gateway.log_text()


def test_large_streaming_echo_in_flight_at_sigterm_arrives_whole(stack_factory, protos):
    """32 x 64 KiB through a bidi call whose client has not read its replies (its window is
    shut) when SIGTERM comes: the drain must deliver every reply byte still queued, then
    grpc-status 0, not reset the stream or close with replies undelivered."""
    server = stack_factory.server("--grace-period", str(GRACE + 5))
    texts = [f"{i:04d}" + "x" * (64 * 1024 - 4) for i in range(32)]
    wire = b"".join(echo_reply(protos, text) for text in texts)
    reply_bytes = sum(len(echo_reply(protos, "echo " + text)) for text in texts)
    with H2Client(server.address, timeout=10, acknowledge_data=False) as client:
        stream = client.request(BIDI, GRPC_HEADERS, end_stream=False)
        sent = 0
        while sent < len(wire):  # as much as the server takes while its replies wait
            window = min(client.conn.local_flow_control_window(stream),
                         client.conn.max_outbound_frame_size, len(wire) - sent)
            if window == 0:
                if not client.pump(lambda: client.conn.local_flow_control_window(stream) > 0,
                                   0.5):
                    break
                continue
            client.send(stream, wire[sent:sent + window])
            sent += window
        undelivered = reply_bytes - len(client.streams[stream].data)
        server.sigterm()
        signalled = time.monotonic()
        assert client.pump(lambda: client.goaway is not None, SLACK), "no GOAWAY"
        client.start_reading()
        client.send_flow_controlled(stream, wire[sent:], timeout=10)
        client.end(stream)
        result = client.wait_stream(stream, timeout=GRACE)
    took = time.monotonic() - signalled
    print(f"\n2 MB bidi at SIGTERM: {sent} of {len(wire)} request bytes sent and about "
          f"{undelivered} reply bytes undelivered at the signal; whole reply after {took:.2f} s")
    assert undelivered > reply_bytes // 2, "the test needs most of the reply undelivered"
    assert result.reset is None and result.ended, result
    assert result.grpc_status == "0", result.trailers
    assert replies_in(bytes(result.data), protos) == ["echo " + text for text in texts]
    assert server.wait(GRACE) == 0
    assert time.monotonic() - signalled < GRACE + 5


# ---- SIGKILL and restart ------------------------------------------------------------------------


def test_server_killed_and_restarted_on_its_port(stack_factory):
    """While no server listens, every request is a 503 UNAVAILABLE within the call deadline;
    once a new server listens on the same port the gateway's backoff (at most 1 s) finds it;
    and the gateway's client metrics count every failed call as Unavailable."""
    stack = stack_factory((), ("--deadline", str(DEADLINE)))
    port = stack.server.port
    with GatewayLoad(stack.address, clients=CLIENTS) as load:
        warm_up(load)
        stack.server.proc.kill()
        stack.server.proc.wait(5)
        killed = time.monotonic()
        time.sleep(1.5)
        restarting = time.monotonic()
        server = stack_factory.server("--port", str(port))
        listening = time.monotonic()
        assert server.port == port
        assert load.wait_for(lambda o: any(x.status == 200 and x.started > listening for x in o),
                             timeout=1 + 2 * SLACK), "no 200 after the restart"
        time.sleep(0.3)
    outcomes = load.snapshot()
    first_200 = min(o.ended for o in outcomes if o.status == 200 and o.started > listening)
    down = [o for o in outcomes if killed < o.started and o.ended < restarting]
    failures = [o for o in outcomes if o.status != 200]
    slowest = max(o.seconds for o in failures)
    print(f"\nSIGKILL: {describe(down)} while down; at the kill "
          f"{describe(in_flight_at(outcomes, killed))}; slowest failure {slowest:.3f} s; "
          f"restart to listening {listening - restarting:.3f} s, to the first 200 "
          f"{first_200 - restarting:.3f} s (after listening {first_200 - listening:.3f} s)")
    assert down, "no request while the server was down"
    for outcome in failures:
        assert_clean_unavailable(outcome)
    assert slowest < DEADLINE + SLACK, f"a failure took {slowest:.2f} s"
    assert first_200 - listening < 1 + SLACK
    assert not [o for o in outcomes if o.kind not in ("200", "503")], describe(outcomes)
    labels = {"grpc_service": "proto.EchoService", "grpc_method": "EchoService",
              "grpc_type": "unary", "grpc_code": "Unavailable"}
    metrics = poll_metrics(stack.address, lambda m: m.value(
        "grpc_client_handled_total", **labels) == len(failures))
    assert metrics.value("grpc_client_handled_total", **labels) == len(failures)
    assert stack.gateway.alive()
