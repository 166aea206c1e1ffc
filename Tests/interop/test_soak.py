"""A bounded soak: steady load through the gateway for GRPC_PROMETHEUS_SOAK_SECONDS (default 30)
while the resident memory and open descriptors of EchoServer and EchoClient are sampled every
second. After a warm-up (the first third) both must be flat: RSS growth under 4 MiB (skipped on
an AddressSanitizer build, whose memory says nothing about what the process holds), descriptors
within +-2 of where they stood, and not one request failed.

`pytest -s` shows the curve: time, requests so far, and RSS and descriptors of both processes.
"""

from __future__ import annotations

import faulthandler
import os
import sys
import threading
import time

import pytest

from conftest import SANITIZED
from gateway_load import GatewayLoad, open_fds, rss_bytes, stack_factory  # noqa: F401

DURATION = float(os.environ.get("GRPC_PROMETHEUS_SOAK_SECONDS", "30"))
RSS_GROWTH_BOUND = 4 << 20
FD_SPREAD = 2
CLIENTS = 3


@pytest.fixture(autouse=True)
def hang_backstop_past_the_soak(request: pytest.FixtureRequest) -> None:
    """pytest.ini's faulthandler_timeout dumps the stacks of any test running longer; the soak
    runs DURATION seconds by design, so its backstop starts counting after that."""
    timeout = float(request.config.getini("faulthandler_timeout") or 0)
    if timeout:
        faulthandler.dump_traceback_later(DURATION + timeout, file=sys.__stderr__)


def sample_every_second(processes, load: GatewayLoad, stop: threading.Event,
                        samples: list[tuple]) -> None:
    started = time.monotonic()
    while not stop.is_set():
        row = [time.monotonic() - started, len(load.outcomes)]
        for process in processes:
            row += [rss_bytes(process), open_fds(process)]
        samples.append(tuple(row))
        stop.wait(1.0)


def test_steady_load_leaves_memory_and_descriptors_flat(stack_factory):
    """Leaks show as a slope once the allocator, caches and connections have settled: any
    per-request growth, a descriptor kept per call or per connection, or a single failed
    request over the whole run fails the test."""
    stack = stack_factory()
    processes = [stack.server, stack.gateway]
    samples: list[tuple] = []
    stop = threading.Event()
    with GatewayLoad(stack.address, clients=CLIENTS) as load:
        sampler = threading.Thread(target=sample_every_second,
                                   args=(processes, load, stop, samples), daemon=True)
        sampler.start()
        time.sleep(DURATION)
        stop.set()
        sampler.join(5)
    outcomes = load.snapshot()

    print(f"\nsoak {DURATION:.0f} s, {CLIENTS} keep-alive clients, "
          f"{len(outcomes)} requests ({len(outcomes) / DURATION:.0f}/s)")
    print("     t  requests  server_rss_MiB  server_fds  gateway_rss_MiB  gateway_fds")
    for t, requests, server_rss, server_fds, gateway_rss, gateway_fds in samples:
        print(f"{t:6.1f}  {requests:8d}  {server_rss / 2**20:14.2f}  {server_fds:10d}  "
              f"{gateway_rss / 2**20:15.2f}  {gateway_fds:11d}")

    assert load.counts(outcomes) == {"200": len(outcomes)}, load.counts(outcomes)
    assert len(samples) >= DURATION * 0.8, f"only {len(samples)} samples"
    settled = [row for row in samples if row[0] >= DURATION / 3]
    assert len(settled) >= 3
    for index, process in enumerate(processes):
        rss = [row[2 + 2 * index] for row in settled]
        fds = [row[3 + 2 * index] for row in settled]
        assert max(abs(n - fds[0]) for n in fds) <= FD_SPREAD, (
            f"{process.NAME} descriptors after the warm-up: {fds}")
        if not SANITIZED:
            growth = max(rss) - rss[0]
            assert growth < RSS_GROWTH_BOUND, (
                f"{process.NAME} grew {growth / 2**20:.1f} MiB after the warm-up: "
                f"{[round(r / 2**20, 1) for r in rss]}")
    assert all(process.alive() for process in processes)
