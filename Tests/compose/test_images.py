"""The two images docker/server.Dockerfile and docker/client.Dockerfile build, as built by
podman-compose from compose.yaml: stripped binaries that find every library they link, only the
runtime packages they use, an unprivileged user, and the binaries' own health checks."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from engine import Podman


@dataclass(frozen=True)
class Image:
    name: str
    binary: str


IMAGES = [Image("grpc-prometheus-echo-server:0.1.0", "EchoServer"),
          Image("grpc-prometheus-echo-client:0.1.0", "EchoClient")]
#: The libraries the binaries link beyond glibc and libstdc++ (zlib1g is in the base already).
RUNTIME_PACKAGES = {"libnghttp2-14", "zlib1g"}


def _in_image(podman: Podman, image: Image, *command: str) -> str:
    return podman.run("run", "--rm", "--network", "none", "--entrypoint", command[0],
                      image.name, *command[1:], timeout=60)


@pytest.fixture(scope="module", params=IMAGES, ids=lambda i: i.binary)
def image(request: pytest.FixtureRequest, build_times: dict[str, float]) -> Image:
    return request.param


def test_runs_as_uid_10001_by_default(podman: Podman, image: Image) -> None:
    assert podman.inspect("image", image.name)["Config"]["User"] == "10001:10001"
    assert _in_image(podman, image, "id", "-u").strip() == "10001"


def test_health_check_is_the_binarys_own(podman: Podman, image: Image) -> None:
    check = podman.inspect("image", image.name)["Healthcheck"]  # kept by --format docker
    assert check["Test"] == ["CMD", f"/usr/local/bin/{image.binary}", "healthcheck"]


def test_binary_is_stripped_and_finds_its_libraries(podman: Podman, image: Image,
                                                    tmp_path: Path, report: list[str]) -> None:
    copy = tmp_path / image.binary
    container = podman.run("create", image.name).strip()
    try:
        podman.run("cp", f"{container}:/usr/local/bin/{image.binary}", str(copy))
    finally:
        podman.run("rm", container)
    sections = subprocess.run(["readelf", "-S", "-W", str(copy)], capture_output=True,
                              text=True, check=True).stdout
    assert ".symtab" not in sections and ".debug_info" not in sections, "binary is not stripped"
    libraries = _in_image(podman, image, "ldd", f"/usr/local/bin/{image.binary}")
    assert "not found" not in libraries, libraries
    assert "libnghttp2.so.14" in libraries and "libz.so.1" in libraries, libraries
    # The stripped binary still runs: its own --help.
    assert f"USAGE: {image.binary}" in _in_image(podman, image, f"/usr/local/bin/{image.binary}",
                                                  "--help")
    report.append(f"{image.binary}: {copy.stat().st_size / 1e6:.1f} MB stripped")


def test_only_the_runtime_packages_are_added(podman: Podman, image: Image) -> None:
    def packages(name: str) -> set[str]:
        out = podman.run("run", "--rm", "--network", "none", "--entrypoint", "dpkg-query",
                         name, "-W", "-f", "${Package}\n", timeout=60)
        return {line.split(":")[0] for line in out.split()}

    installed = packages(image.name)
    added = installed - packages("docker.io/library/debian:bookworm-slim")
    assert RUNTIME_PACKAGES <= installed
    assert added <= RUNTIME_PACKAGES, f"installed beyond what the binary links: {added}"
    assert not {"openssl", "ca-certificates", "libssl3"} & installed


def test_image_adds_little_to_its_base(podman: Podman, image: Image, report: list[str]) -> None:
    size = int(podman.inspect("image", image.name)["Size"])
    base = int(podman.inspect("image", "docker.io/library/debian:bookworm-slim")["Size"])
    line = f"{image.name}: {size / 1e6:.1f} MB, {(size - base) / 1e6:.1f} MB over its base"
    report.append(line)
    # Base plus the stripped binary (about 26 MB) and libnghttp2: a regression (an unstripped
    # binary, package caches, a toolchain copied in) shows up as tens of megabytes more.
    assert size - base < 40e6, line
