"""Independent HTTP/2 peers from Debian's nghttp2-client: `nghttp` and `h2load`."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from conftest import UNARY, grpc_frame, handled, method_labels, poll_metrics, scrape

pytestmark = pytest.mark.external_tool

NGHTTP = shutil.which("nghttp")
H2LOAD = shutil.which("h2load")


@pytest.fixture
def body_file(tmp_file_dir, protos):
    path = tmp_file_dir / "body.bin"
    path.write_bytes(grpc_frame(protos.Message(message="hello").SerializeToString()))
    return path


@pytest.mark.skipif(NGHTTP is None, reason="nghttp not installed (nghttp2-client)")
def test_nghttp_unary_grpc_status_0(server, body_file):
    done = subprocess.run(
        [NGHTTP, "-v", "-H", "content-type: application/grpc", "-H", "te: trailers",
         "-d", str(body_file), f"http://{server}{UNARY}"],
        capture_output=True, timeout=10)
    out = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 0, out + done.stderr.decode()
    assert re.search(r"recv \(stream_id=\d+\) :status: 200", out), out
    assert re.search(r"recv \(stream_id=\d+\) grpc-status: 0\b", out), out
    assert "echo hello" in out


@pytest.mark.skipif(NGHTTP is None, reason="nghttp not installed (nghttp2-client)")
def test_nghttp_unknown_method_grpc_status_12(server, body_file):
    done = subprocess.run(
        [NGHTTP, "-v", "-H", "content-type: application/grpc", "-H", "te: trailers",
         "-d", str(body_file), f"http://{server}/proto.EchoService/Nope"],
        capture_output=True, timeout=10)
    out = done.stdout.decode("utf-8", "replace")
    assert re.search(r"grpc-status: 12\b", out), out


@pytest.mark.skipif(H2LOAD is None, reason="h2load not installed (nghttp2-client)")
def test_h2load_2000_requests(server, body_file):
    labels = method_labels(UNARY, "unary")

    def counts(m):
        return (m.value("grpc_server_started_total", **labels),
                handled(m, UNARY, "unary", "OK"),
                m.value("grpc_server_msg_received_total", **labels),
                m.value("grpc_server_msg_sent_total", **labels))

    before = counts(scrape(server))
    done = subprocess.run(
        [H2LOAD, "-n", "2000", "-c", "4", "-m", "10", "-d", str(body_file),
         "-H", "content-type: application/grpc", "-H", "te: trailers",
         f"http://{server}{UNARY}"],
        capture_output=True, timeout=30)
    out = done.stdout.decode("utf-8", "replace")
    assert done.returncode == 0, out + done.stderr.decode()
    assert re.search(r"requests: 2000 total, 2000 started, 2000 done, 2000 succeeded, "
                     r"0 failed, 0 errored", out), out
    assert "status codes: 2000 2xx" in out, out
    want = tuple(v + 2000 for v in before)
    metrics = poll_metrics(server, lambda m: counts(m) == want)
    assert counts(metrics) == want, "(started, OK, received, sent)"


@pytest.mark.skipif(NGHTTP is None, reason="nghttp not installed (nghttp2-client)")
def test_nghttp_oversized_headers_resource_exhausted(server, body_file):
    # nghttp ignores the server's SETTINGS_MAX_HEADER_LIST_SIZE (16 KiB), so the server must
    # enforce it itself: a clear gRPC status, and the next request on the port still works.
    big = "a" * 30_000
    done = subprocess.run(
        [NGHTTP, "-v", "-H", "content-type: application/grpc", "-H", "te: trailers",
         "-H", f"x-big: {big}", "-d", str(body_file), f"http://{server}{UNARY}"],
        capture_output=True, timeout=10)
    out = done.stdout.decode("utf-8", "replace")
    assert re.search(r"recv \(stream_id=\d+\) grpc-status: 8\b", out), out[-2000:]
    assert "SETTINGS_MAX_HEADER_LIST_SIZE" in out
    again = subprocess.run(
        [NGHTTP, "-v", "-H", "content-type: application/grpc", "-H", "te: trailers",
         "-d", str(body_file), f"http://{server}{UNARY}"],
        capture_output=True, timeout=10)
    assert re.search(r"grpc-status: 0\b", again.stdout.decode("utf-8", "replace"))
