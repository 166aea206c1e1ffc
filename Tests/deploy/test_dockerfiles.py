"""docker/server.Dockerfile and docker/client.Dockerfile, checked without a Docker engine: every path
they copy exists and is not excluded by .dockerignore, they build the right products of
Package.swift in the Swift image Package.swift needs, and the runtime stage is slim, non-root,
health-checked with the binary's own probe, and exposes the right port."""

from __future__ import annotations

import fnmatch
import glob
import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dockerfile
import pytest

from stack import REPO_ROOT

PACKAGE_SWIFT = (REPO_ROOT / "Package.swift").read_text()
RUNTIME_PACKAGES = {"libnghttp2-14", "zlib1g"}


@dataclass(frozen=True)
class Image:
    dockerfile: str
    product: str
    port: int


IMAGES = [Image("docker/server.Dockerfile", "EchoServer", 8080),
          Image("docker/client.Dockerfile", "EchoClient", 8081)]


def instructions(path: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    result, current = [], ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        current += line
        keyword, _, rest = current.partition(" ")
        result.append((keyword.upper(), rest.strip()))
        current = ""
    assert not current, f"{path}: dangling line continuation"
    return result


def stages(path: Path) -> list[list[tuple[str, str]]]:
    """Instructions split per stage; global ARGs substituted into each FROM."""
    args: dict[str, str] = {}
    split: list[list[tuple[str, str]]] = []
    for keyword, rest in instructions(path):
        if keyword == "ARG" and not split:
            name, _, default = rest.partition("=")
            args[name] = default
            continue
        if keyword == "FROM":
            rest = re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], rest)
            split.append([])
        split[-1].append((keyword, rest))
    return split


def apt_installed(stage: list[tuple[str, str]]) -> set[str]:
    packages: set[str] = set()
    for keyword, rest in stage:
        if keyword == "RUN" and "apt-get install" in rest:
            words = rest.split("apt-get install", 1)[1].split("&&", 1)[0].split()
            packages |= {w for w in words if not w.startswith("-")}
    return packages


def dockerignore_patterns() -> list[str]:
    return [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
            if line.strip() and not line.startswith("#")]


def is_ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule for the common case: a pattern excludes a path or any of its parents."""
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(prefix, pattern.removeprefix("**/")) or fnmatch.fnmatch(prefix, pattern)
               for pattern in patterns if not pattern.startswith("!") for prefix in prefixes)


def executable_products() -> set[str]:
    return set(re.findall(r'\.executable\(\s*name:\s*"(\w+)"', PACKAGE_SWIFT))


@pytest.fixture(params=IMAGES, ids=[i.product for i in IMAGES])
def image(request) -> Image:
    return request.param


def test_buildkit_parser_reads_the_same_instructions(image: Image) -> None:
    """BuildKit's own parser (Go, through PyPI `dockerfile`) accepts the file, and this suite's
    small parser sees the same instruction sequence."""
    parsed = dockerfile.parse_file(str(REPO_ROOT / image.dockerfile))
    assert [command.cmd.upper() for command in parsed] == [k for k, _ in instructions(REPO_ROOT / image.dockerfile)]


def test_hadolint(image: Image) -> None:
    # DL3008 (pin apt package versions) is ignored on purpose: Debian drops superseded versions
    # from its archive, so a pinned version breaks the build at the next point release; the
    # bookworm base images pin the distribution instead.
    hadolint = Path(sys.executable).parent / "hadolint"
    result = subprocess.run([str(hadolint), "--no-color", "--ignore", "DL3008", image.dockerfile],
                            cwd=REPO_ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_two_stages_swift_build_and_slim_runtime(image: Image) -> None:
    build, runtime = stages(REPO_ROOT / image.dockerfile)
    assert build[0][1] == "swift:6.3-bookworm AS build"
    assert runtime[0][1] == "debian:bookworm-slim"
    # The Swift image must be at least the tools version Package.swift declares.
    tools = re.search(r"swift-tools-version:\s*(\d+)\.(\d+)", PACKAGE_SWIFT)
    image_version = re.search(r"swift:(\d+)\.(\d+)", build[0][1])
    assert tools and image_version
    assert tuple(map(int, image_version.groups())) >= tuple(map(int, tools.groups()))


def test_build_stage_installs_what_package_swift_asks_for(image: Image) -> None:
    build, _ = stages(REPO_ROOT / image.dockerfile)
    wanted = set()
    for group in re.findall(r"\.apt\(\[([^\]]*)\]\)", PACKAGE_SWIFT):
        wanted |= set(re.findall(r'"([^"]+)"', group))
    assert wanted and wanted <= apt_installed(build)


def test_copied_paths_exist_and_reach_the_context(image: Image) -> None:
    patterns = dockerignore_patterns()
    for stage in stages(REPO_ROOT / image.dockerfile):
        for keyword, rest in stage:
            if keyword not in ("COPY", "ADD") or rest.startswith("--from"):
                continue
            sources = [s for s in shlex.split(rest)[:-1] if not s.startswith("--")]
            for source in sources:
                matches = glob.glob(source, root_dir=REPO_ROOT)
                assert matches, f"{image.dockerfile}: COPY {source} matches nothing"
                for match in matches:
                    assert not is_ignored(match, patterns), f"{match} is excluded by .dockerignore"


def test_builds_the_product_and_installs_that_binary(image: Image) -> None:
    build, runtime = stages(REPO_ROOT / image.dockerfile)
    runs = " ".join(rest for keyword, rest in build if keyword == "RUN")
    # The shared release build (make run and make bench use it too), static Swift runtime.
    assert ("COPY", "scripts/build-release.sh ./scripts/") in build
    assert f"scripts/build-release.sh {image.product} " in runs
    script = (REPO_ROOT / "scripts/build-release.sh").read_text()
    assert "-c release --static-swift-stdlib" in script
    assert f'/{image.product}" /out/{image.product}' in runs
    assert ("COPY", f"--from=build /out/{image.product} /usr/local/bin/{image.product}") in runtime
    if image.product not in executable_products():
        pytest.skip(f"{image.product} is not an executable product of Package.swift yet (issue 4)")


def test_runtime_stage_is_slim_non_root_and_health_checked(image: Image) -> None:
    _, runtime = stages(REPO_ROOT / image.dockerfile)
    assert apt_installed(runtime) == RUNTIME_PACKAGES
    binary = f"/usr/local/bin/{image.product}"
    users = [rest for keyword, rest in runtime if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    assert f"--uid {users[-1].split(':')[0]}" in " ".join(rest for k, rest in runtime if k == "RUN")
    health = [rest for keyword, rest in runtime if keyword == "HEALTHCHECK"]
    assert len(health) == 1
    assert json.loads(health[0].split(" CMD ", 1)[1]) == [binary, "healthcheck"]
    assert ("EXPOSE", str(image.port)) in runtime
    entrypoint = [json.loads(rest) for keyword, rest in runtime if keyword == "ENTRYPOINT"]
    assert entrypoint == [[binary]]


def test_serves_on_all_interfaces_by_default(image: Image) -> None:
    _, runtime = stages(REPO_ROOT / image.dockerfile)
    cmd = [json.loads(rest) for keyword, rest in runtime if keyword == "CMD"]
    assert cmd == [["serve", "--host", "0.0.0.0"]]
    env = " ".join(rest for keyword, rest in runtime if keyword == "ENV")
    assert "GRPC_SERVER_PORT=8080" in env
    if image.product == "EchoClient":
        assert "GRPC_CLIENT_PORT=8081" in env and "GRPC_SERVER_HOST=grpcserver" in env


def test_server_product_is_in_package_swift() -> None:
    assert "EchoServer" in executable_products()


def test_ignore_rules_match_what_they_should() -> None:
    patterns = dockerignore_patterns()
    for ignored in (".build", ".build-release/release/EchoServer", ".venv/bin/python", ".git/HEAD",
                    "Tests/interop/__pycache__/x.pyc"):
        assert is_ignored(ignored, patterns), ignored
    for kept in ("Sources/EchoServer/EchoServerCommand.swift", "Package.swift", "Tests/TestSupport"):
        assert not is_ignored(kept, patterns), kept
