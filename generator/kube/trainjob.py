"""The trainer pods of a Kubeflow Trainer TrainJob (trainer.kubeflow.org/v1alpha1), as one pod spec.

A TrainJob has no pod template of its own: the trainer's container comes from `spec.trainer`
(image, command, args, env, resourcesPerNode) and pod settings from the `spec.runtimePatches`
entries that patch the runtime's trainer job (named 'node' in every runtime Kubeflow ships).
Rules and resource counts see the two together, as the pods will be. Settings the referenced
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


def _dig(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _patched_pods(spec: dict[str, Any]) -> list[tuple[FieldPath, dict[str, Any]]]:
    """Pod spec patches aimed at the trainer job, with their paths, in the order written."""
    found = []
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
