"""The queued-training environment of the controller-fault tests (issue 26), and rendering and linting it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.fleet.run import render_fleet
from mlgitops.kube.manifest import load_manifests
from mlgitops.load.environments import load_environments
from mlgitops.policy import Finding, PolicyContext, evaluate, load_catalog
from tests.support import write

ENV = """\
namespace: research
kubernetesVersion: "1.32"
gitops:
  repoUrl: https://git.example/ml.git
  argocd: {project: ml}
kueue:
  defaultQueue: training
budget: {gpus: 24, cpu: "600", memory: 4Ti}
cluster:
  karpenter: {nodeClassRef: {name: ml-nodes}}
  nodePools:
    - name: cpu
      labels: {node-pool: cpu}
      allocatable: {cpu: "15", memory: 58Gi}
      maxNodes: 10
    - name: h100
      labels: {node-pool: h100}
      taints: [{key: nvidia.com/gpu, value: present}]
      allocatable: {cpu: "190", memory: 1900Gi, gpus: 8}
      maxNodes: 4
      topologyLevels: [cloud.example/block, kubernetes.io/hostname]
workloads:
  - name: finetune
    kind: distributed-training
    image: registry.example/ft:1
    numNodes: 2
    resources: {cpu: "64", memory: 800Gi, gpu: 8}
    nodePool: h100
  - name: chat
    kind: serving
    image: registry.example/chat:1
    ports: [{port: 8080}]
    replicas: 2
    resources: {cpu: "16", memory: 128Gi, gpu: 1}
    nodePool: h100
"""


HAND_WRITTEN_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: sweep
  namespace: research
  labels:
    kueue.x-k8s.io/queue-name: training
spec:
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {node-pool: h100}
      tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
      containers:
        - name: sweep
          image: registry.example/sweep:1
          resources:
            requests: {cpu: "8", memory: 64Gi}
            limits: {memory: 64Gi, nvidia.com/gpu: 8}
"""


def _output(tmp_path: Path, text: str) -> EnvironmentOutput:
    write(tmp_path / "env" / "dev.yaml", text)
    [loaded] = load_environments(tmp_path / "env")
    return build(loaded)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(UserError) as raised:
        _output(tmp_path, text)
    return raised.value.one_line().removeprefix(f"{tmp_path}/env/dev.yaml:")


def _findings(tmp_path: Path, text: str, rule: str, extra: str | None = None) -> list[Finding]:
    write(tmp_path / "env" / "dev.yaml", text)
    if extra is not None:
        write(tmp_path / "env" / "manifests" / "hand.yaml", extra)
    fleet = render_fleet(load_environments(tmp_path / "env"), tmp_path / "rendered", [])
    return [f for f in fleet.findings_by_environment["dev"] if f.rule == rule]


def _objects(output: EnvironmentOutput, kind: str) -> list[dict[str, Any]]:
    return [item.obj for item in output.objects if item.kind == kind]


def _lint(text: str, rule: str) -> list[Finding]:
    manifests = load_manifests(text, "manifests.yaml")
    return [f for f in evaluate(manifests, load_catalog(), PolicyContext()) if f.rule == rule]
