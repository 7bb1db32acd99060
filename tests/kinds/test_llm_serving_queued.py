"""LLM servers queued in Kueue: serving and training share one GPU quota, a LeaderWorkerSet group is admitted as one
gang, rollouts never wait for quota their own old pods hold, and a gang that cannot fit is refused at its line."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.kube.kueue_admission import admit
from mlgitops.kube.kueue_queues import Queues, pod_sets
from mlgitops.load.environments import load_environments
from tests.support import REPO, run_here, write


@pytest.fixture(scope="module")
def outputs() -> dict[str, EnvironmentOutput]:
    return {loaded.name: build(loaded) for loaded in load_environments(REPO / "environments")}


def _obj(output: EnvironmentOutput, kind: str, name: str) -> dict[str, Any]:
    [obj] = [item.obj for item in output.objects if item.kind == kind and item.name == name]
    return obj


def test_prods_llm_server_waits_in_the_serving_queue_as_one_gang_per_group(outputs: dict[str, EnvironmentOutput]) -> None:
    prod = outputs["prod"]
    lws = _obj(prod, "LeaderWorkerSet", "chat-llm")
    labels = lws["metadata"]["labels"]
    assert labels["kueue.x-k8s.io/queue-name"] == "gpu-serving"
    assert labels["kueue.x-k8s.io/priority-class"] == "serving-high"
    # LWS's own default, written down: the old group goes before the new one is created.
    assert lws["spec"]["rolloutStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdateConfiguration": {"maxSurge": 0, "maxUnavailable": 1},
    }
    group = lws["spec"]["leaderWorkerTemplate"]
    for role in ("leaderTemplate", "workerTemplate"):
        annotations = group[role]["metadata"]["annotations"]
        # Leader and workers in one topology domain of the pool (Kueue's TAS for LWS).
        assert annotations["kueue.x-k8s.io/podset-preferred-topology"] == "topology.k8s.aws/network-node-layer-3"
        assert annotations["kueue.x-k8s.io/podset-group-name"] == "chat-llm"
    assert _obj(prod, "LocalQueue", "gpu-serving")["spec"]["clusterQueue"] == "ml-prod"
    # The ClusterQueue's quota admits one whole group (2 pods x 8 H100s) on the H100 flavor.
    queues = Queues.of((item.obj, "ml-prod") for item in prod.objects)
    queue = queues.cluster_queue_of("ml-prod", "gpu-serving")
    assert queue is not None
    sets = pod_sets(lws)
    assert [(s.name, s.count, s.requests["nvidia.com/gpu"]) for s in sets] == [("leader", 1, 8), ("worker", 1, 8)]
    admission = admit(sets, queue, queues)
    assert admission.admitted, admission.refusal
    assert admission.usage[("gpu-h100", "nvidia.com/gpu")] == Decimal(16)


def test_a_server_is_queued_only_when_it_names_its_queue(outputs: dict[str, EnvironmentOutput]) -> None:
    # dev's kueue.defaultQueue takes its training jobs, not the LLM server that names no queue.
    deployment = _obj(outputs["dev"], "Deployment", "chat-llm")
    assert "kueue.x-k8s.io/queue-name" not in deployment["metadata"]["labels"]
    assert "strategy" not in deployment["spec"]


QUEUED = """\
namespace: ml
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: h100
      labels: {node-pool: h100}
      taints: [{key: nvidia.com/gpu, value: present}]
      allocatable: {cpu: "190", memory: 1900Gi, gpus: 8}
      maxNodes: 4
kueue:
  localQueues: [serving]
budget: {gpus: BUDGET}
volumes:
  - name: weights
    existingClaim: weights
workloads:
  - name: chat
    kind: llm-serving
    image: registry.example/vllm:1
    queue: serving
    model: {name: llama, volume: weights}
    tensorParallel: 8
    pipelineParallel: PP
    resources: {cpu: "64", memory: 1000Gi}
"""


def _render(tmp_path: Path, text: str) -> EnvironmentOutput:
    write(tmp_path / "environments" / "dev.yaml", text)
    [loaded] = load_environments(tmp_path / "environments")
    return build(loaded)


def test_a_queued_deployment_rolls_out_without_surge(tmp_path: Path) -> None:
    output = _render(tmp_path, QUEUED.replace("BUDGET", "16").replace("PP", "1"))
    deployment = _obj(output, "Deployment", "chat")
    assert deployment["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "serving"
    assert deployment["spec"]["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 0, "maxUnavailable": 1}}
    assert list(deployment["spec"]).index("strategy") < list(deployment["spec"]).index("template")
    # Kueue's webhook labels the pods itself: the template stays as the server's.
    assert "kueue.x-k8s.io/queue-name" not in deployment["spec"]["template"]["metadata"]["labels"]
    # The queued server counts against Kueue's quota, which the budget gives it whole.
    queue = _obj(output, "ClusterQueue", "ml")
    [group] = queue["spec"]["resourceGroups"]
    gpus = next(r for r in group["flavors"][0]["resources"] if r["name"] == "nvidia.com/gpu")
    assert gpus["nominalQuota"] == "16"


def test_a_queued_group_that_cannot_fit_its_flavor_is_refused_at_the_workload(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A group of 2 pods x 8 GPUs is admitted whole or not at all: a budget of 8 GPUs never admits it.
    text = QUEUED.replace("BUDGET", "8").replace("PP", "2")
    write(tmp_path / "environments" / "dev.yaml", text)
    result = run_here(monkeypatch, tmp_path, "render")
    assert result.exit_code == 1
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "- name: chat" in row)
    [finding] = [row for row in result.stderr.splitlines() if "kueue-quota" in row]
    assert finding.startswith(f"environments/dev.yaml:{line}:5: error kueue-quota: ")
    why = "can never be admitted by ClusterQueue 'ml' (LocalQueue 'serving'): flavor 'h100': 8 nvidia.com/gpu needed, 0 of quota"
    assert why in finding
    assert finding.endswith("[LeaderWorkerSet ml/chat]")
    assert not (tmp_path / "rendered").exists()


def test_a_server_naming_a_queue_nobody_renders_is_refused_at_the_queue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = QUEUED.replace("BUDGET", "16").replace("PP", "1").replace("queue: serving", "queue: servng")
    write(tmp_path / "environments" / "dev.yaml", text)
    result = run_here(monkeypatch, tmp_path, "render")
    assert result.exit_code == 2
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "queue: servng" in row)
    assert result.stderr.startswith(f"error: environments/dev.yaml:{line}:12: workloads[chat].queue: queue 'servng' is neither")
