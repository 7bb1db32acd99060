"""Issue 26's five faults, each caught on a spec that has it (render: a located message) and on raw manifests that
have it (lint: a finding at the line), and the example fleet clear of all of them."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.fleet.run import RenderedFleet, render_fleet
from mlgitops.kube.kueue_admission import admit, totals
from mlgitops.kube.kueue_queues import Queues, pod_sets
from mlgitops.kube.manifest import load_manifests
from mlgitops.kube.quantity import parse_quantity
from mlgitops.load.environments import load_environments
from mlgitops.policy import Finding, PolicyContext, evaluate, load_catalog
from tests.support import REPO, write

ENV = """\
namespace: research
kubernetesVersion: "1.32"
gitops:
  repoUrl: https://git.example/ml.git
  argocd: {project: ml}
kueue:
  defaultQueue: training
budget: {gpus: 24, cpu: "600", memory: 4Ti}
cluster:
  karpenter: {nodeClassRef: {name: ml-nodes}}
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
workloads:
  - name: finetune
    kind: distributed-training
    image: registry.example/ft:1
    numNodes: 2
    resources: {cpu: "64", memory: 800Gi, gpu: 8}
    nodePool: h100
  - name: chat
    kind: serving
    image: registry.example/chat:1
    ports: [{port: 8080}]
    replicas: 2
    resources: {cpu: "16", memory: 128Gi, gpu: 1}
    nodePool: h100
"""

HAND_WRITTEN_JOB = """\
apiVersion: batch/v1
kind: Job
metadata:
  name: sweep
  namespace: research
  labels:
    kueue.x-k8s.io/queue-name: training
spec:
  template:
    spec:
      restartPolicy: Never
      nodeSelector: {node-pool: h100}
      tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
      containers:
        - name: sweep
          image: registry.example/sweep:1
          resources:
            requests: {cpu: "8", memory: 64Gi}
            limits: {memory: 64Gi, nvidia.com/gpu: 8}
"""


def _output(tmp_path: Path, text: str) -> EnvironmentOutput:
    write(tmp_path / "env" / "dev.yaml", text)
    [loaded] = load_environments(tmp_path / "env")
    return build(loaded)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(UserError) as raised:
        _output(tmp_path, text)
    return raised.value.one_line().removeprefix(f"{tmp_path}/env/dev.yaml:")


def _findings(tmp_path: Path, text: str, rule: str, extra: str | None = None) -> list[Finding]:
    write(tmp_path / "env" / "dev.yaml", text)
    if extra is not None:
        write(tmp_path / "env" / "manifests" / "hand.yaml", extra)
    fleet = render_fleet(load_environments(tmp_path / "env"), tmp_path / "rendered", [])
    return [f for f in fleet.findings_by_environment["dev"] if f.rule == rule]


def _objects(output: EnvironmentOutput, kind: str) -> list[dict[str, Any]]:
    return [item.obj for item in output.objects if item.kind == kind]


def _lint(text: str, rule: str) -> list[Finding]:
    manifests = load_manifests(text, "manifests.yaml")
    return [f for f in evaluate(manifests, load_catalog(), PolicyContext()) if f.rule == rule]


# 1. Kueue never admits GPU training: a mixed queue gives a TAS flavor only to pod sets that ask for a topology.


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


# 2. The budget is not enforced: the quotas summed over flavors, the ResourceQuota per accelerator, DRA devices.


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


# 3. Argo CD re-suspends running jobs: no suspend in git for queued jobs, or the sync option that keeps it.


def test_render_keeps_suspend_out_of_git_and_refuses_a_queued_job_that_asks_for_it(tmp_path: Path) -> None:
    output = _output(tmp_path, ENV)
    [job] = _objects(output, "TrainJob")
    assert "suspend" not in job["spec"]
    asked = ENV.replace("    numNodes: 2\n", "    numNodes: 2\n    runPolicy: {suspend: true}\n")
    assert _error(tmp_path, asked).startswith(
        "27:26: workloads[finetune].runPolicy.suspend: a job queued in Kueue (queue 'training') must not ask for suspend"
    )


def test_the_applications_keep_the_fields_they_ignore(tmp_path: Path) -> None:
    write(tmp_path / "env" / "dev.yaml", ENV)
    [loaded] = load_environments(tmp_path / "env")
    [application, cluster] = [item.obj for item in build(loaded).gitops]
    assert application["spec"]["syncPolicy"]["syncOptions"] == ["CreateNamespace=true", "RespectIgnoreDifferences=true"]
    assert cluster["metadata"]["name"] == "dev-cluster"
    old = ENV.replace("kubernetesVersion", 'operators: {argocd: "2.2"}\nkubernetesVersion')
    write(tmp_path / "env" / "dev.yaml", old)
    [loaded] = load_environments(tmp_path / "env")
    application = build(loaded).gitops[0].obj
    assert application["spec"]["syncPolicy"]["syncOptions"] == ["CreateNamespace=true"]  # Argo CD 2.2 lacks it


def test_lint_finds_a_queued_job_an_application_re_suspends() -> None:
    application = """\
---
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: research, namespace: argocd}
spec:
  project: ml
  source: {repoURL: https://git.example/ml.git, path: .}
  destination: {server: https://kubernetes.default.svc, namespace: research}
  ignoreDifferences: [{group: batch, kind: Job, jsonPointers: [/spec/suspend]}]
"""
    suspended = HAND_WRITTEN_JOB.replace("spec:\n  template:", "spec:\n  suspend: true\n  template:")
    [finding] = _lint(suspended + application, "queued-suspend")
    assert (finding.location.line, finding.location.column, finding.severity) == (9, 12, "error")
    assert "Argo CD Application 'research' syncs it without RespectIgnoreDifferences=true" in finding.message
    kept = application.replace(
        "  ignoreDifferences:", "  syncPolicy: {syncOptions: [RespectIgnoreDifferences=true]}\n  ignoreDifferences:"
    )
    assert _lint(suspended + kept, "queued-suspend") == []


# 4. Karpenter can evict training: pods of queued jobs are protected, NodePools say how they consolidate.


def test_render_protects_training_pods_and_writes_disruption(tmp_path: Path) -> None:
    output = _output(tmp_path, ENV)
    [job] = _objects(output, "TrainJob")
    [node] = pod_sets(job)
    assert node.metadata_path is not None
    metadata = job
    for key in node.metadata_path:
        metadata = metadata[key]
    assert metadata["annotations"]["karpenter.sh/do-not-disrupt"] == "true"
    pools = {pool["metadata"]["name"]: pool["spec"]["disruption"] for pool in _objects(output, "NodePool")}
    assert pools == {
        "cpu": {"consolidationPolicy": "WhenEmptyOrUnderutilized", "consolidateAfter": "5m"},
        "h100": {"consolidationPolicy": "WhenEmpty", "consolidateAfter": "5m"},
    }


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "kubernetesVersion",
            'operators: {karpenter: "0.37"}\nkubernetesVersion',
            "2:24: operators.karpenter: Karpenter 0.37 has no karpenter.sh/v1 NodePool, which mlgitops renders "
            "(Karpenter 1.0 or later)",
        ),
        (
            "      maxNodes: 10\n",
            "      maxNodes: 10\n      disruption: {consolidationPolicy: Balanced}\n",
            "17:41: cluster.nodePools[cpu].disruption.consolidationPolicy: Karpenter 1.13 has no Balanced consolidation "
            "policy (Karpenter 1.14 or later)",
        ),
    ],
    ids=["karpenter-before-v1", "balanced-before-1.14"],
)
def test_what_the_declared_karpenter_cannot_do_is_refused_at_its_line(
    tmp_path: Path, replace: str, by: str, expected: str
) -> None:
    text = ENV.replace(replace, by)
    if "Balanced" in by:
        text = text.replace("kubernetesVersion", 'operators: {karpenter: "1.13"}\nkubernetesVersion')
    assert _error(tmp_path, text) == expected


def test_render_and_lint_find_a_hand_written_job_karpenter_may_evict(tmp_path: Path) -> None:
    text = ENV.replace("kueue:\n", "manifests: [manifests/hand.yaml]\nkueue:\n")
    unqueued = HAND_WRITTEN_JOB.replace("  labels:\n    kueue.x-k8s.io/queue-name: training\n", "")
    on_cpu = unqueued.replace("node-pool: h100", "node-pool: cpu").replace(", nvidia.com/gpu: 8", "")
    [finding] = _findings(tmp_path, text, "training-disruption", on_cpu)
    # At spec.template: the pod template has no metadata to annotate yet.
    assert (Path(finding.location.file).name, finding.location.line) == ("hand.yaml", 8)
    assert "Karpenter NodePool 'cpu', which consolidates underutilised nodes" in finding.message


# 5. Flux: health checks that give up before the servers load, and roots applied in either order.

FLUX = ENV.replace("  argocd: {project: ml}\n", "  flux: {interval: 10m}\n").replace(
    "    replicas: 2\n",
    "    replicas: 2\n    probes:\n      startup: {httpGet: {path: /health, port: 8080}, failureThreshold: 120}\n",
)


def test_flux_waits_out_the_startup_window_and_the_namespaced_root_depends_on_the_cluster_root(tmp_path: Path) -> None:
    write(tmp_path / "env" / "dev.yaml", FLUX)
    [loaded] = load_environments(tmp_path / "env")
    output = build(loaded)
    kustomizations = {item.name: item.obj["spec"] for item in output.gitops if item.kind == "Kustomization"}
    # 120 x 10 s of startup probe, plus 5 minutes for pulls and downloads.
    assert kustomizations["dev"]["timeout"] == "25m"
    assert kustomizations["dev"]["dependsOn"] == [{"name": "dev-cluster", "namespace": "flux-system"}]
    assert kustomizations["dev-cluster"]["wait"] is True
    [deployment] = _objects(output, "Deployment")
    assert deployment["spec"]["progressDeadlineSeconds"] == 1500


def test_a_flux_timeout_shorter_than_a_servers_startup_is_refused_at_its_line(tmp_path: Path) -> None:
    text = FLUX.replace("  flux: {interval: 10m}\n", "  flux: {interval: 10m, timeout: 5m}\n")
    assert _error(tmp_path, text) == (
        "5:34: gitops.flux.timeout: Flux waits 5m for the health checks, but 'chat' may take 20m to become ready (its "
        "startup probe): the Kustomization would fail while it loads; raise the timeout to at least 25m, or leave it "
        "out (mlgitops derives it)"
    )


def test_lint_finds_a_kustomization_that_gives_up_before_its_server_loads() -> None:
    text = (REPO / "policies" / "flux-health-timeout.yaml").read_text()
    fail = text.split("  fail:\n    - manifest: |\n", 1)[1].split("      at:", 1)[0]
    manifest = "\n".join(line.removeprefix("        ") for line in fail.splitlines())
    [finding] = _lint(manifest, "flux-health-timeout")
    assert (finding.location.line, finding.location.column) == (13, 12)
    assert "Deployment 'llm' may take 30m to become ready" in finding.message


# The example fleet: every queued workload admissible, every queue inside its budget.


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
