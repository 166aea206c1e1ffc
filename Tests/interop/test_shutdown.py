"""Graceful shutdown on SIGTERM: in-flight calls finish, GOAWAY, no new connections, exit 0."""

from __future__ import annotations

import socket
import time

import grpc
import pytest

from conftest import BIDI, TIME_SCALE, UNARY, RequestQueue, deser, grpc_frame, ser
from h2client import GRPC_HEADERS, H2Client


def open_bidi(channel, protos, timeout=10.0):
    requests = RequestQueue(idle=timeout + 5)  # the deadline, not an idle half-close, ends it
    call = channel.stream_stream(BIDI, request_serializer=ser,
                                 response_deserializer=deser(protos.Message))(
        requests, timeout=timeout)
    return requests, call


def connection_refused(address: str, timeout: float = 2.0) -> bool:
    """True once a new TCP connection is refused (polling up to ``timeout``)."""
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, int(port)), timeout=1):
                pass
        except ConnectionRefusedError:
            return True
        time.sleep(0.05)
    return False


def test_idle_server_exits_promptly_with_0(server_factory):
    srv = server_factory()
    started = time.monotonic()
    srv.sigterm()
    assert srv.wait(5) == 0
    assert time.monotonic() - started < 2.0
    assert "EchoServer stopped" in srv.log_text()


def test_open_bidi_completes_during_drain(server_factory, protos):
    srv = server_factory("--grace-period", "5")
    with grpc.insecure_channel(srv.address) as ch:
        requests, call = open_bidi(ch, protos)
        requests.put(protos.Message(message="before"))
        assert next(call).message == "echo before"

        srv.sigterm()
        term_at = time.monotonic()
        assert connection_refused(srv.address), "new connections still accepted after SIGTERM"
        assert srv.alive(), "server exited with a call in flight"

        requests.put(protos.Message(message="during"))
        assert next(call).message == "echo during"
        requests.close()
        assert list(call) == []
        assert call.code() == grpc.StatusCode.OK

    # Exits as soon as the last call is done, not at the end of the grace period.
    assert srv.wait(5) == 0
    assert time.monotonic() - term_at < 4.0


def test_grace_period_expiry_ends_stuck_call(server_factory, protos):
    """A call that never finishes must not hold the server beyond --grace-period: after 1 s the
    server closes what is left and exits 0 (the call's own 5 s deadline must not be what ends
    it)."""
    import subprocess

    srv = server_factory("--grace-period", "1")
    with grpc.insecure_channel(srv.address) as ch:
        requests, call = open_bidi(ch, protos, timeout=5)
        requests.put(protos.Message(message="x"))
        assert next(call).message == "echo x"
        srv.sigterm()
        term_at = time.monotonic()
        try:
            code = srv.proc.wait(3.0)
        except subprocess.TimeoutExpired:
            code = None
        exited_after = time.monotonic() - term_at
        with pytest.raises(grpc.RpcError) as info:
            next(call)  # never half-closed: only the grace period (or the deadline) ends it
        requests.close()
    assert code is not None, (
        "server still running 3 s after SIGTERM with --grace-period 1 and one stuck call; the "
        f"call ended with {info.value.code()} ({info.value.details()})")
    assert code == 0
    assert 0.8 < exited_after < 3.0
    assert info.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED,
                                 grpc.StatusCode.INTERNAL), info.value


def test_goaway_sent_and_open_stream_finishes(server_factory, protos):
    """Raw HTTP/2: after SIGTERM the server sends GOAWAY(NO_ERROR) whose last-stream-id still
    covers the open stream, which then completes with grpc-status 0."""
    srv = server_factory("--grace-period", "5")
    with H2Client(srv.address) as client:
        stream = client.request(BIDI, GRPC_HEADERS,
                                body=grpc_frame(protos.Message(message="a").SerializeToString()),
                                end_stream=False)
        assert client.pump(lambda: len(client.streams[stream].data) > 0)
        srv.sigterm()
        assert client.pump(lambda: client.goaway is not None, timeout=3), "no GOAWAY"
        assert client.goaway.error_code == 0
        assert client.goaway.last_stream_id >= stream
        client.send(stream, grpc_frame(protos.Message(message="b").SerializeToString()),
                    end_stream=True)
        result = client.wait_stream(stream)
    assert result.grpc_status == "0", result
    assert result.data.count(b"echo ") == 2
    assert srv.wait(5) == 0


def test_idle_connections_do_not_delay_exit(server_factory, protos):
    """An idle HTTP/1.1 keep-alive connection and an idle gRPC (HTTP/2) connection are closed on
    SIGTERM: the server exits promptly, without waiting out the 5 s grace period."""
    import http.client

    grace = 5 * TIME_SCALE
    srv = server_factory("--grace-period", str(grace))
    host, port = srv.address.rsplit(":", 1)
    keep_alive = http.client.HTTPConnection(host, int(port), timeout=5)
    keep_alive.request("GET", "/healthz")
    first = keep_alive.getresponse()
    first.read()
    assert first.status == 200
    with grpc.insecure_channel(srv.address) as ch:
        rpc = ch.unary_unary(UNARY, request_serializer=ser,
                             response_deserializer=deser(protos.Message))
        assert rpc(protos.Message(message="u"), timeout=5).message == "echo u"
        srv.sigterm()
        started = time.monotonic()
        assert srv.wait(grace) == 0
        assert time.monotonic() - started < 2.0 * TIME_SCALE
    keep_alive.close()
