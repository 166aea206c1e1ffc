"""Shared by test_faults.py and test_soak.py: a keep-alive HTTP/1.1 load client for the gateway
(threads, one `http.client` connection each, every request's outcome recorded) and a factory that
starts EchoServer and an EchoClient pointed at it.

An outcome is one of: an HTTP status (with the body checked for `/echo`); ``refused`` (the TCP
connect was refused: nothing was sent, a clean refusal); ``closed idle`` (a keep-alive connection
that had answered before and did not say `Connection: close` was closed or reset before a byte
of the next answer: the server closed it while idle, just as the request went out, which RFC 9112
section 9.6 allows and section 9.3.1 has clients retry); or ``lost`` (the request was sent and
the connection was reset or closed on a fresh connection or mid-answer, or went silent).
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pytest

from conftest import EchoClientProcess, EchoServerProcess

#: How long one request may take before it counts as lost (generous: a loaded 2-core machine).
REQUEST_TIMEOUT = 10.0


@dataclass
class Outcome:
    """One request: when it was sent and ended, and what came back."""

    worker: int
    path: str
    started: float
    ended: float
    #: The HTTP status; None when no whole answer arrived.
    status: int | None = None
    body: str = ""
    #: The answer said `Connection: close`.
    close: bool = False
    #: ``refused`` (connect refused), ``closed idle: ...``, ``lost: <exception>``,
    #: ``wrong body: ...``; None when fine.
    error: str | None = None

    @property
    def kind(self) -> str:
        """``200``, ``503``, ..., ``refused``, ``closed idle``, ``lost`` or ``wrong body``."""
        if self.error is not None:
            return self.error.split(":", 1)[0]
        return str(self.status)

    @property
    def seconds(self) -> float:
        return self.ended - self.started


def echo_path(worker: int, number: int) -> str:
    return f"/echo?m=w{worker}-{number}"


class GatewayLoad:
    """``clients`` threads, each sending requests back to back on one keep-alive connection
    (a new one after `Connection: close` or an error), until ``stop()``."""

    def __init__(self, address: str, clients: int = 4,
                 path: Callable[[int, int], str] = echo_path, pause: float = 0.0,
                 timeout: float = REQUEST_TIMEOUT):
        host, port = address.rsplit(":", 1)
        self.host, self.port = host, int(port)
        self.clients = clients
        self.path = path
        self.pause = pause
        self.timeout = timeout
        self.outcomes: list[Outcome] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._run, args=(worker,), daemon=True)
                         for worker in range(clients)]

    def __enter__(self) -> "GatewayLoad":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> "GatewayLoad":
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> list[Outcome]:
        self._stopping.set()
        for thread in self._threads:
            thread.join(self.timeout + 5)
            assert not thread.is_alive(), "a load client is stuck past its own timeout"
        return self.snapshot()

    def snapshot(self) -> list[Outcome]:
        with self._lock:
            return list(self.outcomes)

    def counts(self, outcomes: list[Outcome] | None = None) -> Counter:
        return Counter(o.kind for o in (self.snapshot() if outcomes is None else outcomes))

    def wait_for(self, predicate: Callable[[list[Outcome]], bool], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate(self.snapshot()):
                return True
            time.sleep(0.02)
        return predicate(self.snapshot())

    def _record(self, outcome: Outcome) -> None:
        with self._lock:
            self.outcomes.append(outcome)

    def _run(self, worker: int) -> None:
        conn: http.client.HTTPConnection | None = None
        answered_on_conn = 0
        number = 0
        while not self._stopping.is_set():
            number += 1
            path = self.path(worker, number)
            started = time.monotonic()
            if conn is None:
                conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                try:
                    conn.connect()
                    conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    answered_on_conn = 0
                except ConnectionRefusedError:
                    conn = None
                    self._record(Outcome(worker, path, started, time.monotonic(),
                                         error="refused"))
                    time.sleep(0.05)  # nothing listens: no tight loop
                    continue
                except OSError as error:
                    conn = None
                    self._record(Outcome(worker, path, started, time.monotonic(),
                                         error=f"lost: connect {error!r}"))
                    time.sleep(0.05)
                    continue
            outcome = Outcome(worker, path, started, started)
            response = None
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                outcome.body = response.read().decode("utf-8", "replace")
                outcome.status = response.status
                outcome.close = (response.getheader("connection") or "").lower() == "close"
            except (OSError, http.client.HTTPException) as error:
                # Not a byte of the answer on a connection that answered before: closed idle.
                idle = response is None and answered_on_conn > 0 and isinstance(
                    error, (http.client.RemoteDisconnected, ConnectionResetError,
                            BrokenPipeError))
                outcome.error = f"{'closed idle' if idle else 'lost'}: {error!r}"
            outcome.ended = time.monotonic()
            if outcome.status == 200 and path.startswith("/echo?m="):
                expected = "Response: echo " + path.split("=", 1)[1]
                if outcome.body != expected:
                    outcome.error = f"wrong body: {outcome.body[:200]!r}"
            self._record(outcome)
            answered_on_conn += outcome.status is not None
            if outcome.error is not None or outcome.close:
                conn.close()
                conn = None
            if self.pause:
                time.sleep(self.pause)
        if conn is not None:
            conn.close()


# ---- Processes ----------------------------------------------------------------------------------


@dataclass
class Stack:
    """EchoServer and the gateway in front of it."""

    server: EchoServerProcess
    gateway: EchoClientProcess

    @property
    def address(self) -> str:
        """The gateway's HTTP address."""
        return self.gateway.address


@dataclass
class StackFactory:
    started: list[EchoServerProcess] = field(default_factory=list)

    def server(self, *args: str) -> EchoServerProcess:
        process = EchoServerProcess(list(args)).start()
        self.started.append(process)
        return process

    def gateway(self, server_address: str, *args: str) -> EchoClientProcess:
        process = EchoClientProcess(["--server", server_address, *args]).start()
        self.started.append(process)
        return process

    def __call__(self, server_args: tuple[str, ...] = (),
                 gateway_args: tuple[str, ...] = ()) -> Stack:
        server = self.server(*server_args)
        return Stack(server, self.gateway(server.address, *gateway_args))

    def stop_all(self) -> list[str]:
        """Stops what is still running (gateways first); the problems found."""
        problems = []
        for process in reversed(self.started):
            if process.proc is None or not process.alive():
                continue  # a test ended it and checked how
            code = process.stop()
            if code != 0:
                problems.append(f"{process.NAME} exited with {code}:\n{process.log_text()}")
        return problems


@pytest.fixture
def stack_factory() -> Iterator[StackFactory]:
    """Starts EchoServer + EchoClient pairs (``stack_factory(server_args, gateway_args)``) or
    either alone; stops what is still running at teardown and expects exit code 0."""
    factory = StackFactory()
    yield factory
    problems = factory.stop_all()
    assert not problems, "\n".join(problems)


# ---- /proc --------------------------------------------------------------------------------------


def rss_bytes(process: EchoServerProcess) -> int:
    return process.rss_bytes()


def open_fds(process: EchoServerProcess) -> int:
    assert process.proc is not None
    return len(os.listdir(f"/proc/{process.proc.pid}/fd"))


def holds_socket(process: EchoServerProcess, inode: int) -> bool:
    """Whether the process still has the socket with this inode open."""
    assert process.proc is not None
    target = f"socket:[{inode}]"
    fd_dir = Path(f"/proc/{process.proc.pid}/fd")
    for entry in fd_dir.iterdir():
        try:
            if os.readlink(entry) == target:
                return True
        except OSError:
            continue
    return False


def peer_socket_inode(client: socket.socket) -> int | None:
    """The inode of the other end of a loopback TCP connection (the server's socket), from
    /proc/net/tcp; None when it has none any more."""
    local_port = client.getsockname()[1]
    remote_port = client.getpeername()[1]
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote, inode = fields[1], fields[2], int(fields[9])
        if (int(local.split(":")[1], 16) == remote_port
                and int(remote.split(":")[1], 16) == local_port):
            return inode or None
    return None
