"""Shared fixtures for the black-box interop suite of EchoServer (and, for the HTTP/1.1 limits, EchoClient).

The server under test is the real binary (``ECHO_SERVER_BIN``, default
``<repo>/.build/debug/EchoServer``) started on port 0; every peer in this suite is an independent
implementation (grpcio, h2, http.client, nghttp/h2load, prometheus_client's parser).

Message classes are built at test time from ``Protos/`` with Debian's ``protoc`` into a descriptor
set, loaded into a private descriptor pool (no generated Python code is committed).
"""

from __future__ import annotations

import http.client
import os
import re
import resource
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import grpc
import pytest
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from prometheus_client.parser import text_string_to_metric_families

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTOS_DIR = REPO_ROOT / "Protos"
PROTO_FILES = [
    "echo.proto",
    "grpc/health/v1/health.proto",
    "grpc/reflection/v1/reflection.proto",
    "grpc/reflection/v1alpha/reflection.proto",
]

#: What the suite's timeouts are multiplied by: `make test-tsan` sets 3, its ThreadSanitizer
#: builds running several times slower than the debug build.
TIME_SCALE = float(os.environ.get("ECHO_TIME_SCALE", "1"))
#: Timeout (seconds) for every RPC issued by this suite.
RPC_TIMEOUT = 5.0 * TIME_SCALE
#: How long to wait for the server to log that it listens.
STARTUP_TIMEOUT = 10.0 * TIME_SCALE
#: How long to wait for the server to exit after SIGTERM when nothing is in flight.
EXIT_TIMEOUT = 10.0 * TIME_SCALE

ECHO_SERVICE = "proto.EchoService"
UNARY = f"/{ECHO_SERVICE}/EchoService"
SERVER_STREAM = f"/{ECHO_SERVICE}/ServerStreamingEcho"
CLIENT_STREAM = f"/{ECHO_SERVICE}/ClientStreamingEcho"
BIDI = f"/{ECHO_SERVICE}/BidirectionalStreamingEcho"

GRPC_CODES_GO = [
    "OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded", "NotFound",
    "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition", "Aborted",
    "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated",
]

_LISTEN_RE = re.compile(r"address=\[IPv4\]127\.0\.0\.1/127\.0\.0\.1:(\d+)")


#: True when the server under test is an AddressSanitizer build (`make test-asan`): its resident
#: memory (quarantined frees, shadow memory) says nothing about what the server holds, so tests
#: skip their memory bounds and keep every other check.
SANITIZED = os.environ.get("ECHO_SERVER_SANITIZED") == "1"

#: Event-loop threads for every process this suite starts (`make test-tsan` sets 2, so that
#: ThreadSanitizer watches connections served on different loops); unset: the binaries' default.
THREADS = os.environ.get("ECHO_THREADS")


def server_binary() -> Path:
    return Path(os.environ.get("ECHO_SERVER_BIN", REPO_ROOT / ".build/debug/EchoServer"))


def client_binary() -> Path:
    return Path(os.environ.get("ECHO_CLIENT_BIN", REPO_ROOT / ".build/debug/EchoClient"))


# --------------------------------------------------------------------------------------------
# Server process
# --------------------------------------------------------------------------------------------


@dataclass
class EchoServerProcess:
    """A running EchoServer; ``address`` is ``host:port``."""

    NAME = "EchoServer"

    args: list[str]
    #: RLIMIT_NOFILE for the server process (None: inherited).
    max_open_files: int | None = None
    #: The CPUs the process may run on (None: inherited).
    cpus: set[int] | None = None
    proc: subprocess.Popen | None = None
    port: int = 0
    log: list[str] = field(default_factory=list)
    _listening: threading.Event = field(default_factory=threading.Event)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> "EchoServerProcess":
        binary = self.binary()
        if not binary.exists():
            pytest.fail(f"{binary} not found: run `swift build --product {self.NAME}`")
        threads = ["--threads", THREADS] if THREADS and "--threads" not in self.args else []
        # taskset rather than preexec_fn: forking with a Python callback while grpcio's threads
        # run can abort the interpreter.
        confine = ["taskset", "-c", ",".join(map(str, sorted(self.cpus)))] if self.cpus else []
        self.proc = subprocess.Popen(
            [*confine, str(binary), "--host", "127.0.0.1", "--port", "0", *threads, *self.args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            preexec_fn=self._limit_open_files if self.max_open_files else None,
        )
        threading.Thread(target=self._pump, daemon=True).start()
        if not self._listening.wait(STARTUP_TIMEOUT):
            self.kill()
            pytest.fail(f"{self.NAME} did not log `{self.NAME} listening`:\n" + self.log_text())
        return self

    def binary(self) -> Path:
        return server_binary()

    def _limit_open_files(self) -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (self.max_open_files, self.max_open_files))

    def cpu_seconds(self) -> float:
        """User plus system CPU time the server has used so far."""
        assert self.proc is not None
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rss_bytes(self) -> int:
        """The server's resident memory now."""
        assert self.proc is not None
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS line")

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            self.log.append(line)
            if not self._listening.is_set() and f"{self.NAME} listening" in line:
                match = _LISTEN_RE.search(line)
                if match:
                    self.port = int(match.group(1))
                    self._listening.set()

    def log_text(self) -> str:
        return "".join(self.log)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def sigterm(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float = EXIT_TIMEOUT) -> int:
        assert self.proc is not None
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            pytest.fail(f"{self.NAME} did not exit within {timeout} s:\n" + self.log_text())

    def stop(self) -> int:
        """SIGTERM, wait, return the exit code (0 expected)."""
        if self.alive():
            self.sigterm()
        return self.wait()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)


class EchoClientProcess(EchoServerProcess):
    """A running EchoClient (the HTTP gateway); ``args`` name its server (``--server``)."""

    NAME = "EchoClient"

    def binary(self) -> Path:
        return client_binary()


def _assert_clean_exit(server: EchoServerProcess) -> None:
    if server.proc is None:
        return
    already_exited = server.proc.poll() is not None
    code = server.stop()
    assert not (already_exited and code != 0), (
        f"{server.NAME} exited on its own with {code} during the test:\n{server.log_text()}")
    assert code == 0, f"{server.NAME} exited with {code}:\n{server.log_text()}"


@pytest.fixture
def server_factory() -> Iterator[Callable[..., EchoServerProcess]]:
    """Starts fresh servers with extra arguments; stops them (exit code 0) at teardown."""
    started: list[EchoServerProcess] = []

    def start(*args: str, max_open_files: int | None = None,
              cpus: set[int] | None = None) -> EchoServerProcess:
        server = EchoServerProcess(list(args), max_open_files, cpus).start()
        started.append(server)
        return server

    yield start
    for server in started:
        _assert_clean_exit(server)


@pytest.fixture(scope="module")
def module_server() -> Iterator[EchoServerProcess]:
    server = EchoServerProcess([]).start()
    yield server
    _assert_clean_exit(server)


@pytest.fixture(scope="module")
def server(module_server: EchoServerProcess) -> str:
    """``host:port`` of a server shared by the tests of one module."""
    return module_server.address


@pytest.fixture
def fresh_server(server_factory) -> EchoServerProcess:
    """A server of its own for one test."""
    return server_factory()


@pytest.fixture
def channel(server: str) -> Iterator[grpc.Channel]:
    with grpc.insecure_channel(server) as ch:
        grpc.channel_ready_future(ch).result(timeout=RPC_TIMEOUT)
        yield ch


# --------------------------------------------------------------------------------------------
# Protos
# --------------------------------------------------------------------------------------------


class Protos:
    """Message classes and file descriptors compiled from ``Protos/``."""

    def __init__(self, descriptor_set: descriptor_pb2.FileDescriptorSet):
        self.file_set = descriptor_set
        self.files = {f.name: f for f in descriptor_set.file}
        self.pool = descriptor_pool.DescriptorPool()
        for f in descriptor_set.file:
            self.pool.AddSerializedFile(f.SerializeToString())

    def message(self, full_name: str):
        return message_factory.GetMessageClass(self.pool.FindMessageTypeByName(full_name))

    @property
    def Message(self):
        return self.message("proto.Message")

    @property
    def StreamingEchoRequest(self):
        return self.message("proto.StreamingEchoRequest")


@pytest.fixture(scope="session")
def protos(tmp_path_factory) -> Protos:
    protoc = shutil.which("protoc")
    if protoc is None:
        pytest.fail("protoc not found (Debian package protobuf-compiler)")
    out = tmp_path_factory.mktemp("protos") / "descriptors.pb"
    subprocess.run(
        [protoc, f"-I{PROTOS_DIR}", "--include_imports", f"--descriptor_set_out={out}",
         *PROTO_FILES],
        check=True, timeout=30, capture_output=True,
    )
    return Protos(descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes()))


def ser(msg) -> bytes:
    return msg.SerializeToString()


def deser(cls):
    return cls.FromString


class RequestQueue:
    """A request iterator fed by the test; ends on ``close()`` (or after ``idle`` seconds)."""

    _END = object()

    def __init__(self, idle: float = 10.0):
        import queue

        self._queue: "queue.Queue" = queue.Queue()
        self._idle = idle

    def put(self, item) -> None:
        self._queue.put(item)

    def close(self) -> None:
        self._queue.put(self._END)

    def __iter__(self):
        return self

    def __next__(self):
        import queue

        try:
            item = self._queue.get(timeout=self._idle)
        except queue.Empty:
            raise StopIteration
        if item is self._END:
            raise StopIteration
        return item


# --------------------------------------------------------------------------------------------
# HTTP/1.1 and /metrics
# --------------------------------------------------------------------------------------------


@dataclass
class HTTPResult:
    status: int
    headers: dict[str, str]
    body: str


def http_request(address: str, method: str, path: str,
                 headers: dict[str, str] | None = None, body: bytes | None = None,
                 timeout: float = 5.0) -> HTTPResult:
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read().decode("utf-8")
        return HTTPResult(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


def scrape_text(address: str, headers: dict[str, str] | None = None) -> HTTPResult:
    result = http_request(address, "GET", "/metrics", headers=headers)
    assert result.status == 200, result
    return result


SampleKey = tuple[str, frozenset]


class Metrics:
    """One parsed scrape: ``families`` by name and ``value(sample_name, **labels)``."""

    def __init__(self, text: str):
        self.text = text
        self.families = {f.name: f for f in text_string_to_metric_families(text)}
        self.samples: dict[SampleKey, float] = {}
        for family in self.families.values():
            for sample in family.samples:
                self.samples[(sample.name, frozenset(sample.labels.items()))] = sample.value

    def value(self, name: str, **labels: str) -> float | None:
        return self.samples.get((name, frozenset(labels.items())))

    def series(self, name: str) -> list[dict[str, str]]:
        return [dict(labels) for (n, labels) in self.samples if n == name]


def scrape(address: str) -> Metrics:
    return Metrics(scrape_text(address).body)


def method_labels(path: str, grpc_type: str) -> dict[str, str]:
    service, method = path.strip("/").split("/")
    return {"grpc_service": service, "grpc_method": method, "grpc_type": grpc_type}


def handled(metrics: Metrics, path: str, grpc_type: str, code: str) -> float | None:
    return metrics.value("grpc_server_handled_total", grpc_code=code,
                         **method_labels(path, grpc_type))


def poll_metrics(address: str, predicate: Callable[[Metrics], bool],
                 timeout: float = 2.0, interval: float = 0.05) -> Metrics:
    """Scrapes until ``predicate`` holds or ``timeout`` passes; returns the last scrape."""
    deadline = time.monotonic() + timeout
    while True:
        metrics = scrape(address)
        if predicate(metrics) or time.monotonic() >= deadline:
            return metrics
        time.sleep(interval)


def grpc_frame(payload: bytes, compressed: bool = False) -> bytes:
    return bytes([1 if compressed else 0]) + len(payload).to_bytes(4, "big") + payload


@pytest.fixture
def tmp_file_dir() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="interop-") as d:
        yield Path(d)
