"""Environment files of the multi-node kinds (distributed-training, ray-job, ray-service) and building them, for their tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.load.environments import load_environments
from tests.support import write

CLUSTER = """\
namespace: ml
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: cpu
      labels: {node-pool: cpu}
      allocatable: {cpu: "16", memory: 64Gi}
    - name: gpu
      labels: {node-pool: gpu}
      taints: [{key: nvidia.com/gpu, value: present}]
      allocatable: {cpu: "96", memory: 1000Gi, gpus: 8}
      maxNodes: 4
volumes:
  - name: ckpt
    claim: {size: 1Ti, accessModes: [ReadWriteMany]}
"""


TRAINJOB = """\
workloads:
  - name: llm
    kind: distributed-training
    image: registry.example/llm:1
    numNodes: 2
    nprocPerNode: gpu
    resources: {cpu: "32", memory: 500Gi, gpu: 8}
    nodePool: gpu
    shmSize: 64Gi
    mounts:
      - {volume: ckpt, path: /ckpt, role: checkpoint}
"""


RAYJOB = """\
workloads:
  - name: tune
    kind: ray-job
    image: rayproject/ray:2.41.0-gpu
    rayVersion: "2.41.0"
    entrypoint: python tune.py --trials=64
    runtimeEnv: {pip: [optuna==4.1.0]}
    security: {runAsUser: 1000}
    resources: {cpu: "4", memory: 16Gi}
    nodePool: cpu
    workerGroups:
      - name: gpu
        replicas: 2
        resources: {cpu: "16", memory: 120Gi, gpu: 1}
        nodePool: gpu
      - name: cpu
        replicas: 3
        resources: {cpu: "8", memory: 32Gi}
        nodePool: cpu
"""


RAYSERVICE = """\
workloads:
  - name: embed
    kind: ray-service
    image: rayproject/ray:2.41.0-gpu
    serveConfig:
      applications:
        - {name: embed, import_path: "app:deployment", route_prefix: /}
    security: {runAsUser: 1000}
    resources: {cpu: "2", memory: 8Gi}
    nodePool: cpu
    autoscaling: {idleTimeoutSeconds: 120, upscalingMode: Conservative}
    workerGroups:
      - name: gpu
        minReplicas: 1
        maxReplicas: 6
        resources: {cpu: "8", memory: 60Gi, gpu: 1}
        nodePool: gpu
"""


def _build(tmp_path: Path, text: str, name: str = "dev") -> EnvironmentOutput:
    write(tmp_path / "env" / f"{name}.yaml", text)
    [loaded] = load_environments(tmp_path / "env")
    return build(loaded)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(UserError) as raised:
        _build(tmp_path, text)
    return raised.value.one_line().replace(f"{tmp_path}/env/", "")
