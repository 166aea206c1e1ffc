"""Hostile peers on both sides of the gateway (EchoClient).

Clients on its HTTP port: requests over its limits (query, message, body by Content-Length and
chunked), undecodable input (percent-encoding, UTF-8, JSON), unknown paths and wrong methods,
pipelining, clients that never read, hundreds of slow clients and the connection limit. Each gets
a defined status with a body that says what was wrong, the connection ends when the answer says
`Connection: close`, and a well-behaved client is answered all along.

Servers it forwards to (tiny fakes on raw sockets and `h2`, pointed at with `--server`): one
that never speaks, one that never answers the call, one that speaks garbage, and HTTP/2 servers
whose replies are not gRPC, end inside a message, are over the gateway's receive limit or are
flagged compressed with `grpc-encoding: identity`. Each ends in a defined 5xx within the call
deadline, with a body that says what the server did wrong.

test_http1_limits.py already covers slow and garbage heads, the head size limit and idle
keep-alive connections; this file does not repeat them.
"""

from __future__ import annotations

import dataclasses
import re
import select
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Iterator

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import pytest

from conftest import EchoClientProcess, EchoServerProcess, _assert_clean_exit, grpc_frame
from gateway_load import GatewayLoad, holds_socket, peer_socket_inode

#: The gateway's call deadline in this file (`--deadline`): short, so deadline cases are quick.
DEADLINE = 1.0
#: How long past a deadline an answer may take (timers on a loaded 2-core machine).
SLACK = 2.0
BODY_TIMEOUT = 8
GATEWAY_FLAGS = ["--deadline", str(DEADLINE), "--request-head-timeout", "5",
                 "--request-body-timeout", str(BODY_TIMEOUT), "--idle-timeout", "10"]
MAX_MESSAGE_BYTES = 16 * 1024  # the gateway's default --max-message-bytes
MAX_URI_BYTES = 64 * 1024  # its documented request-target limit (414 above)
RECEIVE_LIMIT = 4 * 1024 * 1024  # its documented limit on a reply message


# ---- HTTP/1.1 on raw sockets ------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str

    @property
    def closes(self) -> bool:
        return self.headers.get("connection", "").lower() == "close"


class RawHTTP:
    """One TCP connection to the gateway: send any bytes, read answers one by one (the gateway
    always frames bodies with Content-Length), tell whether it has closed."""

    def __init__(self, address: str, timeout: float = 10.0, receive_buffer: int | None = None):
        host, port = address.rsplit(":", 1)
        self.sock = socket.socket()
        if receive_buffer is not None:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.settimeout(timeout)
        self.sock.connect((host, int(port)))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.eof = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or self.eof:
            return False
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 16)
        except socket.timeout:
            return False
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            self.eof = True
            return False
        self.buffer += chunk
        return True

    def read_answer(self, timeout: float = 10.0) -> Answer:
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill(deadline):
                pytest.fail(f"no whole answer head within {timeout} s "
                            f"(closed: {self.eof}); received {self.buffer[:300]!r}")
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            if not self._fill(deadline):
                pytest.fail(f"answer body cut short: {self.buffer[:300]!r}")
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Answer(status, headers, body.decode("utf-8", "replace"))

    def closed_within(self, seconds: float) -> bool:
        """True once the peer has closed (EOF or reset), reading and dropping what arrives."""
        deadline = time.monotonic() + seconds
        while not self.eof:
            if not self._fill(deadline) and not self.eof:
                return False
        return True

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "RawHTTP":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def accepted_socket_inode(gateway: EchoClientProcess, conn: RawHTTP) -> int:
    """The inode of the gateway's end of ``conn``, once the gateway has accepted it (a socket
    still in the accept queue has none)."""
    deadline = time.monotonic() + SLACK
    while True:
        inode = peer_socket_inode(conn.sock)
        if inode is not None and holds_socket(gateway, inode):
            return inode
        assert time.monotonic() < deadline, "the gateway did not accept the connection"
        time.sleep(0.02)


def request_bytes(method: str, target: str | bytes, headers: dict[str, str] | None = None,
                  body: bytes = b"") -> bytes:
    target = target.encode() if isinstance(target, str) else target
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: gateway"]
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}".encode())
    if body and not any(n.lower() in ("content-length", "transfer-encoding")
                        for n in (headers or {})):
        lines.append(f"Content-Length: {len(body)}".encode())
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


def ask(address: str, method: str, target: str | bytes, headers: dict[str, str] | None = None,
        body: bytes = b"", timeout: float = 10.0) -> Answer:
    """One request on a new connection; if the answer says `Connection: close`, the connection
    must then end (within SLACK)."""
    with RawHTTP(address, timeout) as conn:
        conn.send(request_bytes(method, target, headers, body))
        answer = conn.read_answer(timeout)
        if answer.closes:
            assert conn.closed_within(SLACK), "the answer said close; the connection stayed open"
        return answer


def assert_keeps_serving(conn: RawHTTP) -> None:
    """The same keep-alive connection answers a normal request next."""
    conn.send(request_bytes("GET", "/echo?m=next"))
    answer = conn.read_answer()
    assert (answer.status, answer.body) == (200, "Response: echo next"), answer


class WellBehavedClient:
    """A keep-alive client sending `/echo` (or ``path``) every 50 ms while a test misbehaves; on
    exit, every request it sent must have been answered 200 with the right body."""

    def __init__(self, address: str, path: Callable[[int, int], str] | None = None):
        kwargs = {"path": path} if path else {}
        self.load = GatewayLoad(address, clients=1, pause=0.05, timeout=DEADLINE + 10, **kwargs)

    def __enter__(self) -> "WellBehavedClient":
        self.load.start()
        return self

    def __exit__(self, exc_type, *exc) -> None:
        if exc_type is None:  # at least one answer, however quick the test was
            self.load.wait_for(lambda outcomes: len(outcomes) >= 1, timeout=DEADLINE + 10)
        outcomes = self.load.stop()
        if exc_type is not None:
            return
        bad = [o for o in outcomes if o.kind != "200"]
        assert outcomes and not bad, (
            f"the well-behaved client got {self.load.counts(outcomes)}: {bad[:3]}")


def healthz_path(worker: int, number: int) -> str:
    return "/healthz"


# ---- Processes ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def backend() -> Iterator[EchoServerProcess]:
    server = EchoServerProcess([]).start()
    yield server
    _assert_clean_exit(server)


@pytest.fixture(scope="module")
def gateway(backend: EchoServerProcess) -> Iterator[EchoClientProcess]:
    process = EchoClientProcess(["--server", backend.address, *GATEWAY_FLAGS]).start()
    yield process
    _assert_clean_exit(process)


@pytest.fixture
def gateway_factory() -> Iterator[Callable[..., EchoClientProcess]]:
    """``gateway_factory(server_address, *flags)``: a gateway of the test's own."""
    started: list[EchoClientProcess] = []

    def start(server_address: str, *flags: str) -> EchoClientProcess:
        process = EchoClientProcess(["--server", server_address, *GATEWAY_FLAGS, *flags]).start()
        started.append(process)
        return process

    yield start
    for process in started:
        _assert_clean_exit(process)


# ---- Fake upstream servers ----------------------------------------------------------------------


class FakeUpstream:
    """A TCP server on 127.0.0.1:0 that plays a broken gRPC server: ``serve(sock, stopping)``
    runs on a thread for each connection it accepts; ``accepted`` counts them."""

    def __init__(self, serve: Callable[[socket.socket, threading.Event], None]):
        self.serve = serve
        self.listener = socket.socket()
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.listener.settimeout(0.1)
        self.accepted: list[float] = []
        self.stopping = threading.Event()
        self.connections: list[socket.socket] = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.listener.getsockname()[1]}"

    def accepted_between(self, start: float, end: float) -> int:
        return sum(1 for at in self.accepted if start <= at < end)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                sock, _ = self.listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            self.accepted.append(time.monotonic())
            self.connections.append(sock)
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(5)
        try:
            self.serve(sock, self.stopping)
        except OSError:
            pass
        finally:
            sock.close()

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()
        self.thread.join(2)
        for sock in self.connections:
            try:
                sock.close()
            except OSError:
                pass

    def __enter__(self) -> "FakeUpstream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def readable(sock: socket.socket, timeout: float = 0.1) -> bool:
    return bool(select.select([sock], [], [], timeout)[0])


def drain_until_closed(sock: socket.socket, stopping: threading.Event) -> None:
    """Reads and ignores whatever arrives until the peer closes (or the test ends)."""
    while not stopping.is_set():
        if readable(sock):
            try:
                if not sock.recv(1 << 16):
                    return
            except ConnectionResetError:
                return


def silent_server(sock: socket.socket, stopping: threading.Event) -> None:
    """Accepts, reads, never sends a byte (no SETTINGS)."""
    drain_until_closed(sock, stopping)


def garbage_server(sock: socket.socket, stopping: threading.Event) -> None:
    """Answers the HTTP/2 preface with bytes that are not HTTP/2, then waits for the close."""
    sock.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
                 + b"\xde\xad\xbe\xef" * 64)
    drain_until_closed(sock, stopping)


@dataclass
class Reply:
    """What the fake HTTP/2 server sends on a stream: headers, DATA (flow-controlled), then
    trailers (None: END_STREAM on the last DATA)."""

    headers: list[tuple[str, str]]
    data: bytes = b""
    trailers: list[tuple[str, str]] | None = None
    sent: int = field(default=0, repr=False)


GRPC_REPLY_HEADERS = [(":status", "200"), ("content-type", "application/grpc")]
OK_TRAILERS = [("grpc-status", "0")]


def h2_upstream(protos, bad_reply: Callable[[], Reply | None]) -> Callable:
    """An HTTP/2 (h2) gRPC echo server: a request whose message is ``bad`` gets ``bad_reply()``
    (None: no answer at all); any other message a correct echo, on the same connection."""

    def answer(message: str) -> Reply | None:
        if message == "bad":
            reply = bad_reply()
            return None if reply is None else dataclasses.replace(reply, sent=0)
        payload = protos.Message(message="echo " + message).SerializeToString()
        return Reply(GRPC_REPLY_HEADERS, grpc_frame(payload), OK_TRAILERS)

    def send_pending(conn: h2.connection.H2Connection, pending: dict[int, Reply]) -> None:
        for stream_id, reply in list(pending.items()):
            try:
                while reply.sent < len(reply.data):
                    window = min(conn.local_flow_control_window(stream_id),
                                 conn.max_outbound_frame_size)
                    if window <= 0:
                        break
                    chunk = reply.data[reply.sent:reply.sent + window]
                    reply.sent += len(chunk)
                    conn.send_data(stream_id, chunk, end_stream=(
                        reply.trailers is None and reply.sent == len(reply.data)))
                if reply.sent >= len(reply.data):
                    del pending[stream_id]
                    if reply.trailers is not None:
                        conn.send_headers(stream_id, reply.trailers, end_stream=True)
                    elif not reply.data:
                        conn.end_stream(stream_id)
            except (h2.exceptions.StreamClosedError, h2.exceptions.ProtocolError):
                pending.pop(stream_id, None)

    def serve(sock: socket.socket, stopping: threading.Event) -> None:
        conn = h2.connection.H2Connection(h2.config.H2Configuration(
            client_side=False, header_encoding="utf-8"))
        conn.initiate_connection()
        bodies: dict[int, bytearray] = {}
        pending: dict[int, Reply] = {}
        while not stopping.is_set():
            send_pending(conn, pending)
            outgoing = conn.data_to_send()
            if outgoing:
                sock.sendall(outgoing)
            if not readable(sock):
                continue
            try:
                data = sock.recv(1 << 16)
            except ConnectionResetError:
                return
            if not data:
                return
            try:
                events = conn.receive_data(data)
            except h2.exceptions.ProtocolError:
                return
            for event in events:
                if isinstance(event, h2.events.RequestReceived):
                    bodies[event.stream_id] = bytearray()
                elif isinstance(event, h2.events.DataReceived):
                    bodies.setdefault(event.stream_id, bytearray()).extend(event.data)
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    body = bytes(bodies.pop(event.stream_id, b""))
                    message = protos.Message.FromString(body[5:]).message if body else ""
                    reply = answer(message)
                    if reply is not None:
                        conn.send_headers(event.stream_id, reply.headers)
                        pending[event.stream_id] = reply
                elif isinstance(event, h2.events.StreamReset):
                    pending.pop(event.stream_id, None)

    return serve


def good_echo_path(worker: int, number: int) -> str:
    return f"/echo?m=good{number}"


def timed_get(address: str, target: str, timeout: float = DEADLINE + 10) -> tuple[Answer, float]:
    started = time.monotonic()
    answer = ask(address, "GET", target, timeout=timeout)
    return answer, time.monotonic() - started


def assert_bad_reply_answered(gateway: EchoClientProcess, status: int, says: str) -> None:
    """`/echo?m=bad` gets ``status`` with a body matching ``says``, well within the deadline,
    while a client echoing other messages through the same fake server is answered."""
    with WellBehavedClient(gateway.address, path=good_echo_path):
        answer, took = timed_get(gateway.address, "/echo?m=bad")
        assert answer.status == status, answer
        assert re.search(says, answer.body, re.IGNORECASE), answer.body
        assert took < DEADLINE + SLACK, f"answered after {took:.1f} s"
        answer = ask(gateway.address, "GET", "/echo?m=after")
        assert (answer.status, answer.body) == (200, "Response: echo after"), answer
    assert gateway.alive()


# ---- Requests over the limits -------------------------------------------------------------------


def test_query_of_a_megabyte_gets_414_and_the_connection_closes(gateway):
    """RFC 9112 section 3: a request-target longer than the server will parse MUST get 414; the
    rest of a megabyte is not worth reading, so the connection then closes."""
    with WellBehavedClient(gateway.address):
        with RawHTTP(gateway.address) as conn:
            try:
                conn.send(request_bytes("GET", "/echo?m=" + "a" * (1 << 20)))
            except (BrokenPipeError, ConnectionResetError):
                pass  # the answer is already on its way
            answer = conn.read_answer(SLACK)
            assert answer.status == 414, answer
            assert re.search(r"request target|URI", answer.body, re.IGNORECASE), answer.body
            assert answer.closes and conn.closed_within(SLACK)
    assert gateway.alive()


def test_query_over_the_target_limit_gets_414_and_the_connection_serves_on(gateway):
    """A target over 64 KiB but inside the head limit is read whole: 414 with the limit and the
    way out (POST), and the keep-alive connection is still usable."""
    target = "/echo?m=" + "a" * (MAX_URI_BYTES + 100)
    with WellBehavedClient(gateway.address), RawHTTP(gateway.address) as conn:
        conn.send(request_bytes("GET", target))
        answer = conn.read_answer()
        assert answer.status == 414, answer
        assert f"the limit is {MAX_URI_BYTES}" in answer.body and "POST" in answer.body, answer
        assert not answer.closes
        assert_keeps_serving(conn)


@pytest.mark.parametrize("how", ["query", "json", "two-byte characters"])
def test_message_over_max_message_bytes_gets_413(gateway, how):
    """The limit is on the message's UTF-8 bytes, whichever way it comes; the request was read
    whole, so the connection serves on."""
    if how == "query":
        wire = request_bytes("GET", "/echo?m=" + "a" * (MAX_MESSAGE_BYTES + 1))
        size = MAX_MESSAGE_BYTES + 1
    elif how == "json":
        body = b'{"message": "' + b"a" * (MAX_MESSAGE_BYTES + 1) + b'"}'
        wire = request_bytes("POST", "/echo", {"Content-Type": "application/json"}, body)
        size = MAX_MESSAGE_BYTES + 1
    else:
        count = MAX_MESSAGE_BYTES // 2 + 1  # under the limit in characters, over it in bytes
        wire = request_bytes("GET", "/echo?m=" + "%C3%A9" * count)
        size = 2 * count
    with WellBehavedClient(gateway.address), RawHTTP(gateway.address) as conn:
        conn.send(wire)
        answer = conn.read_answer()
        assert answer.status == 413, answer
        assert f"the message is {size} bytes, the limit is {MAX_MESSAGE_BYTES}" in answer.body
        assert not answer.closes
        assert_keeps_serving(conn)


def test_message_exactly_at_max_message_bytes_is_echoed(gateway):
    """The limit is inclusive: the 413s above are for one byte more, not an off-by-one."""
    answer = ask(gateway.address, "GET", "/echo?m=" + "b" * MAX_MESSAGE_BYTES)
    assert (answer.status, answer.body) == (200, "Response: echo " + "b" * MAX_MESSAGE_BYTES)


def test_content_length_far_over_the_limit_gets_413_at_once(gateway):
    """No body the gateway could forward is that long: 413 and close as soon as the head is in,
    not after waiting BODY_TIMEOUT s for 100 MB that nobody will read."""
    with WellBehavedClient(gateway.address), RawHTTP(gateway.address) as conn:
        conn.send(request_bytes("POST", "/echo", {"Content-Type": "application/json",
                                                  "Content-Length": str(100 << 20)}))
        started = time.monotonic()
        answer = conn.read_answer(BODY_TIMEOUT / 2)
        took = time.monotonic() - started
        assert answer.status == 413, answer
        assert re.search(r"body.*(over|limit|large)", answer.body, re.IGNORECASE), answer.body
        assert answer.closes and conn.closed_within(SLACK)
        assert took < BODY_TIMEOUT / 2
    assert gateway.alive()


def test_chunked_body_growing_past_the_limit_gets_413(gateway):
    """Chunks with no end: the gateway refuses once their bytes pass what any forwardable body
    needs (a JSON-escaped longest message), not at the body deadline."""
    with WellBehavedClient(gateway.address), RawHTTP(gateway.address) as conn:
        conn.send(request_bytes("POST", "/echo", {"Content-Type": "application/json",
                                                  "Transfer-Encoding": "chunked"}))
        chunk = b"1000\r\n" + b"a" * 0x1000 + b"\r\n"
        try:
            for _ in range(64):  # 256 KiB, over 6 x 16 KiB + 1 KiB
                if readable(conn.sock, 0):
                    break  # answered: stop sending, as a client would
                conn.send(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused while chunks were on their way
        answer = conn.read_answer(BODY_TIMEOUT / 2)
        assert answer.status == 413, answer
        assert re.search(r"body.*(over|limit|large)", answer.body, re.IGNORECASE), answer.body
        assert answer.closes and conn.closed_within(SLACK)
    assert gateway.alive()


# ---- Input that cannot be decoded ---------------------------------------------------------------


@pytest.mark.parametrize("query", ["m=%zz", "m=%", "m=ab%4"])
def test_invalid_percent_encoding_gets_400(gateway, query):
    """`%` must start a two-hex-digit escape; a gateway that forwards it as typed sends the
    server a message the client did not mean."""
    answer = ask(gateway.address, "GET", "/echo?" + query)
    assert answer.status == 400, answer
    assert re.search(r"percent|escape|encod", answer.body, re.IGNORECASE), answer.body


@pytest.mark.parametrize("query", ["m=%e9", "m=a%e9b", "m=%ff%fe", "m=%C3"])
def test_percent_encoded_invalid_utf8_gets_400(gateway, query):
    """A message is a string: bytes that are not UTF-8 are an error to report, not to repair
    into U+FFFD behind the client's back."""
    answer = ask(gateway.address, "GET", "/echo?" + query)
    assert answer.status == 400, answer
    assert re.search(r"UTF-?8", answer.body, re.IGNORECASE), answer.body


def test_raw_non_ascii_bytes_in_the_target_get_400_and_close(gateway):
    """Bytes over 0x7f are not allowed in a request-target at all (RFC 3986): 400, close."""
    with WellBehavedClient(gateway.address):
        answer = ask(gateway.address, "GET", b"/echo?m=\xff\xfe\xe9")
        assert answer.status == 400 and answer.closes, answer
        assert "malformed HTTP/1.1 request" in answer.body and "URL" in answer.body, answer


@pytest.mark.parametrize("body", [b"not json", b'{"message": 5}', b'{"message": null}', b"[]",
                                  b'{"text": "hi"}', b'{"message": "unterminated'],
                         ids=["not-json", "number", "null", "array", "no-message", "truncated"])
def test_post_body_that_is_not_the_json_asked_for_gets_400(gateway, body):
    """The answer shows the body expected; the request was read whole, so the connection serves
    on."""
    with RawHTTP(gateway.address) as conn:
        conn.send(request_bytes("POST", "/echo", {"Content-Type": "application/json"}, body))
        answer = conn.read_answer()
        assert answer.status == 400, answer
        assert 'POST /echo needs a JSON body like {"message": "hello"}' in answer.body, answer
        assert not answer.closes
        assert_keeps_serving(conn)


@pytest.mark.parametrize("path", ["/nope", "/echo/", "/ECHO", "/metrics/extra", "//echo"])
def test_unknown_paths_get_404_naming_the_served_ones(gateway, path):
    """Paths match exactly (no trailing slash, case or double-slash folding) and the answer
    lists what is served."""
    answer = ask(gateway.address, "GET", path)
    assert answer.status == 404, answer
    assert f"not found: {path}" in answer.body, answer
    assert "/echo, /metrics, /healthz, /readyz, /stats" in answer.body, answer


WRONG_METHODS = [("PUT", "/echo", "GET or POST"), ("DELETE", "/metrics", "GET"),
                 ("POST", "/healthz", "GET"), ("PATCH", "/", "GET")]


@pytest.mark.parametrize("method, path, allowed", WRONG_METHODS)
def test_wrong_methods_get_405_naming_the_allowed_ones(gateway, method, path, allowed):
    """The body says what to use, and so does the Allow header, which RFC 9110 section 15.5.6
    makes a MUST for 405."""
    answer = ask(gateway.address, method, path, body=b"{}" if method != "DELETE" else b"")
    assert answer.status == 405, answer
    assert f"{method} is not allowed on {path}; use {allowed}" in answer.body, answer
    assert "allow" in answer.headers, answer.headers
    methods = {m.strip() for m in answer.headers["allow"].split(",")}
    assert {"GET", "HEAD"} <= methods and ("POST" in methods) == ("POST" in allowed), methods
    assert method not in methods


# ---- Pipelining, readers that do not read, many clients -----------------------------------------


def test_ten_pipelined_requests_are_answered_in_order(gateway):
    """Ten requests in one send, echoes (answered later, through gRPC) between answers the
    gateway has at once: none overtakes another."""
    targets = ["/echo?m=p0", "/healthz", "/echo?m=p2", "/nope", "/echo?m=p4", "/echo?m=p5",
               "/stats", "/echo?m=p7", "/healthz", "/echo?m=p9"]
    wire = b"".join(request_bytes("GET", t) for t in targets[:-1])
    wire += request_bytes("GET", targets[-1], {"Connection": "close"})
    with RawHTTP(gateway.address) as conn:
        conn.send(wire)
        answers = [conn.read_answer() for _ in targets]
        assert conn.closed_within(SLACK), "still open after the request that said close"
    assert [a.status for a in answers] == [200, 200, 200, 404, 200, 200, 200, 200, 200, 200]
    for target, answer in zip(targets, answers):
        if target.startswith("/echo"):
            assert answer.body == "Response: echo " + target.split("=")[1], (target, answer)
    assert answers[1].body == "ok\n" and answers[-1].closes


def test_client_that_never_reads_its_reply_is_closed_at_the_idle_timeout(backend,
                                                                          gateway_factory):
    """One request, reply never read: the reply fits the socket buffers, so the connection is
    merely idle and ends at --idle-timeout; everyone else is served meanwhile."""
    gateway = gateway_factory(backend.address, "--idle-timeout", "1")
    with WellBehavedClient(gateway.address), RawHTTP(gateway.address) as conn:
        inode = accepted_socket_inode(gateway, conn)
        conn.send(request_bytes("GET", "/echo?m=unread"))
        deadline = time.monotonic() + 1 + 2 * SLACK
        while holds_socket(gateway, inode):
            assert time.monotonic() < deadline, "the gateway still holds the connection"
            time.sleep(0.1)
        assert conn.read_answer().body == "Response: echo unread"
        assert conn.closed_within(SLACK)


def test_client_that_stops_reading_is_disconnected_at_some_bound(backend, gateway_factory):
    """1500 pipelined requests for the page (about 9 MB of replies), nothing read: once the
    socket buffers are full the gateway can make no progress, and a connection making none for
    longer than --idle-timeout must end (a write timeout) rather than hold its buffers and its
    descriptor for good. Everyone else is served meanwhile."""
    gateway = gateway_factory(backend.address, "--idle-timeout", "1")
    with WellBehavedClient(gateway.address):
        conn = RawHTTP(gateway.address, timeout=0.5, receive_buffer=4096)
        try:
            inode = accepted_socket_inode(gateway, conn)
            try:
                conn.send(request_bytes("GET", "/") * 1500)
            except (socket.timeout, BrokenPipeError, ConnectionResetError):
                pass  # the gateway has stopped reading
            bound = 1 + 2 * SLACK
            deadline = time.monotonic() + bound
            while holds_socket(gateway, inode) and time.monotonic() < deadline:
                time.sleep(0.2)
            assert not holds_socket(gateway, inode), (
                f"the gateway still holds a connection whose client read nothing for {bound} s")
        finally:
            conn.close()
    assert gateway.alive()


def test_200_slow_clients_do_not_starve_a_normal_client(gateway):
    """200 connections parked mid-request (half a head, half a body, or nothing sent yet) while
    a normal client keeps getting its echoes through the gateway."""
    parked: list[socket.socket] = []
    host, port = gateway.address.rsplit(":", 1)
    try:
        for i in range(200):
            sock = socket.create_connection((host, int(port)), timeout=10)
            if i % 3 == 1:
                sock.sendall(b"GET /echo?m=slow HTTP/1.1\r\nHost: a\r\n")
            elif i % 3 == 2:
                sock.sendall(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Type: application/json"
                             b"\r\nContent-Length: 100\r\n\r\n{\"message\": \"sl")
            parked.append(sock)
        with WellBehavedClient(gateway.address) as client:
            assert client.load.wait_for(lambda outcomes: len(outcomes) >= 30, timeout=20)
        for sock in parked[::3] + parked[2::3]:  # still open, not dropped to make room
            sock.setblocking(False)
            with pytest.raises(BlockingIOError):
                sock.recv(1)
    finally:
        for sock in parked:
            sock.close()
    assert gateway.alive()


def test_each_episode_at_the_connection_limit_is_logged_once(backend, gateway_factory):
    """At --max-connections every further connection is closed at once (no bytes, no waiting)
    and one warning is logged however many are refused; below the limit again one notice, and
    the next episode gets its own single warning. The connections held meanwhile are served."""
    gateway = gateway_factory(backend.address, "--max-connections", "16")
    held = [RawHTTP(gateway.address) for _ in range(16)]
    try:
        for conn in held:
            conn.send(request_bytes("GET", "/echo?m=held"))
            assert conn.read_answer().body == "Response: echo held"

        def refused_at_once(count: int) -> None:
            for _ in range(count):
                with RawHTTP(gateway.address) as extra:
                    started = time.monotonic()
                    assert extra.closed_within(SLACK), "a connection over the limit stayed open"
                    assert extra.buffer == b"" and time.monotonic() - started < SLACK

        refused_at_once(20)
        assert gateway.log_text().count("connection limit reached") == 1, gateway.log_text()
        assert_keeps_serving(held[0])

        held.pop().close()
        time.sleep(0.3)  # the close reaches the gateway
        assert ask(gateway.address, "GET", "/echo?m=room").body == "Response: echo room"
        time.sleep(0.3)  # that close too
        deadline = time.monotonic() + SLACK
        while "admitting connections again" not in gateway.log_text():
            assert time.monotonic() < deadline, gateway.log_text()
            time.sleep(0.05)

        held.append(RawHTTP(gateway.address))
        held[-1].send(request_bytes("GET", "/echo?m=held"))
        assert held[-1].read_answer().body == "Response: echo held"
        refused_at_once(10)
        assert gateway.log_text().count("connection limit reached") == 2, gateway.log_text()
        assert "max_connections=16" in gateway.log_text()
    finally:
        for conn in held:
            conn.close()


# ---- The upstream misbehaving -------------------------------------------------------------------


def test_upstream_that_never_speaks_gets_503_or_504_within_the_deadline(gateway_factory):
    """TCP accepted, no SETTINGS ever: concurrent requests each end 503 or 504 (with the gRPC
    status in the body) within the call deadline; none hangs; the gateway serves its own
    pages meanwhile."""
    with FakeUpstream(silent_server) as upstream:
        gateway = gateway_factory(upstream.address)
        with WellBehavedClient(gateway.address, path=healthz_path):
            with ThreadPoolExecutor(4) as pool:
                results = list(pool.map(lambda i: timed_get(gateway.address, f"/echo?m=s{i}"),
                                        range(4)))
            results.append(timed_get(gateway.address, "/echo?m=later"))
        for answer, took in results:
            assert answer.status in (503, 504), answer
            assert re.search(r"UNAVAILABLE|DEADLINE_EXCEEDED", answer.body), answer.body
            assert took < DEADLINE + SLACK, f"answered after {took:.1f} s"
        assert gateway.alive()


def test_upstream_that_never_answers_the_call_gets_504_at_the_deadline(gateway_factory, protos):
    """SETTINGS exchanged, the call's stream never answered: 504 once the deadline passes (not
    before it, not long after), while calls on the same connection that are answered succeed."""
    with FakeUpstream(h2_upstream(protos, lambda: None)) as upstream:
        gateway = gateway_factory(upstream.address)
        with WellBehavedClient(gateway.address, path=good_echo_path):
            with ThreadPoolExecutor(3) as pool:
                results = list(pool.map(lambda _: timed_get(gateway.address, "/echo?m=bad"),
                                        range(3)))
        for answer, took in results:
            assert answer.status == 504, answer
            assert "DEADLINE_EXCEEDED" in answer.body, answer.body
            assert DEADLINE * 0.8 <= took < DEADLINE + SLACK, f"answered after {took:.2f} s"
        assert gateway.alive()


def test_upstream_speaking_garbage_gets_a_clear_502_or_503(gateway_factory):
    """Not HTTP/2 at all: the call fails fast with a body naming the server and the failure,
    and the gateway serves its own pages meanwhile."""
    with FakeUpstream(garbage_server) as upstream:
        gateway = gateway_factory(upstream.address)
        with WellBehavedClient(gateway.address, path=healthz_path):
            for i in range(3):
                answer, took = timed_get(gateway.address, f"/echo?m=g{i}")
                assert answer.status in (502, 503), answer
                assert upstream.address in answer.body, answer.body
                assert re.search(r"UNAVAILABLE|INTERNAL", answer.body), answer.body
                assert took < DEADLINE + SLACK
        assert gateway.alive()


def test_upstream_speaking_garbage_is_named_as_not_http2_in_every_answer(gateway_factory):
    """The server is up and reachable; what is wrong is that it does not speak HTTP/2. Every
    answer while that lasts (not only the one whose call saw the attempt fail) says so, as
    gRPC clients report the last connection error while in backoff."""
    with FakeUpstream(garbage_server) as upstream:
        gateway = gateway_factory(upstream.address)
        answers = []
        started = time.monotonic()
        while time.monotonic() - started < 1.5:
            answers.append(ask(gateway.address, "GET", "/echo?m=g"))
            time.sleep(0.05)
        assert all(a.status in (502, 503) for a in answers), answers
        unexplained = [a.body for a in answers if not re.search(r"HTTP/2|SETTINGS", a.body)]
        assert not unexplained, f"{len(unexplained)} of {len(answers)}: {unexplained[0]}"
        assert gateway.alive()


def test_upstream_speaking_garbage_is_not_redialled_in_a_tight_loop(gateway_factory):
    """Each attempt fails at the handshake, so attempts must follow the reconnect backoff
    (100 ms growing to 1 s: about 7 in 3 s), with requests arriving or not."""
    with FakeUpstream(garbage_server) as upstream:
        gateway = gateway_factory(upstream.address)
        assert timed_get(gateway.address, "/echo?m=first")[0].status in (502, 503)
        started = time.monotonic()
        while time.monotonic() - started < 3:
            ask(gateway.address, "GET", "/echo?m=more")
            time.sleep(0.2)
        attempts = upstream.accepted_between(started, started + 3)
        assert attempts <= 12, f"{attempts} connections in 3 s"
        assert gateway.alive()


def test_html_reply_gets_502_saying_it_is_not_grpc(gateway_factory, protos):
    """HTTP 200 with `content-type: text/html` is not a gRPC reply, whatever its body: the
    answer says so rather than reporting the HTML's first byte as message flags."""
    html = Reply([(":status", "200"), ("content-type", "text/html")],
                 b"<html><body>a proxy's error page</body></html>")
    with FakeUpstream(h2_upstream(protos, lambda: html)) as upstream:
        gateway = gateway_factory(upstream.address)
        assert_bad_reply_answered(gateway, 502, r"not gRPC")
        assert "0x3c" not in ask(gateway.address, "GET", "/echo?m=bad").body


def test_reply_truncated_inside_a_message_gets_502_saying_so(gateway_factory, protos):
    """The length prefix promises 100 bytes, 3 arrive, then grpc-status 0 and END_STREAM."""
    truncated = Reply(GRPC_REPLY_HEADERS, b"\x00" + (100).to_bytes(4, "big") + b"abc",
                      OK_TRAILERS)
    with FakeUpstream(h2_upstream(protos, lambda: truncated)) as upstream:
        gateway = gateway_factory(upstream.address)
        assert_bad_reply_answered(gateway, 502, r"ended (inside|in the middle of) a message")


def test_reply_over_the_receive_limit_gets_502_not_413(gateway_factory, protos):
    """413 is for what the client sent; a 5 MiB reply (over the 4 MiB the gateway accepts) is
    the server's fault: a bad gateway."""
    payload = protos.Message(message="z" * (5 << 20)).SerializeToString()
    big = Reply(GRPC_REPLY_HEADERS, grpc_frame(payload), OK_TRAILERS)
    with FakeUpstream(h2_upstream(protos, lambda: big)) as upstream:
        gateway = gateway_factory(upstream.address)
        assert_bad_reply_answered(gateway, 502, str(RECEIVE_LIMIT))


def test_compressed_flag_with_identity_encoding_gets_502_saying_so(gateway_factory, protos):
    """`grpc-encoding: identity` and a message flagged compressed contradict each other; the
    answer names both."""
    payload = protos.Message(message="echo bad").SerializeToString()
    flagged = Reply([*GRPC_REPLY_HEADERS, ("grpc-encoding", "identity")],
                    grpc_frame(payload, compressed=True), OK_TRAILERS)
    with FakeUpstream(h2_upstream(protos, lambda: flagged)) as upstream:
        gateway = gateway_factory(upstream.address)
        assert_bad_reply_answered(gateway, 502, r"compressed.*identity|identity.*compressed")
