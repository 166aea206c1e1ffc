"""What the suite sends from the host: HTTP to the published loopback ports, Prometheus's HTTP API
(shared with the deploy suite), and a count of every /echo request the suite itself made, so the
traffic service's requests can be told apart from the suite's own."""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from dataclasses import dataclass, field

from engine import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "Tests/deploy"))
from stack import PrometheusAPI, finite_values  # noqa: E402,F401  (re-exported for the tests)


@dataclass
class HTTPAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Gateway:
    """EchoClient through its published port; counts the /echo requests it sends."""

    port: int
    echo_requests: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict[str, str] | None = None, timeout: float = 10) -> HTTPAnswer:
        if path.startswith("/echo"):
            with self._lock:
                self.echo_requests += 1
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return HTTPAnswer(response.status, {k.lower(): v for k, v in response.getheaders()},
                              response.read())
        finally:
            connection.close()

    def post_echo(self, message: str, timeout: float = 10) -> HTTPAnswer:
        return self.request("POST", "/echo", json.dumps({"message": message}).encode(),
                            {"Content-Type": "application/json", "Accept": "application/json"},
                            timeout=timeout)


@dataclass
class EchoLoad:
    """POST /echo from a few threads until stopped; keeps every answer's time, status and
    replica, and every failure (a non-200 answer or no answer at all)."""

    gateway: Gateway
    threads: int = 4
    answers: list[tuple[float, int, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _workers: list[threading.Thread] = field(default_factory=list)

    def start(self) -> "EchoLoad":
        for n in range(self.threads):
            worker = threading.Thread(target=self._loop, args=(n,), daemon=True)
            worker.start()
            self._workers.append(worker)
        return self

    def stop(self) -> None:
        self._stop.set()
        for worker in self._workers:
            worker.join(15)

    def _loop(self, n: int) -> None:
        i = 0
        while not self._stop.is_set():
            i += 1
            try:
                answer = self.gateway.post_echo(f"load-{n}-{i}", timeout=10)
                replica = answer.json().get("replica", "") if answer.status == 200 else ""
                self.answers.append((time.time(), answer.status, replica))
                if answer.status != 200:
                    self.failures.append(f"{answer.status}: {answer.body[:200]!r}")
            except (OSError, ValueError) as error:
                self.failures.append(f"no answer: {error!r}")
            self._stop.wait(0.02)
