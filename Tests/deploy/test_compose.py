"""compose.yaml, checked without a Docker engine: it parses, names only files that exist, pins every
image, health-checks every service, orders start-up on health, and wires the services to each
other the way the Prometheus config, the Grafana provisioning and the binaries expect."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from stack import REPO_ROOT

COMPOSE = REPO_ROOT / "compose.yaml"
SERVICES = {"grpcserver", "grpcclient", "prometheus", "grafana", "traffic"}


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def _bind_mounts(service: dict) -> list[tuple[str, str]]:
    """(host path, container path) for each `./...` volume of a service (short syntax)."""
    mounts = []
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts.append((source, target))
    return mounts


def _command_flag(service: dict, flag: str) -> str:
    for arg in service["command"]:
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    raise AssertionError(f"{flag} not in {service['command']}")


def test_services(compose: dict) -> None:
    assert set(compose["services"]) == SERVICES


def test_every_bind_mount_and_build_file_exists(compose: dict) -> None:
    for name, service in compose["services"].items():
        for source, _ in _bind_mounts(service):
            assert (REPO_ROOT / source).exists(), f"{name}: mount source {source} does not exist"
        if build := service.get("build"):
            context = REPO_ROOT / build["context"]
            assert context.is_dir(), name
            assert (context / build["dockerfile"]).is_file(), f"{name}: {build['dockerfile']}"


def test_every_image_is_pinned(compose: dict) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.search(r"\d", tag), f"{name}: {image} is not pinned to a version"
    assert compose["services"]["prometheus"]["image"].startswith("prom/prometheus:v2.53.")
    assert compose["services"]["grafana"]["image"].startswith("grafana/grafana:")


def test_every_service_is_health_checked_and_restarted(compose: dict) -> None:
    for name, service in compose["services"].items():
        assert service["healthcheck"]["test"][0] in ("CMD", "CMD-SHELL"), name
        assert service.get("restart") in ("unless-stopped", "always", "on-failure"), name
    # The binaries check themselves with their own probe subcommands.
    assert compose["services"]["grpcserver"]["healthcheck"]["test"][1:] == [
        "/usr/local/bin/EchoServer", "healthcheck"]
    assert compose["services"]["grpcclient"]["healthcheck"]["test"][1:] == [
        "/usr/local/bin/EchoClient", "healthcheck"]


def test_start_up_waits_for_health(compose: dict) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            assert condition == {"condition": "service_healthy"}, f"{name} -> {dependency}"
    assert set(services["grpcclient"]["depends_on"]) == {"grpcserver"}
    assert set(services["grafana"]["depends_on"]) == {"prometheus"}
    assert "depends_on" not in services["prometheus"], "monitoring starts whatever the app's health"
    assert set(services["traffic"]["depends_on"]) == {"grpcclient"}


def test_published_ports(compose: dict) -> None:
    services = compose["services"]
    assert services["grpcclient"]["ports"] == ["8081:8081"]
    assert services["prometheus"]["ports"] == ["9090:9090"]
    assert services["grafana"]["ports"] == ["3000:3000"]
    # `--scale grpcserver=3` must not collide on a fixed host port: loopback, ephemeral host port.
    for port in services["grpcserver"]["ports"]:
        host_ip, host_port, container_port = port.split(":")
        assert (host_ip, host_port, container_port) == ("127.0.0.1", "", "8080"), port


def test_client_calls_the_server_service_by_name(compose: dict) -> None:
    environment = compose["services"]["grpcclient"]["environment"]
    assert environment["GRPC_SERVER_HOST"] == "grpcserver"
    assert environment["GRPC_SERVER_PORT"] == compose["services"]["grpcserver"]["environment"]["GRPC_SERVER_PORT"] == "8080"
    assert environment["GRPC_CLIENT_PORT"] == "8081"
    assert "http://grpcclient:8081/echo?m=" in compose["services"]["traffic"]["command"][0]


def test_prometheus_mounts_match_its_config(compose: dict) -> None:
    service = compose["services"]["prometheus"]
    mounts = dict(_bind_mounts(service))
    config_path = _command_flag(service, "--config.file")
    assert mounts["./docker/prometheus/prometheus.yml"] == config_path
    # rule_files are relative to the config file: the rules folder must sit beside it.
    config = yaml.safe_load((REPO_ROOT / "docker/prometheus/prometheus.yml").read_text())
    for pattern in config["rule_files"]:
        container_dir = str(Path(config_path).parent / Path(pattern).parent)
        assert mounts["./docker/prometheus/rules"] == container_dir, pattern
    # Service discovery names are the compose service names, on their container ports.
    for job in config["scrape_configs"]:
        for sd in job.get("dns_sd_configs", []):
            for name in sd["names"]:
                assert name in compose["services"], name
                assert sd["type"] == "A"
                assert str(sd["port"]) in compose["services"][name]["environment"].values()


def test_grafana_provisioning_mounts(compose: dict) -> None:
    service = compose["services"]["grafana"]
    mounts = dict(_bind_mounts(service))
    assert mounts["./docker/grafana/provisioning"] == "/etc/grafana/provisioning"
    provider = yaml.safe_load(
        (REPO_ROOT / "docker/grafana/provisioning/dashboards/dashboards.yml").read_text())["providers"][0]
    assert mounts["./docker/grafana/dashboards"] == provider["options"]["path"]
    home = service["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home.startswith(provider["options"]["path"] + "/")
    assert (REPO_ROOT / "docker/grafana/dashboards" / Path(home).name).is_file()
    assert service["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "true"
    assert service["environment"]["GF_AUTH_ANONYMOUS_ORG_ROLE"] == "Viewer"
    datasource = yaml.safe_load(
        (REPO_ROOT / "docker/grafana/provisioning/datasources/prometheus.yml").read_text())["datasources"][0]
    assert datasource["url"] == "http://prometheus:9090"


def test_built_images_match_the_kubernetes_manifests(compose: dict) -> None:
    manifests = "\n".join(p.read_text() for p in (REPO_ROOT / "deploy/k8s").glob("*.yaml"))
    for name in ("grpcserver", "grpcclient"):
        image = compose["services"][name]["image"]
        assert f"image: {image}" in manifests, image


def test_dockerignore_keeps_build_products_out() -> None:
    patterns = [line.strip() for line in (REPO_ROOT / ".dockerignore").read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for required in (".build*", ".venv", ".git"):
        assert required in patterns, required
