"""The Kueue admission model on its own (kube/kueue_admission.py): flavors, TAS, quotas, cohorts, PodSets of each kind."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
import yaml

from mlgitops.kube.kueue_admission import admit, capacity, totals
from mlgitops.kube.kueue_queues import PodSet, Queues, TopologyRequest, pod_sets

QUEUES = """\
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata: {name: cpu}
spec:
  nodeLabels: {node-pool: cpu}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata: {name: a100}
spec:
  nodeLabels: {node-pool: a100}
  nodeTaints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
  topologyName: a100
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: Topology
metadata: {name: a100}
spec:
  levels: [{nodeLabel: cloud.example/block}, {nodeLabel: kubernetes.io/hostname}]
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: {name: ml}
spec:
  resourceGroups:
    - coveredResources: [cpu, memory, nvidia.com/gpu]
      flavors:
        - name: cpu
          resources:
            - {name: cpu, nominalQuota: "32"}
            - {name: memory, nominalQuota: 128Gi}
            - {name: nvidia.com/gpu, nominalQuota: "0"}
        - name: a100
          resources:
            - {name: cpu, nominalQuota: "96"}
            - {name: memory, nominalQuota: 1Ti}
            - {name: nvidia.com/gpu, nominalQuota: "16"}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata: {name: training, namespace: ml}
spec: {clusterQueue: ml}
"""

GI = Decimal(1024**3)
GPU_POD = {"cpu": Decimal(8), "memory": 64 * GI, "nvidia.com/gpu": Decimal(8)}
ON_A100 = {"node-pool": "a100"}
TOLERATES_GPU = ({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},)


def _queues(text: str = QUEUES) -> Queues:
    return Queues.of((obj, str((obj.get("metadata") or {}).get("namespace", ""))) for obj in yaml.safe_load_all(text))


def _gpu_pods(count: int, topology: TopologyRequest | None = None, **changes: Any) -> PodSet:
    fields: dict[str, Any] = {"node_selector": ON_A100, "tolerations": TOLERATES_GPU, "topology": topology, **changes}
    return PodSet("node", count, GPU_POD, **fields)


def test_a_mixed_queue_gives_a_tas_flavor_only_to_pod_sets_that_ask_for_a_topology() -> None:
    queues = _queues()
    queue = queues.cluster_queue_of("ml", "training")
    assert queue is not None
    refused = admit([_gpu_pods(1)], queue, queues).refusal
    assert refused is not None
    # Tried first, refused: the pods select the a100 pool.
    assert refused.reason.startswith("flavor 'cpu': the pods' nodeSelector node-pool=a100 does not match")
    assert "flavor 'a100': it supports only topology-aware scheduling" in refused.reason
    asked = admit([_gpu_pods(2, TopologyRequest("preferred", "cloud.example/block"))], queue, queues)
    assert asked.admitted
    assert asked.flavors == [{0: "a100"}]
    assert asked.usage[("a100", "nvidia.com/gpu")] == 16
    # A CPU PodSet without a topology request goes to the first non-TAS flavor that fits.
    cpu = admit([PodSet("etl", 2, {"cpu": Decimal(8), "memory": 16 * GI})], queue, queues)
    assert cpu.flavors == [{0: "cpu"}]


def test_a_topology_request_is_refused_flavors_without_topology_and_levels_the_topology_lacks() -> None:
    queues = _queues()
    queue = queues.cluster_queues["ml"]
    assert queue is not None
    etl = PodSet("etl", 1, {"cpu": Decimal(4)}, topology=TopologyRequest("required", "kubernetes.io/hostname"))
    refusal = admit([etl], queue, queues).refusal
    assert refusal is not None
    assert refusal.reason.startswith("flavor 'cpu': it does not support topology-aware scheduling")
    wrong_level = admit([_gpu_pods(1, TopologyRequest("required", "cloud.example/rack"))], queue, queues).refusal
    assert wrong_level is not None
    assert "flavor 'a100': its topology 'a100' has no level 'cloud.example/rack'" in wrong_level.reason


def test_a_tas_only_queue_implies_topology_for_pod_sets_without_a_request() -> None:
    only_tas = QUEUES.replace("  nodeLabels: {node-pool: cpu}\n", "  nodeLabels: {node-pool: cpu}\n  topologyName: a100\n")
    queues = _queues(only_tas)
    queue = queues.cluster_queues["ml"]
    assert queue is not None
    assert admit([_gpu_pods(2)], queue, queues).flavors == [{0: "a100"}]


def test_each_pod_set_needs_one_flavor_with_room_for_all_its_pods() -> None:
    queues = _queues()
    queue = queues.cluster_queues["ml"]
    assert queue is not None
    # 3 x 8 GPUs: the queue has 16 of them in all, so the PodSet is bigger than any flavor's quota.
    refusal = admit([_gpu_pods(3, TopologyRequest("preferred", "cloud.example/block"))], queue, queues).refusal
    assert refusal is not None
    assert "flavor 'a100': 24 nvidia.com/gpu needed, 16 of quota" in refusal.reason
    # Two PodSets of one workload share the quota: 2 x 8 fits, 2 x 8 + 1 x 8 does not.
    preferred = TopologyRequest("preferred", "cloud.example/block")
    assert admit([_gpu_pods(2, preferred)], queue, queues).admitted
    assert not admit([_gpu_pods(2, preferred), _gpu_pods(1, preferred)], queue, queues).admitted


def test_a_resource_the_queue_does_not_cover_is_never_admitted() -> None:
    queues = _queues()
    queue = queues.cluster_queues["ml"]
    assert queue is not None
    scratch = PodSet("etl", 1, {"cpu": Decimal(1), "ephemeral-storage": 10 * GI})
    refusal = admit([scratch], queue, queues).refusal
    assert refusal is not None
    assert refusal.reason == "it asks for ephemeral-storage, which no resource group of the queue covers"


def test_untolerated_flavor_taints_and_foreign_node_labels_skip_a_flavor() -> None:
    queues = _queues()
    queue = queues.cluster_queues["ml"]
    assert queue is not None
    preferred = TopologyRequest("preferred", "cloud.example/block")
    refusal = admit([_gpu_pods(1, preferred, tolerations=())], queue, queues).refusal
    assert refusal is not None
    assert "flavor 'a100': untolerated taint nvidia.com/gpu" in refusal.reason
    h100 = ({"key": "node-pool", "operator": "In", "values": ["h100"]},)
    elsewhere = _gpu_pods(1, preferred, node_selector={}, affinity_terms=(h100,))
    refusal = admit([elsewhere], queue, queues).refusal
    assert refusal is not None
    assert "flavor 'a100': the pods' required node affinity does not match its node labels" in refusal.reason


def test_quotas_add_up_over_flavors() -> None:
    queues = _queues()
    queue = queues.cluster_queues["ml"]
    assert queue is not None
    assert totals(queue, queues) == {"cpu": 128, "memory": 128 * GI + 1024 * GI, "nvidia.com/gpu": 16}


COHORT = """\
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: {name: team-a}
spec:
  cohortName: ml
  resourceGroups:
    - coveredResources: [cpu]
      flavors:
        - name: cpu
          resources: [{name: cpu, nominalQuota: "8"%s}]
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: {name: team-b}
spec:
  cohortName: ml
  resourceGroups:
    - coveredResources: [cpu]
      flavors:
        - name: cpu
          resources: [{name: cpu, nominalQuota: "8", lendingLimit: "6"}]
"""


@pytest.mark.parametrize(
    ("limit", "most", "twelve_fit"),
    [("", 14, True), (', borrowingLimit: "2"', 10, False), (', borrowingLimit: "4"', 12, True)],
    ids=["borrow-what-others-lend", "borrowing-limit-2", "borrowing-limit-4"],
)
def test_a_cohort_lends_up_to_its_members_lending_limits_and_the_borrowing_limit(limit: str, most: int, twelve_fit: bool) -> None:
    queues = _queues(COHORT % limit)
    queue = queues.cluster_queues["team-a"]
    assert queue is not None
    assert capacity(queue, queues) == {("cpu", "cpu"): most}
    assert admit([PodSet("job", 12, {"cpu": Decimal(1)})], queue, queues).admitted is twelve_fit


def test_a_cohort_whose_lenders_are_elsewhere_may_borrow_without_bound() -> None:
    queues = _queues((COHORT % "").split("---")[0])
    queue = queues.cluster_queues["team-a"]
    assert queue is not None
    assert totals(queue, queues) == {"cpu": None}
    assert admit([PodSet("job", 1000, {"cpu": Decimal(1)})], queue, queues).admitted


def _objects(text: str) -> list[dict[str, Any]]:
    return list(yaml.safe_load_all(text))


def test_pod_sets_read_topology_requests_from_pod_templates_of_each_kind() -> None:
    [job, train_job, ray_job] = _objects("""\
apiVersion: batch/v1
kind: Job
metadata: {name: train, labels: {kueue.x-k8s.io/queue-name: training}}
spec:
  parallelism: 2
  template:
    metadata:
      annotations: {kueue.x-k8s.io/podset-preferred-topology: cloud.example/block}
    spec:
      nodeSelector: {node-pool: a100}
      containers: [{name: t, image: t:1, resources: {limits: {nvidia.com/gpu: 8, memory: 64Gi}, requests: {cpu: "8"}}}]
---
apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata: {name: ddp}
spec:
  runtimeRef: {name: torch-distributed}
  trainer:
    numNodes: 4
    resourcesPerNode: {limits: {nvidia.com/gpu: 8}}
  runtimePatches:
    - manager: example.com/platform
      trainingRuntimeSpec:
        template:
          spec:
            replicatedJobs:
              - name: node
                template:
                  spec:
                    template:
                      metadata:
                        annotations: {kueue.x-k8s.io/podset-required-topology: kubernetes.io/hostname}
                      spec:
                        nodeSelector: {node-pool: a100}
---
apiVersion: ray.io/v1
kind: RayJob
metadata: {name: etl}
spec:
  entrypoint: python etl.py
  rayClusterSpec:
    headGroupSpec:
      template:
        spec:
          containers: [{name: head, image: ray:2, resources: {requests: {cpu: "2", memory: 8Gi}}}]
    workerGroupSpecs:
      - groupName: cpu
        replicas: 3
        template:
          metadata:
            annotations: {kueue.x-k8s.io/podset-unconstrained-topology: "true"}
          spec:
            containers: [{name: worker, image: ray:2, resources: {requests: {cpu: "8", memory: 32Gi}}}]
""")
    [pods] = pod_sets(job)
    assert (pods.count, pods.topology) == (2, TopologyRequest("preferred", "cloud.example/block"))
    assert pods.requests == {"cpu": 8, "memory": 64 * GI, "nvidia.com/gpu": 8}
    [trainer] = pod_sets(train_job)
    assert (trainer.count, trainer.topology, dict(trainer.node_selector)) == (
        4,
        TopologyRequest("required", "kubernetes.io/hostname"),
        {"node-pool": "a100"},
    )
    head, workers, submitter = pod_sets(ray_job)
    assert (head.count, head.topology) == (1, None)
    assert (workers.count, workers.topology) == (3, TopologyRequest("unconstrained", None))
    # KubeRay's default K8sJobMode submits through a pod of its own, which Kueue counts.
    assert (submitter.name, submitter.requests) == ("submitter", {"cpu": Decimal("0.5"), "memory": 200 * 1024**2})


def test_a_queued_deployment_is_admitted_pod_by_pod() -> None:
    queues = _queues()
    queue = queues.cluster_queues["ml"]
    assert queue is not None
    [deployment] = _objects("""\
apiVersion: apps/v1
kind: Deployment
metadata: {name: serve, labels: {kueue.x-k8s.io/queue-name: training}}
spec:
  replicas: 3
  selector: {matchLabels: {app: serve}}
  template:
    metadata:
      labels: {app: serve}
      annotations: {kueue.x-k8s.io/podset-preferred-topology: cloud.example/block}
    spec:
      nodeSelector: {node-pool: a100}
      tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
      containers: [{name: s, image: s:1, resources: {limits: {nvidia.com/gpu: 8, memory: 64Gi}, requests: {cpu: "8"}}}]
""")
    # Kueue's pod integration makes each pod of a Deployment a workload of its own: 3 x 8 GPUs never have to fit at once.
    [pods] = pod_sets(deployment)
    assert pods.count == 1
    assert admit([pods], queue, queues).admitted
