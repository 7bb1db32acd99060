"""Extra manifests without a namespace are judged in the environment's namespace (where its kustomize root puts
them), and a finding in a file several environments share is reported once, at that file, naming the environments."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import run_here, write

BASE = """\
abstract: true
kubernetesVersion: "1.32"
networkPolicy: {}
manifests: [manifests/hpo.yaml]
"""

HPO = """\
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: handmade-hpo
spec:
  objective: {type: maximize, objectiveMetricName: accuracy}
  algorithm: {algorithmName: random}
  parallelTrialCount: 1
  maxTrialCount: 3
  parameters:
    - {name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1"}}
  trialTemplate:
    primaryContainerName: training
    trialParameters: [{name: lr, reference: lr}]
    trialSpec:
      apiVersion: batch/v1
      kind: Job
      spec:
        template:
          spec:
            restartPolicy: Never
            containers:
              - name: training
                image: registry.example/train:1@sha256:5f0c2ab7e1d04c3b9a8e6f7d2c1b0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a
                args: ["--lr=${trialParameters.lr}"]
                resources: {limits: {cpu: "1", memory: 1Gi}, requests: {cpu: "1", memory: 1Gi}}
"""


@pytest.fixture
def fleet(tmp_path: Path) -> Path:
    write(tmp_path / "environments" / "base.yaml", BASE)
    write(tmp_path / "environments" / "manifests" / "hpo.yaml", HPO)
    for name in ("dev", "prod"):
        write(tmp_path / "environments" / f"{name}.yaml", f"extends: base.yaml\nnamespace: ml-{name}\n")
    return tmp_path


def test_an_extra_manifest_is_judged_in_the_environments_namespace(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_here(monkeypatch, fleet, "render")
    # The environment's namespace has its default-deny policy: no warning about `default`, where nothing runs.
    assert "network-policy" not in result.stderr
    assert "default namespace" not in result.stderr
    assert "[Experiment ml-dev/handmade-hpo]" in result.stderr


def test_a_finding_in_a_shared_file_is_reported_once_naming_the_environments(
    fleet: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run_here(monkeypatch, fleet, "render")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if "security-non-root" in line]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("environments/manifests/hpo.yaml:")
    assert "(environments dev, prod)" in lines[0]
    assert "1 error finding(s)" in result.stderr
