"""The semantic checks of every workload (spec/checks.py): a production spec renders, and each mistake is one located
line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import build
from mlgitops.load.environments import load_environments
from tests.rendering import BASE
from tests.support import write


def test_the_production_base_renders(tmp_path: Path) -> None:
    write(tmp_path / "dev.yaml", BASE)
    [loaded] = load_environments(tmp_path)
    assert sorted(item.kind for item in build(loaded).objects) == [
        "Deployment",
        "PersistentVolumeClaim",
        "Service",
        "TrainJob",
    ]


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "accessModes: [ReadWriteMany]",
            "accessModes: [ReadWriteOnce]",
            "21:18: workloads[llm].mounts[0].volume: 4 pods write to volume 'ckpt', but its claim is ReadWriteOnce: "
            "pods on different nodes need ReadWriteMany",
        ),
        (
            "ports: [{name: http, port: 8080}]",
            "ports: [{name: http, port: 8080}]\n    metrics: {port: prom}",
            "26:21: workloads[serve].metrics.port: metrics port 'prom' is not one of the ports (http)",
        ),
        (
            "gpu: 8}\n    mounts",
            "gpu: 8, gpuProduct: NVIDIA-A100-SXM4-80GB}\n    mounts",
            "19:16: workloads[llm].resources: no node pool offers NVIDIA-A100-SXM4-80GB; add one under cluster.nodePools",
        ),
    ],
    ids=["rwo-checkpoints-shared-by-pods", "metrics-port-unknown", "gpu-product-unavailable"],
)
def test_production_mistakes_are_located(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    write(tmp_path / "dev.yaml", BASE.replace(replace, by))
    [loaded] = load_environments(tmp_path)
    with pytest.raises(UserError) as raised:
        build(loaded)
    assert raised.value.one_line() == f"{tmp_path}/dev.yaml:{expected}"
