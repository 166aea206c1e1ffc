"""A client that does not read its responses must not make the server buffer without bound."""

from __future__ import annotations

import time

import grpc
import pytest

from conftest import (BIDI, CLIENT_STREAM, RPC_TIMEOUT, SANITIZED, SERVER_STREAM, deser,
                      grpc_frame, ser)
from h2client import GRPC_HEADERS, H2Client

MiB = 1024 * 1024


def assert_rss_growth_below(server, limit: int, seconds: float, baseline: int) -> None:
    """The server's resident memory stays under ``baseline + limit`` for ``seconds`` (not
    checked on an AddressSanitizer build, whose memory says nothing about the server's)."""
    peak = baseline
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        peak = max(peak, server.rss_bytes())
        time.sleep(0.05)
    growth = peak - baseline
    assert SANITIZED or growth < limit, f"the server grew by {growth / MiB:.0f} MiB"


def test_server_streaming_waits_for_a_client_that_stops_reading(fresh_server, protos):
    """200 replies of 256 KiB (50 MiB if queued at once) to a client whose window stays closed:
    the server produces replies only as the client takes them, then delivers every one."""
    message = "x" * (256 * 1024)
    request = protos.StreamingEchoRequest(message=message, count=200).SerializeToString()
    baseline = fresh_server.rss_bytes()
    with H2Client(fresh_server.address, timeout=10, acknowledge_data=False) as client:
        stream = client.request(SERVER_STREAM, GRPC_HEADERS, end_stream=False)
        client.send_flow_controlled(stream, grpc_frame(request))
        client.end(stream)
        client.pump(lambda: False, timeout=1.0)
        assert_rss_growth_below(fresh_server, 20 * MiB, 1.0, baseline)
        assert not client.streams[stream].ended

        client.start_reading()
        result = client.wait_stream(stream, timeout=60)
    assert result.grpc_status == "0", result
    reply = protos.Message(message="echo " + message).SerializeToString()
    assert result.data == grpc_frame(reply) * 200


def test_bidi_replies_a_client_does_not_read_end_the_call(fresh_server, protos):
    """A bidi client that keeps sending but never opens its window for the replies: once the
    connection holds 16 MiB of unread replies the call ends RESOURCE_EXHAUSTED, and the server's
    memory stays bounded."""
    request = grpc_frame(protos.Message(message="y" * MiB).SerializeToString())
    baseline = fresh_server.rss_bytes()
    with H2Client(fresh_server.address, timeout=10, acknowledge_data=False) as client:
        stream = client.request(BIDI, GRPC_HEADERS, end_stream=False)
        for _ in range(24):
            client.send_flow_controlled(stream, request)
        client.end(stream)
        client.pump(lambda: False, timeout=0.5)
        assert_rss_growth_below(fresh_server, 80 * MiB, 0.5, baseline)

        client.start_reading()
        result = client.wait_stream(stream, timeout=30)
    assert result.grpc_status == "8", result
    assert "not reading its responses" in result.trailers.get("grpc-message", ""), result
    reply = grpc_frame(protos.Message(message="echo " + "y" * MiB).SerializeToString())
    delivered = len(result.data) // len(reply)
    assert 12 <= delivered < 24 and result.data == reply * delivered, delivered
    assert fresh_server.alive()


def test_client_streaming_stops_at_the_reply_limit(channel, protos):
    rpc = channel.stream_unary(CLIENT_STREAM, request_serializer=ser,
                               response_deserializer=deser(protos.Message))
    chunks = (protos.Message(message="z" * MiB) for _ in range(5))
    with pytest.raises(grpc.RpcError) as failure:
        rpc(chunks, timeout=RPC_TIMEOUT)
    assert failure.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "reply limit of 4194304 bytes" in failure.value.details()
