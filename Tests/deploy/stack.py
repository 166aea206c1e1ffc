"""The compose stack's parts as local processes, for the end-to-end deploy tests.

Real binaries only: EchoServer replicas (``ECHO_SERVER_BIN``, default ``.build/debug/EchoServer``),
EchoClient when it is built (``ECHO_CLIENT_BIN``, default ``.build/debug/EchoClient``), and Debian's
Prometheus (``PROMETHEUS_BIN``, default ``prometheus`` on PATH) running the repository's own
prometheus.yml and rules with the targets rewritten to loopback (deploy/local_prometheus.py).
Traffic comes from grpcio (an independent gRPC peer) and plain HTTP to the gateway.

Every wait here has a deadline; every process is ended by its own handle.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import grpc

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "deploy"))
import local_prometheus  # noqa: E402  (deploy/local_prometheus.py: the shared target rewrite)

PROMETHEUS_DIR = REPO_ROOT / "docker/prometheus"
DASHBOARD_DIR = REPO_ROOT / "docker/grafana/dashboards"

_LISTEN_RE = re.compile(r"address=\[IPv4\]127\.0\.0\.1/127\.0\.0\.1:(\d+)")
STARTUP_TIMEOUT = 15.0


def server_binary() -> Path:
    return Path(os.environ.get("ECHO_SERVER_BIN", REPO_ROOT / ".build/debug/EchoServer"))


def client_binary() -> Path:
    return Path(os.environ.get("ECHO_CLIENT_BIN", REPO_ROOT / ".build/debug/EchoClient"))


def prometheus_binary() -> str | None:
    return os.environ.get("PROMETHEUS_BIN") or shutil.which("prometheus")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ------------------------------------------------------------------------------------------------
# Processes
# ------------------------------------------------------------------------------------------------


@dataclass
class Process:
    """A child process whose combined output is kept for failure messages."""

    name: str
    argv: list[str]
    env: dict[str, str] | None = None
    proc: subprocess.Popen | None = None
    log: list[str] = field(default_factory=list)
    _line_seen: threading.Condition = field(default_factory=threading.Condition)

    def start(self) -> "Process":
        self.proc = subprocess.Popen(
            self.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace", env=self.env, cwd=REPO_ROOT)
        threading.Thread(target=self._pump, daemon=True).start()
        return self

    def _pump(self) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._line_seen:
                self.log.append(line)
                self._line_seen.notify_all()

    def wait_for_line(self, pattern: re.Pattern, timeout: float) -> re.Match | None:
        deadline = time.monotonic() + timeout
        with self._line_seen:
            while True:
                for line in self.log:
                    if match := pattern.search(line):
                        return match
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self.alive():
                    return None
                self._line_seen.wait(min(remaining, 0.2))

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_text(self, last: int = 40) -> str:
        return "".join(self.log[-last:])

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `timeout` seconds."""
        if not self.alive():
            return
        assert self.proc is not None
        self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


class StackError(RuntimeError):
    pass


def start_server() -> tuple[Process, str]:
    """Starts an EchoServer on a free loopback port; returns it and its `host:port`."""
    binary = server_binary()
    if not binary.exists():
        raise StackError(f"{binary} not found: run `swift build --product EchoServer` (or set ECHO_SERVER_BIN)")
    server = Process("EchoServer", [str(binary), "--host", "127.0.0.1", "--port", "0"]).start()
    match = server.wait_for_line(_LISTEN_RE, STARTUP_TIMEOUT)
    if match is None:
        server.stop()
        raise StackError("EchoServer did not log its listening address:\n" + server.log_text())
    return server, f"127.0.0.1:{match.group(1)}"


def start_client(server_address: str) -> tuple[Process, str]:
    """Starts EchoClient on a free loopback port, calling `server_address`; waits for /healthz."""
    port = free_port()
    client = Process("EchoClient", [str(client_binary()), "serve", "--host", "127.0.0.1", "--port", str(port),
                                    "--server", server_address]).start()
    address = f"127.0.0.1:{port}"
    wait_until_answering(client, address, "/healthz")
    return client, address


def start_prometheus(workdir: Path, *, servers: list[str], clients: list[str]) -> tuple[Process, str]:
    """Debian's Prometheus on the repository's config, targets rewritten to loopback."""
    binary = prometheus_binary()
    if binary is None:
        raise StackError("prometheus not found: `apt-get install prometheus` (make deps does)")
    listen = f"127.0.0.1:{free_port()}"
    config = local_prometheus.write_local_config(workdir, servers=servers, clients=clients, listen=listen)
    prometheus = Process("prometheus", local_prometheus.prometheus_command(
        config, workdir / "data", listen, binary)).start()
    wait_until_answering(prometheus, listen, "/-/ready")
    return prometheus, listen


def wait_until_answering(process: Process, address: str, path: str) -> None:
    """Waits until `process` answers 200 on `path`; stops it and raises if it does not in time."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline and process.alive():
        if http_get(address, path, timeout=1.0)[0] == 200:
            return
        time.sleep(0.2)
    process.stop()
    raise StackError(f"{process.name} did not answer {path} on {address}:\n" + process.log_text())


def http_get(address: str, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    """(status, body); status 0 when nothing answers."""
    host, port = address.rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    except OSError:
        return 0, b""
    finally:
        conn.close()


# ------------------------------------------------------------------------------------------------
# Traffic
# ------------------------------------------------------------------------------------------------


def encode_message(text: str, count: int | None = None) -> bytes:
    """proto.Message{message} (or StreamingEchoRequest{message, count}) in protobuf wire format."""
    data = text.encode()
    out = bytearray(b"\x0a") + _varint(len(data)) + data
    if count is not None:
        out += b"\x10" + _varint(count)
    return bytes(out)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


class Traffic:
    """Background load shaped like the compose traffic generator, plus every RPC type and a few
    errors, so every dashboard panel and recording rule has something to show:

    - per server: unary EchoService (most calls), server-streaming, client-streaming and bidi
      streams, health checks, and INTERNAL errors (undecodable protobuf) for about 3% of the
      EchoService calls, under the 5% alert threshold;
    - through the gateway, when there is one: GET /echo?m=...

    Bounded: it stops at `stop()` or after `max_seconds`, whichever comes first.
    """

    def __init__(self, servers: list[str], gateway: str | None, *, rate: float = 40.0,
                 max_seconds: float = 120.0) -> None:
        self.servers, self.gateway = servers, gateway
        self.period = 1.0 / rate
        self.max_seconds = max_seconds
        self.counts: dict[str, int] = {}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> "Traffic":
        for address in self.servers:
            self._threads.append(threading.Thread(target=self._grpc_loop, args=(address,), daemon=True))
        if self.gateway:
            self._threads.append(threading.Thread(target=self._http_loop, daemon=True))
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def _grpc_loop(self, address: str) -> None:
        deadline = time.monotonic() + self.max_seconds
        with grpc.insecure_channel(address) as channel:
            unary = channel.unary_unary("/proto.EchoService/EchoService")
            server_stream = channel.unary_stream("/proto.EchoService/ServerStreamingEcho")
            client_stream = channel.stream_unary("/proto.EchoService/ClientStreamingEcho")
            bidi = channel.stream_stream("/proto.EchoService/BidirectionalStreamingEcho")
            health = channel.unary_unary("/grpc.health.v1.Health/Check")
            i = 0
            while not self._stop.is_set() and time.monotonic() < deadline:
                i += 1
                try:
                    if i % 60 == 0:
                        unary(b"\xff\xff\xff", timeout=5)  # not protobuf: INTERNAL
                    elif i % 10 == 0:
                        list(server_stream(encode_message("stream", 3), timeout=5))
                    elif i % 10 == 3:
                        client_stream(iter([encode_message(w) for w in ("a", "b", "c")]), timeout=5)
                    elif i % 10 == 6:
                        list(bidi(iter([encode_message(w) for w in ("x", "y")]), timeout=5))
                    elif i % 10 == 8:
                        health(b"", timeout=5)
                    else:
                        unary(encode_message(f"hello-{i}"), timeout=5)
                    self._count("grpc ok")
                except grpc.RpcError as error:
                    self._count(f"grpc {error.code().name}")
                self._stop.wait(self.period)

    def _http_loop(self) -> None:
        assert self.gateway is not None
        deadline = time.monotonic() + self.max_seconds
        i = 0
        while not self._stop.is_set() and time.monotonic() < deadline:
            i += 1
            status, _ = http_get(self.gateway, f"/echo?m=hello-{i}", timeout=5)
            self._count(f"http {status}")
            self._stop.wait(self.period)


# ------------------------------------------------------------------------------------------------
# Prometheus HTTP API
# ------------------------------------------------------------------------------------------------


class PrometheusAPI:
    def __init__(self, address: str) -> None:
        self.base = f"http://{address}"

    def get(self, path: str, **params: str) -> dict:
        url = f"{self.base}{path}?{urllib.parse.urlencode(params)}" if params else self.base + path
        with urllib.request.urlopen(url, timeout=10) as response:
            body = json.load(response)
        if body.get("status") != "success":
            raise StackError(f"{path} {params}: {body}")
        return body["data"]

    def query(self, expr: str) -> list[dict]:
        return self.get("/api/v1/query", query=expr)["result"]

    def query_range(self, expr: str, seconds: float = 60, step: float = 5) -> list[dict]:
        end = time.time()
        return self.get("/api/v1/query_range", query=expr, start=f"{end - seconds:.3f}",
                        end=f"{end:.3f}", step=str(step))["result"]

    def targets(self) -> list[dict]:
        return self.get("/api/v1/targets", state="active")["activeTargets"]

    def rules(self) -> list[dict]:
        return self.get("/api/v1/rules")["groups"]


def finite_values(result: list[dict]) -> list[float]:
    """Every finite sample of an instant (`value`) or range (`values`) query result."""
    values = []
    for series in result:
        samples = series.get("values") or ([series["value"]] if "value" in series else [])
        values += [float(v) for _, v in samples if math.isfinite(float(v))]
    return values


# ------------------------------------------------------------------------------------------------
# Dashboards
# ------------------------------------------------------------------------------------------------

_VARIABLE_RE = re.compile(r"\$\{?(\w+)\}?")
#: PromQL functions and keywords used by the dashboards and rules.
PROMQL_WORDS = {"sum", "count", "rate", "histogram_quantile", "vector", "absent", "or", "and", "unless"}


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression reads: what is left after removing strings, label
    matchers, range windows, grouping clauses, functions, keywords and numbers."""
    expr = re.sub(r'"[^"]*"', "", expr)
    expr = re.sub(r"\{[^}]*\}|\[[^\]]*\]|\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", expr)
    return set(re.findall(r"[a-zA-Z_:][\w:]*", expr)) - PROMQL_WORDS


def grafana_to_promql(expr: str, variables: dict[str, str] | None = None) -> str:
    """A panel query as Prometheus runs it with every variable on "All" (`.*`) unless `variables`
    gives its value, and Grafana's `$__rate_interval` at its value for a 5 s scrape interval on a
    short range (1m)."""
    expr = expr.replace("$__rate_interval", "1m").replace("${__rate_interval}", "1m")
    return _VARIABLE_RE.sub(lambda m: (variables or {}).get(m.group(1), ".*"), expr)


def dashboard_queries() -> list[tuple[str, str, str, str]]:
    """(dashboard file stem, panel title, refId, expr) for every query of every dashboard."""
    found = []
    for path in sorted(DASHBOARD_DIR.glob("*.json")):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel.get("targets", []):
                found.append((path.stem, panel["title"], target["refId"], target["expr"]))
    return found
