"""Each kind of mistake gives one line naming file:line:column, the field path and what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import build
from mlgitops.load.environments import load_environments
from tests.support import run_in_process, write

ENVIRONMENT = """\
namespace: ml-dev
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: cpu
      allocatable: {cpu: "16", memory: 64Gi}
    - name: gpu
      labels: {pool: gpu}
      taints:
        - key: nvidia.com/gpu
      allocatable: {cpu: "32", memory: 256Gi, gpus: 4}
volumes:
  - name: data
    claim: {size: 10Gi}
workloads:
  - name: trainer
    kind: training
    image: registry.example/train:1
    resources:
      cpu: "8"
      memory: 32Gi
      gpu: 2
    nodePool: gpu
    mounts:
      - {volume: data, path: /data, role: data}
  - name: serve
    kind: serving
    image: registry.example/serve:1
    ports: [{port: 8080}]
    resources:
      cpu: "1"
      memory: 2Gi
    autoscaling:
      minReplicas: 1
      maxReplicas: 4
      metrics:
        - type: cpu
          utilization: 70
"""

CASES = [
    (
        "bad-quantity",
        "memory: 32Gi",
        "memory: 32GB",
        "21:15: workloads[trainer].resources.memory: '32GB' is not a Kubernetes quantity (did you mean '32Gi'?)",
    ),
    (
        "typo-field",
        '    resources:\n      cpu: "8"',
        '    resouces:\n      cpu: "8"',
        "19:5: workloads[trainer].resouces: unknown field 'resouces' (did you mean 'resources'?)",
    ),
    (
        "upper-case-name",
        "name: trainer",
        "name: Trainer",
        "16:11: workloads[Trainer].name: 'Trainer' is not a DNS-1123 label: use lower-case letters, digits and "
        "'-', starting and ending with a letter or digit (did you mean 'trainer'?)",
    ),
    (
        "zero-gpus",
        "gpu: 2",
        "gpu: 0",
        "22:12: workloads[trainer].resources.gpu: input should be greater than or equal to 1 (got 0)",
    ),
    (
        "fractional-gpus",
        "gpu: 2",
        "gpu: 1.5",
        "22:12: workloads[trainer].resources.gpu: GPU count must be a whole number of devices, not 1.5",
    ),
    (
        "limit-below-request",
        "      memory: 2Gi\n",
        "      memory: 2Gi\n      limits: {memory: 1Gi}\n",
        "33:24: workloads[serve].resources.limits.memory: memory limit '1Gi' is below the request '2Gi'; "
        "a limit must be >= the request",
    ),
    (
        "hpa-min-above-max",
        "maxReplicas: 4",
        "maxReplicas: 0",
        "35:20: workloads[serve].autoscaling.maxReplicas: input should be greater than or equal to 1 (got 0)",
    ),
    (
        "hpa-min-greater-than-max",
        "minReplicas: 1",
        "minReplicas: 6",
        "35:20: workloads[serve].autoscaling.maxReplicas: maxReplicas 4 is below minReplicas 6",
    ),
    (
        "hpa-without-metrics",
        "      metrics:\n        - type: cpu\n          utilization: 70\n",
        "",
        "34:7: workloads[serve].autoscaling.metrics: autoscaling needs at least one metric (e.g. '- type: cpu' with "
        "'utilization: 70'); without one the HorizontalPodAutoscaler never scales",
    ),
    (
        "unknown-kind",
        "kind: training",
        "kind: trainig",
        "17:11: workloads[trainer].kind: kind 'trainig' is not one of 'training', 'distributed-training', 'serving', "
        "'llm-serving', 'batch', 'ray-job', 'ray-service'",
    ),
    (
        "missing-image",
        "    image: registry.example/train:1\n",
        "",
        "16:5: workloads[trainer].image: missing required field 'image'",
    ),
    (
        "wrong-type",
        "ports: [{port: 8080}]",
        "ports: 8080",
        "29:12: workloads[serve].ports: input should be a valid list (got 8080)",
    ),
    (
        "missing-node-pool",
        "nodePool: gpu",
        "nodePool: gpu-h100",
        "23:15: workloads[trainer].nodePool: node pool 'gpu-h100' does not exist (have: cpu, gpu)",
    ),
    (
        "more-gpus-than-a-node",
        "gpu: 2",
        "gpu: 16",
        "22:12: workloads[trainer].resources.gpu: asks for 16 GPUs (nvidia.com/gpu) but the largest node of "
        "pool 'gpu' can allocate 4; these pods would never schedule",
    ),
    (
        "more-memory-than-a-node",
        "memory: 32Gi",
        "memory: 512Gi",
        "21:15: workloads[trainer].resources.memory: asks for 512Gi memory but the largest node of pool 'gpu' "
        "can allocate 256Gi; these pods would never schedule",
    ),
    (
        "unknown-volume",
        "{volume: data,",
        "{volume: dataset,",
        "25:18: workloads[trainer].mounts[0].volume: volume 'dataset' does not exist (have: data)",
    ),
    (
        "duplicate-key",
        "    nodePool: gpu\n",
        "    nodePool: gpu\n    nodePool: cpu\n",
        "24:5: duplicate key 'nodePool' (first at line 23): each key may appear once",
    ),
    (
        "tab-indent",
        "    nodePool: gpu\n",
        "\tnodePool: gpu\n",
        "23:1: a tab in the indentation: YAML indents with spaces only",
    ),
    (
        "syntax-error",
        "ports: [{port: 8080}]",
        "ports: [{port: 8080}",
        "30:5: invalid YAML: did not find expected ',' or ']'",
    ),
    (
        "unsupported-kubernetes-version",
        'kubernetesVersion: "1.32"',
        'kubernetesVersion: "1.12"',
        "2:20: kubernetesVersion 1.12 is older than any schema kubernetes-validate ships (oldest: 1.25)",
    ),
    (
        "unsafe-tag",
        "image: registry.example/serve:1",
        "image: !!python/object/apply:os.system [id]",
        "28:12: invalid YAML: unsupported YAML tag ('tag:yaml.org,2002:python/object/apply:os.system'); only plain "
        "YAML is accepted",
    ),
]


@pytest.mark.parametrize(("replace", "by", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_gives_one_located_line(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    assert replace in ENVIRONMENT
    write(tmp_path / "dev.yaml", ENVIRONMENT.replace(replace, by, 1))

    def load_and_build() -> None:
        for loaded in load_environments(tmp_path):
            build(loaded)

    with pytest.raises(UserError) as raised:
        load_and_build()
    assert raised.value.one_line() == f"{tmp_path}/dev.yaml:{expected}"


def test_the_unmodified_environment_renders(tmp_path: Path) -> None:
    write(tmp_path / "dev.yaml", ENVIRONMENT)
    [loaded] = load_environments(tmp_path)
    assert len(build(loaded).objects) == 5


def test_the_cli_prints_relative_paths_exits_2_and_shows_no_traceback(fleet: Path) -> None:
    prod = fleet / "environments" / "prod.yaml"
    prod.write_text(prod.read_text().replace("memory: 16Gi", "memory: 16GB"))
    before = {p: p.read_bytes() for p in (fleet / "rendered").rglob("*") if p.is_file()}
    result = run_in_process("render", cwd=fleet)
    assert result.exit_code == 2
    assert result.stderr == (
        "error: environments/prod.yaml:57:15: workloads[resnet-serve].resources.memory: '16GB' is not a "
        "Kubernetes quantity (did you mean '16Gi'?)\n"
    )
    assert "Traceback" not in result.stderr
    assert {p: p.read_bytes() for p in (fleet / "rendered").rglob("*") if p.is_file()} == before


def test_several_independent_mistakes_are_each_reported(tmp_path: Path) -> None:
    write(tmp_path / "dev.yaml", ENVIRONMENT.replace("memory: 32Gi", "memory: 32GB").replace("name: serve", "name: Serve"))
    with pytest.raises(UserError) as raised:
        load_environments(tmp_path)
    lines = raised.value.one_line().splitlines()
    assert [line.split(": ", 1)[0] for line in lines] == [f"{tmp_path}/dev.yaml:21:15", f"{tmp_path}/dev.yaml:26:11"]
