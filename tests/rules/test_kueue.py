"""Kueue's rules (policy/checks/kueue.py) and render's Kueue checks, on issue 26's faults: a mixed queue gives a TAS
flavor only to pod sets that ask for a topology; the quotas summed over flavors stay inside the budget; the
example fleet is admitted inside its budget."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from mlgitops.fleet.build import EnvironmentOutput
from mlgitops.fleet.run import RenderedFleet
from mlgitops.kube.kueue_admission import admit, totals
from mlgitops.kube.kueue_queues import Queues, pod_sets
from mlgitops.kube.quantity import parse_quantity
from tests.rules.controller_faults import ENV, HAND_WRITTEN_JOB, _error, _findings, _lint, _objects, _output
from tests.support import REPO


def test_render_asks_for_the_pools_topology_and_the_model_admits_what_it_renders(tmp_path: Path) -> None:
    output = _output(tmp_path, ENV)
    [job] = _objects(output, "TrainJob")
    queues = Queues.of((item.obj, "research") for item in output.objects)
    queue = queues.cluster_queue_of("research", "training")
    assert queue is not None
    admission = admit(pod_sets(job), queue, queues)
    assert admission.flavors == [{0: "h100"}]
    # The preferred level is the narrowest above the node: the block.
    [node] = pod_sets(job)
    assert node.topology is not None
    assert (node.topology.mode, node.topology.level) == ("preferred", "cloud.example/block")


def test_render_finds_a_hand_written_queued_job_without_a_topology_request_at_its_line(tmp_path: Path) -> None:
    text = ENV.replace("kueue:\n", "manifests: [manifests/hand.yaml]\nkueue:\n")
    [finding] = _findings(tmp_path, text, "kueue-quota", HAND_WRITTEN_JOB)
    assert (Path(finding.location.file).name, finding.location.line) == ("hand.yaml", 7)
    assert "flavor 'h100': it supports only topology-aware scheduling and the pod template asks for no topology" in (
        finding.message
    )


def test_a_topology_level_the_pool_lacks_is_refused_at_its_line(tmp_path: Path) -> None:
    text = ENV.replace("  defaultQueue: training\n", "  defaultQueue: training\n  topology: {level: cloud.example/rack}\n")
    assert _error(tmp_path, text) == (
        "8:21: kueue.topology.level: node pool 'h100', where 'finetune' runs, has no topology level 'cloud.example/rack' "
        "(its levels: cloud.example/block, kubernetes.io/hostname): Kueue would never admit its pods to the pool's flavor"
    )


def test_lint_finds_an_unannotated_pod_set_in_a_mixed_queue() -> None:
    queues = """\
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata: {name: cpu}
spec: {nodeLabels: {node-pool: cpu}}
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ResourceFlavor
metadata: {name: h100}
spec:
  nodeLabels: {node-pool: h100}
  nodeTaints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
  topologyName: h100
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: {name: research}
spec:
  namespaceSelector: {}
  resourceGroups:
    - coveredResources: [cpu, memory, nvidia.com/gpu]
      flavors:
        - name: cpu
          resources: [{name: cpu, nominalQuota: "64"}, {name: memory, nominalQuota: 256Gi}, {name: nvidia.com/gpu, nominalQuota: "0"}]
        - name: h100
          resources: [{name: cpu, nominalQuota: "190"}, {name: memory, nominalQuota: 1900Gi}, {name: nvidia.com/gpu, nominalQuota: "8"}]
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata: {name: training, namespace: research}
spec: {clusterQueue: research}
---
"""  # noqa: E501
    [finding] = _lint(queues + HAND_WRITTEN_JOB, "kueue-quota")
    assert (finding.location.line, finding.location.column) == (38, 32)
    assert "flavor 'h100': it supports only topology-aware scheduling" in finding.message
    annotated = HAND_WRITTEN_JOB.replace(
        "    spec:\n      restartPolicy", "    metadata:\n      annotations: {kueue.x-k8s.io/podset-required-topology: "
        "kubernetes.io/hostname}\n    spec:\n      restartPolicy"
    )  # fmt: skip
    assert _lint(queues + annotated, "kueue-quota") == []


def test_the_queue_admits_no_more_than_the_budget_minus_what_serving_keeps(tmp_path: Path) -> None:
    output = _output(tmp_path, ENV)
    queues = Queues.of((item.obj, "research") for item in output.objects)
    queue = queues.cluster_queues["research"]
    assert queue is not None
    admits = totals(queue, queues)
    # serving: 2 replicas x (16 CPU, 128Gi, 1 GPU) at most; Kueue gets the rest of the budget, and no borrowing.
    assert admits["nvidia.com/gpu"] == 24 - 2
    assert admits["cpu"] == 600 - 32
    assert admits["memory"] == parse_quantity("4Ti") - parse_quantity("256Gi")
    [quota] = _objects(output, "ResourceQuota")
    assert quota["spec"]["hard"] == {"requests.cpu": "600", "requests.memory": "4Ti", "requests.nvidia.com/gpu": "24"}
    # The quota tracks cpu and memory: containers that set no requests get defaults instead of being refused.
    [limits] = _objects(output, "LimitRange")
    assert limits["spec"]["limits"] == [{"type": "Container", "defaultRequest": {"cpu": "100m", "memory": "256Mi"}}]


def test_a_budget_serving_leaves_too_little_of_is_a_finding_at_the_queued_workload(tmp_path: Path) -> None:
    [finding] = _findings(tmp_path, ENV.replace("budget: {gpus: 24,", "budget: {gpus: 16,"), "kueue-quota")
    assert finding.location.line == 23  # the finetune workload
    assert "flavor 'h100': 16 nvidia.com/gpu needed, 14 of quota" in finding.message
    assert "budget.gpus" in finding.fix


def test_a_queue_past_a_tighter_hand_written_quota_is_a_finding_at_the_budget(tmp_path: Path) -> None:
    text = ENV.replace("kueue:\n", "manifests: [manifests/hand.yaml]\nkueue:\n")
    quota = "apiVersion: v1\nkind: ResourceQuota\nmetadata: {name: team, namespace: research}\n"
    quota += "spec:\n  hard: {requests.nvidia.com/gpu: '8'}\n"
    [finding] = _findings(tmp_path, text, "kueue-budget", quota)
    # The ClusterQueue is rendered from the budget, so the finding points at budget.gpus (line 9).
    assert (Path(finding.location.file).name, finding.location.line, finding.location.column) == ("dev.yaml", 9, 16)
    assert "admits up to 22 nvidia.com/gpu at once" in finding.message


def test_accelerator_kinds_share_the_budget_and_dra_devices_have_their_own_key(
    example_fleet: dict[str, EnvironmentOutput],
) -> None:
    [quota] = [item.obj for item in example_fleet["staging"].objects if item.kind == "ResourceQuota"]
    hard = quota["spec"]["hard"]
    accelerators = {key: value for key, value in hard.items() if key not in ("requests.cpu", "requests.memory")}
    assert "gpu.nvidia.com.deviceclass.resource.k8s.io/devices" in accelerators
    assert sum(int(value) for value in accelerators.values()) == 16  # budget.gpus, all kinds together


def test_lint_finds_quotas_summing_past_the_budget_and_keys_that_charge_nothing() -> None:
    text = (REPO / "policies" / "kueue-budget.yaml").read_text()
    assert "kueue-budget" in text  # the rule's own fail example is checked by `policy test`; here: the numbers
    queue = """\
apiVersion: kueue.x-k8s.io/v1beta2
kind: ClusterQueue
metadata: {name: ml-dev}
spec:
  namespaceSelector: {}
  resourceGroups:
    - coveredResources: [cpu, memory, nvidia.com/gpu]
      flavors:
        - name: gpu-a100
          resources: [{name: cpu, nominalQuota: "188"}, {name: memory, nominalQuota: 3600Gi}, {name: nvidia.com/gpu, nominalQuota: "16"}]
        - name: gpu-h100
          resources: [{name: cpu, nominalQuota: "300"}, {name: memory, nominalQuota: 4Ti}, {name: nvidia.com/gpu, nominalQuota: "16"}]
---
apiVersion: kueue.x-k8s.io/v1beta2
kind: LocalQueue
metadata: {name: gpu-training, namespace: ml-dev}
spec: {clusterQueue: ml-dev}
---
apiVersion: v1
kind: ResourceQuota
metadata: {name: budget, namespace: ml-dev}
spec:
  hard: {requests.nvidia.com/gpu: "16", limits.habana.ai/gaudi: "16"}
"""  # noqa: E501
    [summed] = _lint(queue, "kueue-budget")
    assert (summed.location.line, summed.location.column) == (10, 132)
    assert summed.message.startswith("ClusterQueue 'ml-dev' admits up to 32 nvidia.com/gpu at once")
    [nothing] = _lint(queue, "quota-accelerators")
    assert (nothing.location.line, nothing.message) == (
        23,
        "'limits.habana.ai/gaudi' enforces nothing: the quota charges an extended resource only as requests.habana.ai/gaudi",
    )


def test_the_example_fleet_is_admitted_inside_its_budget(rendered_example_fleet: RenderedFleet) -> None:
    fleet = rendered_example_fleet
    rules = {"kueue-quota", "kueue-budget", "env-budget", "queued-suspend", "training-disruption", "quota-accelerators"}
    assert [f for f in fleet.findings if f.rule in rules] == []
    for output in fleet.outputs:
        objects = [item.obj for item in output.objects]
        queues = Queues.of((obj, str(obj["metadata"].get("namespace", ""))) for obj in objects)
        [queue] = [q for q in queues.cluster_queues.values() if q is not None]
        [quota] = [obj for obj in objects if obj["kind"] == "ResourceQuota"]
        hard = quota["spec"]["hard"]
        admits = totals(queue, queues)
        for resource in ("cpu", "memory"):
            admitted = admits[resource]
            assert admitted is not None
            assert admitted <= parse_quantity(hard[f"requests.{resource}"])
        gpus = sum((amount or Decimal(0) for name, amount in admits.items() if name not in ("cpu", "memory")), Decimal(0))
        assert gpus <= sum(int(v) for k, v in hard.items() if k not in ("requests.cpu", "requests.memory"))
        for obj in objects:
            if obj["metadata"].get("labels", {}).get("kueue.x-k8s.io/queue-name"):
                assert admit(pod_sets(obj), queue, queues).admitted, obj["metadata"]["name"]
