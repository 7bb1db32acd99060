"""Where pod specs and containers live inside each kind of workload object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.kube.manifest import FieldPath, Manifest
from generator.kube.trainjob import TRAINER_PATH, trainer_pod, written_at

_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
# Custom resources that embed pod templates in a map of replica types.
_REPLICA_MAPS: dict[str, tuple[str, ...]] = {
    "PyTorchJob": ("spec", "pytorchReplicaSpecs"),
    "TFJob": ("spec", "tfReplicaSpecs"),
    "MPIJob": ("spec", "mpiReplicaSpecs"),
    "XGBoostJob": ("spec", "xgbReplicaSpecs"),
}
WORKLOAD_KINDS = frozenset({*_POD_SPEC_PATHS, *_REPLICA_MAPS, "InferenceService", "TrainJob"})
# API groups of built-in Kubernetes kinds: their pod specs (if any) are where the table above says.
_BUILT_IN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "autoscaling",
        "policy",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "node.k8s.io",
        "certificates.k8s.io",
        "events.k8s.io",
        "flowcontrol.apiserver.k8s.io",
        "resource.k8s.io",
    }
)
# Custom resources nest pod templates a few levels down (RayJob: spec.rayClusterSpec.workerGroupSpecs[0].template.spec).
_SEARCH_DEPTH = 12


def _at(obj: Any, path: FieldPath) -> Any:
    for segment in path:
        if isinstance(obj, dict) and isinstance(segment, str):
            obj = obj.get(segment)
        elif isinstance(obj, list) and isinstance(segment, int) and 0 <= segment < len(obj):
            obj = obj[segment]
        else:
            return None
    return obj


def pod_specs(manifest: Manifest) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Every pod spec of the object with its path (several for a PyTorchJob's Master and Workers).

    Found once per manifest and remembered: every pod-level rule asks again (~20 times per object).
    """
    found: list[tuple[FieldPath, dict[str, Any]]] | None = manifest.__dict__.get("_pod_specs")
    if found is None or manifest.__dict__.get("_pod_specs_of") is not manifest.obj:
        found = list(_find_pod_specs(manifest))
        manifest.__dict__["_pod_specs"] = found
        manifest.__dict__["_pod_specs_of"] = manifest.obj
    return iter(found)


def _find_pod_specs(manifest: Manifest) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    obj = manifest.obj
    kind = str(obj.get("kind"))
    if kind in _POD_SPEC_PATHS:
        spec = _at(obj, _POD_SPEC_PATHS[kind])
        if isinstance(spec, dict):
            yield _POD_SPEC_PATHS[kind], spec
    elif kind in _REPLICA_MAPS:
        replicas = _at(obj, _REPLICA_MAPS[kind])
        if isinstance(replicas, dict):
            for replica in sorted(replicas):
                path = (*_REPLICA_MAPS[kind], replica, "template", "spec")
                spec = _at(obj, path)
                if isinstance(spec, dict):
                    yield path, spec
    elif kind == "InferenceService":
        predictor = _at(obj, ("spec", "predictor"))
        if isinstance(predictor, dict):
            yield ("spec", "predictor"), predictor
    elif kind == "TrainJob" and str(obj.get("apiVersion", "")).startswith("trainer.kubeflow.org/"):
        # The trainer's container (spec.trainer) with the pod settings of its runtime patches, as its pods get them.
        found = trainer_pod(obj)
        if found is not None:
            yield found
    elif not _is_built_in(obj):
        yield from _embedded_pod_specs(("spec",), obj.get("spec"), 0)


def _embedded_pod_specs(path: FieldPath, value: Any, depth: int) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Pod specs anywhere inside a custom resource (RayJob, RayCluster, JobSet, LeaderWorkerSet, Volcano Job, ...).

    A pod spec is recognised by its shape: a mapping whose `containers` is a list of containers with images.
    """
    if depth > _SEARCH_DEPTH:
        return
    if isinstance(value, dict):
        items = value.get("containers")
        if isinstance(items, list) and items and all(isinstance(c, dict) and isinstance(c.get("image"), str) for c in items):
            yield path, value
            return
        for key, child in value.items():
            if key != "metadata" and isinstance(child, (dict, list)):
                yield from _embedded_pod_specs((*path, str(key)), child, depth + 1)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            if isinstance(child, (dict, list)):
                yield from _embedded_pod_specs((*path, index), child, depth + 1)


def is_workload(manifest: Manifest) -> bool:
    """Whether the object runs pods: a workload kind, or a custom resource with pod templates inside."""
    if str(manifest.obj.get("kind")) in WORKLOAD_KINDS:
        return True
    if _is_built_in(manifest.obj):
        return False
    return next(pod_specs(manifest), None) is not None


def _is_built_in(obj: dict[str, Any]) -> bool:
    return str(obj.get("apiVersion", "")).rpartition("/")[0] in _BUILT_IN_GROUPS


def containers(
    manifest: Manifest, pod_path: FieldPath, pod: dict[str, Any], *, init: bool
) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Containers of a pod spec (an InferenceService predictor's model container included)."""
    key = "initContainers" if init else "containers"
    if not init and str(manifest.obj.get("kind")) == "InferenceService" and isinstance(pod.get("model"), dict):
        yield (*pod_path, "model"), pod["model"]
    if str(manifest.obj.get("kind")) == "TrainJob":
        # The trainer's view (trainer_pod): one container, reported where the trainer is written.
        if not init:
            for container in pod.get("containers") or []:
                yield TRAINER_PATH, container
        return
    items = pod.get(key)
    if isinstance(items, list):
        for index, container in enumerate(items):
            if isinstance(container, dict):
                yield (*pod_path, key, index), container


def pod_metadata(manifest: Manifest, pod_path: FieldPath) -> dict[str, Any]:
    """The metadata of the pod template that holds ``pod_path`` (annotations live there)."""
    if pod_path in (("spec",), ("spec", "trainer")):  # a Pod, or a TrainJob without runtime patches
        metadata = manifest.obj.get("metadata")
    elif pod_path[-1] == "spec":
        metadata = _at(manifest.obj, (*pod_path[:-1], "metadata"))
    else:  # an InferenceService predictor carries annotations/labels inline
        metadata = _at(manifest.obj, pod_path)
    return metadata if isinstance(metadata, dict) else {}


def value_at(obj: Any, path: FieldPath) -> Any:
    return _at(obj, path)


def written_path(manifest: Manifest, path: FieldPath) -> FieldPath:
    """Where a reported field is written in the object (a TrainJob's trainer container is spread over two places)."""
    if str(manifest.obj.get("kind")) == "TrainJob":
        return written_at(manifest.obj, path)
    return path
