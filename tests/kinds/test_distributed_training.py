"""distributed-training: a TrainJob by default (patched as the declared Trainer release takes it), or a PyTorchJob."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.fleet.build import EnvironmentOutput
from mlgitops.kube.custom_resources import project_schemas
from tests.kinds.specs import CLUSTER, RAYJOB, TRAINJOB, _build, _error
from tests.rendering import HEAD, _findings, _one, _refused, _render
from tests.support import write


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


TRAIN = (
    HEAD
    + """\
cluster:
  nodePools:
    - name: a100
      labels: {node-pool: a100}
      taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
      allocatable: {cpu: "94", memory: 1800Gi, gpus: 8}
volumes:
  - name: ckpt
    claim: {size: 1Ti, accessModes: [ReadWriteMany]}
workloads:
  - name: ddp
    kind: distributed-training
    image: ghcr.io/acme/train:1
    numNodes: 2
    nprocPerNode: gpu
    resources: {cpu: "8", memory: 64Gi, gpu: 8}
    shmSize: 16Gi
    nodePool: a100
    mounts: [{volume: ckpt, path: /ckpt, role: checkpoint}]
"""
)


def _train_job(tmp_path: Path, text: str) -> dict[str, Any]:
    [job] = [item.obj for item in _render(tmp_path, text).objects if item.kind == "TrainJob"]
    return job


def test_the_trainjob_patches_its_runtime_with_the_field_of_the_trainer_release(tmp_path: Path) -> None:

    current = _train_job(tmp_path, TRAIN)["spec"]
    assert [key for key in ("runtimePatches", "podTemplateOverrides", "podSpecOverrides") if key in current] == ["runtimePatches"]
    # 2.1: podTemplateOverrides (targetJobs, metadata, spec without securityContext); runtimePatches would be pruned.
    job = _train_job(tmp_path, TRAIN + "operators: {trainer: '2.1'}\n")
    [override] = job["spec"]["podTemplateOverrides"]
    assert "runtimePatches" not in job["spec"]
    assert override["targetJobs"] == [{"name": "node"}]
    assert override["metadata"]["labels"]["app.kubernetes.io/name"] == "ddp"
    assert override["spec"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert override["spec"]["containers"] == [
        {"name": "node", "volumeMounts": [{"name": "ckpt", "mountPath": "/ckpt"}, {"name": "dshm", "mountPath": "/dev/shm"}]}
    ]
    assert "securityContext" not in override["spec"]
    assert project_schemas().validate(job, "1.32") == []
    # 2.0: podSpecOverrides, the pod fields on the entry itself.
    job = _train_job(tmp_path, TRAIN + "operators: {trainer: '2.0'}\n")
    [override] = job["spec"]["podSpecOverrides"]
    assert sorted(override) == ["containers", "nodeSelector", "targetJobs", "tolerations", "volumes"]
    assert project_schemas().validate(job, "1.32") == []


def test_what_an_older_trainer_cannot_carry_is_refused_or_said(tmp_path: Path) -> None:
    old = TRAIN + "operators: {trainer: '2.1'}\n"
    line = _refused(tmp_path, old.replace("    nodePool: a100\n", "    nodePool: a100\n    security: {runAsUser: 1000}\n"))
    why = "Kubeflow Trainer 2.1 patches the runtime through podTemplateOverrides, which carries no securityContext"
    assert f"workloads[ddp].security: {why}" in line
    # Not written: the runtime's template decides, which lint cannot see (info, not an error that blocks the render).
    [finding] = _findings(tmp_path, old, "security-non-root")
    assert finding.severity.value == "info"
    assert "a TrainJob of Kubeflow Trainer before 2.2 cannot set a securityContext" in finding.message
    oldest = TRAIN + "operators: {trainer: '2.0'}\nimagePullSecrets: [ghcr-pull]\nexistingSecrets: [ghcr-pull]\n"
    line = _refused(tmp_path, oldest)
    why = "Kubeflow Trainer 2.0 patches the runtime through podSpecOverrides, which carries no imagePullSecrets"
    assert f"workloads[ddp].imagePullSecrets: {why}" in line


def test_a_trainjob_runtime_must_exist(tmp_path: Path) -> None:
    job = _train_job(tmp_path, TRAIN)
    assert job["metadata"]["annotations"]["mlgitops.io/external-trainingruntimes"] == "torch-distributed"
    # jax-distributed ships from Trainer 2.2: on 2.1 it must be declared or in the set.
    jax = (
        TRAIN.replace("    numNodes: 2\n", "    numNodes: 2\n    runtime: {name: jax-distributed}\n")
        + "operators: {trainer: '2.1'}\n"
    )
    [finding] = _findings(tmp_path, jax, "trainingruntime-reference")
    assert str(finding.location).endswith("dev.yaml:17:21")  # at runtime.name
    assert finding.message.startswith("TrainJob runs on ClusterTrainingRuntime 'jax-distributed', which is neither in the set")
    assert _findings(tmp_path, jax + "existingTrainingRuntimes: [jax-distributed]\n", "trainingruntime-reference") == []
    assert _findings(tmp_path, jax.replace("'2.1'", "'2.2'"), "trainingruntime-reference") == []
    write(
        tmp_path / "environments" / "manifests" / "runtimes.yaml",
        "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: ClusterTrainingRuntime\nmetadata: {name: jax-distributed}\n"
        "spec: {template: {spec: {}}}\n",
    )
    assert _findings(tmp_path, jax + "manifests: [manifests/runtimes.yaml]\n", "trainingruntime-reference") == []


def test_prod_trainjob_is_two_nodes_of_eight_gpus_queued_through_kueue(example_fleet: dict[str, EnvironmentOutput]) -> None:
    job = _one(example_fleet["prod"], "TrainJob")
    spec = job["spec"]
    assert spec["runtimeRef"] == {
        "apiGroup": "trainer.kubeflow.org",
        "kind": "ClusterTrainingRuntime",
        "name": "torch-distributed",
    }
    assert (spec["trainer"]["numNodes"], spec["trainer"]["numProcPerNode"]) == (2, 8)
    assert spec["trainer"]["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == 8
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "gpu-training"
    assert job["metadata"]["labels"]["kueue.x-k8s.io/priority-class"] == "training-low"
    # Kueue's webhook suspends it on create: git carries no suspend for a sync to write back.
    assert "suspend" not in spec
    [patch] = spec["runtimePatches"]
    [node] = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
    assert node["name"] == "node"
    pod = node["template"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"]["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-80GB"
    # The pool's taint first, then the workload's own toleration (runtime patches carry both).
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "acme.io/reserved-for", "operator": "Equal", "value": "ml-training", "effect": "NoSchedule"},
    ]
    assert any(v.get("emptyDir", {}).get("medium") == "Memory" for v in pod["volumes"])
    [container] = pod["containers"]
    assert container["name"] == "node"
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/data/imagenet", "/checkpoints", "/dev/shm"}


def test_dev_trainjob_is_one_node_of_one_gpu(example_fleet: dict[str, EnvironmentOutput]) -> None:
    trainer = _one(example_fleet["dev"], "TrainJob")["spec"]["trainer"]
    assert trainer["numNodes"] == 1
    assert trainer["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == 1
