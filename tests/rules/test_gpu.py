"""GPU rules (policy/checks/gpu.py) on every accelerator: taints, node selection, limits, /dev/shm, fitting the pools;
extended resources of any vendor, DRA claims, LeaderWorkerSets, KEDA targets."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from mlgitops.kube.cluster import NodePoolFacts, Taint
from mlgitops.kube.footprint import footprint, footprint_by_app
from mlgitops.policy import Catalog, PolicyContext
from tests.policy.linting import GPU_JOB, PYTORCHJOB, _found, findings_in, positions
from tests.rendering import HEAD, _findings
from tests.support import lint_findings

GIB = Decimal(2**30)
DRA_POOL = NodePoolFacts(
    "h100",
    {"node-pool": "h100"},
    (Taint("nvidia.com/gpu", "NoSchedule", "present"),),
    {"cpu": Decimal(190), "memory": 1900 * GIB, "gpu.nvidia.com": Decimal(8)},
    device_classes=("gpu.nvidia.com",),
)

CLAIMED = """\
apiVersion: resource.k8s.io/v1
kind: ResourceClaimTemplate
metadata: {name: chat-gpu, namespace: ml}
spec:
  spec:
    devices:
      requests:
        - name: gpu
          exactly: {deviceClassName: gpu.nvidia.com, allocationMode: ExactCount, count: COUNT}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: chat, namespace: ml}
spec:
  replicas: 3
  selector:
    matchLabels: {app: chat}
  template:
    metadata:
      labels: {app: chat}
    spec:
      securityContext: {runAsNonRoot: true}
      nodeSelector: {node-pool: h100}
      resourceClaims:
        - {name: gpu, resourceClaimTemplateName: chat-gpu}
      containers:
        - name: chat
          image: vllm/vllm-openai:v0.11.0
          resources:
            requests: {cpu: "16", memory: 128Gi}
            limits: {memory: 128Gi}
            claims: [{name: CLAIM}]
          volumeMounts: [{name: dshm, mountPath: /dev/shm}]
      volumes:
        - {name: dshm, emptyDir: {medium: Memory, sizeLimit: 16Gi}}
"""


def _claimed(count: int = 2, claim: str = "gpu") -> str:
    return CLAIMED.replace("COUNT", str(count)).replace("CLAIM", claim)


def test_a_pod_claiming_gpus_through_dra_must_tolerate_the_gpu_taint(catalog: Catalog) -> None:
    context = PolicyContext(node_pools=(DRA_POOL,))
    [finding] = findings_in(_claimed(), catalog, context=context, rule="gpu-toleration")
    assert finding.message == (
        "pod requests gpu.nvidia.com but does not tolerate the GPU taint of pool 'h100' (nvidia.com/gpu:NoSchedule); "
        "it will stay Pending"
    )
    # Without cluster facts: the taint key nodes with NVIDIA devices usually carry, with any value.
    assert [f.message for f in findings_in(_claimed(), catalog, rule="gpu-toleration")] == [
        "pod requests gpu.nvidia.com but tolerates no nvidia.com/gpu taint (any value), which such nodes usually carry; "
        "it may stay Pending"
    ]
    tolerated = _claimed().replace(
        "      nodeSelector:",
        "      tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]\n      nodeSelector:",
    )
    assert findings_in(tolerated, catalog, context=context, rule="gpu-toleration") == []


def test_a_claim_for_more_devices_than_a_node_has_never_schedules(catalog: Catalog) -> None:
    context = PolicyContext(node_pools=(DRA_POOL,))
    tolerating = "      tolerations: [{key: nvidia.com/gpu, operator: Exists}]\n      nodeSelector:"
    [finding] = findings_in(_claimed(16).replace("      nodeSelector:", tolerating), catalog, context=context, rule="schedulable")
    assert finding.message == (
        "pod requests 16 gpu.nvidia.com but the largest node it may use (pool 'h100') has 8: it would never schedule"
    )
    assert findings_in(_claimed(8).replace("      nodeSelector:", tolerating), catalog, context=context, rule="schedulable") == []


def test_a_container_may_only_use_a_claim_its_pod_declares(catalog: Catalog) -> None:
    found = findings_in(_claimed(claim="gpus"), catalog, rule="gpu-limits")
    assert positions(found) == [("gpu-limits", 32, 29)]
    assert "uses claim 'gpus', which is not in the pod's resourceClaims" in found[0].message
    assert findings_in(_claimed(), catalog, rule="gpu-limits") == []


def test_claimed_gpus_need_a_dev_shm_like_any_gpu_pod(catalog: Catalog) -> None:
    job = _claimed().split("---\n")[0] + (
        "---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: finetune, namespace: ml}\nspec:\n  template:\n    spec:\n"
        "      restartPolicy: Never\n      resourceClaims: [{name: gpu, resourceClaimTemplateName: chat-gpu}]\n"
        "      containers:\n        - name: train\n          image: ghcr.io/acme/train:1.0\n"
        "          resources: {claims: [{name: gpu}]}\n"
    )
    assert [f.rule for f in findings_in(job, catalog, rule="gpu-shm")] == ["gpu-shm"]
    unclaimed = job.replace("      resourceClaims: [{name: gpu, resourceClaimTemplateName: chat-gpu}]\n", "")
    assert findings_in(unclaimed.replace("resources: {claims: [{name: gpu}]}", "resources: {}"), catalog, rule="gpu-shm") == []


def test_footprints_count_claims_leader_worker_sets_and_keda_minimums() -> None:
    objects = list(yaml.safe_load_all(_claimed(2)))
    assert footprint(objects).gpus == {"gpu.nvidia.com (DRA)": 6}  # 3 replicas x a claim of 2 devices each
    lws = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "metadata": {"name": "big", "labels": {"app.kubernetes.io/name": "big"}},
        "spec": {
            "replicas": 3,
            "leaderWorkerTemplate": {
                "size": 4,
                "workerTemplate": {
                    "spec": {
                        "containers": [{"name": "w", "resources": {"requests": {"cpu": "10"}, "limits": {"amd.com/gpu": 8}}}]
                    }
                },
            },
        },
    }
    # replicas x size x GPUs per pod (the leader uses the worker template when it has none of its own).
    assert footprint([lws]).gpus == {"amd.com/gpu": 96}
    assert footprint([lws]).cpu == 120
    scaled = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "big"},
        "spec": {"scaleTargetRef": {"apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet", "name": "big"}},
    }
    assert footprint([lws, scaled]).gpus == {}  # KEDA's minReplicaCount defaults to 0
    scaled["spec"]["minReplicaCount"] = 2
    assert footprint_by_app([lws, scaled])["big"].gpus == {"amd.com/gpu": 64}


LWS_AUTOSCALED = """\
apiVersion: leaderworkerset.x-k8s.io/v1
kind: LeaderWorkerSet
metadata: {name: big, namespace: ml}
spec:
  leaderWorkerTemplate:
    size: 2
    workerTemplate:
      spec:
        containers:
          - name: server
            image: vllm/vllm-openai:v0.11.0
---
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: big, namespace: ml}
spec:
  scaleTargetRef: {apiVersion: leaderworkerset.x-k8s.io/v1, kind: LeaderWorkerSet, name: big}
  triggers:
    - type: prometheus
      metadata: {serverAddress: "http://prometheus:9090", query: "sum(vllm:num_requests_waiting)", threshold: "5"}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: big-pods, namespace: ml}
spec:
  scaleTargetRef: {apiVersion: leaderworkerset.x-k8s.io/v1, kind: LeaderWorkerSet, name: big}
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - type: Pods
      pods: {metric: {name: vllm_num_requests_waiting}, target: {type: AverageValue, averageValue: "5"}}
"""


def test_an_hpa_and_a_scaled_object_on_one_leader_worker_set_conflict(catalog: Catalog) -> None:
    [finding] = findings_in(LWS_AUTOSCALED, catalog, rule="hpa-keda-conflict")
    assert finding.message == (
        "KEDA ScaledObject and HPA 'big-pods' both scale LeaderWorkerSet 'big': they fight over its replicas; keep one"
    )
    alone = LWS_AUTOSCALED.rsplit("---\n", 1)[0]
    assert findings_in(alone, catalog, rule="hpa-keda-conflict") == []


def test_time_sliced_gpu_shares_above_one_are_a_warning(catalog: Catalog) -> None:
    pod = """\
apiVersion: v1
kind: Pod
metadata: {name: notebook, namespace: ml}
spec:
  containers:
    - name: notebook
      image: jupyter/pytorch-notebook:2024-05-27
      resources:
        limits: {memory: 8Gi, nvidia.com/gpu.shared: SHARES}
"""
    [finding] = findings_in(pod.replace("SHARES", "4"), catalog, rule="gpu-shared")
    assert (finding.severity, finding.location.line) == ("warning", 9)
    assert findings_in(pod.replace("SHARES", "1"), catalog, rule="gpu-shared") == []


AMD_POOL = (
    HEAD
    + """\
cluster:
  karpenter:
    nodeClassRef: {name: ml-nodes}
  nodePools:
    - name: mi300
      labels: {node-pool: mi300}
      allocatable: {cpu: "94", memory: 1800Gi, gpus: 8}
      gpuResource: amd.com/gpu
      instanceTypes: [x.large]
      maxNodes: 2
"""
)


def test_the_untainted_pool_fix_names_the_pools_own_accelerator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [finding] = _findings(tmp_path, AMD_POOL, "gpu-pool-taint")
    assert finding.fix.startswith("Add taints: [{key: amd.com/gpu, value: present, effect: NoSchedule}]")
    assert "nvidia" not in finding.fix
    # lint of the rendered NodePool says the same, pointing back at the environment file in its terms.

    from tests.support import run_in_process

    monkeypatch.chdir(tmp_path)
    result = run_in_process("render")
    assert result.exit_code == 0, result.stderr
    report = lint_findings(run_in_process("lint", "rendered", "--format", "json").stdout)
    [lint] = [f for f in report if f["rule"] == "gpu-pool-taint"]
    assert lint["fix"] == finding.fix
    assert lint["source"]["file"].startswith("environments/")
    assert lint["location"]["file"].startswith("rendered/")


POOLS = (
    NodePoolFacts("cpu", {"node-pool": "cpu"}, (), {"cpu": Decimal(16), "memory": 64 * GIB}),
    NodePoolFacts(
        "a100",
        {"node-pool": "a100", "nvidia.com/gpu.product": "NVIDIA-A100-SXM4-80GB"},
        (Taint("dedicated", "NoSchedule", "ml-training"),),
        {"cpu": Decimal(96), "memory": 1000 * GIB, "nvidia.com/gpu": Decimal(8)},
    ),
)


def test_without_a_cluster_profile_gpu_pods_must_tolerate_the_nvidia_taint(catalog: Catalog) -> None:
    # The Worker tolerates nvidia.com/gpu; the Master tolerates nothing.
    assert _found(catalog, PYTORCHJOB, "gpu-toleration") == [
        (
            11,
            11,
            "pod requests nvidia.com/gpu but tolerates no nvidia.com/gpu taint (any value), which such nodes usually carry; "
            "it may stay Pending",
        )
    ]
    # The Job tolerates its pool's own taint (dedicated): it targets nodes tainted that way, not nvidia.com/gpu.
    assert _found(catalog, GPU_JOB, "gpu-toleration") == []
    untolerated = GPU_JOB.replace(
        "        - {key: dedicated, operator: Exists, effect: NoSchedule}\n", "        - {key: x, effect: NoExecute}\n"
    )
    assert [(line, column) for line, column, _ in _found(catalog, untolerated, "gpu-toleration")] == [(12, 9)]


def test_with_a_cluster_profile_gpu_pods_must_tolerate_the_pools_own_taints(catalog: Catalog) -> None:
    # The a100 pool is tainted dedicated=ml-training: the Worker's nvidia.com/gpu toleration no longer suffices.
    assert [(line, column) for line, column, _ in _found(catalog, PYTORCHJOB, "gpu-toleration", POOLS)] == [(11, 11), (23, 24)]
    assert _found(catalog, GPU_JOB, "gpu-toleration", POOLS) == []


def test_gpu_pods_select_gpu_nodes(catalog: Catalog) -> None:
    assert [(line, column) for line, column, _ in _found(catalog, PYTORCHJOB, "gpu-node-selection")] == [(11, 11)]
    affinity = GPU_JOB.replace(
        "      nodeSelector: {node-pool: a100}\n",
        "      affinity:\n        nodeAffinity:\n          requiredDuringSchedulingIgnoredDuringExecution:\n"
        "            nodeSelectorTerms:\n              - matchExpressions:\n"
        "                  - {key: nvidia.com/gpu.product, operator: Exists}\n",
    )
    assert _found(catalog, affinity, "gpu-node-selection") == []
    unselected = GPU_JOB.replace("      nodeSelector: {node-pool: a100}\n", "")
    # Reported at the pod spec (the value of template.spec) that lacks a selector.
    assert [(line, column) for line, column, _ in _found(catalog, unselected, "gpu-node-selection")] == [(8, 7)]


def test_schedulable_compares_requests_with_the_pools_a_pod_may_use(catalog: Catalog) -> None:
    assert _found(catalog, GPU_JOB, "schedulable", POOLS) == []
    assert _found(catalog, GPU_JOB, "schedulable") == []  # no cluster profile: nothing to compare with
    greedy = GPU_JOB.replace("nvidia.com/gpu: 4}", "nvidia.com/gpu: 16}")
    # Pod-level sums are reported at the pod's containers.
    assert _found(catalog, greedy, "schedulable", POOLS) == [
        (14, 9, "pod requests 16 nvidia.com/gpu but the largest node it may use (pool 'a100') has 8: it would never schedule")
    ]
    assert _found(catalog, PYTORCHJOB, "schedulable", POOLS) == [
        (13, 13, "pod requests 1 nvidia.com/gpu but the largest node it may use (pool 'cpu') has 0: it would never schedule"),
        (24, 25, "no node pool admits this pod: none matches its nodeSelector with all of its taints tolerated"),
    ]


def test_gpu_limits_are_whole_and_requests_equal_them(catalog: Catalog) -> None:
    assert _found(catalog, GPU_JOB, "gpu-limits") == []
    uneven = GPU_JOB.replace("limits: {memory: 64Gi, nvidia.com/gpu: 4}", "limits: {memory: 64Gi, nvidia.com/gpu: 2}")
    assert [(line, column) for line, column, _ in _found(catalog, uneven, "gpu-limits")] == [(17, 64)]
    mig = GPU_JOB.replace("nvidia.com/gpu: 4", "nvidia.com/mig-1g.10gb: 0.5")
    assert "whole number" in _found(catalog, mig, "gpu-limits")[0][2]


def test_a_gpu_pod_has_a_sized_memory_backed_dev_shm(catalog: Catalog) -> None:
    assert _found(catalog, GPU_JOB, "gpu-shm") == []
    # Without a sizeLimit it is still shared memory: only emptydir-size reports the missing limit.
    unsized = GPU_JOB.replace("emptyDir: {medium: Memory, sizeLimit: 16Gi}", "emptyDir: {medium: Memory}")
    assert _found(catalog, unsized, "gpu-shm") == []
    assert [(line, column) for line, column, _ in _found(catalog, unsized, "emptydir-size")] == [(24, 11)]
    on_disk = GPU_JOB.replace("emptyDir: {medium: Memory, sizeLimit: 16Gi}", "emptyDir: {sizeLimit: 16Gi}")
    assert [(line, column) for line, column, _ in _found(catalog, on_disk, "gpu-shm")] == [(23, 9)]
