"""Server keepalive and idleness: a silent client gets a PING and is dropped if it never
answers; an unused connection is closed after the idle timeout."""

from __future__ import annotations

import socket
import struct
import time

import grpc

from conftest import BIDI, RequestQueue, deser, ser

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = struct.pack(">I", 0)[1:] + bytes([0x4, 0x0]) + struct.pack(">I", 0)
PING = 0x6


def frames(data: bytes):
    """(type, flags) of each complete HTTP/2 frame in `data`."""
    while len(data) >= 9:
        length = int.from_bytes(data[:3], "big")
        yield data[3], data[4]
        data = data[9 + length:]


def read_until_closed(sock: socket.socket) -> tuple[bytes, float]:
    """Everything the server sends until it closes, and how long that took."""
    received = b""
    start = time.monotonic()
    while chunk := sock.recv(65536):
        received += chunk
    return received, time.monotonic() - start


def test_silent_client_is_pinged_then_dropped(server_factory):
    server = server_factory("--keepalive-interval", "0.3", "--keepalive-timeout", "0.3")
    host, port = server.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(PREFACE + EMPTY_SETTINGS)  # Then silence: no SETTINGS ACK, no PING ACK.
        received, elapsed = read_until_closed(sock)
    assert (PING, 0) in list(frames(received)), "the server pings a silent client"
    assert 0.4 < elapsed < 3, f"closed after {elapsed:.2f}s, expected interval + timeout"
    # The log is read by another thread: give the line a moment to arrive.
    deadline = time.monotonic() + 2
    while "keepalive PING not answered" not in server.log_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "keepalive PING not answered" in server.log_text()


def open_call_survives_silence(server, protos, seconds: float) -> None:
    """A bidi call stays usable across `seconds` of silence on its connection."""
    with grpc.insecure_channel(server.address) as channel:
        bidi = channel.stream_stream(BIDI, request_serializer=ser,
                                     response_deserializer=deser(protos.Message))
        requests = RequestQueue()
        replies = bidi(requests, timeout=10)
        requests.put(protos.Message(message="a"))
        assert next(replies).message == "echo a"
        time.sleep(seconds)
        requests.put(protos.Message(message="b"))
        assert next(replies).message == "echo b"
        requests.close()
        assert list(replies) == []
        assert replies.code() == grpc.StatusCode.OK


def test_client_that_answers_pings_keeps_its_connection(server_factory, protos):
    # A call stays open through the silence: keepalive matters for connections with RPCs in
    # flight, and grpcio only reads an idle channel's socket every few seconds. Several keepalive
    # rounds pass, each answered by grpcio's PING ACK.
    server = server_factory("--keepalive-interval", "0.2", "--keepalive-timeout", "0.5")
    open_call_survives_silence(server, protos, 1.2)
    assert "keepalive PING not answered" not in server.log_text()


GOAWAY = 0x7


def test_unused_connection_gets_goaway_after_the_idle_timeout(server_factory):
    server = server_factory("--idle-timeout", "0.3")
    host, port = server.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(PREFACE + EMPTY_SETTINGS)  # Then nothing: no RPC ever starts.
        received, elapsed = read_until_closed(sock)
    assert GOAWAY in [frame_type for frame_type, _ in frames(received)]
    assert 0.25 < elapsed < 3, f"closed after {elapsed:.2f}s, expected about the idle timeout"


def test_connection_with_an_open_call_is_not_idle(server_factory, protos):
    # Silent for several idle timeouts, but a call is open.
    open_call_survives_silence(server_factory("--idle-timeout", "0.3"), protos, 1.0)


def test_unused_http1_keepalive_connection_is_closed_after_the_idle_timeout(server_factory):
    server = server_factory("--idle-timeout", "0.3")
    host, port = server.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        received, elapsed = read_until_closed(sock)
    assert received.startswith(b"HTTP/1.1 200")
    assert 0.25 < elapsed < 3, f"closed after {elapsed:.2f}s, expected about the idle timeout"
