"""What a set of Kubernetes objects asks of the cluster: CPU, memory and GPUs requested in total.

Counted per pod template times the pods it runs: a Deployment's replicas (its HPA's
minReplicas when autoscaled), a Job's parallelism, one run of a CronJob, every replica of a
PyTorchJob. Used by pull-request summaries and environment budgets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from generator.kube.cluster import is_gpu_resource
from generator.kube.quantity import QuantityError, parse_quantity

GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"


def count(value: Any, default: int = 1) -> int:
    """A replica-like count from an object that may be malformed: anything but a whole number gives ``default``."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return default


@dataclass
class Footprint:
    """Total requests: CPU in cores, memory in bytes, GPUs by type ('nvidia.com/gpu', or with the product)."""

    cpu: Decimal = Decimal(0)
    memory: Decimal = Decimal(0)
    gpus: dict[str, int] = field(default_factory=dict)

    @property
    def gpu_total(self) -> int:
        return sum(self.gpus.values())

    def add(self, other: Footprint) -> None:
        self.cpu += other.cpu
        self.memory += other.memory
        for kind, count in other.gpus.items():
            self.gpus[kind] = self.gpus.get(kind, 0) + count


@dataclass(frozen=True)
class PodGroup:
    """One pod template and how many pods run it."""

    owner_kind: str
    owner_name: str
    app: str
    pods: int
    pod_spec: dict[str, Any]


def _autoscaled_minimums(objects: Iterable[dict[str, Any]]) -> dict[tuple[str, str], int]:
    minimums = {}
    for obj in objects:
        if obj.get("kind") == "HorizontalPodAutoscaler":
            target = (obj.get("spec") or {}).get("scaleTargetRef") or {}
            minimums[(str(target.get("kind")), str(target.get("name")))] = count((obj.get("spec") or {}).get("minReplicas"))
    return minimums


def pod_groups(objects: list[dict[str, Any]]) -> Iterator[PodGroup]:
    """Every pod template among ``objects`` with the number of pods it stands for."""
    minimums = _autoscaled_minimums(objects)
    for obj in objects:
        kind = str(obj.get("kind"))
        metadata = obj.get("metadata") or {}
        name = str(metadata.get("name"))
        app = str((metadata.get("labels") or {}).get("app.kubernetes.io/name", name))
        spec = obj.get("spec") or {}
        if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            replicas = minimums.get((kind, name), spec.get("replicas", 1))
            yield PodGroup(kind, name, app, count(replicas), (spec.get("template") or {}).get("spec") or {})
        elif kind == "Job":
            yield PodGroup(kind, name, app, count(spec.get("parallelism", 1)), (spec.get("template") or {}).get("spec") or {})
        elif kind == "CronJob":
            job = (spec.get("jobTemplate") or {}).get("spec") or {}
            yield PodGroup(kind, name, app, count(job.get("parallelism", 1)), (job.get("template") or {}).get("spec") or {})
        elif kind == "PyTorchJob":
            for replica in (spec.get("pytorchReplicaSpecs") or {}).values():
                template = (replica or {}).get("template") or {}
                yield PodGroup(kind, name, app, count((replica or {}).get("replicas", 1)), template.get("spec") or {})
        elif kind == "InferenceService":
            predictor = spec.get("predictor") or {}
            containers = [c for c in [predictor.get("model"), *(predictor.get("containers") or [])] if c]
            yield PodGroup(kind, name, app, count(predictor.get("minReplicas", 1)), {**predictor, "containers": containers})
        elif kind == "Pod":
            yield PodGroup(kind, name, app, 1, spec)


def pod_footprint(pod_spec: dict[str, Any]) -> Footprint:
    """Requests of one pod: the sum over its containers (GPUs counted from limits, where they must be)."""
    total = Footprint()
    product = (pod_spec.get("nodeSelector") or {}).get(GPU_PRODUCT_LABEL)
    for container in pod_spec.get("containers") or []:
        resources = container.get("resources") or {}
        requests = resources.get("requests") or {}
        limits = resources.get("limits") or {}
        total.cpu += _quantity(requests.get("cpu"))
        total.memory += _quantity(requests.get("memory"))
        for resource, amount in {**requests, **limits}.items():
            if is_gpu_resource(str(resource)):
                kind = f"{resource} ({product})" if product else str(resource)
                total.gpus[kind] = total.gpus.get(kind, 0) + int(_quantity(amount))
    return total


def _quantity(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    try:
        return parse_quantity(str(value))
    except QuantityError:
        return Decimal(0)


def footprint(objects: list[dict[str, Any]]) -> Footprint:
    """Total requests of every pod the objects run."""
    total = Footprint()
    for group in pod_groups(objects):
        one = pod_footprint(group.pod_spec)
        scaled = Footprint(one.cpu * group.pods, one.memory * group.pods, {k: v * group.pods for k, v in one.gpus.items()})
        total.add(scaled)
    return total


def footprint_by_app(objects: list[dict[str, Any]]) -> dict[str, Footprint]:
    """Requests per workload (app.kubernetes.io/name), for messages that name who asks for what."""
    by_app: dict[str, Footprint] = {}
    for group in pod_groups(objects):
        one = pod_footprint(group.pod_spec)
        scaled = Footprint(one.cpu * group.pods, one.memory * group.pods, {k: v * group.pods for k, v in one.gpus.items()})
        by_app.setdefault(group.app, Footprint()).add(scaled)
    return by_app
