"""Hostile and broken HTTP/1.1 clients on both HTTP/1.1 ports: EchoServer's shared port and
EchoClient's gateway port. Each gets one answer that says what was wrong, with
`Connection: close`, and the connection then ends; a request head or body that takes too long
ends the same way at its deadline; a process accepts a bounded number of connections; and a
well-behaved client keeps being served meanwhile.

Both processes run with deadlines of one second so the suite stays fast; the defaults (10 s for a
head, 30 s for a body) are what the README documents.
"""

from __future__ import annotations

import re
import socket
import time
from dataclasses import dataclass
from typing import Callable, Iterator

import pytest

from conftest import (SANITIZED, EchoClientProcess, EchoServerProcess, _assert_clean_exit,
                      http_request)

LIMIT_FLAGS = ["--request-head-timeout", "1", "--request-body-timeout", "1", "--idle-timeout", "2"]
#: How long past a deadline the answer may take (event-loop timers on a loaded 2-core machine).
SLACK = 2.0


@dataclass
class Port:
    """One HTTP/1.1 port under test and the process serving it."""

    name: str
    process: EchoServerProcess
    max_head_bytes: int

    @property
    def address(self) -> tuple[str, int]:
        return ("127.0.0.1", self.process.port)


def _start(kind: str, backend: EchoServerProcess | None, *extra: str) -> EchoServerProcess:
    if kind == "server":
        return EchoServerProcess([*LIMIT_FLAGS, *extra]).start()
    assert backend is not None
    return EchoClientProcess(["--server", backend.address, *LIMIT_FLAGS, *extra]).start()


@pytest.fixture(scope="module")
def backend() -> Iterator[EchoServerProcess]:
    """The server the gateways forward to."""
    server = EchoServerProcess([]).start()
    yield server
    _assert_clean_exit(server)


@pytest.fixture(scope="module", params=["server", "gateway"])
def port(request: pytest.FixtureRequest, backend: EchoServerProcess) -> Iterator[Port]:
    process = _start(request.param, backend)
    yield Port(request.param, process, 16 * 1024 if request.param == "server" else 80 * 1024)
    _assert_clean_exit(process)


@pytest.fixture
def limited_factory(backend: EchoServerProcess) -> Iterator[Callable[..., EchoServerProcess]]:
    started: list[EchoServerProcess] = []

    def start(kind: str, *extra: str) -> EchoServerProcess:
        process = _start(kind, backend, *extra)
        started.append(process)
        return process

    yield start
    for process in started:
        _assert_clean_exit(process)


def connect(address: tuple[str, int]) -> socket.socket:
    sock = socket.create_connection(address, timeout=10)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_until_closed(sock: socket.socket, timeout: float) -> tuple[bytes, float]:
    """Everything the peer sends until it closes; and the seconds that took. Fails if the
    connection is still open after `timeout`."""
    started = time.monotonic()
    sock.settimeout(0.2)
    data = b""
    while time.monotonic() - started < timeout:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    else:
        pytest.fail(f"connection still open after {timeout} s; received {data[:300]!r}")
    return data, time.monotonic() - started


def assert_answer(data: bytes, status: int, body_part: str) -> None:
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(f"HTTP/1.1 {status} ".encode()), data[:300]
    assert b"\r\nconnection: close" in head.lower(), head
    assert body_part.encode() in body, body


def assert_still_serving(port: Port) -> None:
    host, number = port.address
    assert http_request(f"{host}:{number}", "GET", "/healthz").status == 200


# ---- Answers that end the connection ------------------------------------------------------------


def test_garbage_gets_400_and_the_connection_closes(port: Port) -> None:
    with connect(port.address) as sock:
        sock.sendall(b"INVALID CONNECTION PREFACE\r\n\r\n")
        data, took = read_until_closed(sock, timeout=SLACK)
    assert_answer(data, 400, "malformed HTTP/1.1 request")
    assert_still_serving(port)


def test_http2_preface_to_the_gateway_gets_400_and_closes(port: Port) -> None:
    if port.name == "server":
        pytest.skip("the server's port speaks HTTP/2 (tested by the gRPC suites)")
    with connect(port.address) as sock:
        sock.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        data, _ = read_until_closed(sock, timeout=SLACK)
    assert_answer(data, 400, "malformed HTTP/1.1 request")


def test_head_that_never_ends_gets_408_at_its_deadline(port: Port) -> None:
    with connect(port.address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n")
        data, took = read_until_closed(sock, timeout=1 + SLACK)
    assert_answer(data, 408, "the request head did not arrive within 1 s")
    assert took >= 0.8, took


def test_head_dribbled_a_byte_at_a_time_gets_408_at_its_deadline(port: Port) -> None:
    """The deadline counts from the head's first byte: bytes that keep arriving do not move it
    (an idle timeout alone would)."""
    request = b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Slow: " + b"a" * 100
    with connect(port.address) as sock:
        started = time.monotonic()
        sent = 0
        try:
            while sent < len(request) and time.monotonic() - started < 1 + SLACK:
                sock.sendall(request[sent:sent + 1])
                sent += 1
                time.sleep(0.1)
        except (BrokenPipeError, ConnectionResetError):
            pass
        data, _ = read_until_closed(sock, timeout=1 + SLACK)
        took = time.monotonic() - started
    assert_answer(data, 408, "the request head did not arrive within 1 s")
    assert took < 1 + 2 * SLACK, took


def test_body_that_never_ends_gets_408_at_its_deadline(port: Port) -> None:
    path = "/echo" if port.name == "gateway" else "/healthz"
    with connect(port.address) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\n"
                     f"Content-Length: 100\r\n\r\n{{\"message\"".encode())
        data, took = read_until_closed(sock, timeout=1 + SLACK)
    assert_answer(data, 408, "the request body did not arrive within 1 s")


def test_head_over_the_limit_gets_431(port: Port) -> None:
    with connect(port.address) as sock:
        try:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nX-Big: "
                         + b"a" * (port.max_head_bytes + 1024) + b"\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed while the rest was on its way: the answer is already in
        data, _ = read_until_closed(sock, timeout=SLACK)
    assert_answer(data, 431, f"the request head is over {port.max_head_bytes} bytes")
    assert_still_serving(port)


def test_head_just_under_the_limit_is_served(port: Port) -> None:
    with connect(port.address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\nX-Big: "
                     + b"a" * (port.max_head_bytes - 200) + b"\r\n\r\n")
        data, _ = read_until_closed(sock, timeout=SLACK)
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]


# ---- Keep-alive, pipelining, readers that do not read ----------------------------------------


def test_idle_keep_alive_connection_is_closed(port: Port) -> None:
    with connect(port.address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
        data, took = read_until_closed(sock, timeout=2 + SLACK)
    assert data.startswith(b"HTTP/1.1 200 "), data[:200]
    assert took >= 1.5, f"closed after {took:.1f} s, before the idle timeout"


def test_pipelined_requests_are_answered_in_order(port: Port) -> None:
    paths = ["/healthz", "/nope", "/healthz"]
    batch = b"".join(f"GET {p} HTTP/1.1\r\nHost: a\r\n\r\n".encode() for p in paths)
    batch += b"GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    with connect(port.address) as sock:
        sock.sendall(batch)
        data, _ = read_until_closed(sock, timeout=SLACK)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
    assert statuses == [b"200", b"404", b"200", b"200"], data[:600]


def test_garbage_after_a_pipelined_request_gets_the_answer_then_400(port: Port) -> None:
    with connect(port.address) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nNOT HTTP AT ALL\r\n\r\n")
        data, _ = read_until_closed(sock, timeout=SLACK)
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", data)
    assert statuses == [b"200", b"400"], data[:600]


def test_a_client_that_never_reads_does_not_grow_the_process(port: Port) -> None:
    """Thousands of pipelined /metrics requests, never read: the process stops reading while
    its replies wait (backpressure) instead of holding every reply in memory."""
    before = port.process.rss_bytes()
    sock = connect(port.address)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(0.5)
    request = b"GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
    sent = 0
    try:
        for _ in range(20000):
            sock.send(request)
            sent += 1
    except (socket.timeout, BlockingIOError, BrokenPipeError, ConnectionResetError):
        pass  # its send buffer is full: the process has stopped reading
    try:
        time.sleep(1)
        assert_still_serving(port)
        grown = port.process.rss_bytes() - before
        if not SANITIZED:  # an AddressSanitizer build's memory says nothing about what it holds
            assert grown < 64 << 20, f"{grown / 1e6:.0f} MB more after {sent} unread requests"
    finally:
        sock.close()


# ---- Many connections ------------------------------------------------------------------------


def test_slow_clients_do_not_cost_a_normal_client_its_requests(port: Port) -> None:
    slow = [connect(port.address) for _ in range(100)]
    try:
        for sock in slow:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n")
        host, number = port.address
        statuses = [http_request(f"{host}:{number}", "GET", "/healthz").status for _ in range(50)]
        assert statuses == [200] * 50
    finally:
        for sock in slow:
            sock.close()


@pytest.mark.parametrize("kind", ["server", "gateway"])
def test_connections_past_the_limit_are_closed_and_logged_once(limited_factory, kind: str) -> None:
    process = limited_factory(kind, "--max-connections", "8")
    address = ("127.0.0.1", process.port)
    held = []
    try:
        for _ in range(8):
            sock = connect(address)
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n")
            sock.settimeout(5)
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
            held.append(sock)
        for _ in range(5):
            with connect(address) as extra:
                data, took = read_until_closed(extra, timeout=SLACK)
                assert data == b"" and took < SLACK
        held.pop().close()
        time.sleep(0.3)  # the close reaches the process
        assert http_request(f"127.0.0.1:{process.port}", "GET", "/healthz").status == 200
    finally:
        for sock in held:
            sock.close()
    log = process.log_text()
    assert log.count("connection limit reached") == 1, log
    assert "max_connections=8" in log, log
