"""The accelerator-node-pinning rule (issue 28): examples from real manifests and our own cases."""

from __future__ import annotations

import pytest

from mlgitops.policy import Catalog
from tests.policy.linting import located
from tests.support import REPO, lint_findings, run_cli, shared_dir

PINNED = """\
apiVersion: v1
kind: Pod
metadata: {name: tokenize}
spec:
  nodeSelector:
    cloud.google.com/gke-accelerator: nvidia-tesla-a100
  containers:
    - name: tokenize
      image: rayproject/ray:2.41.0-gpu
      resources:
        limits: {cpu: "1", memory: 1Gi}
"""


def test_a_pod_pinned_to_gpu_nodes_without_a_gpu(catalog: Catalog) -> None:
    assert [(line, column) for line, column, _ in located(PINNED, catalog, "accelerator-node-pinning")] == [(6, 5)]
    requests = PINNED.replace('{cpu: "1", memory: 1Gi}', '{cpu: "1", memory: 1Gi, nvidia.com/gpu: 1}')
    assert located(requests, catalog, "accelerator-node-pinning") == []
    tolerates = PINNED + "  tolerations: [{operator: Exists}]\n"
    assert located(tolerates, catalog, "accelerator-node-pinning") == []
    # A CPU pool selected by its own label is no accelerator pinning.
    cpu = PINNED.replace("cloud.google.com/gke-accelerator: nvidia-tesla-a100", "cloud.google.com/gke-nodepool: cpu")
    assert located(cpu, catalog, "accelerator-node-pinning") == []


@pytest.mark.needs_shared
def test_the_ray_label_selector_sample_pins_a_cpu_group_to_a100_nodes() -> None:
    sample = shared_dir() / "real-manifests" / "kuberay" / "ray-cluster-label-selector.yaml"
    result = run_cli("lint", str(sample), "--format", "json", cwd=REPO)
    found = [
        (f["location"]["line"], f["message"]) for f in lint_findings(result.stdout) if f["rule"] == "accelerator-node-pinning"
    ]
    assert [line for line, _ in found] == [107], found
