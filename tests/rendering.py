"""Render one environment file in a test: its output, its located error, or one rule's findings on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.fleet.run import environment_findings
from mlgitops.load.environments import load_environments
from mlgitops.policy import load_catalog
from mlgitops.policy.model import Finding
from tests.support import write

HEAD = """\
namespace: ml
kubernetesVersion: "1.32"
"""


def _render(tmp_path: Path, text: str) -> EnvironmentOutput:
    write(tmp_path / "environments" / "dev.yaml", text)
    [loaded] = load_environments(tmp_path / "environments")
    return build(loaded)


def _findings(tmp_path: Path, text: str, rule: str) -> list[Finding]:
    """The findings of ``rule`` on the rendered objects, located at the environment file (waived ones included)."""
    write(tmp_path / "environments" / "dev.yaml", text)
    [loaded] = load_environments(tmp_path / "environments")
    found = environment_findings(loaded, build(loaded), tmp_path / "rendered", load_catalog())
    return [finding for finding in found if finding.rule == rule]


def _refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(UserError) as refused:
        _render(tmp_path, text)
    return refused.value.one_line()


def _obj(output: EnvironmentOutput, kind: str, name: str) -> dict[str, Any]:
    [obj] = [item.obj for item in output.objects if item.kind == kind and item.name == name]
    return obj


SERVER = (
    HEAD
    + """\
workloads:
  - name: web
    kind: serving
    image: ghcr.io/acme/web:1
    ports: [{name: http, port: 8080}]
    resources: {cpu: "1", memory: 1Gi}
"""
)


def _one(output: EnvironmentOutput, kind: str, name: str | None = None) -> dict[str, Any]:
    """The one object of ``kind`` (named ``name`` when given) in ``output``."""
    [obj] = [item.obj for item in output.objects if item.kind == kind and name in (None, item.name)]
    return obj


BASE = """\
namespace: ml
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: gpu
      labels: {nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3}
      taints: [{key: nvidia.com/gpu}]
      allocatable: {cpu: "96", memory: 1000Gi, gpus: 8}
    - name: cpu
      allocatable: {cpu: "16", memory: 64Gi}
volumes:
  - name: ckpt
    claim: {size: 1Ti, accessModes: [ReadWriteMany]}
workloads:
  - name: llm
    kind: distributed-training
    image: registry.example/llm:1
    workers: 3
    resources: {cpu: "32", memory: 500Gi, gpu: 8}
    mounts:
      - {volume: ckpt, path: /ckpt, role: checkpoint}
  - name: serve
    kind: serving
    image: registry.example/serve:1
    ports: [{name: http, port: 8080}]
    resources: {cpu: "1", memory: 1Gi}
"""


def _objects(output: EnvironmentOutput, kind: str) -> list[dict[str, Any]]:
    return [item.obj for item in output.objects if item.kind == kind]
