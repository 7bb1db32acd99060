"""The shapes pod templates take inside Kubernetes objects, and small readers for possibly malformed objects.

``generator.kube.pods`` finds them; this module holds what it returns (``PodTemplate``,
``Container``, ``VolumeClaimTemplate``) and the helpers every reader of user objects needs (a value
at a path, a mapping or nothing, a whole count or its default, int-or-percent fields).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

FieldPath = tuple[str | int, ...]

# Built-in API groups: objects in them have pod specs only where the table below says.
BUILT_IN_GROUPS = frozenset(
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
# Built-in kinds by API group: a policy matching kind `Job` means batch/v1 Job, not Volcano's batch.volcano.sh Job.
BUILT_IN_KINDS = {
    **dict.fromkeys(
        (
            "Pod",
            "Service",
            "Secret",
            "ConfigMap",
            "PersistentVolumeClaim",
            "Namespace",
            "ServiceAccount",
            "ReplicationController",
        ),
        "",
    ),
    **dict.fromkeys(("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet"), "apps"),
    **dict.fromkeys(("Job", "CronJob"), "batch"),
    "HorizontalPodAutoscaler": "autoscaling",
    "PodDisruptionBudget": "policy",
    **dict.fromkeys(("NetworkPolicy", "Ingress"), "networking.k8s.io"),
    "PriorityClass": "scheduling.k8s.io",
}
# KServe components whose keys hold one container each (besides `containers`), by component.
KSERVE_CONTAINER_KEYS = {
    "predictor": (
        "model",
        "huggingface",
        "lightgbm",
        "onnx",
        "paddle",
        "pmml",
        "pytorch",
        "sklearn",
        "tensorflow",
        "triton",
        "xgboost",
    ),
    "transformer": (),
    "explainer": ("art",),
}


@dataclass(frozen=True)
class Container:
    """One container of a pod template: where it is written, its fields, and how to name it in a message."""

    path: FieldPath
    spec: dict[str, Any]
    init: bool = False

    @property
    def label(self) -> str:
        """``container 'name'``, or where an unnamed one stands (``the container at spec.predictor.pytorch``)."""
        name = self.spec.get("name")
        if isinstance(name, str) and name:
            return f"{'init container' if self.init else 'container'} {name!r}"
        return f"the {'init container' if self.init else 'container'} at {dotted(self.path)}"


@dataclass(frozen=True)
class VolumeClaimTemplate:
    """A PersistentVolumeClaim a controller creates and mounts as volume ``name``.

    ``per_pod``: each pod gets its own claim (StatefulSet); otherwise every pod of the object
    shares one (JobSet ``volumeClaimPolicies``).
    """

    name: str
    access_modes: tuple[str, ...]
    per_pod: bool


@dataclass(frozen=True)
class PodTemplate:
    """One pod template inside an object.

    ``path`` leads to the pod spec; ``spec`` is that mapping (for a TrainJob, a pod spec made
    of its trainer). ``pods`` is how many pods run it at once (None: one per node), and
    ``counted`` says from which fields, for messages. ``job`` marks a ``batch/v1`` Job's pod
    template (the API server requires restartPolicy Never or OnFailure there). ``partial``
    marks an override of a template kept elsewhere (a TrainJob's runtime): fields it lacks
    may be set there, so only the fields it sets can be judged. ``renamed`` maps paths of
    synthesised fields to where they are written (a trainer's ``resources`` is its
    ``resourcesPerNode``).
    """

    path: FieldPath
    spec: dict[str, Any]
    pods: int | None = 1
    counted: str = ""
    job: bool = False
    partial: bool = False
    containers: tuple[Container, ...] = ()
    metadata_path: FieldPath | None = None
    renamed: tuple[tuple[FieldPath, FieldPath], ...] = field(default=())

    def all_containers(self) -> tuple[Container, ...]:
        return self.containers

    def main_containers(self) -> tuple[Container, ...]:
        return tuple(c for c in self.containers if not c.init)

    def init_containers(self) -> tuple[Container, ...]:
        return tuple(c for c in self.containers if c.init)


def dotted(path: FieldPath) -> str:
    """``spec.template.spec.containers[0]`` for a field path."""
    text = ""
    for segment in path:
        text += f"[{segment}]" if isinstance(segment, int) else (f".{segment}" if text else str(segment))
    return text


def group_of(obj: dict[str, Any]) -> str:
    """The API group of an object (``""`` for the core group)."""
    return str(obj.get("apiVersion", "")).rpartition("/")[0]


def is_built_in(obj: dict[str, Any]) -> bool:
    return group_of(obj) in BUILT_IN_GROUPS


def _at(obj: Any, path: FieldPath) -> Any:
    for segment in path:
        if isinstance(obj, dict) and isinstance(segment, str):
            obj = obj.get(segment)
        elif isinstance(obj, list) and isinstance(segment, int) and 0 <= segment < len(obj):
            obj = obj[segment]
        else:
            return None
    return obj


def value_at(obj: Any, path: FieldPath) -> Any:
    """The value at ``path`` inside ``obj``, or None where the path leads nowhere."""
    return _at(obj, path)


def mapping(value: Any) -> dict[str, Any]:
    """``value`` when it is a mapping, else an empty one (objects from users may be malformed anywhere)."""
    return value if isinstance(value, dict) else {}


def whole(value: Any, default: int = 1) -> int:
    """A replica-like count from a possibly malformed object: anything but a whole number >= 0 gives ``default``."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return default


def listed_containers(pod: dict[str, Any], path: FieldPath) -> tuple[Container, ...]:
    """The init containers, then the containers, of the pod spec at ``path``."""
    found = []
    for init, key in ((True, "initContainers"), (False, "containers")):
        items = pod.get(key)
        if isinstance(items, list):
            found += [Container((*path, key, i), c, init) for i, c in enumerate(items) if isinstance(c, dict)]
    return tuple(found)


def template_if_pod(path: FieldPath, pod: Any, pods: int | None, counted: str, **options: Any) -> Iterator[PodTemplate]:
    """A PodTemplate for ``pod`` when it is a mapping (its metadata beside it unless ``metadata_path`` says otherwise)."""
    if isinstance(pod, dict):
        metadata = options.pop("metadata_path", (*path[:-1], "metadata") if path and path[-1] == "spec" else None)
        yield PodTemplate(path, pod, pods, counted, containers=listed_containers(pod, path), metadata_path=metadata, **options)


def scaled(value: Any, total: int, *, round_up: bool) -> int:
    """An int-or-percent field (``maxSurge``, ``minAvailable``) as a pod count out of ``total``.

    Percentages round as the controllers do: ``round_up`` for maxSurge and for a
    PodDisruptionBudget's minAvailable and maxUnavailable, down for a Deployment's maxUnavailable.
    """
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(value, 0)
    text = str(value).strip()
    if text.endswith("%") and text[:-1].isdigit():
        share = int(text[:-1]) * total
        return -(-share // 100) if round_up else share // 100
    return int(text) if text.isdigit() else 0


def replicas_of(spec: dict[str, Any]) -> tuple[int, str]:
    """``spec.replicas`` as a whole number (absent: 1, as every controller defaults it) and how it was counted."""
    replicas = whole(spec.get("replicas"))
    return replicas, f"replicas {replicas}"
