"""The rules issue 28 (item 7) adds, on cases from public bug reports and ../shared/real-manifests, located.

Each rule's policy file holds its own pass and fail examples (`mlgitops policy test`); these add the located
messages and the neighbours each rule must leave alone.
"""

from __future__ import annotations

import json

import pytest

from mlgitops.policy import Catalog
from tests.policy.linting import findings_in
from tests.support import REPO, run_cli, shared_dir


def located(text: str, catalog: Catalog, rule: str) -> list[tuple[int, int, str]]:
    return [(f.location.line, f.location.column, f.message) for f in findings_in(text, catalog, rule=rule)]


VLLM = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: llama}
spec:
  selector: {matchLabels: {app: llama}}
  template:
    metadata: {labels: {app: llama}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          livenessProbe:
            httpGet: {path: /health, port: 8000}
            periodSeconds: 10
"""


def test_a_model_server_killed_before_it_loads(catalog: Catalog) -> None:
    assert located(VLLM, catalog, "model-server-startup-probe") == [
        (
            13,
            13,
            "container 'vllm' loads a model at start and has a livenessProbe but no startupProbe: the kubelet kills "
            "it before the weights are loaded",
        )
    ]
    waits = VLLM.replace("periodSeconds: 10", "initialDelaySeconds: 600")
    assert located(waits, catalog, "model-server-startup-probe") == []
    # The same probe on a web server, or on llm-d's endpoint picker (no model), is left alone.
    for image in ("nginx:1.27", "ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0"):
        assert located(VLLM.replace("vllm/vllm-openai:v0.11.0", image), catalog, "model-server-startup-probe") == []
    triton = VLLM.replace("vllm/vllm-openai:v0.11.0", "nvcr.io/nvidia/tritonserver:24.10-py3")
    assert [line for line, _, _ in located(triton, catalog, "model-server-startup-probe")] == [13]


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
    found = [(f["location"]["line"], f["message"]) for f in json.loads(result.stdout) if f["rule"] == "accelerator-node-pinning"]
    assert [line for line, _ in found] == [107], found


TOLERATES = """\
apiVersion: v1
kind: Pod
metadata: {name: cuda}
spec:
  tolerations:
    - {key: nvidia.com/gpu, operator: Equal, value: "enabled", effect: NoSchedule}
  containers:
    - name: cuda
      image: nvidia/cuda:12.4.1-base-ubuntu22.04
      resources: {limits: {nvidia.com/gpu: 1}}
"""


def test_an_accelerator_toleration_for_a_value_no_node_carries(catalog: Catalog) -> None:
    found = findings_in(TOLERATES, catalog, rule="gpu-toleration-value")
    assert [(f.severity.value, f.location.line) for f in found] == [("warning", 6)]
    assert "use operator: Exists" in found[0].message
    for value in ("present", "true"):
        assert located(TOLERATES.replace('"enabled"', f'"{value}"'), catalog, "gpu-toleration-value") == []
    # Another key's value is the cluster's own business.
    assert located(TOLERATES.replace("key: nvidia.com/gpu", "key: dedicated"), catalog, "gpu-toleration-value") == []


QUEUED = """\
apiVersion: jobset.x-k8s.io/v1alpha2
kind: JobSet
metadata:
  name: train
  annotations:
    kueue.x-k8s.io/queue-name: team-a
spec:
  replicatedJobs: []
"""


def test_a_kueue_queue_named_in_an_annotation(catalog: Catalog) -> None:
    assert [(line, column) for line, column, _ in located(QUEUED, catalog, "kueue-queue-label")] == [(6, 32)]
    both = QUEUED.replace("  annotations:\n", "  labels: {kueue.x-k8s.io/queue-name: team-a}\n  annotations:\n")
    assert located(both, catalog, "kueue-queue-label") == []
    empty = QUEUED.replace("  annotations:\n    kueue.x-k8s.io/queue-name: team-a\n", "  annotations:\n")
    assert located(empty, catalog, "kueue-queue-label") == []


HOOK = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: migrate
  annotations: {argocd.argoproj.io/hook: PreSync}
spec:
  ttlSecondsAfterFinished: 0
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: "migrate/migrate:v4.17.0"}]
"""


def test_an_argocd_hook_deleted_before_argocd_reads_it(catalog: Catalog) -> None:
    assert [(line, column) for line, column, _ in located(HOOK, catalog, "argocd-hook-ttl")] == [(7, 28)]
    assert located(HOOK.replace("ttlSecondsAfterFinished: 0", "ttlSecondsAfterFinished: 600"), catalog, "argocd-hook-ttl") == []
    # The same TTL on a Helm hook Argo CD does not wait for is not this rule's.
    helm = HOOK.replace("argocd.argoproj.io/hook: PreSync", "helm.sh/hook: pre-install")
    assert located(helm, catalog, "argocd-hook-ttl") == []


RAY = """\
apiVersion: ray.io/v1
kind: RayCluster
metadata: {name: data}
spec:
  headGroupSpec:
    rayStartParams:
      object-store-memory: "10000000000"
    template:
      spec:
        containers:
          - name: ray-head
            image: rayproject/ray:2.41.0
            resources:
              requests: {cpu: "2", memory: 8Gi}
"""


def test_a_ray_object_store_larger_than_its_shared_memory(catalog: Catalog) -> None:
    found = located(RAY, catalog, "ray-object-store-shm")
    assert [(line, column) for line, column, _ in found] == [(7, 28)]
    assert "8Gi" in found[0][2]
    assert located(RAY.replace("memory: 8Gi", "memory: 16Gi"), catalog, "ray-object-store-shm") == []
    # plasma-directory moves the store off /dev/shm.
    elsewhere = RAY.replace(
        '      object-store-memory: "10000000000"\n', '      object-store-memory: "10000000000"\n      plasma-directory: /data\n'
    )
    assert located(elsewhere, catalog, "ray-object-store-shm") == []
