"""HTTP/1.1 and non-gRPC HTTP/2 on the single gRPC port, and the `healthcheck` subcommand."""

from __future__ import annotations

import http.client
import socket
import subprocess

import pytest

from conftest import UNARY, grpc_frame, http_request, server_binary
from h2client import GRPC_HEADERS, H2Client


def test_healthz_ok(server):
    result = http_request(server, "GET", "/healthz")
    assert result.status == 200
    assert result.body.strip() == "ok"
    assert result.headers["content-type"].startswith("text/plain")


def test_unknown_path_404_names_served_paths(server):
    result = http_request(server, "GET", "/nope")
    assert result.status == 404
    assert "/nope" in result.body
    assert "/metrics" in result.body and "/healthz" in result.body


def test_post_metrics_405(server):
    result = http_request(server, "POST", "/metrics", body=b"x")
    assert result.status == 405
    assert "GET" in result.headers.get("allow", "")


def test_keep_alive_several_requests_one_connection(server):
    host, port = server.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=5)
    try:
        for path, status in [("/healthz", 200), ("/metrics", 200), ("/nope", 404),
                             ("/healthz", 200)]:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status == status, path
    finally:
        conn.close()


def test_http10_request(server):
    host, port = server.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"GET /healthz HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            data += chunk
    assert data.startswith(b"HTTP/1."), data[:40]
    assert b" 200 " in data.split(b"\r\n", 1)[0]
    assert data.endswith(b"ok\n") or data.endswith(b"ok"), data


@pytest.mark.parametrize("content_type", ["text/html", "application/json"])
def test_http2_non_grpc_content_type_415(server, content_type):
    with H2Client(server) as client:
        stream = client.request(UNARY, [("content-type", content_type), ("te", "trailers")],
                                body=b"<html></html>")
        result = client.wait_stream(stream)
    assert result.status == 415, result


def test_http2_missing_content_type_415(server):
    with H2Client(server) as client:
        stream = client.request(UNARY, [("te", "trailers")], body=grpc_frame(b""))
        result = client.wait_stream(stream)
    assert result.status == 415, result


@pytest.mark.parametrize("content_type", ["application/grpc", "application/grpc+proto"])
def test_http2_grpc_content_types_accepted(server, protos, content_type):
    body = grpc_frame(protos.Message(message="h2").SerializeToString())
    with H2Client(server) as client:
        stream = client.request(UNARY, [("content-type", content_type), ("te", "trailers")],
                                body=body)
        result = client.wait_stream(stream)
    assert result.status == 200
    assert result.headers["content-type"].startswith("application/grpc")
    assert result.grpc_status == "0", result
    assert result.data[:1] == b"\x00"
    length = int.from_bytes(result.data[1:5], "big")
    assert protos.Message.FromString(result.data[5:5 + length]).message == "echo h2"


def test_http2_get_is_not_grpc(server):
    """gRPC requires POST: a GET on a method path is refused with HTTP 405."""
    with H2Client(server) as client:
        stream = client.request(UNARY, GRPC_HEADERS, method="GET")
        result = client.wait_stream(stream)
    assert result.status == 405, result
    assert result.grpc_status not in (None, "0"), result


def test_http2_many_streams_one_connection(server, protos):
    body = grpc_frame(protos.Message(message="m").SerializeToString())
    with H2Client(server) as client:
        ids = [client.request(UNARY, GRPC_HEADERS, body=body) for _ in range(50)]
        client.pump(lambda: all(client.streams[i].ended for i in ids))
        assert [client.streams[i].grpc_status for i in ids] == ["0"] * 50


def test_healthcheck_subcommand(server):
    port = server.rsplit(":", 1)[1]
    done = subprocess.run([str(server_binary()), "healthcheck", "--port", port],
                          capture_output=True, timeout=10)
    assert done.returncode == 0, done


def test_healthcheck_subcommand_fails_without_server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    done = subprocess.run([str(server_binary()), "healthcheck", "--port", str(port)],
                          capture_output=True, timeout=10)
    assert done.returncode != 0


def test_unknown_method_trailers_only_percent_encoded(server, protos):
    """UNIMPLEMENTED comes as a Trailers-Only response (one HEADERS frame with END_STREAM), and
    a non-ASCII grpc-message is percent-encoded (gRPC spec) so that it stays a valid header."""
    with H2Client(server) as client:
        stream = client.request("/proto.EchoService/Nöpe", GRPC_HEADERS,
                                body=grpc_frame(protos.Message(message="x").SerializeToString()))
        result = client.wait_stream(stream)
    assert result.status == 200
    assert result.headers.get("grpc-status") == "12", result
    assert result.trailers == {} and result.data == b"", result
    message = result.headers.get("grpc-message", "")
    assert message.isascii(), message
    from urllib.parse import unquote

    assert "/proto.EchoService/Nöpe" in unquote(message), message
