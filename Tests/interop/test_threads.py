"""Event-loop threads default to the cores the process may use (its CPU affinity here; cgroup
quotas are covered by the Swift tests of UsableCores)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from conftest import THREADS, EchoClientProcess, _assert_clean_exit

pytestmark = pytest.mark.skipif(
    THREADS is not None, reason="ECHO_THREADS sets --threads, so the default is not in play")


def event_loop_threads(pid: int) -> int:
    """NIO names its event-loop threads NIO-ELT-<group>-#<n>."""
    names = (path.read_text().strip() for path in Path(f"/proc/{pid}/task").glob("*/comm"))
    return sum(1 for name in names if name.startswith("NIO-ELT-"))


def logged_threads(process) -> int:
    found = re.findall(r"threads=(\d+)", process.log_text())
    assert found, process.log_text()
    return int(found[0])


@pytest.mark.parametrize("cpus", [None, {0}], ids=["inherited", "one-cpu"])
def test_server_runs_an_event_loop_per_usable_core(server_factory, cpus):
    allowed = cpus or os.sched_getaffinity(0)
    server = server_factory(cpus=cpus)
    assert logged_threads(server) == len(allowed)
    assert event_loop_threads(server.proc.pid) == len(allowed)


def test_flag_overrides_the_default(server_factory):
    server = server_factory("--threads", "3", cpus={0})
    assert logged_threads(server) == 3
    assert event_loop_threads(server.proc.pid) == 3


def test_gateway_runs_an_event_loop_per_usable_core(server_factory):
    backend = server_factory()
    gateway = EchoClientProcess(["--server", backend.address], cpus={0}).start()
    try:
        assert logged_threads(gateway) == 1
        assert event_loop_threads(gateway.proc.pid) == 1
    finally:
        _assert_clean_exit(gateway)
