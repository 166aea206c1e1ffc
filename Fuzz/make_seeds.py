"""Writes the seed corpora of the fuzz targets into Fuzz/Corpus/<target>/ (committed).

Seeds are well-formed inputs the fuzzer mutates from: requests each target really receives, with
the framing byte(s) each target reads first (see the targets' doc comments). HTTP/2 bytes come
from the `h2` package, an independent encoder. Run with the interop venv:
`.venv/bin/python Fuzz/make_seeds.py`.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import h2.config
import h2.connection

CORPUS = Path(__file__).resolve().parent / "Corpus"


def grpc_frame(payload: bytes, compressed: bool = False) -> bytes:
    return bytes([1 if compressed else 0]) + len(payload).to_bytes(4, "big") + payload


def proto_string(field: int, text: str) -> bytes:
    data = text.encode()
    return bytes([field << 3 | 2, len(data)]) + data


def h2_request(path: str, body: bytes, extra: list[tuple[str, str]] = (), end: bool = True,
               then=None) -> bytes:
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "POST"), (":scheme", "http"), (":path", path),
                          (":authority", "fuzz"), ("content-type", "application/grpc"),
                          ("te", "trailers"), *extra])
    conn.send_data(1, body, end_stream=end)
    if then:
        then(conn)
    return conn.data_to_send()


def server_connection_seeds() -> dict[str, bytes]:
    hello = grpc_frame(proto_string(1, "hello"))
    seeds = {
        "http1-metrics": b"GET /metrics HTTP/1.1\r\nHost: a\r\nAccept: text/plain\r\n\r\n",
        "http1-openmetrics": b"GET /metrics HTTP/1.1\r\nHost: a\r\n"
                             b"Accept: application/openmetrics-text; version=1.0.0\r\n\r\n",
        "http1-pipelined": b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nHEAD /metrics HTTP/1.1\r\n"
                           b"Host: a\r\n\r\nGET /nothing HTTP/1.0\r\n\r\n",
        # Answered in HTTP/1.0, which the target once took for a broken answer.
        "http1-http10": b"GET  /m/nothing HTTP/1.0\r\n\r\n",
        "http1-post-body": b"POST /metrics HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
        "http1-chunked": b"POST /healthz HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                         b"5\r\nhello\r\n0\r\n\r\n",
        "h2-unary": h2_request("/proto.EchoService/EchoService", hello,
                               [("grpc-timeout", "5S"), ("x-meta", "v")]),
        "h2-unary-gzip": h2_request("/proto.EchoService/EchoService",
                                    grpc_frame(gzip.compress(proto_string(1, "hi"), mtime=0), True),
                                    [("grpc-encoding", "gzip"),
                                     ("grpc-accept-encoding", "gzip,deflate")]),
        "h2-unary-deflate": h2_request("/proto.EchoService/EchoService",
                                       grpc_frame(zlib.compress(proto_string(1, "hi")), True),
                                       [("grpc-encoding", "deflate")]),
        "h2-server-streaming": h2_request("/proto.EchoService/ServerStreamingEcho",
                                          grpc_frame(proto_string(1, "s") + bytes([0x10, 5]))),
        "h2-client-streaming": h2_request("/proto.EchoService/ClientStreamingEcho",
                                          hello + grpc_frame(proto_string(1, "again"))),
        "h2-bidi-open": h2_request("/proto.EchoService/BidirectionalStreamingEcho", hello,
                                   [("grpc-timeout", "100m")], end=False,
                                   then=lambda c: c.reset_stream(1)),
        "h2-health": h2_request("/grpc.health.v1.Health/Check", grpc_frame(b"")),
        "h2-reflection": h2_request("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
                                    grpc_frame(bytes([0x3a, 1]) + b"*")),
        "h2-unknown-method": h2_request("/proto.EchoService/Nope", hello),
        "h2-ping-goaway": h2_request("/proto.EchoService/EchoService", hello,
                                     then=lambda c: (c.ping(b"12345678"),
                                                     c.increment_flow_control_window(1000),
                                                     c.close_connection())),
    }
    # The first byte is the read size minus one: whole reads, and one byte at a time.
    out = {}
    for name, data in seeds.items():
        out[name] = bytes([255]) + data
        out[name + "-bytewise"] = bytes([0]) + data
    return out


def http1_server_seeds() -> dict[str, bytes]:
    requests = {
        "get": b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        "pipelined": b"GET /a HTTP/1.1\r\nHost: a\r\n\r\nHEAD /b HTTP/1.1\r\nHost: a\r\n\r\n"
                     b"GET /c HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
        "http10": b"GET / HTTP/1.0\r\n\r\n",
        "body": b"POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\nhello world",
        "chunked": b"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"3\r\nabc\r\n0\r\nTrailer: t\r\n\r\n",
        "garbage": b"INVALID CONNECTION PREFACE\r\n\r\n",
        "expect": b"PUT /x HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\nok",
    }
    # First byte: read size (low six bits) and clock steps (top two bits).
    out = {}
    for name, data in requests.items():
        out[name] = bytes([0x3F]) + data
        out[name + "-slow"] = bytes([0xC0 | 7]) + data
    return out


def deframer_seeds() -> dict[str, bytes]:
    def seed(encoding: int, limit: int, stream: bytes) -> bytes:
        return bytes([encoding << 4 | limit >> 8, limit & 0xFF]) + stream

    message = b"hello gRPC " * 4
    return {
        "identity": seed(0, 0xFFF, grpc_frame(message) + grpc_frame(b"") + grpc_frame(message)),
        "identity-over-limit": seed(0, 16, grpc_frame(message)),
        "identity-partial": seed(0, 0xFFF, grpc_frame(message)[:-3]),
        "gzip": seed(1, 0xFFF, grpc_frame(gzip.compress(message, mtime=0), True)),
        "gzip-bomb": seed(1, 0x100, grpc_frame(gzip.compress(bytes(4096), mtime=0), True)),
        "deflate": seed(2, 0xFFF, grpc_frame(zlib.compress(message), True) + grpc_frame(message)),
    }


def gateway_route_seeds() -> dict[str, bytes]:
    # Method index (GET, HEAD, POST, PUT, DELETE, OPTIONS), then target, Accept, body by NULs.
    return {
        "get-echo": b"\x00/echo?m=hello+world%21",
        "get-echo-json": b"\x00/echo?x=1&m=%E2%9C%93\x00application/json",
        "get-echo-bad-escape": b"\x00/echo?m=%G1%2&m=second",
        "head-page": b"\x01/",
        "post-echo": b'\x02/echo\x00application/json\x00{"message": "hi \\u00e9"}',
        "post-echo-not-json": b"\x02/echo\x00\x00message=hi",
        "put-echo": b"\x03/echo?m=a",
        "get-metrics": b"\x00/metrics?name[]=x",
        "get-unknown": b"\x00/nothing/here?",
    }


def main() -> None:
    targets = {
        "FuzzServerConnection": server_connection_seeds(),
        "FuzzHTTP1Server": http1_server_seeds(),
        "FuzzGRPCDeframer": deframer_seeds(),
        "FuzzGatewayRoute": gateway_route_seeds(),
    }
    for target, seeds in targets.items():
        folder = CORPUS / target
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.iterdir():
            old.unlink()
        for name, data in seeds.items():
            (folder / name).write_bytes(data)


if __name__ == "__main__":
    main()
