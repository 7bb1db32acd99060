"""Where pod specs and containers live inside each kind of workload object."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.manifest import FieldPath, Manifest

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
WORKLOAD_KINDS = frozenset({*_POD_SPEC_PATHS, *_REPLICA_MAPS, "InferenceService"})


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
    """Every pod spec of the object with its path (several for a PyTorchJob's Master and Workers)."""
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


def containers(
    manifest: Manifest, pod_path: FieldPath, pod: dict[str, Any], *, init: bool
) -> Iterator[tuple[FieldPath, dict[str, Any]]]:
    """Containers of a pod spec (an InferenceService predictor's model container included)."""
    key = "initContainers" if init else "containers"
    if not init and str(manifest.obj.get("kind")) == "InferenceService" and isinstance(pod.get("model"), dict):
        yield (*pod_path, "model"), pod["model"]
    items = pod.get(key)
    if isinstance(items, list):
        for index, container in enumerate(items):
            if isinstance(container, dict):
                yield (*pod_path, key, index), container


def pod_metadata(manifest: Manifest, pod_path: FieldPath) -> dict[str, Any]:
    """The metadata of the pod template that holds ``pod_path`` (annotations live there)."""
    if pod_path == ("spec",):
        metadata = manifest.obj.get("metadata")
    elif pod_path[-1] == "spec":
        metadata = _at(manifest.obj, (*pod_path[:-1], "metadata"))
    else:  # an InferenceService predictor carries annotations/labels inline
        metadata = _at(manifest.obj, pod_path)
    return metadata if isinstance(metadata, dict) else {}


def value_at(obj: Any, path: FieldPath) -> Any:
    return _at(obj, path)
