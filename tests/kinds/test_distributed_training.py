"""TrainJob (default for distributed-training), the PyTorchJob choice, and Ray's RayJob and RayService."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.kube.footprint import footprint
from mlgitops.load.environments import load_environments
from tests.support import write

CLUSTER = """\
namespace: ml
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: cpu
      labels: {node-pool: cpu}
      allocatable: {cpu: "16", memory: 64Gi}
    - name: gpu
      labels: {node-pool: gpu}
      taints: [{key: nvidia.com/gpu, value: present}]
      allocatable: {cpu: "96", memory: 1000Gi, gpus: 8}
      maxNodes: 4
volumes:
  - name: ckpt
    claim: {size: 1Ti, accessModes: [ReadWriteMany]}
"""

TRAINJOB = """\
workloads:
  - name: llm
    kind: distributed-training
    image: registry.example/llm:1
    numNodes: 2
    nprocPerNode: gpu
    resources: {cpu: "32", memory: 500Gi, gpu: 8}
    nodePool: gpu
    shmSize: 64Gi
    mounts:
      - {volume: ckpt, path: /ckpt, role: checkpoint}
"""

RAYJOB = """\
workloads:
  - name: tune
    kind: ray-job
    image: rayproject/ray:2.41.0-gpu
    rayVersion: "2.41.0"
    entrypoint: python tune.py --trials=64
    runtimeEnv: {pip: [optuna==4.1.0]}
    security: {runAsUser: 1000}
    resources: {cpu: "4", memory: 16Gi}
    nodePool: cpu
    workerGroups:
      - name: gpu
        replicas: 2
        resources: {cpu: "16", memory: 120Gi, gpu: 1}
        nodePool: gpu
      - name: cpu
        replicas: 3
        resources: {cpu: "8", memory: 32Gi}
        nodePool: cpu
"""

RAYSERVICE = """\
workloads:
  - name: embed
    kind: ray-service
    image: rayproject/ray:2.41.0-gpu
    serveConfig:
      applications:
        - {name: embed, import_path: "app:deployment", route_prefix: /}
    security: {runAsUser: 1000}
    resources: {cpu: "2", memory: 8Gi}
    nodePool: cpu
    autoscaling: {idleTimeoutSeconds: 120, upscalingMode: Conservative}
    workerGroups:
      - name: gpu
        minReplicas: 1
        maxReplicas: 6
        resources: {cpu: "8", memory: 60Gi, gpu: 1}
        nodePool: gpu
"""


def _build(tmp_path: Path, text: str, name: str = "dev") -> EnvironmentOutput:
    write(tmp_path / "env" / f"{name}.yaml", text)
    [loaded] = load_environments(tmp_path / "env")
    return build(loaded)


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(UserError) as raised:
        _build(tmp_path, text)
    return raised.value.one_line().replace(f"{tmp_path}/env/", "")


def _one(output: EnvironmentOutput, kind: str) -> dict[str, Any]:
    [obj] = [item.obj for item in output.objects if item.kind == kind]
    return obj


def _node_pod(job: dict[str, Any]) -> dict[str, Any]:
    [patch] = job["spec"]["runtimePatches"]
    [node] = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
    pod: dict[str, Any] = node["template"]["spec"]["template"]["spec"]
    return pod


def test_distributed_training_is_a_trainjob_with_the_gpu_pool_placement_in_its_runtime_patch(tmp_path: Path) -> None:
    job = _one(_build(tmp_path, CLUSTER + TRAINJOB), "TrainJob")
    assert job["apiVersion"] == "trainer.kubeflow.org/v1alpha1"
    trainer = job["spec"]["trainer"]
    assert (trainer["image"], trainer["numNodes"], trainer["numProcPerNode"]) == ("registry.example/llm:1", 2, 8)
    assert trainer["resourcesPerNode"] == {
        "requests": {"cpu": "32", "memory": "500Gi", "nvidia.com/gpu": 8},
        "limits": {"memory": "500Gi", "nvidia.com/gpu": 8},
    }
    pod = _node_pod(job)
    assert pod["nodeSelector"] == {"node-pool": "gpu"}
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert [v["name"] for v in pod["volumes"]] == ["ckpt", "dshm"]
    assert pod["containers"][0]["name"] == "node"
    # Not queued, not suspended; Flux still creates it once (the Trainer webhook writes into runtimePatches).
    assert job["spec"]["suspend"] is False
    assert "kueue.x-k8s.io/queue-name" not in job["metadata"]["labels"]
    assert job["metadata"]["annotations"] == {
        "kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent",
        "mlgitops.io/external-trainingruntimes": "torch-distributed",  # installed with Kubeflow Trainer
    }


def test_a_changed_trainjob_gets_a_new_name_and_an_unchanged_one_keeps_it(tmp_path: Path) -> None:
    first = _one(_build(tmp_path, CLUSTER + TRAINJOB), "TrainJob")["metadata"]["name"]
    again = _one(_build(tmp_path, CLUSTER + TRAINJOB), "TrainJob")["metadata"]["name"]
    bigger = _one(_build(tmp_path, CLUSTER + TRAINJOB.replace("numNodes: 2", "numNodes: 3")), "TrainJob")["metadata"]["name"]
    assert first == again
    assert first.startswith("llm-")
    assert len(first) == len("llm-") + 8
    assert bigger != first


def test_pytorchjob_stays_an_explicit_choice(tmp_path: Path) -> None:
    output = _build(tmp_path, CLUSTER + TRAINJOB.replace("    numNodes: 2\n", "    jobKind: PyTorchJob\n    numNodes: 3\n"))
    job = _one(output, "PyTorchJob")
    replicas = job["spec"]["pytorchReplicaSpecs"]
    assert (replicas["Master"]["replicas"], replicas["Worker"]["replicas"]) == (1, 2)
    assert not [item for item in output.objects if item.kind == "TrainJob"]


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "    nprocPerNode: gpu\n",
            "    nprocPerNode: gpu\n    elasticPolicy: {minReplicas: 1, maxReplicas: 2}\n",
            "dev.yaml:22:20: workloads[llm].elasticPolicy: elasticPolicy is a PyTorchJob (Training Operator v1) field that "
            "Kubeflow Trainer v2's TrainJob does not have; remove it, or set jobKind: PyTorchJob",
        ),
        (
            "    nprocPerNode: gpu\n",
            "    nprocPerNode: gpu\n    runPolicy: {backoffLimit: 3}\n",
            "dev.yaml:22:31: workloads[llm].runPolicy.backoffLimit: runPolicy.backoffLimit is a PyTorchJob field; a "
            "TrainJob's runtime sets it (remove it, or set jobKind: PyTorchJob)",
        ),
        (
            "    nprocPerNode: gpu\n",
            "    nprocPerNode: gpu\n    priorityClassName: urgent\n",
            "dev.yaml:22:24: workloads[llm].priorityClassName: a TrainJob cannot set priorityClassName: Kubeflow Trainer "
            "takes it from the runtime 'torch-distributed'; set it in the training runtime, or render a PyTorchJob with "
            "jobKind: PyTorchJob",
        ),
        (
            "    nprocPerNode: gpu\n",
            "    nprocPerNode: cpu\n",
            "dev.yaml:21:19: workloads[llm].nprocPerNode: a TrainJob takes a number of processes per node (or 'auto' or "
            "'gpu'), not 'cpu'",
        ),
        (
            "    numNodes: 2\n",
            "    numNodes: 2\n    workers: 1\n",
            "dev.yaml:21:14: workloads[llm].workers: give numNodes or workers, not both (numNodes = 1 + workers)",
        ),
        (
            "    numNodes: 2\n",
            "    numNodes: 5\n",
            "dev.yaml:20:15: workloads[llm].numNodes: 5 pods need 40 GPUs (nvidia.com/gpu) at once, but node pool 'gpu' "
            "holds at most 32 GPUs (nvidia.com/gpu) (maxNodes 4 x 8 GPUs (nvidia.com/gpu)); they would never all run",
        ),
    ],
    ids=["elastic-policy", "backoff-limit", "priority-class", "nproc-cpu", "nodes-and-workers", "over-pool-capacity"],
)
def test_what_a_trainjob_cannot_express_is_refused_at_its_line(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    assert _error(tmp_path, CLUSTER + TRAINJOB.replace(replace, by)) == expected


def test_a_multi_node_job_may_reach_its_own_pods_under_the_network_policy(tmp_path: Path) -> None:
    output = _build(tmp_path, CLUSTER + "networkPolicy: {}\n" + TRAINJOB + RAYJOB.removeprefix("workloads:\n"))
    policies = {item.name: item.obj["spec"] for item in output.objects if item.kind == "NetworkPolicy"}
    assert policies["allow-llm"]["ingress"] == [{"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "llm"}}}]}]
    # Ray: the job submitter runs in the namespace; without allowFrom nobody else reaches the Ray pods.
    assert policies["allow-tune"]["ingress"] == [{"from": [{"podSelector": {}}]}]


def test_rayjob_places_head_and_each_worker_group_on_its_pool(tmp_path: Path) -> None:
    job = _one(_build(tmp_path, CLUSTER + RAYJOB), "RayJob")
    assert job["apiVersion"] == "ray.io/v1"
    assert job["metadata"]["name"].startswith("tune-")
    spec = job["spec"]
    assert spec["entrypoint"] == "python tune.py --trials=64"
    assert spec["runtimeEnvYAML"] == "pip:\n- optuna==4.1.0\n"
    assert spec["shutdownAfterJobFinishes"] is True
    assert "ttlSecondsAfterFinished" not in spec
    cluster = spec["rayClusterSpec"]
    head = cluster["headGroupSpec"]["template"]["spec"]
    assert head["nodeSelector"] == {"node-pool": "cpu"}
    assert "tolerations" not in head
    assert head["containers"][0]["name"] == "ray-head"
    gpu, cpu = cluster["workerGroupSpecs"]
    assert (gpu["groupName"], gpu["replicas"], gpu["minReplicas"], gpu["maxReplicas"]) == ("gpu", 2, 2, 2)
    worker = gpu["template"]["spec"]
    assert worker["nodeSelector"] == {"node-pool": "gpu"}
    assert worker["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert worker["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 1
    assert "tolerations" not in cpu["template"]["spec"]
    # Head 4 CPU + 2 GPU workers x 16 + 3 CPU workers x 8; GPUs: 2 x 1.
    total = footprint([job])
    assert (total.cpu, total.gpu_total) == (4 + 2 * 16 + 3 * 8, 2)


def test_ray_service_leaves_worker_counts_to_the_ray_autoscaler_and_argocd_ignores_them(tmp_path: Path) -> None:
    gitops = "gitops: {repoUrl: 'https://git.example/fleet.git', argocd: {project: ml}}\n"
    output = _build(tmp_path, CLUSTER + gitops + RAYSERVICE)
    service = _one(output, "RayService")
    assert service["spec"]["serveConfigV2"] == "applications:\n- import_path: app:deployment\n  name: embed\n  route_prefix: /\n"
    cluster = service["spec"]["rayClusterConfig"]
    assert cluster["enableInTreeAutoscaling"] is True
    assert cluster["autoscalerOptions"] == {"idleTimeoutSeconds": 120, "upscalingMode": "Conservative"}
    [group] = cluster["workerGroupSpecs"]
    assert "replicas" not in group
    assert (group["minReplicas"], group["maxReplicas"]) == (1, 6)
    [app] = [item.obj for item in output.gitops if item.kind == "Application"]
    assert {
        "group": "ray.io",
        "kind": "RayService",
        "jqPathExpressions": [".spec.rayClusterConfig.workerGroupSpecs[].replicas"],
    } in app["spec"]["ignoreDifferences"]
    # The resource table counts the head and the autoscaler's minimum.
    assert footprint([service]).gpu_total == 1


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            RAYSERVICE.replace("        minReplicas: 1\n", "        replicas: 2\n"),
            "dev.yaml:29:19: workloads[embed].workerGroups[gpu].replicas: replicas and autoscaling are both set: the Ray "
            "autoscaler owns the worker count (drop replicas, use minReplicas and maxReplicas)",
        ),
        (
            RAYJOB.replace("        replicas: 3\n", "        maxReplicas: 3\n"),
            "dev.yaml:32:22: workloads[tune].workerGroups[cpu].maxReplicas: maxReplicas needs the Ray autoscaler (set "
            "autoscaling), or use replicas",
        ),
        (
            RAYJOB.replace("    entrypoint:", "    command: [python]\n    entrypoint:"),
            "dev.yaml:21:14: workloads[tune].command: KubeRay starts Ray in the container itself (`ray start`): remove "
            "command and put the program in entrypoint",
        ),
        (
            RAYJOB.replace("gpu: 1}", "gpu: 16}"),
            "dev.yaml:29:52: workloads[tune].workerGroups[gpu].resources.gpu: asks for 16 GPUs (nvidia.com/gpu) but the "
            "largest node of pool 'gpu' can allocate 8; these pods would never schedule",
        ),
        (
            RAYJOB.replace("        replicas: 2\n", "        replicas: 40\n"),
            "dev.yaml:28:19: workloads[tune].workerGroups[gpu].replicas: 40 pods need 40 GPUs (nvidia.com/gpu) at once, "
            "but node pool 'gpu' holds at most 32 GPUs (nvidia.com/gpu) (maxNodes 4 x 8 GPUs (nvidia.com/gpu)); they "
            "would never all run",
        ),
    ],
    ids=["replicas-under-autoscaler", "max-without-autoscaler", "command", "worker-gpus-over-node", "gang-over-pool"],
)
def test_ray_mistakes_are_located(tmp_path: Path, text: str, expected: str) -> None:
    assert _error(tmp_path, CLUSTER + text) == expected


def test_queued_rayjob_leaves_suspend_to_kueue_and_kueue_refusals_are_caught_before_the_cluster_does(tmp_path: Path) -> None:
    queued = CLUSTER + "kueue: {defaultQueue: research, existingQueues: [research]}\n"
    job = _one(_build(tmp_path, queued + RAYJOB), "RayJob")
    assert "suspend" not in job["spec"]
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "research"
    assert _error(
        tmp_path,
        queued
        + RAYJOB.replace(
            "    nodePool: cpu\n    workerGroups", "    nodePool: cpu\n    shutdownAfterJobFinishes: false\n    workerGroups"
        ),
    ) == (
        "dev.yaml:27:31: workloads[tune].shutdownAfterJobFinishes: Kueue refuses queued RayJobs (queue 'research') that "
        "keep their Ray cluster after the job: it would hold the queue's quota; set shutdownAfterJobFinishes: true"
    )


def test_rayjob_ttl_is_refused_under_gitops_and_rendered_without(tmp_path: Path) -> None:
    with_ttl = RAYJOB.replace(
        "    nodePool: cpu\n    workerGroups", "    nodePool: cpu\n    ttlSecondsAfterFinished: 600\n    workerGroups"
    )
    assert _one(_build(tmp_path, CLUSTER + with_ttl), "RayJob")["spec"]["ttlSecondsAfterFinished"] == 600
    flux = "gitops: {repoUrl: 'https://git.example/fleet.git', flux: {}}\n"
    assert _error(tmp_path, CLUSTER + flux + with_ttl).startswith(
        "dev.yaml:27:30: workloads[tune].ttlSecondsAfterFinished: ttlSecondsAfterFinished under ArgoCD/Flux"
    )


HAND_WRITTEN = """\
apiVersion: trainer.kubeflow.org/v1alpha1
kind: TrainJob
metadata:
  name: llm
  namespace: research
spec:
  runtimeRef: {name: torch-distributed}
  trainer:
    image: registry.example/llm:latest
    numNodes: 2
    resourcesPerNode:
      limits: {nvidia.com/gpu: 8}
  runtimePatches:
    - manager: team.example/settings
      trainingRuntimeSpec:
        template:
          spec:
            replicatedJobs:
              - name: node
                template:
                  spec:
                    template:
                      spec:
                        nodeSelector: {node-pool: h100}
                        volumes:
                          - {name: data, emptyDir: {}}
                        containers:
                          - name: node
                            volumeMounts:
                              - {name: data, mountPath: /data}
---
apiVersion: ray.io/v1
kind: RayService
metadata:
  name: serve
  namespace: research
spec:
  serveConfigV2: "applications: []"
  rayClusterConfig:
    headGroupSpec:
      template:
        spec:
          containers:
            - name: ray-head
              image: rayproject/ray:2.41.0
              resources:
                requests: {cpu: "2", memory: 8Gi}
                limits: {memory: 8Gi}
    workerGroupSpecs:
      - groupName: gpu
        minReplicas: 1
        maxReplicas: 2
        template:
          spec:
            containers:
              - name: ray-worker
                image: rayproject/ray:2.41.0-gpu
                resources:
                  limits: {nvidia.com/gpu: 1}
"""


def test_the_catalogs_pod_rules_reach_trainjob_trainers_and_ray_groups() -> None:
    from mlgitops.kube.manifest import load_manifests
    from mlgitops.policy import PolicyContext, evaluate, load_catalog

    findings = evaluate(load_manifests(HAND_WRITTEN, "jobs.yaml"), load_catalog(), PolicyContext())
    found = {(f.rule, f.object_ref.kind, f.location.line) for f in findings}
    lines = HAND_WRITTEN.splitlines()
    # The trainer (spec.trainer + its runtime patch): an untagged-ish image, no CPU/memory requests,
    # a GPU node without the GPU taint tolerated, data on an emptyDir mounted through the patch.
    assert ("image-tag", "TrainJob", 9) in found
    assert {rule for rule, kind, _ in found if kind == "TrainJob"} >= {
        "resources-requests",
        "resources-limits",
        "gpu-toleration",
        "gpu-shm",
        "emptydir-data",
    }
    at = {f.rule: lines[f.location.line - 1].strip() for f in findings if f.object_ref.kind == "TrainJob"}
    assert at["resources-requests"] == "resourcesPerNode:"
    assert at["gpu-toleration"] == "nodeSelector: {node-pool: h100}"  # the patch's pod spec (it has no tolerations)
    assert at["emptydir-data"] == "- {name: data, mountPath: /data}"
    # Ray: the head is sized and placed (only non-root is missing); the GPU worker group has no requests, no
    # toleration and no node selection.
    workers = lines.index("    workerGroupSpecs:") + 1
    head = {rule for rule, kind, line in found if kind == "RayService" and line < workers}
    worker = {rule for rule, kind, line in found if kind == "RayService" and line > workers}
    assert head == {"security-non-root"}
    assert worker >= {"resources-requests", "resources-limits", "gpu-toleration", "gpu-node-selection"}


def test_a_worker_group_telling_ray_more_gpus_than_it_has_is_a_render_finding(tmp_path: Path) -> None:
    from mlgitops.fleet.run import render_fleet

    told = RAYJOB.replace(
        '        resources: {cpu: "16", memory: 120Gi, gpu: 1}\n',
        '        resources: {cpu: "16", memory: 120Gi, gpu: 1}\n        rayStartParams: {num-gpus: "4"}\n',
    )
    write(tmp_path / "env" / "dev.yaml", CLUSTER + told)
    fleet = render_fleet(load_environments(tmp_path / "env"), tmp_path / "rendered", [])
    [finding] = [f for f in fleet.findings if f.rule == "ray-worker-gpus"]
    assert (finding.severity, finding.message) == (
        "warning",
        "worker group 'gpu' tells Ray num-gpus=4 but its pods get 1 GPU: Ray would schedule GPU tasks onto GPUs that "
        "are not there",
    )
    # render points at the environment-file field, not at a rendered file.
    assert finding.location.file.endswith("dev.yaml")
    assert finding.location.line >= 17  # within the workload "- name: tune" (line 17) of the environment file


@pytest.mark.parametrize(
    ("workloads", "expected"),
    [
        (
            TRAINJOB,
            "dev.yaml:24:15: workloads[llm].nodePool: a TrainJob cannot claim DRA devices (gpu.nvidia.com): its runtime "
            "patches carry no resourceClaims; use a pool with an extended resource (gpuResource), or jobKind: PyTorchJob",
        ),
        (
            RAYJOB,
            "dev.yaml:31:19: workloads[tune].workerGroups[gpu].nodePool: Ray pods cannot claim DRA devices "
            "(gpu.nvidia.com) yet: use a pool with an extended resource (gpuResource) for the Ray groups that need "
            "accelerators",
        ),
    ],
    ids=["trainjob", "ray-worker-group"],
)
def test_kinds_whose_pods_cannot_carry_dra_claims_are_refused_on_a_dra_pool(
    tmp_path: Path, workloads: str, expected: str
) -> None:
    dra = CLUSTER.replace('kubernetesVersion: "1.32"', 'kubernetesVersion: "1.34"').replace(
        "      maxNodes: 4\n", "      maxNodes: 4\n      deviceClass: gpu.nvidia.com\n"
    )
    assert _error(tmp_path, dra + workloads) == expected
