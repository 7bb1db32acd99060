"""The documentation shows each workload kind with an example (on the kind's page, docs/kinds/<kind>.md): every one of
them renders as documented."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from mlgitops.fleet.build import build
from mlgitops.load.environments import load_environments
from tests.support import documentation, documentation_page, kubectl, run_here, write

CLUSTER = """\
namespace: ml
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: cpu-general
      labels: {node-pool: cpu-general}
      allocatable: {cpu: "15", memory: 58Gi}
    - name: gpu-a100
      labels: {node-pool: gpu-a100, nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB}
      taints: [{key: nvidia.com/gpu, value: present}]
      allocatable: {cpu: "94", memory: 1800Gi, gpus: 8}
kueue: {defaultQueue: gpu-training, existingQueues: [gpu-training, cpu-batch]}
volumes:
  - name: resnet-checkpoints
    claim: {size: 500Gi, accessModes: [ReadWriteMany]}
workloads:
"""
KIND_OF = {"distributed-training": "TrainJob", "ray-job": "RayJob", "ray-service": "RayService"}


def _examples() -> dict[str, str]:
    """The example of each kind of KIND_OF on the kind's own page (the last block naming the kind, as before the split)."""
    found = {}
    for page in KIND_OF:
        for block in re.findall(r"```yaml\n(.*?)```", documentation_page(f"docs/kinds/{page}.md"), re.S):
            kind = re.search(r"^\s*kind: (\S+)", block, re.M)
            if kind and kind[1] == page:
                found[kind[1]] = block
    return found


def test_the_documentation_has_an_example_of_each_new_kind() -> None:
    assert sorted(_examples()) == sorted(KIND_OF)


@pytest.mark.parametrize("kind", sorted(KIND_OF))
def test_each_readme_example_renders(tmp_path: Path, kind: str) -> None:
    block = _examples()[kind]
    indent = len(block) - len(block.lstrip(" "))
    workload = "\n".join(line[indent:] for line in block.splitlines())
    write(tmp_path / "env" / "dev.yaml", CLUSTER + "\n".join(f"  {line}" for line in workload.splitlines()) + "\n")
    [loaded] = load_environments(tmp_path / "env")
    assert [item.kind for item in build(loaded).objects if item.kind == KIND_OF[kind]] == [KIND_OF[kind]]


def test_the_readmes_environment_file_example_renders_and_builds(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The first example a new user copies: as a base, with one environment extending it.
    section = documentation().split("# Environment files\n", 1)[1]
    [block] = re.findall(r"```yaml\n(.*?)```", section, re.S)[:1]
    write(tmp_path / "environments" / "base.yaml", block)
    write(tmp_path / "environments" / "dev.yaml", "extends: base.yaml\nnamespace: ml-dev\n")
    result = run_here(monkeypatch, tmp_path, "render")
    assert result.exit_code == 0, result.stderr
    assert " error " not in result.stderr, result.stderr
    built = subprocess.run(
        [kubectl(), "kustomize", str(tmp_path / "rendered" / "dev")], capture_output=True, text=True, check=False
    )
    assert built.returncode == 0, built.stderr
    assert "kind: Job" in built.stdout
