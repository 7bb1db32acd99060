"""The alert rules mlgitops renders pass Prometheus' own tool: `promtool check rules` on every rendered rule group, and
`promtool test rules` on the unit tests `mlgitops alerts` writes (synthetic series → the expected alerts).

promtool comes with Debian's and Ubuntu's `prometheus` package (the README's test command and .ci/run install it
where it is missing); a developer machine without it skips these tests, CI never does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mlgitops.load.environments import load_environments
from mlgitops.render.alert_objects import promtool_rules
from mlgitops.render.alert_rules import derive_alerts
from tests.support import REPO, run_here

INSTALL = "apt-get install -y --no-install-recommends prometheus"


def promtool() -> str:
    """promtool's path; skipped without it, except in CI."""
    found = shutil.which("promtool")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"promtool is required in CI (Debian/Ubuntu: {INSTALL})")
        pytest.skip(f"promtool is not installed (Debian/Ubuntu: {INSTALL})")
    return found


def _promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _rendered_rules() -> list[Path]:
    found = sorted(REPO.glob("rendered/*/prometheusrule-*.yaml"))
    assert len(found) == 3, "the example fleet renders a PrometheusRule in dev, staging and prod"
    return found


@pytest.mark.parametrize("path", _rendered_rules(), ids=lambda path: path.parent.name)
def test_promtool_accepts_every_rendered_rule_group(path: Path, tmp_path: Path) -> None:
    rule = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert rule["kind"] == "PrometheusRule"
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule["spec"]), encoding="utf-8")
    checked = _promtool("check", "rules", "rules.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`mlgitops alerts --out OUT` over the example fleet."""
    out = tmp_path_factory.mktemp("alerts")
    monkeypatch = pytest.MonkeyPatch()
    try:
        result = run_here(monkeypatch, REPO, "alerts", "--out", str(out))
    finally:
        monkeypatch.undo()
    assert result.exit_code == 0, result.stderr
    return out


def test_alerts_writes_rules_and_tests_of_every_environment(written: Path) -> None:
    assert sorted(path.name for path in written.iterdir()) == [
        "dev.rules.test.yaml",
        "dev.rules.yaml",
        "prod.rules.test.yaml",
        "prod.rules.yaml",
        "staging.rules.test.yaml",
        "staging.rules.yaml",
    ]
    rules = yaml.safe_load((written / "dev.rules.yaml").read_text(encoding="utf-8"))
    tests = yaml.safe_load((written / "dev.rules.test.yaml").read_text(encoding="utf-8"))
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    firing, quiet = tests["tests"]
    assert tests["rule_files"] == ["dev.rules.yaml"]
    # Every alert is expected, with its labels, where its series fire it, and nothing where they keep it quiet.
    expected = [alert for check in firing["alert_rule_test"] for alert in check["exp_alerts"]]
    assert len(expected) == len(alerts)
    assert all(check["exp_alerts"] == [] for check in quiet["alert_rule_test"])
    assert {alert["exp_labels"]["workload"] for alert in expected if "workload" in alert["exp_labels"]} == {
        "chat-llm",
        "embeddings-serve",
        "feature-etl",
        "nightly-embeddings",
        "resnet-classifier",
        "resnet-ddp",
        "resnet-serve",
        "resnet-train",
        "resnet-tune",
    }
    names = {rule["alert"] for rule in alerts}
    assert names == {
        "GPUAllocatedIdle",
        "LLMQueueAboveTarget",
        "LLMKVCacheNearlyFull",
        "LatencyAboveSLO",
        "ContainerRestarting",
        "ContainerOOMKilled",
        "KueuePendingTooLong",
        "VolumeNearlyFull",
    }


def test_promtool_runs_the_generated_unit_tests(written: Path) -> None:
    checked = _promtool("check", "rules", "dev.rules.yaml", "prod.rules.yaml", "staging.rules.yaml", cwd=written)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = _promtool("test", "rules", "dev.rules.test.yaml", "prod.rules.test.yaml", "staging.rules.test.yaml", cwd=written)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert tested.stdout.count("SUCCESS") == 3
    assert "FAILED" not in tested.stdout


def test_the_unit_tests_catch_a_changed_threshold(written: Path, tmp_path: Path) -> None:
    """The generated tests can fail: a rule whose threshold moved no longer fires as its test expects."""
    for name in ("dev.rules.yaml", "dev.rules.test.yaml"):
        shutil.copy(written / name, tmp_path / name)
    rules = yaml.safe_load((tmp_path / "dev.rules.yaml").read_text(encoding="utf-8"))
    [idle] = [
        rule
        for group in rules["groups"]
        for rule in group["rules"]
        if rule["alert"] == "GPUAllocatedIdle" and rule["labels"].get("workload") == "resnet-train"
    ]
    assert idle["expr"].endswith("< 15")  # resnet-train's own threshold, over the environment's default of 10
    idle["expr"] = idle["expr"].removesuffix("< 15") + "< 1"
    (tmp_path / "dev.rules.yaml").write_text(yaml.safe_dump(rules), encoding="utf-8")
    tested = _promtool("test", "rules", "dev.rules.test.yaml", cwd=tmp_path)
    assert tested.returncode != 0
    assert "alertname: GPUAllocatedIdle" in tested.stdout + tested.stderr
    assert 'workload="resnet-train"' in tested.stdout + tested.stderr


def test_the_prometheusrule_holds_exactly_the_rule_file() -> None:
    [dev] = load_environments(REPO / "environments", ["dev"])
    [path] = [path for path in _rendered_rules() if path.parent.name == "dev"]
    rendered = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert rendered["spec"] == promtool_rules(derive_alerts(dev.spec, "dev"))
    assert rendered["metadata"]["labels"]["release"] == "prometheus"  # what the environment's Prometheus selects
