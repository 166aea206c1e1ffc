"""docker/prometheus: promtool accepts the config and the rules, the rule unit tests pass and cover
every alert both ways, the scrape jobs are the original's, and the loopback rewrite used by the
end-to-end test and `make run-prometheus` changes the targets and nothing else."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from stack import PROMETHEUS_DIR, REPO_ROOT, metric_names  # also puts deploy/ on sys.path
import local_prometheus  # noqa: E402,I001

PROMTOOL = shutil.which("promtool")
RULE_FILES = sorted((PROMETHEUS_DIR / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS_DIR / "tests").glob("*.yml"))
METRIC_SOURCES = REPO_ROOT / "Sources/GRPCPrometheus"

needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool not installed (apt-get install prometheus)")


def promtool(*args: str | Path) -> subprocess.CompletedProcess:
    assert PROMTOOL is not None
    return subprocess.run([PROMTOOL, *map(str, args)], cwd=PROMETHEUS_DIR, capture_output=True,
                          text=True, timeout=60)


def config() -> dict:
    return yaml.safe_load((PROMETHEUS_DIR / "prometheus.yml").read_text())


def rules(kind: str) -> list[dict]:
    found = []
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            found += [rule for rule in group["rules"] if kind in rule]
    return found


@needs_promtool
def test_promtool_check_config() -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(RULE_FILES)} rule files found" in result.stdout


@needs_promtool
def test_promtool_check_rules() -> None:
    result = promtool("check", "rules", *RULE_FILES)
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
@pytest.mark.parametrize("test_file", RULE_TESTS, ids=[p.name for p in RULE_TESTS])
def test_promtool_test_rules(test_file: Path) -> None:
    result = promtool("test", "rules", test_file)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_case() -> None:
    fires, quiet = set(), set()
    for path in RULE_TESTS:
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (fires if check.get("exp_alerts") else quiet).add(check["alertname"])
    alerts = {rule["alert"] for rule in rules("alert")}
    assert alerts, "no alerts defined"
    assert alerts <= fires, f"alerts never tested firing: {alerts - fires}"
    assert alerts <= quiet, f"alerts never tested quiet: {alerts - quiet}"


def test_alerts_cover_down_errors_and_latency() -> None:
    alerts = {rule["alert"]: rule for rule in rules("alert")}
    assert "up" in alerts["GRPCTargetDown"]["expr"]
    assert any("errors:ratio" in rule["expr"] for rule in alerts.values())
    assert any('quantile="0.99"' in rule["expr"] for rule in alerts.values())
    for rule in alerts.values():
        assert rule.get("for"), f"{rule['alert']} fires on a single evaluation"
        assert rule["labels"]["severity"] in ("critical", "warning")
        assert rule["annotations"]["summary"] and rule["annotations"]["description"]


def test_recording_rules_cover_rate_errors_and_quantiles() -> None:
    recorded = rules("record")
    for side in ("server", "client"):
        exprs = {rule["record"] + str(rule.get("labels", {})): rule["expr"] for rule in recorded
                 if f"grpc_{side}" in rule["record"]}
        joined = "\n".join(exprs.values())
        assert f"rate(grpc_{side}_started_total[1m])" in joined
        assert f"rate(grpc_{side}_handled_total[1m])" in joined
        assert any("errors:ratio" in name for name in exprs)
        quantiles = {rule["labels"]["quantile"] for rule in recorded
                     if rule["record"] == f"job_service_method:grpc_{side}_handling_seconds:histogram_quantile"}
        assert quantiles == {"0.5", "0.9", "0.99"}
        for rule in recorded:
            if "histogram_quantile(" in rule["expr"]:
                assert "le)" in rule["expr"], "quantiles must keep `le` when summing buckets"


def test_rules_use_only_metric_names_the_library_exports() -> None:
    """go-grpc-prometheus names exactly: every raw family a rule reads is defined in
    Sources/GRPCPrometheus (histogram series take their family's name)."""
    exported = set()
    for source in METRIC_SOURCES.glob("*.swift"):
        exported |= set(re.findall(r'"((?:grpc|process)_[a-z_]+)"', source.read_text()))
    recorded = {rule["record"] for rule in rules("record")}
    used = set()
    for rule in rules("expr"):
        used |= metric_names(rule["expr"]) - recorded - {"up"}
    families = {re.sub(r"_(bucket|sum|count)$", "", name) for name in used}
    assert families <= exported, families - exported


def test_scrape_jobs_are_the_originals() -> None:
    loaded = config()
    assert loaded["global"]["scrape_interval"] == "5s"
    jobs = {job["job_name"]: job for job in loaded["scrape_configs"]}
    assert set(jobs) == {"prometheus", "grpcserver", "grpcclient"}
    assert jobs["prometheus"]["static_configs"] == [{"targets": ["localhost:9090"]}]
    assert jobs["grpcserver"]["dns_sd_configs"] == [
        {"names": ["grpcserver"], "type": "A", "port": 8080, "refresh_interval": "10s"}]
    assert jobs["grpcclient"]["dns_sd_configs"][0]["port"] == 8081
    assert loaded["rule_files"] == ["rules/*.yml"]


def test_local_rewrite_changes_only_targets(tmp_path: Path) -> None:
    path = local_prometheus.write_local_config(
        tmp_path, servers=["127.0.0.1:1", "127.0.0.1:2"], clients=["127.0.0.1:3"], listen="127.0.0.1:4")
    original, local = config(), yaml.safe_load(path.read_text())
    assert local["rule_files"] == [str(PROMETHEUS_DIR / "rules/*.yml")]
    targets = {job["job_name"]: job["static_configs"] for job in local["scrape_configs"]}
    assert targets == {"prometheus": [{"targets": ["127.0.0.1:4"]}],
                       "grpcserver": [{"targets": ["127.0.0.1:1", "127.0.0.1:2"]}],
                       "grpcclient": [{"targets": ["127.0.0.1:3"]}]}
    # Everything else is the committed file's.
    for loaded in (original, local):
        del loaded["rule_files"]
        for job in loaded["scrape_configs"]:
            for key in [k for k in job if k.endswith("_sd_configs") or k == "static_configs"]:
                del job[key]
    assert local == original
    if PROMTOOL:
        result = subprocess.run([PROMTOOL, "check", "config", str(path)], capture_output=True, text=True,
                                timeout=60)
        assert result.returncode == 0, result.stdout + result.stderr


def test_local_rewrite_refuses_an_unmapped_job() -> None:
    with pytest.raises(KeyError, match="grpcclient"):
        local_prometheus.localize(config(), {"prometheus": [], "grpcserver": []}, PROMETHEUS_DIR)
