"""Hostile or broken peers must not take the server down."""

from __future__ import annotations

import gzip
import random
import socket
import time

import grpc
import h2.errors
import h2.exceptions
import pytest

from conftest import RPC_TIMEOUT, SANITIZED, UNARY, deser, http_request, ser
from h2client import GRPC_HEADERS, H2Client

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def assert_still_serving(address: str, protos) -> None:
    with grpc.insecure_channel(address) as ch:
        rpc = ch.unary_unary(UNARY, request_serializer=ser,
                             response_deserializer=deser(protos.Message))
        assert rpc(protos.Message(message="alive"), timeout=RPC_TIMEOUT).message == "echo alive"
    assert http_request(address, "GET", "/healthz").status == 200


def send_and_drain(address: str, payload: bytes, read_timeout: float = 2.0) -> bytes:
    """Sends ``payload`` and reads whatever comes back until the server closes or goes quiet."""
    host, port = address.rsplit(":", 1)
    received = b""
    with socket.create_connection((host, int(port)), timeout=read_timeout) as sock:
        sock.sendall(payload)
        deadline = time.monotonic() + read_timeout
        try:
            while time.monotonic() < deadline:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                received += chunk
        except (socket.timeout, ConnectionResetError):
            pass
    return received


def test_garbage_then_close(fresh_server, protos):
    host, port = fresh_server.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=2) as sock:
        sock.sendall(b"GARBAGE\r\n\r\n")
    time.sleep(0.1)
    assert fresh_server.alive()
    assert_still_serving(fresh_server.address, protos)


def test_garbage_gets_400_or_close(fresh_server, protos):
    reply = send_and_drain(fresh_server.address, b"GARBAGE\r\n\r\n")
    assert reply == b"" or reply.startswith(b"HTTP/1.1 400"), reply[:80]
    assert_still_serving(fresh_server.address, protos)


def test_random_bytes_after_preface(fresh_server, protos):
    noise = random.Random(1234).randbytes(100)
    reply = send_and_drain(fresh_server.address, PREFACE + noise)
    assert fresh_server.alive()
    # The server answers with its SETTINGS and then a GOAWAY (frame type 0x7), or just closes.
    assert reply == b"" or reply[3] == 0x04, reply[:16]
    assert_still_serving(fresh_server.address, protos)


@pytest.mark.parametrize("seed", range(5))
def test_random_bytes_after_preface_and_settings(fresh_server, protos, seed):
    """A valid client preface and SETTINGS, then random frames, then close."""
    empty_settings = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
    noise = random.Random(seed).randbytes(100)
    send_and_drain(fresh_server.address, PREFACE + empty_settings + noise, read_timeout=1)
    assert fresh_server.alive()
    assert_still_serving(fresh_server.address, protos)


HEADER_NAMES = [b":path", b":method", b":scheme", b":authority", b"content-type", b"te",
                b"grpc-timeout", b"grpc-encoding", b"grpc-accept-encoding", b"user-agent",
                b"grpc-status", b"grpc-message", b"grpc-status-details-bin", b"x-custom",
                b"x-trace-bin", b"X-Upper", b"bad name", b":unknown", b""]
HEADER_VALUES = [b"", b"POST", b"GET", b"http", b"/proto.EchoService/EchoService",
                 b"/proto.EchoService/Nope", b"/", b"application/grpc", b"application/grpc+proto",
                 b"Application/GRPC; charset=utf-8", b"text/plain", b"trailers", b"1S",
                 b"99999999S", b"-1m", b"gzip", b"identity", b"snappy", b"identity, gzip",
                 b" padded ", b"AAE=", b"\xff\xfe", b"x" * 3000]


def random_header_block(rng: random.Random) -> list[tuple[bytes, bytes]]:
    """A gRPC request's headers with random damage: fields dropped, repeated, replaced, added."""
    block = [(b":method", b"POST"), (b":scheme", b"http"), (b":authority", b"fuzz"),
             (b":path", b"/proto.EchoService/EchoService"),
             (b"content-type", b"application/grpc"), (b"te", b"trailers")]
    for _ in range(rng.randrange(4)):
        action = rng.randrange(4)
        if action == 0 and block:
            block.pop(rng.randrange(len(block)))
        elif action == 1 and block:
            block.insert(rng.randrange(len(block) + 1), rng.choice(block))
        elif action == 2 and block:
            index = rng.randrange(len(block))
            block[index] = (block[index][0], rng.choice(HEADER_VALUES))
        else:
            block.insert(rng.randrange(len(block) + 1),
                         (rng.choice(HEADER_NAMES), rng.choice(HEADER_VALUES)))
    return block


def random_grpc_body(rng: random.Random) -> bytes:
    """A length-prefixed message whose flag, length and payload may or may not agree."""
    payload = rng.choice([b"\x0a\x05hello", b"", rng.randbytes(rng.randrange(40))])
    length = rng.choice([len(payload), len(payload), rng.randrange(1 << 32)])
    return bytes([rng.choice([0, 0, 1, 2])]) + length.to_bytes(4, "big") + payload


@pytest.mark.parametrize("seed", range(4))
def test_random_header_blocks_and_bodies(fresh_server, protos, seed):
    """Valid HTTP/2 framing around damaged requests: every stream is answered or reset (or the
    connection ends with GOAWAY), nothing hangs, and the server keeps serving."""
    rng = random.Random(seed)
    with H2Client(fresh_server.address, validate_headers=False) as client:
        opened = []
        for _ in range(40):
            stream_id = client.raw_request(random_header_block(rng))
            body = random_grpc_body(rng)
            cut = rng.randrange(len(body) + 1)
            for part in (body[:cut], body[cut:]):
                if part and stream_id not in client.conn.streams:
                    break  # Reset by the server already.
                if part:
                    client.send(stream_id, part)
            if stream_id in client.conn.streams:
                client.end(stream_id)
            opened.append(stream_id)
        settled = client.pump(
            lambda: all(client.streams[s].ended for s in opened) or client.goaway is not None,
            timeout=10)
    assert settled, [s for s in opened if not client.streams[s].ended]
    assert fresh_server.alive()
    assert_still_serving(fresh_server.address, protos)


def test_rapid_reset_flood_ends_that_connection_only(fresh_server, protos):
    """HTTP/2 "rapid reset" (CVE-2023-44487): streams opened and cancelled at once, thousands of
    them. The server's nghttp2 limits stream resets per connection and answers with GOAWAY; other
    clients are served throughout."""
    opened = 0
    with H2Client(fresh_server.address) as client:
        try:
            for _ in range(5000):
                stream_id = client.conn.get_next_available_stream_id()
                client.conn.send_headers(stream_id, [
                    (":method", "POST"), (":scheme", "http"), (":authority", "flood"),
                    (":path", "/proto.EchoService/EchoService"), *GRPC_HEADERS])
                client.conn.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
                opened += 1
                if opened % 100 == 0:
                    client.flush()
            client.flush()
        except (BrokenPipeError, ConnectionResetError):
            pass  # The server has closed the connection: the point of the test.
        client.pump(lambda: client.goaway is not None, timeout=5)
    assert client.goaway is not None or client.closed, "the flood was not cut off"
    assert opened < 5000 or client.goaway is not None
    assert fresh_server.alive()
    assert_still_serving(fresh_server.address, protos)
    # One log line says why that connection ended.
    deadline = time.monotonic() + 2
    while "broke the protocol or its limits" not in fresh_server.log_text():
        assert time.monotonic() < deadline, fresh_server.log_text()[-500:]
        time.sleep(0.05)


def test_half_preface_does_not_block_others(fresh_server, protos):
    host, port = fresh_server.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=2) as stuck:
        stuck.sendall(PREFACE[:10])
        assert_still_serving(fresh_server.address, protos)


def test_silent_connection_does_not_block_others(fresh_server, protos):
    host, port = fresh_server.address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=2):
        assert_still_serving(fresh_server.address, protos)


def test_many_connect_close(fresh_server, protos):
    host, port = fresh_server.address.rsplit(":", 1)
    for i in range(200):
        with socket.create_connection((host, int(port)), timeout=2) as sock:
            if i % 2:
                sock.sendall(PREFACE)
    assert_still_serving(fresh_server.address, protos)


def test_out_of_file_descriptors_pauses_accepting(server_factory, protos):
    """Past its descriptor limit the server pauses accepting instead of retrying in a busy loop,
    keeps serving the connections it has, logs the episode once, and accepts again as soon as
    descriptors are free."""
    server = server_factory(max_open_files=64)
    host, port = server.address.rsplit(":", 1)
    with grpc.insecure_channel(server.address) as ch:
        rpc = ch.unary_unary(UNARY, request_serializer=ser,
                             response_deserializer=deser(protos.Message))
        assert rpc(protos.Message(message="before"), timeout=RPC_TIMEOUT).message == "echo before"
        flood = [socket.create_connection((host, int(port)), timeout=2) for _ in range(100)]
        try:
            time.sleep(0.5)  # The server accepts until it runs out of descriptors.
            before = server.cpu_seconds()
            time.sleep(2)
            spent = server.cpu_seconds() - before
            # A busy loop on the failing accept costs a whole core: about 2 s here.
            assert spent < 0.5, f"{spent:.2f} s of CPU in 2 s past the descriptor limit"
            assert rpc(protos.Message(message="during"), timeout=RPC_TIMEOUT).message == (
                "echo during")
            log = server.log_text()
            assert log.count("cannot accept connections") == 1, log
        finally:
            for sock in flood:
                sock.close()
    assert_still_serving(server.address, protos)
    assert "accepting connections again" in server.log_text()


def test_client_vanishes_mid_call(fresh_server, protos):
    """A stream is left half-open and the TCP connection is reset."""
    from conftest import BIDI, grpc_frame

    client = H2Client(fresh_server.address)
    stream = client.request(BIDI, GRPC_HEADERS,
                            body=grpc_frame(protos.Message(message="a").SerializeToString()),
                            end_stream=False)
    client.pump(lambda: len(client.streams[stream].data) > 0)
    client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    client.close()
    time.sleep(0.1)
    assert fresh_server.alive()
    assert_still_serving(fresh_server.address, protos)


def test_truncated_grpc_frame_then_end_stream(fresh_server, protos):
    """The length prefix promises 100 bytes, 3 arrive, then END_STREAM: an error, not a hang."""
    with H2Client(fresh_server.address) as client:
        stream = client.request(UNARY, GRPC_HEADERS, body=b"\x00\x00\x00\x00\x64abc")
        result = client.wait_stream(stream, timeout=3)
    assert result.ended, "no answer to a truncated message"
    assert result.grpc_status not in (None, "0"), result
    assert_still_serving(fresh_server.address, protos)


def test_unknown_compression_flag(fresh_server, protos):
    """A compressed-flag message without grpc-encoding is a protocol error (INTERNAL)."""
    payload = protos.Message(message="x").SerializeToString()
    with H2Client(fresh_server.address) as client:
        stream = client.request(UNARY, GRPC_HEADERS,
                                body=b"\x01" + len(payload).to_bytes(4, "big") + payload)
        result = client.wait_stream(stream, timeout=3)
    assert result.grpc_status == str(grpc.StatusCode.INTERNAL.value[0]), result
    assert_still_serving(fresh_server.address, protos)


def test_unsupported_grpc_encoding_unimplemented(fresh_server, protos):
    """gRPC spec: an unsupported grpc-encoding is answered UNIMPLEMENTED, with the supported
    ones in grpc-accept-encoding."""
    payload = protos.Message(message="x").SerializeToString()
    with H2Client(fresh_server.address) as client:
        stream = client.request(UNARY, GRPC_HEADERS + [("grpc-encoding", "snappy")],
                                body=b"\x01" + len(payload).to_bytes(4, "big") + payload)
        result = client.wait_stream(stream, timeout=3)
    assert result.grpc_status == str(grpc.StatusCode.UNIMPLEMENTED.value[0]), result
    accept = result.headers.get("grpc-accept-encoding", "")
    assert "gzip" in accept, result


def test_gzip_bomb_is_resource_exhausted_without_growing_the_server(fresh_server, protos):
    """64 MiB of zeros gzip to about 64 KiB: the receive limit (4 MiB) applies to the
    decompressed size, so the call ends RESOURCE_EXHAUSTED and the server never holds the
    expanded message."""
    bomb = gzip.compress(b"\x00" * (64 << 20), compresslevel=9)
    assert len(bomb) < 128 << 10
    before = fresh_server.rss_bytes()
    with H2Client(fresh_server.address) as client:
        stream = client.request(UNARY, GRPC_HEADERS + [("grpc-encoding", "gzip")],
                                end_stream=False)
        client.send_flow_controlled(stream, b"\x01" + len(bomb).to_bytes(4, "big") + bomb)
        try:
            client.end(stream)
        except h2.exceptions.StreamClosedError:
            pass  # answered as soon as the whole message was in
        result = client.wait_stream(stream, timeout=5)
    assert result.grpc_status == str(grpc.StatusCode.RESOURCE_EXHAUSTED.value[0]), result
    if not SANITIZED:
        grown = fresh_server.rss_bytes() - before
        assert grown < 16 << 20, f"the server grew by {grown / 1e6:.0f} MB"
    assert_still_serving(fresh_server.address, protos)
