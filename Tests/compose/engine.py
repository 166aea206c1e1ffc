"""The container engine the compose suite runs on: Debian's podman (with runc) and PyPI's
podman-compose, configured for machines without a Docker engine, a registry or systemd.

Everything the engine needs that Docker would not lives here, never in compose.yaml or the
Dockerfiles: podman's configuration (runtime, ulimits, storage and networks in the suite's own
folders), build flags (host network for apt, the Swift toolchain and package store mounted into
the build steps, Docker image format so HEALTHCHECK is kept), an override file that publishes
every port on loopback only, and two things podman-compose 1.6 leaves out on podman 4.3:

- health checks: podman runs them from systemd timers, and these machines have no systemd, so
  `HealthChecker` runs each container's own check at its interval (`podman healthcheck run`, the
  command the timer would run);
- `depends_on` conditions: podman-compose ignores `service_healthy` before podman 4.6, so
  `Stack.up` starts the services one at a time in the order `depends_on` gives, each once its
  dependencies meet their condition.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO_ROOT / "compose.yaml"
OVERRIDE_FILE = Path(__file__).resolve().parent / "compose.podman.yaml"
#: Image storage and build caches, kept between runs (make clean removes them).
STATE_DIR = REPO_ROOT / ".build-compose"
#: Run-time state (containers, locks): on tmpfs, so a reboot cannot leave stale state behind;
#: one folder per checkout, as the image storage is.
RUN_DIR = Path("/run") / ("grpc-prometheus-echo-compose-"
                          + hashlib.sha256(str(STATE_DIR).encode()).hexdigest()[:12])
#: The suite's own compose project: a user's stack under the file's name is never touched.
PROJECT = "grpc-prometheus-echo-test"
PROJECT_LABEL = "io.podman.compose.project"


class EngineError(Exception):
    """A podman or podman-compose command failed; the message has its output."""


def _toolchain_root() -> Path:
    """The folder holding usr/bin/swift of the toolchain on PATH."""
    swift = shutil.which("swift")
    if swift is None:
        raise EngineError("no swift on PATH: the Swift toolchain is mounted into the image builds")
    return Path(os.path.realpath(swift)).parents[2]


def _package_store() -> tuple[Path | None, str]:
    """The local Swift package store and a gitconfig that maps GitHub URLs to it, taken from
    the system git configuration (none when GitHub is reached directly)."""
    out = subprocess.run(["git", "config", "--system", "--get-regexp", r"url\..*\.insteadof"],
                         capture_output=True, text=True).stdout
    store, lines = None, []
    for line in out.splitlines():
        key, _, original = line.partition(" ")
        replacement = key[len("url."):-len(".insteadof")]
        lines += [f'[url "{replacement}"]', f"\tinsteadOf = {original}"]
        store = Path(replacement)
    return store, "\n".join(lines) + "\n"


@dataclass
class Podman:
    """podman with this suite's configuration: every command the suite runs goes through here."""

    log: Path
    _log_lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for folder in (STATE_DIR, RUN_DIR, STATE_DIR / "networks", STATE_DIR / "tmp"):
            folder.mkdir(parents=True, exist_ok=True)
        # runc: crun fails on this kernel's hybrid cgroup layout. Explicit ulimits: podman's
        # defaults exceed the hard limits here ("setrlimit ... Operation not permitted").
        (STATE_DIR / "containers.conf").write_text(
            '[containers]\n'
            'default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]\n'
            '[network]\n'
            f'network_config_dir = "{STATE_DIR / "networks"}"\n'
            '[engine]\n'
            'runtime = "runc"\n'
            'cgroup_manager = "cgroupfs"\n'
            'events_logger = "file"\n'
            f'tmp_dir = "{RUN_DIR / "libpod"}"\n')
        (STATE_DIR / "storage.conf").write_text(
            '[storage]\n'
            'driver = "overlay"\n'
            f'graphroot = "{STATE_DIR / "storage"}"\n'
            f'runroot = "{RUN_DIR / "storage"}"\n')
        # TMPDIR holds buildah's cache mounts (the SwiftPM cache the Dockerfiles share).
        self.env = dict(os.environ, CONTAINERS_CONF=str(STATE_DIR / "containers.conf"),
                        CONTAINERS_STORAGE_CONF=str(STATE_DIR / "storage.conf"),
                        TMPDIR=str(STATE_DIR / "tmp"))

    def run(self, *args: str, check: bool = True, timeout: float = 120,
            stdin: bytes | None = None) -> str:
        return self._run(["podman", *args], check=check, timeout=timeout, stdin=stdin)

    def _run(self, argv: list[str], *, check: bool, timeout: float,
             stdin: bytes | None = None) -> str:
        started = time.monotonic()
        try:
            done = subprocess.run(argv, input=stdin, capture_output=True, env=self.env,
                                  timeout=timeout, cwd=REPO_ROOT)
        except subprocess.TimeoutExpired as error:
            raise EngineError(f"{' '.join(argv)}: no answer in {timeout:.0f} s") from error
        out = done.stdout.decode(errors="replace")
        err = done.stderr.decode(errors="replace")
        with self._log_lock, self.log.open("a") as log:
            log.write(f"$ {' '.join(argv)}  ({time.monotonic() - started:.1f} s, "
                      f"exit {done.returncode})\n{out[-4000:]}{err[-4000:]}\n")
        if check and done.returncode != 0:
            raise EngineError(f"{' '.join(argv)} exited {done.returncode}:\n{err[-3000:]}")
        return out

    def inspect(self, kind: str, name: str) -> dict:
        return json.loads(self.run(kind, "inspect", name))[0]

    def image_exists(self, name: str) -> bool:
        return subprocess.run(["podman", "image", "exists", name], env=self.env,
                              capture_output=True).returncode == 0

    def build(self, tag: str, containerfile: Path, context: Path, *extra: str,
              timeout: float = 1800) -> None:
        self.run("build", *self.build_flags(), *extra, "-t", tag, "-f", str(containerfile),
                 str(context), timeout=timeout)

    @staticmethod
    def build_flags(mounts: bool = False) -> list[str]:
        """Flags every image build needs here. Docker's image format keeps HEALTHCHECK (podman's
        default OCI format drops it); the host network lets apt reach Debian's mirror."""
        flags = ["--format", "docker", "--network", "host", "--pull=never",
                 "--ulimit", "nofile=20000:20000", "--ulimit", "nproc=4096:4096"]
        if mounts:
            # The Swift toolchain (3.3 GB) and the package store, read-only, in every RUN step
            # of the project's Dockerfiles: the stand-in for swift:6.3-bookworm expects them.
            flags += ["-v", f"{_toolchain_root()}:/opt/swift:ro"]
            store, _ = _package_store()
            if store is not None:
                flags += ["-v", f"{store}:{store}:ro"]
        return flags

    # ---- The suite's own objects -----------------------------------------------------------

    def project_objects(self) -> dict[str, list[str]]:
        """Containers, networks and volumes of the suite's project still present."""
        label = f"label={PROJECT_LABEL}={PROJECT}"
        names = lambda out: [line for line in out.splitlines() if line]  # noqa: E731
        return {
            "containers": names(self.run("ps", "-a", "--filter", label, "--format",
                                         "{{.Names}}", check=False)),
            "networks": names(self.run("network", "ls", "--filter", label, "--format",
                                       "{{.Name}}", check=False)),
            "volumes": names(self.run("volume", "ls", "--filter", label, "--format",
                                      "{{.Name}}", check=False)),
        }

    def remove_project_objects(self) -> None:
        objects = self.project_objects()
        if objects["containers"]:
            self.run("rm", "-f", "-t", "5", *objects["containers"], check=False)
        if objects["networks"]:
            self.run("network", "rm", "-f", *objects["networks"], check=False)
        if objects["volumes"]:
            self.run("volume", "rm", "-f", *objects["volumes"], check=False)


def standin_gitconfig() -> str:
    """The git configuration the swift stand-in carries, so SwiftPM finds the package store."""
    return _package_store()[1]


# ------------------------------------------------------------------------------------------------
# Health checks (the systemd timers podman would use)
# ------------------------------------------------------------------------------------------------


def _seconds(nanoseconds: int | None) -> float:
    """A health check interval; podman's default (30 s) when none is set."""
    return nanoseconds / 1e9 if nanoseconds else 30.0


@dataclass
class HealthChecker:
    """Runs `podman healthcheck run` for every running container of the project at the interval
    its health check names, each check in its own thread (a check may take its full timeout)."""

    podman: Podman
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _due: dict[str, float] = field(default_factory=dict)
    _running: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> "HealthChecker":
        self._thread = threading.Thread(target=self._loop, name="health-checks", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        intervals: dict[str, float | None] = {}  # None: the container has no health check
        while not self._stop.wait(0.5):
            out = self.podman.run("ps", "--filter", f"label={PROJECT_LABEL}={PROJECT}",
                                  "--filter", "status=running", "--format", "{{.Names}}",
                                  check=False, timeout=30)
            now = time.monotonic()
            for name in out.split():
                if name not in intervals:
                    config = self.podman.inspect("container", name)["Config"].get("Healthcheck")
                    has_check = config and config.get("Test", ["NONE"])[0] != "NONE"
                    intervals[name] = _seconds(config.get("Interval")) if has_check else None
                interval = intervals[name]
                if interval is not None and now >= self._due.get(name, 0):
                    self._due[name] = now + interval
                    self._check(name)

    def _check(self, name: str) -> None:
        with self._lock:
            if name in self._running:
                return
            self._running.add(name)

        def run() -> None:
            try:
                self.podman.run("healthcheck", "run", name, check=False, timeout=30)
            finally:
                with self._lock:
                    self._running.discard(name)

        threading.Thread(target=run, name=f"health-{name}", daemon=True).start()


# ------------------------------------------------------------------------------------------------
# The compose project
# ------------------------------------------------------------------------------------------------


_TIMESTAMP_RE = re.compile(r"^(\S+?)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$")


def parse_time(value: str) -> float:
    """Seconds since the epoch of podman's RFC 3339 timestamps (nanosecond fractions)."""
    match = _TIMESTAMP_RE.match(value)
    if match is None:
        raise EngineError(f"not a podman timestamp: {value!r}")
    head, fraction, zone = match.groups()
    stamp = datetime.fromisoformat(head + ("+00:00" if zone == "Z" else zone))
    return stamp.timestamp() + float(f"0.{fraction or 0}")


@dataclass
class Stack:
    """compose.yaml (plus the suite's override) run by podman-compose under the suite's project."""

    podman: Podman
    scale: dict[str, int]
    services: list[str]
    health: HealthChecker | None = None
    #: Per service: its dependencies' containers (`podman inspect`) as they were when their
    #: conditions were met, just before the service was started.
    snapshots: dict[str, dict[str, list[dict]]] = field(default_factory=dict)

    @property
    def definition(self) -> dict:
        return yaml.safe_load(COMPOSE_FILE.read_text())

    def compose(self, *args: str, timeout: float = 300, podman_build_args: str = "") -> str:
        argv = [sys.executable, "-m", "podman_compose", "--in-pod", "false", "-p", PROJECT,
                "-f", str(COMPOSE_FILE), "-f", str(OVERRIDE_FILE)]
        if podman_build_args:
            argv += ["--podman-build-args", podman_build_args]
        return self.podman._run(argv + list(args), check=True, timeout=timeout)

    def build(self, *services: str, timeout: float = 2400) -> None:
        """The project's images, built by podman-compose from compose.yaml's build sections."""
        self.compose("build", *services, timeout=timeout,
                     podman_build_args=" ".join(Podman.build_flags(mounts=True)))

    def start_order(self) -> list[str]:
        """The services under test, each after what it depends on."""
        definition = self.definition["services"]
        order: list[str] = []

        def visit(name: str, path: tuple[str, ...]) -> None:
            if name in order:
                return
            if name in path:
                raise EngineError(f"depends_on cycle: {' -> '.join(path + (name,))}")
            for dependency in definition[name].get("depends_on", {}):
                visit(dependency, path + (name,))
            order.append(name)

        for name in self.services:
            visit(name, ())
        return order

    def up(self, deadline: float = 180) -> None:
        """Starts every service in dependency order, each once its dependencies meet the
        condition compose.yaml gives them (what podman-compose on podman 4.3 skips)."""
        self.health = HealthChecker(self.podman).start()
        definition = self.definition["services"]
        scale = [arg for name, count in self.scale.items() for arg in ("--scale", f"{name}={count}")]
        for name in self.start_order():
            dependencies = definition[name].get("depends_on", {})
            for dependency, rule in dependencies.items():
                self.wait_for(dependency, rule.get("condition", "service_started"), deadline)
            self.snapshots[name] = {d: self.containers(d, running_only=False) for d in dependencies}
            self.compose("up", "-d", "--no-deps", *scale, name)

    def containers(self, service: str, *, running_only: bool = True) -> list[dict]:
        """`podman inspect` of the service's containers, in replica order."""
        filters = ["--filter", f"label={PROJECT_LABEL}={PROJECT}",
                   "--filter", f"label=com.docker.compose.service={service}"]
        if running_only:
            filters += ["--filter", "status=running"]
        names = self.podman.run("ps", "-a", *filters, "--format", "{{.Names}}").split()
        return sorted((self.podman.inspect("container", n) for n in names),
                      key=lambda c: c["Name"])

    def health_status(self, container: dict) -> str:
        state = container["State"]
        return (state.get("Health") or state.get("Healthcheck") or {}).get("Status", "")

    def wait_for(self, service: str, condition: str, deadline: float) -> None:
        expected = self.scale.get(service, 1)
        until = time.monotonic() + deadline
        states: list[str] = []
        while time.monotonic() < until:
            containers = self.containers(service, running_only=False)
            states = [f"{c['Name']}: {c['State']['Status']} {self.health_status(c)}"
                      for c in containers]
            if len(containers) == expected and all(self._meets(c, condition) for c in containers):
                return
            time.sleep(0.5)
        raise EngineError(f"{service} did not meet {condition} in {deadline:.0f} s: {states}")

    def _meets(self, container: dict, condition: str) -> bool:
        state = container["State"]
        if condition == "service_healthy":
            return state["Status"] == "running" and self.health_status(container) == "healthy"
        if condition == "service_completed_successfully":
            return state["Status"] == "exited" and state["ExitCode"] == 0
        return state["Status"] == "running"

    def host_port(self, service: str, port: int, index: int = 0) -> int:
        """The loopback port the override published for the service's container port."""
        name = self.containers(service)[index]["Name"]
        out = self.podman.run("port", name, f"{port}/tcp").strip().splitlines()[0]
        host, _, published = out.rpartition(":")
        if host not in ("127.0.0.1", "[::1]"):
            raise EngineError(f"{name}: port {port} published on {host}, not loopback")
        return int(published)

    def logs(self, tail: int = 30) -> str:
        parts = []
        for name in self.podman.project_objects()["containers"]:
            parts.append(f"--- {name}\n{self.podman.run('logs', '--tail', str(tail), name, check=False)}")
        return "\n".join(parts)

    def down(self) -> dict[str, list[str]]:
        """Stops and removes everything the project made, volumes included; returns what is
        left (empty lists when tear-down was complete)."""
        if self.health is not None:
            self.health.stop()
        try:
            self.compose("down", "-v", "-t", "5", timeout=180)
        except EngineError:
            pass  # whatever compose left is removed below, and reported if that fails too
        self.podman.remove_project_objects()
        return self.podman.project_objects()
