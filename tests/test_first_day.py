"""A first day that works: errors where they were written, warnings for silent surprises, useful suggestions."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import build
from mlgitops.fleet.run import render_fleet
from mlgitops.load.environments import load_environments
from mlgitops.policy import Finding
from tests.support import run_here, write

BASE = """\
abstract: true
kubernetesVersion: "1.32"
workloads:
  - name: train
    kind: trainng
    image: "registry.example/t:1"
    resources: {cpu: "1", memory: 1Gi}
"""


def fleet(tmp_path: Path, base: str, children: tuple[str, ...] = ("dev", "prod", "staging")) -> Path:
    folder = tmp_path / "environments"
    write(folder / "base.yaml", base)
    for name in children:
        write(folder / f"{name}.yaml", f"extends: base.yaml\nnamespace: ml-{name}\nworkloads:\n  - name: train\n    args: [x]\n")
    return folder


def test_a_mistake_in_a_base_is_reported_once_at_its_line_naming_the_environments(tmp_path: Path) -> None:
    with pytest.raises(UserError) as raised:
        load_environments(fleet(tmp_path, BASE))
    lines = raised.value.one_line().splitlines()
    assert len(lines) == 1
    assert lines[0].endswith(
        "base.yaml:5:11: workloads[train].kind: kind 'trainng' is not one of 'training', 'distributed-training', "
        "'serving', 'llm-serving', 'batch', 'ray-job', 'ray-service' (breaks environments dev, prod, staging)"
    )


def test_a_render_problem_in_a_base_is_one_line_too(tmp_path: Path) -> None:
    base = BASE.replace("kind: trainng", "kind: training").replace("memory: 1Gi}", "memory: 1Gi, limits: {memory: 1Mi}}")
    loaded = load_environments(fleet(tmp_path, base))
    with pytest.raises(UserError) as raised:
        render_fleet(loaded, tmp_path / "rendered", [])
    [line] = raised.value.one_line().splitlines()
    assert "base.yaml:7:" in line
    assert line.endswith("(breaks environments dev, prod, staging)")


def render_findings(tmp_path: Path, text: str) -> list[Finding]:
    write(tmp_path / "environments" / "dev.yaml", 'namespace: ml\nkubernetesVersion: "1.32"\nnetworkPolicy: {}\n' + text)
    return render_fleet(load_environments(tmp_path / "environments"), tmp_path / "rendered", []).findings


def test_silent_surprises_are_warnings_at_the_line_that_causes_them(tmp_path: Path) -> None:
    found = render_findings(
        tmp_path,
        """\
cluster:
  nodePools:
    - name: gpu
      labels: {pool: gpu}
      allocatable: {cpu: "90", memory: 1000Gi, gpus: 8}
volumes:
  - {name: tmp, scratch: {sizeLimit: 10Gi}}
workloads:
  - name: train
    kind: training
    image: "registry.example/t:1"
    resources: {cpu: "1", memory: 16Gi, gpu: 1}
    shmSize: 8Gi
    mounts: [{volume: tmp, path: /checkpoints, role: cache}]
""",
    )
    by_rule = {f.rule: f for f in found}
    assert (by_rule["gpu-pool-taint"].severity, by_rule["gpu-pool-taint"].location.line) == ("warning", 6)
    assert "taints:" in by_rule["gpu-pool-taint"].fix
    scratch = by_rule["emptydir-data"]
    assert (scratch.severity, scratch.location.line) == ("warning", 17)
    assert all(not f.location.file.startswith(str(tmp_path / "rendered")) for f in found)


def test_memory_without_a_unit_is_an_error_at_its_line_and_nothing_is_written(tmp_path: Path) -> None:
    # 16 bytes: no container starts with it (CRI-O refuses limits under 12Mi), so render refuses instead of warning.
    write(
        tmp_path / "environments" / "dev.yaml",
        'namespace: ml\nkubernetesVersion: "1.32"\nworkloads:\n'
        '  - {name: train, kind: training, image: "registry.example/t:1", resources: {cpu: "1", memory: 16}, shmSize: 8}\n',
    )
    [loaded] = load_environments(tmp_path / "environments")
    with pytest.raises(UserError) as raised:
        build(loaded)
    lines = raised.value.one_line().splitlines()
    assert lines[0].endswith(
        "dev.yaml:4:96: workloads[train].resources.memory: 16 means 16 bytes (a number without a unit is bytes): did you "
        "mean 16Gi?"
    )
    assert lines[1].endswith("workloads[train].shmSize: 8 means 8 bytes (a number without a unit is bytes): did you mean 8Gi?")
    assert not (tmp_path / "rendered").exists()


def test_explain_and_policy_list_know_every_rule_render_reports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listed = run_here(monkeypatch, tmp_path, "policy", "list").stdout
    for rule in ("env-budget", "gpu-pool-taint", "memory-units", "configmap-reference", "serviceaccount-reference"):
        assert rule in listed
    explained = run_here(monkeypatch, tmp_path, "explain", "env-budget")
    assert explained.exit_code == 0
    assert "maximum replicas" in explained.stdout


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("    imagePullSecret: [x]\n", "unknown field 'imagePullSecret' (did you mean 'imagePullSecrets'?)"),
        ("    tolerationz: []\n", "(did you mean 'tolerations'?)"),
        (
            "    initContainers: [{name: f, image: 'r.example/f:1', imagePullSecrets: [x]}]\n",
            "belongs at imagePullSecrets or workloads[].imagePullSecrets, not here",
        ),
        ("tolerations: []\n", "'tolerations' belongs at workloads[].tolerations, not here"),
    ],
)
def test_did_you_mean_suggests_only_what_means_something_close(tmp_path: Path, text: str, expected: str) -> None:
    workload = '  - {name: t, kind: training, image: "r.example/t:1", resources: {cpu: "1", memory: 1Gi}}\n'
    body = text + "workloads:\n" + workload if not text.startswith("    ") else "workloads:\n" + workload[:-2] + "\n" + text
    write(tmp_path / "environments" / "dev.yaml", 'namespace: ml\nkubernetesVersion: "1.32"\n' + _block(body))
    with pytest.raises(UserError) as raised:
        load_environments(tmp_path / "environments")
    message = raised.value.one_line()
    assert expected in message
    assert "imagePullPolicy" not in message
    assert "annotations" not in message


def _block(body: str) -> str:
    # Flow-style workload followed by block fields: rewrite the workload in block style.
    return body.replace(
        '  - {name: t, kind: training, image: "r.example/t:1", resources: {cpu: "1", memory: 1Gi}\n',
        '  - name: t\n    kind: training\n    image: "r.example/t:1"\n    resources: {cpu: "1", memory: 1Gi}\n',
    )


def test_render_and_lint_with_nothing_to_read_are_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "environments").mkdir()
    render = run_here(monkeypatch, tmp_path, "render")
    assert render.exit_code == 2
    assert render.stderr == (
        "error: no environment to render in environments/: add a file such as dev.yaml "
        "(`mlgitops init` scaffolds one), or pass --environments-dir DIR\n"
    )
    (tmp_path / "manifests").mkdir()
    write(tmp_path / "manifests" / "empty.yaml", "# nothing yet\n")
    lint = run_here(monkeypatch, tmp_path, "lint", "manifests")
    assert lint.exit_code == 2
    assert "nothing to lint: found 1 file(s) but no Kubernetes object in manifests" in lint.stderr
