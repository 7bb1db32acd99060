"""Checks of distributed training: node counts, and fields only one of TrainJob or PyTorchJob can express.

Kubeflow Trainer v2's TrainJob takes image, command, args, env, numNodes, numProcPerNode and
resourcesPerNode in `trainer`, and pod settings through runtime patches (PodSpecPatch: placement,
volumes, security, service account). Whatever else a pod would need comes from the training runtime,
so a spec asking for it is refused rather than silently dropped.
"""

from __future__ import annotations

from mlgitops.kube.trainjob import patch_field
from mlgitops.spec.checked import Checked
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.operators import release_tuple
from mlgitops.spec.problems import SpecProblem
from mlgitops.spec.storage import Volume
from mlgitops.spec.training import DistributedTraining, RunPolicy

FieldPath = tuple[str | int, ...]
Problem = tuple[FieldPath, str]

# Fields of every workload that a TrainJob cannot carry (the runtime's pod template sets them).
_RUNTIME_OWNED = {
    "image_pull_policy": "imagePullPolicy",
    "working_dir": "workingDir",
    "priority_class_name": "priorityClassName",
}
# Fields only Training Operator v1's PyTorchJob has.
_PYTORCHJOB_ONLY = {"elastic_policy": "elasticPolicy", "restart_policy": "restartPolicy"}
_PYTORCHJOB_RUN_POLICY = {"clean_pod_policy": "cleanPodPolicy", "backoff_limit": "backoffLimit"}


def check_distributed(checked: Checked[DistributedTraining]) -> list[SpecProblem]:
    """Problems of one distributed-training workload: as written (what a TrainJob's patch cannot carry), resolved."""
    found = _unpatchable(checked.written, checked.at) if checked.written.job_kind == "TrainJob" else []
    if checked.written.job_kind == "TrainJob":
        found += _release_cannot_carry(checked.environment, checked.written, checked.at)
    return checked.located(found + _problems(checked.workload, checked.volumes, checked.at))


def _release_cannot_carry(environment: Environment, workload: DistributedTraining, at: FieldPath) -> list[Problem]:
    """What the declared Kubeflow Trainer release's patch field cannot carry (kube/trainjob.py): refused at the
    field that asks for it, rather than pruned by the API server."""
    release = release_tuple(environment.operators.trainer)[:2]
    field = patch_field(release)
    if field == "runtimePatches":
        return []
    version = environment.operators.trainer
    why = f"Kubeflow Trainer {version} patches the runtime through {field}, which carries no"
    hint = "set it in the training runtime, or declare operators.trainer 2.2 or later (runtimePatches)"
    problems: list[Problem] = []
    if "security" in workload.model_fields_set:
        problems.append(((*at, "security"), f"{why} securityContext: {hint}"))
    if field == "podSpecOverrides":
        for attribute, key in (("node_affinity", "nodeAffinity"), ("anti_affinity", "antiAffinity")):
            if getattr(workload, attribute) is not None:
                problems.append(((*at, key), f"{why} affinity: {hint}"))
        pull = workload.image_pull_secrets if workload.image_pull_secrets is not None else environment.image_pull_secrets
        if pull:
            problems.append(
                (
                    (*at, "imagePullSecrets"),
                    f"{why} imagePullSecrets (from {'the workload' if workload.image_pull_secrets else 'the environment'}): "
                    "give the runtime's pods the pull secret (or its ServiceAccount), set imagePullSecrets: [] here, or "
                    "declare operators.trainer 2.1 or later",
                )
            )
        policy = environment.network_policy
        if policy is not None and policy.enabled and workload.pods > 1:
            problems.append(
                (
                    (*at, "numNodes"),
                    f"{why} pod labels: the network policy cannot let the {workload.pods} training pods reach each other "
                    "(rendezvous and collectives); declare operators.trainer 2.1 or later, or train on one node",
                )
            )
    return problems


def train_job_dra(workload: DistributedTraining, device_class: str) -> str | None:
    """Why a TrainJob's pods cannot claim DRA devices (a PyTorchJob's can)."""
    if workload.job_kind != "TrainJob":
        return None
    return (
        f"a TrainJob cannot claim DRA devices ({device_class}): its runtime patches carry no "
        "resourceClaims; use a pool with an extended resource (gpuResource), or jobKind: PyTorchJob"
    )


def _problems(workload: DistributedTraining, volumes: dict[str, Volume], at: FieldPath) -> list[Problem]:
    problems: list[Problem] = []
    if workload.num_nodes is not None and workload.workers is not None:
        problems.append(((*at, "workers"), "give numNodes or workers, not both (numNodes = 1 + workers)"))
    if workload.num_nodes is None and workload.workers is None:
        problems.append((at, "missing required field 'numNodes' (training pods, each with `resources`)"))
    if workload.job_kind == "TrainJob":
        problems += _trainjob_only(workload, at)
    elif "runtime" in workload.model_fields_set:
        problems.append(((*at, "runtime"), "runtime is a TrainJob field; a PyTorchJob (jobKind: PyTorchJob) has no runtime"))
    elastic = workload.elastic_policy
    if elastic is not None and elastic.min_replicas > elastic.max_replicas:
        problems.append(
            (
                (*at, "elasticPolicy", "maxReplicas"),
                f"maxReplicas {elastic.max_replicas} is below minReplicas {elastic.min_replicas}",
            )
        )
    if workload.pods > 1:
        problems += shared_writes(workload, workload.pods, volumes, at)
    return problems


def _trainjob_only(workload: DistributedTraining, at: FieldPath) -> list[Problem]:
    problems: list[Problem] = []
    hint = "set it in the training runtime, or render a PyTorchJob with jobKind: PyTorchJob"
    for field, key in _RUNTIME_OWNED.items():
        if field in workload.model_fields_set:
            problems.append(
                (
                    (*at, key),
                    f"a TrainJob cannot set {key}: Kubeflow Trainer takes it from the runtime {workload.runtime.name!r}; {hint}",
                )
            )
    probes = [name for name in ("readiness", "liveness", "startup") if getattr(workload.probes, name) is not None]
    if probes:
        problems.append(
            ((*at, "probes"), f"a TrainJob cannot set {probes[0]} probes: the runtime's pod template owns probes; {hint}")
        )
    for field, key in _PYTORCHJOB_ONLY.items():
        if field in workload.model_fields_set:
            problems.append(
                (
                    (*at, key),
                    f"{key} is a PyTorchJob (Training Operator v1) field that Kubeflow Trainer v2's TrainJob "
                    "does not have; remove it, or set jobKind: PyTorchJob",
                )
            )
    run_policy: RunPolicy = workload.run_policy
    for field, key in _PYTORCHJOB_RUN_POLICY.items():
        if field in run_policy.model_fields_set:
            problems.append(
                (
                    (*at, "runPolicy", key),
                    f"runPolicy.{key} is a PyTorchJob field; a TrainJob's runtime sets it "
                    "(remove it, or set jobKind: PyTorchJob)",
                )
            )
    if workload.nproc_per_node == "cpu":
        problems.append(
            ((*at, "nprocPerNode"), "a TrainJob takes a number of processes per node (or 'auto' or 'gpu'), not 'cpu'")
        )
    if workload.nproc_per_node == "gpu" and workload.resources.gpu is None:
        problems.append(((*at, "nprocPerNode"), "nprocPerNode 'gpu' needs resources.gpu (one process per GPU)"))
    return problems


# What a TrainJob's runtime patch (PodSpecPatch, trainer.kubeflow.org/v1alpha1) cannot carry: the pod fields
# beyond affinity, imagePullSecrets, nodeSelector, securityContext, serviceAccountName, tolerations and volumes,
# and new containers (its initContainers entries only patch the runtime's own).
_TRAINJOB_UNPATCHABLE = (
    ("initContainers", "init_containers"),
    ("sidecars", "sidecars"),
    ("hostIPC", "host_ipc"),
    ("spread", "spread"),
    ("envFrom", "env_from"),
)


def _unpatchable(workload: DistributedTraining, at: FieldPath) -> list[Problem]:
    """Pod fields a TrainJob cannot set through its runtime patch: refused rather than silently dropped."""
    problems: list[Problem] = []
    for field, attribute in _TRAINJOB_UNPATCHABLE:
        if getattr(workload, attribute):
            problems.append(
                (
                    (*at, field),
                    f"a TrainJob's runtime patch cannot set {field}: put it in the TrainingRuntime, or use jobKind: PyTorchJob",
                )
            )
    return problems


def shared_writes(workload: WorkloadBase, pods: int, volumes: dict[str, Volume], at: FieldPath) -> list[Problem]:
    """Writable claims that ``pods`` pods on different nodes mount must be ReadWriteMany."""
    problems: list[Problem] = []
    for index, mount in enumerate(workload.mounts):
        volume = volumes.get(mount.volume)
        if mount.read_only or volume is None or volume.claim is None:
            continue
        if "ReadWriteMany" not in volume.claim.access_modes:
            problems.append(
                (
                    (*at, "mounts", index, "volume"),
                    f"{pods} pods write to volume {mount.volume!r}, but its claim is "
                    f"{'/'.join(volume.claim.access_modes)}: pods on different nodes need ReadWriteMany",
                )
            )
    return problems
