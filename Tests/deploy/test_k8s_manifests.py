"""deploy/k8s: every manifest validates offline against the Kubernetes schemas (kubernetes-validate,
strict: unknown fields are errors) for the oldest and newest versions checked, and the pieces fit:
a headless Service for client-side load balancing, probes, scrape annotations, non-root pods."""

from __future__ import annotations

import copy

import kubernetes_validate
import pytest
import yaml

from stack import REPO_ROOT

MANIFESTS = sorted((REPO_ROOT / "deploy/k8s").glob("*.yaml"))
#: gRPC probes are GA from 1.27; 1.28 is the oldest version still checked here.
VERSIONS = ["1.28.0", kubernetes_validate.latest_version()]


def documents() -> list[tuple[str, dict]]:
    return [(f"{path.name}:{doc['kind']}/{doc['metadata']['name']}", doc)
            for path in MANIFESTS for doc in yaml.safe_load_all(path.read_text()) if doc]


DOCS = documents()


def by_kind(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for _, doc in DOCS if doc["kind"] == kind}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize(("name", "doc"), DOCS, ids=[name for name, _ in DOCS])
def test_manifest_validates(name: str, doc: dict, version: str) -> None:
    kubernetes_validate.validate(doc, version, strict=True)


def test_the_validator_rejects_a_broken_manifest() -> None:
    deployment = copy.deepcopy(by_kind("Deployment")["grpcserver"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessProbe"]["grpc"]["port"] = "eight"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)
    deployment = copy.deepcopy(by_kind("Deployment")["grpcserver"])
    deployment["spec"]["replica"] = 3  # typo: strict mode rejects unknown fields
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[-1], strict=True)


def test_server_service_is_headless_and_client_uses_it() -> None:
    services, deployments = by_kind("Service"), by_kind("Deployment")
    assert set(deployments) == {"grpcserver", "grpcclient"}
    assert services["grpcserver"]["spec"]["clusterIP"] == "None"
    assert services["grpcclient"]["spec"].get("clusterIP") != "None"
    env = {e["name"]: e["value"] for e in deployments["grpcclient"]["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["GRPC_SERVER_HOST"] == "grpcserver"
    assert env["GRPC_SERVER_PORT"] == str(services["grpcserver"]["spec"]["ports"][0]["port"]) == "8080"
    for name, service in services.items():
        selector = service["spec"]["selector"]
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        assert selector.items() <= labels.items(), name


@pytest.mark.parametrize(("name", "port", "ready_path"), [("grpcserver", 8080, None), ("grpcclient", 8081, "/readyz")])
def test_pods_are_probed_annotated_and_unprivileged(name: str, port: int, ready_path: str | None) -> None:
    template = by_kind("Deployment")[name]["spec"]["template"]
    annotations = template["metadata"]["annotations"]
    assert annotations == {"prometheus.io/scrape": "true", "prometheus.io/port": str(port),
                           "prometheus.io/path": "/metrics"}
    pod = template["spec"]
    (container,) = pod["containers"]
    assert container["ports"][0]["containerPort"] == port
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    readiness = container["readinessProbe"]
    if ready_path is None:
        assert readiness["grpc"]["port"] == port  # the server's grpc.health.v1 service
    else:
        assert readiness["httpGet"]["path"] == ready_path
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001  # the Dockerfiles' user
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert ":" in container["image"] and not container["image"].endswith(":latest")
