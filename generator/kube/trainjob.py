"""The trainer pods of a Kubeflow Trainer TrainJob (trainer.kubeflow.org/v1alpha1), as one pod spec.

A TrainJob has no pod template of its own: the trainer's container comes from `spec.trainer`
(image, command, args, env, resourcesPerNode) and pod settings from the entries that patch the runtime's trainer
job (named 'node' in every runtime Kubeflow ships). The field has changed at every minor release of Kubeflow Trainer
(kubeflow/trainer `pkg/apis/trainer/v1alpha1/trainjob_types.go`): `podSpecOverrides` in v2.0 (PodSpecOverride:
targetJobs, serviceAccountName, nodeSelector, tolerations, volumes, init/containers with env and volumeMounts,
schedulingGates), `podTemplateOverrides` in v2.1 (targetJobs, metadata, and a spec that adds affinity and
imagePullSecrets), `runtimePatches` from v2.2 (#3309: per manager, a TrainingRuntimeSpec patch whose PodSpecPatch also
carries the pod's and the containers' securityContext). The API server prunes the field a release does not know.
Rules and resource counts see the trainer and its patches together, as the pods will be. Settings the referenced
(Cluster)TrainingRuntime adds are not known here.
"""

from __future__ import annotations

from typing import Any

FieldPath = tuple[str | int, ...]
TRAINER_STEP = "node"
"""Replicated job and container of the runtime that run the trainer."""
TRAINER_PATH: FieldPath = ("spec", "trainer")
"""Where the trainer's container is reported: its image, command, args, env and resources are written there."""
_LISTS = ("tolerations", "volumes", "imagePullSecrets")
PATCH_FIELDS = {(2, 0): "podSpecOverrides", (2, 1): "podTemplateOverrides", (2, 2): "runtimePatches"}
"""The field that patches the runtime's pods, by the Kubeflow Trainer release that introduced it."""
SHIPPED_RUNTIMES: dict[tuple[int, int], frozenset[str]] = {
    (2, 0): frozenset(
        {
            "deepspeed-distributed",
            "mlx-distributed",
            "mpi-distributed",
            "torch-distributed",
            "torchtune-llama3.2-1b",
            "torchtune-llama3.2-3b",
        }
    ),
    (2, 1): frozenset(
        {
            "deepspeed-distributed",
            "mlx-distributed",
            "torch-distributed",
            "torchtune-llama3.2-1b",
            "torchtune-llama3.2-3b",
            "torchtune-qwen2.5-1.5b",
        }
    ),
    (2, 2): frozenset(
        {
            "deepspeed-distributed",
            "jax-distributed",
            "mlx-distributed",
            "torch-distributed",
            "torchtune-llama3.2-1b",
            "torchtune-llama3.2-3b",
            "torchtune-qwen2.5-1.5b",
            "xgboost-distributed",
        }
    ),
}
"""ClusterTrainingRuntimes that Kubeflow Trainer's base manifests install, by the release that changed the list
(kubeflow/trainer `manifests/base/runtimes/kustomization.yaml` at v2.0.0, v2.1.0, v2.2.0 and v2.3.0;
torch-distributed-with-cache, in data-cache/, is not among them)."""
ANY_SHIPPED_RUNTIME = frozenset().union(*SHIPPED_RUNTIMES.values())


def _at_release(table: dict[tuple[int, int], Any], release: tuple[int, int]) -> Any:
    """The entry of the newest release in ``table`` at or before ``release`` (the oldest before all of them)."""
    known = sorted(table)
    chosen = [version for version in known if version <= release]
    return table[chosen[-1] if chosen else known[0]]


def patch_field(release: tuple[int, int]) -> str:
    """`podSpecOverrides` (2.0), `podTemplateOverrides` (2.1) or `runtimePatches` (2.2 and later)."""
    field: str = _at_release(PATCH_FIELDS, release)
    return field


def shipped_runtimes(release: tuple[int, int]) -> frozenset[str]:
    """The ClusterTrainingRuntimes a Kubeflow Trainer release installs with its base manifests."""
    names: frozenset[str] = _at_release(SHIPPED_RUNTIMES, release)
    return names


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def runtime_sets_security(obj: dict[str, Any]) -> bool:
    """Whether a TrainJob patches its runtime through a field without securityContext (`podTemplateOverrides` of
    Trainer 2.1, `podSpecOverrides` of 2.0): its pods then run as the runtime's template says."""
    spec = obj.get("spec")
    if obj.get("kind") != "TrainJob" or not isinstance(spec, dict) or spec.get("runtimePatches"):
        return False
    return bool(spec.get("podTemplateOverrides") or spec.get("podSpecOverrides"))


def _targets_trainer(entry: Any) -> bool:
    targets = _dig(entry, "targetJobs")
    return isinstance(targets, list) and any(_dig(target, "name") == TRAINER_STEP for target in targets)


def _patched_pods(spec: dict[str, Any]) -> list[tuple[FieldPath, dict[str, Any]]]:
    """Pod spec patches aimed at the trainer job, with their paths, in the order written (any release's field)."""
    found: list[tuple[FieldPath, dict[str, Any]]] = []
    for field, inner in (("podSpecOverrides", ()), ("podTemplateOverrides", ("spec",))):
        entries = spec.get(field)
        for index, entry in enumerate(entries if isinstance(entries, list) else []):
            pod = _dig(entry, *inner) if inner else entry
            if _targets_trainer(entry) and isinstance(pod, dict):
                fields = {key: value for key, value in pod.items() if key != "targetJobs"}
                found.append((("spec", field, index, *inner), fields))
    patches = spec.get("runtimePatches")
    for index, patch in enumerate(patches if isinstance(patches, list) else []):
        jobs = _dig(patch, "trainingRuntimeSpec", "template", "spec", "replicatedJobs")
        for job_index, job in enumerate(jobs if isinstance(jobs, list) else []):
            pod = _dig(job, "template", "spec", "template", "spec")
            if _dig(job, "name") == TRAINER_STEP and isinstance(pod, dict):
                path: FieldPath = (
                    "spec", "runtimePatches", index, "trainingRuntimeSpec", "template", "spec",
                    "replicatedJobs", job_index, "template", "spec", "template", "spec",
                )  # fmt: skip
                found.append((path, pod))
    return found


def trainer_pod(obj: dict[str, Any]) -> tuple[FieldPath, dict[str, Any]] | None:
    """The trainer's pod spec and the path of the patch that holds its pod settings (or of spec.trainer)."""
    spec = obj.get("spec")
    trainer = _dig(spec, "trainer")
    if not isinstance(spec, dict) or not isinstance(trainer, dict):
        return None
    container: dict[str, Any] = {"name": TRAINER_STEP}
    for key in ("image", "command", "args", "env"):
        if key in trainer:
            container[key] = trainer[key]
    if "resourcesPerNode" in trainer:
        container["resources"] = trainer["resourcesPerNode"]
    pod: dict[str, Any] = {}
    patches = _patched_pods(spec)
    for _, patch in patches:
        for key, value in patch.items():
            if key == "containers":
                for patched in value if isinstance(value, list) else []:
                    if isinstance(patched, dict) and patched.get("name") == TRAINER_STEP:
                        _merge_container(container, patched)
            elif key in _LISTS and isinstance(value, list):
                pod[key] = [*pod.get(key, []), *value]
            elif key == "nodeSelector" and isinstance(value, dict):
                pod[key] = {**pod.get(key, {}), **value}
            else:
                pod[key] = value
    pod["containers"] = [container]
    path: FieldPath = patches[0][0] if patches else TRAINER_PATH
    return path, pod


def written_at(obj: dict[str, Any], path: FieldPath) -> FieldPath:
    """Where a field of the trainer's container (reported under spec.trainer) is written in the TrainJob.

    Resources live in trainer.resourcesPerNode; mounts and the security context in the runtime patch's
    'node' container; everything else (image, command, args, env) in spec.trainer itself.
    """
    if path[:2] != TRAINER_PATH or len(path) < 3:
        return path
    field, rest = path[2], path[3:]
    if field == "resources":
        return (*TRAINER_PATH, "resourcesPerNode", *rest)
    if field in ("volumeMounts", "securityContext"):
        spec = obj.get("spec")
        for pod_path, pod in _patched_pods(spec if isinstance(spec, dict) else {}):
            containers = pod.get("containers")
            for index, container in enumerate(containers if isinstance(containers, list) else []):
                if isinstance(container, dict) and container.get("name") == TRAINER_STEP and field in container:
                    return (*pod_path, "containers", index, field, *rest)
    return path


def _merge_container(container: dict[str, Any], patched: dict[str, Any]) -> None:
    for key, value in patched.items():
        if key in ("env", "volumeMounts") and isinstance(value, list):
            container[key] = [*container.get(key, []), *value]
        elif key != "name":
            container[key] = value


def num_nodes(obj: dict[str, Any]) -> Any:
    """spec.trainer.numNodes as written (the runtime's mlPolicy decides when it is absent: 1 is assumed)."""
    trainer = _dig(obj, "spec", "trainer")
    return trainer.get("numNodes", 1) if isinstance(trainer, dict) else 1
