"""Large messages and flow control, the default 4 MiB limit, binary metadata encodings,
compressed responses on the wire, HTTP/1.1 pipelining."""

from __future__ import annotations

import gzip
import socket
import threading
import zlib

import grpc
import pytest

from conftest import (
    BIDI, CLIENT_STREAM, RPC_TIMEOUT, SERVER_STREAM, UNARY, RequestQueue, deser, grpc_frame, ser,
)

#: The deadline of the calls that move megabytes.
LARGE_TIMEOUT = 3 * RPC_TIMEOUT
from h2client import GRPC_HEADERS, H2Client

UNLIMITED = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1)]
DEFAULT_LIMIT = 4 * 1024 * 1024


@pytest.fixture
def big_channel(server):
    with grpc.insecure_channel(server, options=UNLIMITED) as ch:
        yield ch


def test_server_stream_1000_large_replies_flow_control(big_channel, protos):
    """~10 MB of replies: far beyond the initial HTTP/2 windows."""
    text = "x" * 10_000
    rpc = big_channel.unary_stream(SERVER_STREAM, request_serializer=ser,
                                   response_deserializer=deser(protos.Message))
    count = 0
    request = protos.StreamingEchoRequest(message=text, count=1000)
    for reply in rpc(request, timeout=LARGE_TIMEOUT):
        assert reply.message == "echo " + text
        count += 1
    assert count == 1000


def test_client_stream_large_total(big_channel, protos):
    chunk = "y" * 200_000
    rpc = big_channel.stream_unary(CLIENT_STREAM, request_serializer=ser,
                                   response_deserializer=deser(protos.Message))
    reply = rpc(iter(protos.Message(message=chunk) for _ in range(15)), timeout=LARGE_TIMEOUT)
    assert reply.message == "echo " + " ".join([chunk] * 15)


def test_bidi_large_messages_interleaved(big_channel, protos):
    requests = RequestQueue(idle=RPC_TIMEOUT)
    call = big_channel.stream_stream(BIDI, request_serializer=ser,
                                     response_deserializer=deser(protos.Message))(
        requests, timeout=LARGE_TIMEOUT)
    for i in range(5):
        text = str(i) * 1_000_000
        requests.put(protos.Message(message=text))
        assert next(call).message == "echo " + text
    requests.close()
    assert list(call) == []


def test_default_limit_exact(big_channel, protos):
    at_limit = protos.Message(message="a" * (DEFAULT_LIMIT - 5))  # tag + 4-byte varint length
    assert at_limit.ByteSize() == DEFAULT_LIMIT
    rpc = big_channel.unary_unary(UNARY, request_serializer=ser,
                                  response_deserializer=deser(protos.Message))
    assert len(rpc(at_limit, timeout=LARGE_TIMEOUT).message) == DEFAULT_LIMIT - 5 + 5
    over = protos.Message(message="a" * (DEFAULT_LIMIT - 4))
    with pytest.raises(grpc.RpcError) as info:
        rpc(over, timeout=LARGE_TIMEOUT)
    assert info.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED


def test_many_concurrent_bidi_streams(server, protos):
    with grpc.insecure_channel(server) as ch:
        rpc = ch.stream_stream(BIDI, request_serializer=ser,
                               response_deserializer=deser(protos.Message))
        results: dict[int, list[str]] = {}
        errors: list[BaseException] = []

        def worker(i: int) -> None:
            try:
                replies = rpc(iter(protos.Message(message=f"{i}-{j}") for j in range(10)),
                              timeout=RPC_TIMEOUT * 2)
                results[i] = [r.message for r in replies]
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(100)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(RPC_TIMEOUT * 2 + 1)
    assert not errors, errors[:3]
    assert results == {i: [f"echo {i}-{j}" for j in range(10)] for i in range(100)}


@pytest.mark.parametrize("value", [b"", b"\x00", b"\x00\x01", b"\x00\x01\x02",
                                   b"\xff\xfe\xfd\xfc", bytes(range(256))],
                         ids=["empty", "1", "2", "3", "4", "256"])
def test_binary_trailing_metadata_roundtrip(channel, protos, value):
    """Every base64 padding case of a -bin header."""
    rpc = channel.unary_unary(UNARY, request_serializer=ser,
                              response_deserializer=deser(protos.Message))
    _, call = rpc.with_call(protos.Message(message="b"), timeout=RPC_TIMEOUT,
                            metadata=[("x-grpc-test-echo-trailing-bin", value)])
    assert ("x-grpc-test-echo-trailing-bin", value) in list(call.trailing_metadata())


@pytest.mark.parametrize("padded", [True, False])
def test_binary_metadata_padded_and_unpadded_base64(server, protos, padded):
    """gRPC senders may pad -bin values or not; the server must accept both and decode the
    same bytes (checked through the echoed trailer)."""
    import base64

    encoded = base64.b64encode(b"\x00\x01").decode()  # "AAE="
    if not padded:
        encoded = encoded.rstrip("=")
    with H2Client(server) as client:
        stream = client.request(
            UNARY, GRPC_HEADERS + [("x-grpc-test-echo-trailing-bin", encoded)],
            body=grpc_frame(protos.Message(message="p").SerializeToString()))
        result = client.wait_stream(stream)
    assert result.grpc_status == "0", result
    echoed = result.trailers.get("x-grpc-test-echo-trailing-bin")
    assert echoed is not None, result
    assert base64.b64decode(echoed + "=" * (-len(echoed) % 4)) == b"\x00\x01"


@pytest.mark.parametrize("encoding, compress", [
    ("gzip", gzip.compress),
    ("deflate", zlib.compress),
])
def test_compressed_request_and_response_on_the_wire(server, protos, encoding, compress):
    """A compressed request (flag 1 + grpc-encoding); a compressed reply, if the server sends
    one, is flagged, announced in grpc-encoding and decodes with the same algorithm."""
    payload = protos.Message(message="c" * 1000).SerializeToString()
    body = compress(payload)
    with H2Client(server) as client:
        stream = client.request(
            UNARY, GRPC_HEADERS + [("grpc-encoding", encoding),
                                   ("grpc-accept-encoding", f"{encoding},identity")],
            body=b"\x01" + len(body).to_bytes(4, "big") + body)
        result = client.wait_stream(stream)
    assert result.grpc_status == "0", result
    flag, length = result.data[0], int.from_bytes(result.data[1:5], "big")
    message = result.data[5:5 + length]
    assert len(result.data) == 5 + length
    if flag == 1:
        assert result.headers.get("grpc-encoding") == encoding, result.headers
        message = gzip.decompress(message) if encoding == "gzip" else zlib.decompress(message)
    else:
        assert flag == 0
    assert protos.Message.FromString(message).message == "echo " + "c" * 1000


def test_http1_pipelining(server):
    host, port = server.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    import re

    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
    assert statuses == [b"200", b"404", b"200"], data
