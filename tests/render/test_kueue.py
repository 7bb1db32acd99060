"""Kueue from the cluster profile: flavors, quotas, queues, priorities, topology; queues that must exist; quota checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.fleet.run import render_fleet
from mlgitops.load.environments import load_environments
from tests.rendering import _one
from tests.support import write

ENV = """\
namespace: research
kubernetesVersion: "1.32"
kueue:
  defaultQueue: gpu-training
  localQueues: [batch]
  existingQueues: [shared]
  clusterQueue: {cohort: ml, preemption: LowerPriority}
budget: {gpus: 24, cpu: "1000", memory: 3000Gi}
priorities:
  training: training-low
  classes:
    - {name: training-low, value: 1000, description: Preemptible training.}
cluster:
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
    - name: mig
      labels: {node-pool: mig}
      allocatable: {cpu: "60", memory: 400Gi, gpus: 7}
      gpuResource: nvidia.com/mig-1g.10gb
workloads:
  - name: finetune
    kind: distributed-training
    image: registry.example/ft:1
    numNodes: 2
    resources: {cpu: "64", memory: 800Gi, gpu: 8}
    nodePool: h100
"""


def _build(tmp_path: Path, text: str) -> EnvironmentOutput:
    write(tmp_path / "env" / "dev.yaml", text)
    [loaded] = load_environments(tmp_path / "env")
    return build(loaded)


def _cluster(output: EnvironmentOutput) -> dict[str, dict[str, Any]]:
    return {f"{item.kind}/{item.name}": item.obj for item in output.objects if item.path.startswith("cluster/")}


def test_a_flavor_per_pool_and_the_budget_split_over_the_flavors(tmp_path: Path) -> None:
    output = _build(tmp_path, ENV)
    cluster = _cluster(output)
    queue = cluster["ClusterQueue/research"]["spec"]
    assert queue["cohortName"] == "ml"
    assert queue["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "research"}}
    assert queue["preemption"] == {"withinClusterQueue": "LowerPriority"}
    [group] = queue["resourceGroups"]
    assert group["coveredResources"] == ["cpu", "memory", "nvidia.com/gpu", "nvidia.com/mig-1g.10gb"]
    quotas = {flavor["name"]: {r["name"]: r["nominalQuota"] for r in flavor["resources"]} for flavor in group["flavors"]}
    # Kueue admits up to the sum over flavors, so the budget (1000 CPU, 3000Gi, 24 accelerators of any kind) is split:
    # first what the queued TrainJob needs of its flavor (h100: 2 x (64 CPU, 800Gi, 8 GPUs)), then the rest of the
    # accelerators in pool order; each accelerator flavor then gets the CPU and memory of the nodes its quota fills
    # (24 of 32 GPUs: 3/4 of 760 CPU and 7600Gi, the memory capped by the budget), the pools without accelerators the
    # rest, every flavor up to its pool at maxNodes (a pool without maxNodes is bounded by the budget alone).
    assert quotas == {
        # 10 x (15 CPU, 58Gi), no GPUs: the CPU left; the memory went to the GPUs' nodes
        "cpu": {"cpu": "150", "memory": "0", "nvidia.com/gpu": "0", "nvidia.com/mig-1g.10gb": "0"},
        # 4 x (190 CPU, 1900Gi, 8 GPUs)
        "h100": {"cpu": "570", "memory": "3000Gi", "nvidia.com/gpu": "24", "nvidia.com/mig-1g.10gb": "0"},
        # what is left: 1000 - 150 - 570 CPU
        "mig": {"cpu": "280", "memory": "0", "nvidia.com/gpu": "0", "nvidia.com/mig-1g.10gb": "0"},
    }
    # In a cohort the queue may lend its unused quota but never borrow: borrowing would take it past the budget.
    assert all(r["borrowingLimit"] == "0" for flavor in group["flavors"] for r in flavor["resources"])
    # The ResourceQuota gives each accelerator kind its share of the 24: here all of it to the H100s' GPUs.
    [quota] = [item.obj for item in output.objects if item.kind == "ResourceQuota"]
    assert quota["spec"]["hard"] == {
        "requests.cpu": "1000",
        "requests.memory": "3000Gi",
        "requests.nvidia.com/gpu": "24",
        "requests.nvidia.com/mig-1g.10gb": "0",
    }
    # The queued TrainJob's pods ask for the pool's topology, or Kueue would never give them the h100 flavor.
    [job] = [item.obj for item in output.objects if item.kind == "TrainJob"]
    [patch] = job["spec"]["runtimePatches"]
    [node] = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
    pod_annotations = node["template"]["spec"]["template"]["metadata"]["annotations"]
    assert pod_annotations["kueue.x-k8s.io/podset-preferred-topology"] == "cloud.example/block"
    flavor = cluster["ResourceFlavor/h100"]["spec"]
    assert flavor == {
        "nodeLabels": {"node-pool": "h100"},
        "nodeTaints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
        "topologyName": "h100",
    }
    assert cluster["Topology/h100"]["spec"] == {
        "levels": [{"nodeLabel": "cloud.example/block"}, {"nodeLabel": "kubernetes.io/hostname"}]
    }
    assert cluster["WorkloadPriorityClass/training-low"]["value"] == 1000
    assert "Topology/cpu" not in cluster


def test_local_queues_feed_the_cluster_queue_and_existing_ones_are_not_rendered(tmp_path: Path) -> None:
    output = _build(tmp_path, ENV)
    queues = {item.name: item for item in output.objects if item.kind == "LocalQueue"}
    assert sorted(queues) == ["batch", "gpu-training"]
    assert all(q.obj["spec"] == {"clusterQueue": "research"} and q.path.startswith("localqueue-") for q in queues.values())
    assert queues["batch"].obj["metadata"]["namespace"] == "research"
    [job] = [item.obj for item in output.objects if item.kind == "TrainJob"]
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "gpu-training"
    assert job["metadata"]["labels"]["kueue.x-k8s.io/priority-class"] == "training-low"


def test_flavor_tolerations_are_an_explicit_choice(tmp_path: Path) -> None:
    output = _build(
        tmp_path, ENV.replace("  existingQueues: [shared]\n", "  existingQueues: [shared]\n  flavorTolerations: true\n")
    )
    assert _cluster(output)["ResourceFlavor/h100"]["spec"]["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
    ]


def test_no_pools_means_one_flavor_with_the_budget(tmp_path: Path) -> None:
    text = """\
namespace: research
kubernetesVersion: "1.32"
kueue: {defaultQueue: jobs}
budget: {gpus: 4, cpu: "64", memory: 256Gi}
"""
    queue = _cluster(_build(tmp_path, text))["ClusterQueue/research"]["spec"]
    assert queue["resourceGroups"] == [
        {
            "coveredResources": ["cpu", "memory", "nvidia.com/gpu"],
            "flavors": [
                {
                    "name": "default-flavor",
                    "resources": [
                        {"name": "cpu", "nominalQuota": "64"},
                        {"name": "memory", "nominalQuota": "256Gi"},
                        {"name": "nvidia.com/gpu", "nominalQuota": "4"},
                    ],
                }
            ],
        }
    ]


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "    nodePool: h100\n",
            "    nodePool: h100\n    queue: urgent\n",
            "36:12: workloads[finetune].queue: queue 'urgent' is neither rendered (kueue.defaultQueue, kueue.localQueues) "
            "nor declared in kueue.existingQueues: the job would wait forever",
        ),
        (
            'budget: {gpus: 24, cpu: "1000", memory: 3000Gi}\n',
            "",
            "24:7: cluster.nodePools[mig]: Kueue needs the size of node pool 'mig' for its cpu quota: set maxNodes (or the "
            "environment's budget.cpu), or list the queues in kueue.existingQueues when the cluster's queues are made elsewhere",
        ),
        (
            "      topologyLevels: [cloud.example/block, kubernetes.io/hostname]\n",
            "      topologyLevels: [kubernetes.io/hostname, kubernetes.io/hostname]\n",
            "24:23: cluster.nodePools[h100].topologyLevels: topology level 'kubernetes.io/hostname' is listed twice",
        ),
    ],
    ids=["unknown-queue", "pool-size-unknown", "repeated-topology-level"],
)
def test_queue_mistakes_are_located(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    with pytest.raises(UserError) as raised:
        _build(tmp_path, ENV.replace(replace, by))
    assert raised.value.one_line() == f"{tmp_path}/env/dev.yaml:{expected}"


def test_a_queue_declared_as_existing_may_be_named(tmp_path: Path) -> None:
    output = _build(tmp_path, ENV.replace("    nodePool: h100\n", "    nodePool: h100\n    queue: shared\n"))
    [job] = [item.obj for item in output.objects if item.kind == "TrainJob"]
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "shared"


def test_a_job_larger_than_its_queue_quota_is_a_render_finding_which_a_cohort_does_not_lift(tmp_path: Path) -> None:
    # The budget gives Kueue 24 GPUs: a 4-node TrainJob of 8 GPUs fits only by borrowing, which the cohort's queue
    # may not (borrowingLimit 0, or Kueue could admit past the budget).
    bigger = ENV.replace("    numNodes: 2\n", "    numNodes: 4\n")
    write(tmp_path / "env" / "dev.yaml", bigger)
    alone = bigger.replace("{cohort: ml, preemption: LowerPriority}", "{preemption: LowerPriority}")
    write(tmp_path / "env" / "prod.yaml", alone.replace("namespace: research", "namespace: prod"))
    fleet = render_fleet(load_environments(tmp_path / "env"), tmp_path / "rendered", [])
    for environment, queue in (("dev", "research"), ("prod", "prod")):
        [quota] = [f for f in fleet.findings_by_environment[environment] if f.rule == "kueue-quota"]
        assert quota.severity == "error"
        assert quota.message.startswith(
            f"its 4 pods can never be admitted by ClusterQueue {queue!r} (LocalQueue 'gpu-training'): "
            "flavor 'cpu': it does not support topology-aware scheduling, which the pod template asks for; "
            "flavor 'h100': 32 nvidia.com/gpu needed, 24 of quota;"
        )
        # render points at the environment file's workload (the rendered TrainJob is not written on an error).
        assert quota.location.file.endswith(f"{environment}.yaml")
        assert quota.location.line == 30
        assert "budget (budget.gpus" in quota.fix


def test_queues_defined_twice_differently_are_not_judged() -> None:
    # Folders of samples define "cluster-queue" several times with different quotas: no single quota to judge by.
    from mlgitops.kube.manifest import load_manifests
    from mlgitops.policy import PolicyContext, evaluate, load_catalog

    queue = """\
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: {name: cluster-queue}
spec:
  namespaceSelector: {}
  resourceGroups:
    - coveredResources: [cpu, memory%s]
      flavors:
        - name: default-flavor
          resources: [{name: cpu, nominalQuota: "9"}, {name: memory, nominalQuota: 36Gi}%s]
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata: {name: user-queue, namespace: default}
spec: {clusterQueue: cluster-queue}
"""
    job = """\
apiVersion: batch/v1
kind: Job
metadata: {name: dra, namespace: default, labels: {kueue.x-k8s.io/queue-name: user-queue}}
spec:
  suspend: true
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: job
          image: registry.example/job:1.0
          resources:
            requests: {cpu: "1", memory: 200Mi, example.com/gpu: "1"}
            limits: {memory: 200Mi, example.com/gpu: "1"}
"""
    plain = queue % ("", "")
    with_gpus = queue % (", example.com/gpu", ', {name: example.com/gpu, nominalQuota: "8"}')

    def quota_findings(*texts: str) -> list[str]:
        manifests = [m for index, text in enumerate(texts) for m in load_manifests(text, f"{index}.yaml")]
        return [f.message for f in evaluate(manifests, load_catalog(), PolicyContext()) if f.rule == "kueue-quota"]

    assert quota_findings(plain, job) == [
        "its pod can never be admitted by ClusterQueue 'cluster-queue' (LocalQueue 'user-queue'): it asks for "
        "example.com/gpu, which no resource group of the queue covers"
    ]
    assert quota_findings(with_gpus, job) == []
    assert quota_findings(plain, with_gpus, job) == []


def test_a_topology_label_and_a_dra_pool_reach_the_queues(tmp_path: Path) -> None:
    text = """\
namespace: research
kubernetesVersion: "1.34"
kueue: {defaultQueue: jobs}
cluster:
  nodePools:
    - name: h100
      labels: {node-pool: h100}
      taints: [{key: nvidia.com/gpu}]
      allocatable: {cpu: "190", memory: 1900Gi, gpus: 8}
      deviceClass: gpu.nvidia.com
      topologyLabel: topology.k8s.aws/network-node-layer-3
      maxNodes: 2
"""
    cluster = _cluster(_build(tmp_path, text))
    # A pool's topologyLabel (the LLM servers' placement domain) makes a two-level Kueue topology.
    assert cluster["Topology/h100"]["spec"]["levels"] == [
        {"nodeLabel": "topology.k8s.aws/network-node-layer-3"},
        {"nodeLabel": "kubernetes.io/hostname"},
    ]
    assert cluster["ResourceFlavor/h100"]["spec"]["topologyName"] == "h100"
    # Under DRA the quota is kept under the DeviceClass name.
    [group] = cluster["ClusterQueue/research"]["spec"]["resourceGroups"]
    assert group["coveredResources"] == ["cpu", "memory", "gpu.nvidia.com"]
    assert group["flavors"][0]["resources"][2] == {"name": "gpu.nvidia.com", "nominalQuota": "16"}


def test_node_local_disk_of_queued_pods_is_covered_or_kueue_would_never_admit_them(tmp_path: Path) -> None:
    # Kueue refuses a workload asking for a resource its queue does not cover (QuotaCheckStrategy BlockUndeclared).
    scratch = ENV.replace(
        'resources: {cpu: "64", memory: 800Gi, gpu: 8}', 'resources: {cpu: "64", memory: 800Gi, gpu: 8, ephemeralStorage: 100Gi}'
    )
    [group] = _cluster(_build(tmp_path, scratch))["ClusterQueue/research"]["spec"]["resourceGroups"]
    assert group["coveredResources"][-1] == "ephemeral-storage"
    quotas = {flavor["name"]: flavor["resources"][-1] for flavor in group["flavors"]}
    # No budget limits it: room for every queued pod that asks for it (2 nodes x 100Gi on h100).
    assert quotas["h100"] == {"name": "ephemeral-storage", "nominalQuota": "200Gi", "borrowingLimit": "0"}
    assert quotas["cpu"]["nominalQuota"] == "0"


def test_queued_training_jobs_leave_suspend_to_kueue_and_consolidation_alone(example_fleet: dict[str, EnvironmentOutput]) -> None:
    job = _one(example_fleet["dev"], "Job")
    # Kueue's webhook suspends a queued Job on create; a suspend: true in git would suspend it again on every sync.
    assert "suspend" not in job["spec"]
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "gpu-training"
    assert job["spec"]["template"]["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"] == "true"


def test_flux_creates_queued_jobs_and_then_leaves_suspend_to_kueue(tmp_path: Path) -> None:
    # Flux has no per-field ignore: only a create-only apply keeps it from suspending an admitted job again.
    create_only = {"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"}
    # A TrainJob also says its runtime exists outside the set (rule trainingruntime-reference).
    runtime = {"mlgitops.io/external-trainingruntimes": "torch-distributed"}
    for kind in ("Job", "PyTorchJob", "TrainJob", "RayJob"):
        extra = runtime if kind == "TrainJob" else {}
        assert _one(build_one(tmp_path, queued=True), kind)["metadata"]["annotations"] == {**create_only, **extra}
    for kind in ("Job", "PyTorchJob", "RayJob"):
        assert "annotations" not in _one(build_one(tmp_path, queued=False), kind)["metadata"]
    # The Trainer webhook rewrites a TrainJob's runtimePatches on every update: Flux creates it once, queued or not.
    assert _one(build_one(tmp_path, queued=False), "TrainJob")["metadata"]["annotations"] == {**create_only, **runtime}


def build_one(tmp_path: Path, *, queued: bool) -> EnvironmentOutput:
    kueue = "kueue: {defaultQueue: gpu-training, existingQueues: [gpu-training]}\n" if queued else ""
    write(
        tmp_path / "env" / "dev.yaml",
        f"""\
namespace: ml
kubernetesVersion: "1.32"
{kueue}workloads:
  - {{name: train, kind: training, image: "registry.example/t:1", resources: {{cpu: "1", memory: 1Gi}}}}
  - {{name: ddp, kind: distributed-training, jobKind: PyTorchJob, image: "registry.example/t:1", workers: 1,
      resources: {{cpu: "1", memory: 1Gi}}}}
  - {{name: tj, kind: distributed-training, image: "registry.example/t:1", numNodes: 2, resources: {{cpu: "1", memory: 1Gi}}}}
  - {{name: ray, kind: ray-job, image: "registry.example/r:1", entrypoint: python x.py, resources: {{cpu: "1", memory: 1Gi}}}}
""",
    )
    [loaded] = load_environments(tmp_path / "env")
    return build(loaded)
