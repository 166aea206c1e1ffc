"""Local stand-ins for the images compose.yaml and the Dockerfiles pull, built from Debian packages
because no registry can be reached here, and tagged exactly as Docker resolves the names the files
use. Each recipe is `standins/<name>-<tag>.Containerfile`, with its differences from the real image
written at its top. Grafana has no Debian package: the suite runs the stack without it.

Every stand-in builds on `debian:bookworm-slim`, whose stand-in is a Debian 12 minbase root file
system from debootstrap, imported once and kept in the suite's image storage.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import yaml

from engine import COMPOSE_FILE, REPO_ROOT, STATE_DIR, EngineError, Podman, standin_gitconfig

RECIPES = Path(__file__).resolve().parent / "standins"
DEBOOTSTRAP_IMAGE = "localhost/debootstrap-bookworm-minbase:latest"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
#: Images the suite cannot stand in for; the services that use them are left out of the stack.
WITHOUT_STANDIN = {"grafana/grafana"}


def docker_reference(image: str) -> str:
    """The full name Docker gives a short image name (`swift:6.3` is docker.io/library/swift:6.3)."""
    first = image.split("/")[0]
    if "/" not in image:
        return f"docker.io/library/{image}"
    if "." in first or ":" in first or first == "localhost":
        return image
    return f"docker.io/{image}"


def _repository(image: str) -> str:
    return image.rsplit(":", 1)[0]


def pulled_images() -> list[str]:
    """Every image the files pull: the services' images that are not built here, and the base
    images the Dockerfiles build FROM (their ARG defaults)."""
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    images = {s["image"] for s in services.values() if "build" not in s}
    for service in services.values():
        if build := service.get("build"):
            dockerfile = (REPO_ROOT / build["context"] / build["dockerfile"]).read_text()
            images |= set(re.findall(r"^ARG \w+_IMAGE=(\S+)$", dockerfile, re.MULTILINE))
    return sorted(images)


def recipe(image: str) -> Path:
    """standins/<last path component>-<tag>.Containerfile."""
    repository, tag = image.rsplit(":", 1)
    return RECIPES / f"{repository.rsplit('/', 1)[-1]}-{tag}.Containerfile"


def services_without_standin() -> set[str]:
    services = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return {name for name, s in services.items() if _repository(s["image"]) in WITHOUT_STANDIN}


def _import_debootstrap(podman: Podman) -> None:
    if shutil.which("debootstrap") is None:
        raise EngineError("debootstrap is missing (make test-compose installs it)")
    rootfs = STATE_DIR / "rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    try:
        done = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs),
                               DEBIAN_MIRROR], capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            raise EngineError(f"debootstrap failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
        tar = subprocess.run(["tar", "-C", str(rootfs), "-c", "."], capture_output=True,
                             check=True, timeout=300).stdout
        podman.run("import", "-", DEBOOTSTRAP_IMAGE, stdin=tar, timeout=300)
    finally:
        shutil.rmtree(rootfs, ignore_errors=True)


def build_standins(podman: Podman) -> list[str]:
    """Builds (or finds in the layer cache) a stand-in for every image the files pull; returns
    the names tagged."""
    if not podman.image_exists(DEBOOTSTRAP_IMAGE):
        _import_debootstrap(podman)
    images = [i for i in pulled_images() if _repository(i) not in WITHOUT_STANDIN]
    # debian:bookworm-slim first: every other stand-in builds on it.
    images.sort(key=lambda image: _repository(image) != "debian")
    with tempfile.TemporaryDirectory() as context:
        (Path(context) / "gitconfig").write_text(standin_gitconfig())
        for image in images:
            if not recipe(image).is_file():
                raise EngineError(f"{image}: no stand-in recipe {recipe(image).name}")
            podman.build(docker_reference(image), recipe(image), Path(context), timeout=900)
    return [docker_reference(image) for image in images]
