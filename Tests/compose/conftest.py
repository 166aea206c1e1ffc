"""The compose stack, started once for the whole suite: stand-in base images, the project's two
images built by podman-compose from compose.yaml with the real Dockerfiles, then every service but
Grafana with three `grpcserver` replicas. Tear-down removes every container, network and volume
of the suite's project, also when a check or the start-up fails, and says what it could not."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Iterator

import pytest

import standins
from engine import STATE_DIR, EngineError, Podman, Stack

REPLICAS = 3
#: `make test-compose CLEAN=1`: forget the build cache and the project's images first.
CLEAN = os.environ.get("COMPOSE_CLEAN") == "1"


#: Figures the tests measured (build times, image sizes, what happened to a stopped replica),
#: printed at the end of the run.
REPORT: list[str] = []


def pytest_report_header() -> str:
    return f"compose suite: engine log in {STATE_DIR / 'engine.log'}"


def pytest_terminal_summary(terminalreporter) -> None:
    if REPORT:
        terminalreporter.write_sep("-", "compose figures")
        for line in REPORT:
            terminalreporter.write_line(line)


@pytest.fixture(scope="session")
def report() -> list[str]:
    return REPORT


@pytest.fixture(scope="session")
def podman() -> Podman:
    log = STATE_DIR / "engine.log"
    STATE_DIR.mkdir(exist_ok=True)
    log.write_text("")
    engine = Podman(log)
    engine.remove_project_objects()  # what an interrupted earlier run left
    return engine


@pytest.fixture(scope="session")
def build_times(podman: Podman) -> dict[str, float]:
    """Builds the stand-ins and the project's images; returns seconds per step."""
    times = {}
    started = time.monotonic()
    standins.build_standins(podman)
    times["stand-ins"] = time.monotonic() - started
    if CLEAN:
        shutil.rmtree(STATE_DIR / "tmp" / "buildah-cache", ignore_errors=True)
        for image in ("grpc-prometheus-echo-server:0.1.0", "grpc-prometheus-echo-client:0.1.0"):
            podman.run("rmi", "-f", image, check=False)
        podman.run("image", "prune", "-f", check=False)
    started = time.monotonic()
    stack = Stack(podman, scale={}, services=[])
    stack.build("grpcserver", "grpcclient")
    times["project images"] = time.monotonic() - started
    podman.run("image", "prune", "-f", check=False)  # the build stages: gigabytes a run
    REPORT.append("build seconds: " + ", ".join(f"{k} {v:.0f}" for k, v in times.items()))
    return times


@pytest.fixture(scope="session")
def stack(podman: Podman, build_times: dict[str, float]) -> Iterator[Stack]:
    without = standins.services_without_standin()
    services = [s for s in Stack(podman, {}, []).definition["services"] if s not in without]
    running = Stack(podman, scale={"grpcserver": REPLICAS}, services=services)
    try:
        started = time.monotonic()
        running.up()
        for service in services:
            running.wait_for(service, "service_healthy", deadline=120)
        REPORT.append(f"stack up and healthy in {time.monotonic() - started:.0f} s "
                      f"({', '.join(running.start_order())})")
        yield running
    except EngineError as error:
        pytest.fail(f"{error}\n{running.logs()}", pytrace=False)
    finally:
        left = running.down()
        if any(left.values()):
            pytest.fail(f"tear-down left {left}", pytrace=False)
