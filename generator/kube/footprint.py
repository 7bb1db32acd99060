"""What a set of Kubernetes objects asks of the cluster: CPU, memory and GPUs requested in total.

Counted per pod template times the pods it runs: a Deployment's replicas (its HPA's minReplicas
or KEDA ScaledObject's minReplicaCount when autoscaled), a Job's parallelism, one run of a
CronJob, every replica of a PyTorchJob, a TrainJob's numNodes x resourcesPerNode, a Ray cluster's
head plus its workers (replicas, or minReplicas under the autoscaler; at the most, maxReplicas and a RayService's
upgrade cluster: kube/ray.py), a LeaderWorkerSet's replicas
x size (a leader and size - 1 workers per group). Accelerators of every kind count as GPUs: extended
resources (nvidia.com/gpu, MIG, amd.com/gpu, habana.ai/gaudi, ...) and DRA claims (by DeviceClass,
through the ResourceClaimTemplates the pods name). Used by pull-request summaries and environment budgets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mlgitops.kube.cluster import is_accelerator_device_class, is_gpu_resource
from mlgitops.kube.quantity import QuantityError, parse_quantity
from mlgitops.kube.ray import RAY_KINDS, ray_groups
from mlgitops.kube.trainjob import num_nodes, trainer_pod

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
    count_path: tuple[str | int, ...] = ()
    """The field that sets how many pods run (it may be absent: the default applies)."""


def _autoscaled(objects: Iterable[dict[str, Any]], most: bool) -> dict[tuple[str, str], int]:
    """Replicas of each autoscaled target: an HPA's minReplicas, a KEDA ScaledObject's minReplicaCount, or with
    ``most`` their maximum (maxReplicas; maxReplicaCount, which KEDA defaults to 100)."""
    minimums = {}
    for obj in objects:
        kind = obj.get("kind")
        if kind not in ("HorizontalPodAutoscaler", "ScaledObject"):
            continue
        spec = obj.get("spec") or {}
        target = spec.get("scaleTargetRef") or {}
        if kind == "HorizontalPodAutoscaler":
            replicas = count(spec.get("maxReplicas" if most else "minReplicas"))
            minimums[(str(target.get("kind")), str(target.get("name")))] = replicas
        else:  # KEDA defaults the target kind to Deployment, minReplicaCount to 0 and maxReplicaCount to 100
            replicas = count(spec.get("maxReplicaCount"), 100) if most else count(spec.get("minReplicaCount"), 0)
            minimums[(str(target.get("kind", "Deployment")), str(target.get("name")))] = replicas
    return minimums


def _devices(claim_spec: Any) -> dict[str, int]:
    """Accelerators a ResourceClaim spec asks for, by DeviceClass (exact-count requests; first alternative)."""
    found: dict[str, int] = {}
    requests = ((claim_spec or {}).get("devices") or {}).get("requests") or [] if isinstance(claim_spec, dict) else []
    for request in requests if isinstance(requests, list) else []:
        if not isinstance(request, dict):
            continue
        exactly = request.get("exactly")
        if not isinstance(exactly, dict):
            alternatives = request.get("firstAvailable")
            first = alternatives[0] if isinstance(alternatives, list) and alternatives else None
            exactly = first if isinstance(first, dict) else {}
        device_class = exactly.get("deviceClassName")
        if isinstance(device_class, str) and is_accelerator_device_class(device_class):
            devices = count(exactly.get("count"), 1) if exactly.get("allocationMode", "ExactCount") == "ExactCount" else 1
            found[device_class] = found.get(device_class, 0) + devices
    return found


def claim_templates(objects: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Accelerators each ResourceClaimTemplate hands every pod that uses it, by template name."""
    return {
        str((obj.get("metadata") or {}).get("name")): _devices((obj.get("spec") or {}).get("spec"))
        for obj in objects
        if obj.get("kind") == "ResourceClaimTemplate" and isinstance(obj.get("spec"), dict)
    }


def claimed_devices(pod_spec: dict[str, Any], templates: dict[str, dict[str, int]]) -> dict[str, int]:
    """Accelerators one pod claims through DRA: the templates its resourceClaims name, by DeviceClass."""
    found: dict[str, int] = {}
    for claim in pod_spec.get("resourceClaims") or []:
        if isinstance(claim, dict):
            for device_class, devices in templates.get(str(claim.get("resourceClaimTemplateName")), {}).items():
                found[device_class] = found.get(device_class, 0) + devices
    return found


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def pod_groups(objects: list[dict[str, Any]], *, most: bool = False) -> Iterator[PodGroup]:
    """Every pod template among ``objects`` with the number of pods it stands for.

    By default autoscaled workloads count at their minimum (what runs in a quiet hour); with
    ``most`` at their maximum (what a budget or quota must allow): HPA and ScaledObject maxima,
    an InferenceService's maxReplicas, an elastic PyTorchJob's maxReplicas workers, autoscaled Ray worker groups at
    maxReplicas and a RayService's second cluster during an upgrade.
    """
    minimums = _autoscaled(objects, most)
    for obj in objects:
        kind = str(obj.get("kind"))
        metadata = _mapping(obj.get("metadata"))
        name = str(metadata.get("name"))
        app = str(_mapping(metadata.get("labels")).get("app.kubernetes.io/name", name))
        spec = _mapping(obj.get("spec"))
        if kind in ("Deployment", "StatefulSet", "ReplicaSet"):
            replicas = minimums.get((kind, name), spec.get("replicas", 1))
            template = (spec.get("template") or {}).get("spec") or {}
            yield PodGroup(kind, name, app, count(replicas), template, ("spec", "replicas"))
        elif kind == "Job":
            template = (spec.get("template") or {}).get("spec") or {}
            yield PodGroup(kind, name, app, count(spec.get("parallelism", 1)), template, ("spec", "parallelism"))
        elif kind == "CronJob":
            job = (spec.get("jobTemplate") or {}).get("spec") or {}
            yield PodGroup(kind, name, app, count(job.get("parallelism", 1)), (job.get("template") or {}).get("spec") or {})
        elif kind == "PyTorchJob":
            elastic = count((spec.get("elasticPolicy") or {}).get("maxReplicas"), 0) if most else 0
            for replica_type, replica in (spec.get("pytorchReplicaSpecs") or {}).items():
                template = (replica or {}).get("template") or {}
                at = ("spec", "pytorchReplicaSpecs", str(replica_type), "replicas")
                pods = count((replica or {}).get("replicas", 1))
                pods = max(pods, elastic) if replica_type == "Worker" else pods
                yield PodGroup(kind, name, app, pods, template.get("spec") or {}, at)
        elif kind == "LeaderWorkerSet":
            groups = count(minimums.get((kind, name), spec.get("replicas", 1)))
            template = spec.get("leaderWorkerTemplate") or {}
            size = count(template.get("size", 1), 1)
            worker = ((template.get("workerTemplate") or {}).get("spec")) or {}
            leader = ((template.get("leaderTemplate") or {}).get("spec")) or worker
            yield PodGroup(kind, name, app, groups, leader, ("spec", "replicas"))
            yield PodGroup(kind, name, app, groups * max(size - 1, 0), worker, ("spec", "leaderWorkerTemplate", "size"))
        elif kind == "InferenceService":
            predictor = spec.get("predictor") or {}
            containers = [c for c in [predictor.get("model"), *(predictor.get("containers") or [])] if c]
            replicas = count(predictor.get("maxReplicas" if most else "minReplicas", 1))
            yield PodGroup(kind, name, app, replicas, {**predictor, "containers": containers})
        elif kind == "TrainJob":
            found = trainer_pod(obj)
            if found is not None:
                yield PodGroup(kind, name, app, count(num_nodes(obj)), found[1], ("spec", "trainer", "numNodes"))
        elif kind in RAY_KINDS:
            for group in ray_groups(obj, most=most):
                yield PodGroup(kind, name, app, group.pods, group.running_pod, (*group.path[:-2], "replicas"))
        elif kind == "Pod":
            yield PodGroup(kind, name, app, 1, spec)


def pod_footprint(pod_spec: dict[str, Any], templates: dict[str, dict[str, int]] | None = None) -> Footprint:
    """Requests of one pod: the sum over its containers (GPUs counted from limits, where they must be), plus the
    accelerators it claims through DRA from ``templates`` (see claim_templates)."""
    total = Footprint()
    product = (pod_spec.get("nodeSelector") or {}).get(GPU_PRODUCT_LABEL)
    for device_class, devices in claimed_devices(pod_spec, templates or {}).items():
        kind = f"{device_class} (DRA, {product})" if product else f"{device_class} (DRA)"
        total.gpus[kind] = total.gpus.get(kind, 0) + devices
    requests = effective_requests(pod_spec)
    total.cpu += requests.get("cpu", Decimal(0))
    total.memory += requests.get("memory", Decimal(0))
    for resource, amount in sorted(requests.items()):
        if is_gpu_resource(resource) and amount:
            kind = f"{resource} ({product})" if product else resource
            total.gpus[kind] = total.gpus.get(kind, 0) + int(amount)
    return total


def _container_requests(container: Any) -> dict[str, Decimal]:
    """What one container requests (GPUs from its limits too, where they must be)."""
    resources = (container.get("resources") if isinstance(container, dict) else None) or {}
    requests: dict[str, Any] = resources["requests"] if isinstance(resources.get("requests"), dict) else {}
    limits: dict[str, Any] = resources["limits"] if isinstance(resources.get("limits"), dict) else {}
    # An unset request defaults to the limit (the API server copies it).
    merged = {**{k: v for k, v in limits.items() if k not in requests}, **requests}
    return {str(name): _quantity(value) for name, value in merged.items()}


def _add(total: dict[str, Decimal], more: dict[str, Decimal]) -> dict[str, Decimal]:
    return {name: total.get(name, Decimal(0)) + more.get(name, Decimal(0)) for name in {*total, *more}}


def effective_requests(pod_spec: dict[str, Any]) -> dict[str, Decimal]:
    """What the scheduler reserves for one pod, by resource name.

    The sum over app containers and native sidecars (init containers with restartPolicy: Always),
    but at least what each init container needs together with the sidecars started before it.
    Source: https://kubernetes.io/docs/concepts/workloads/pods/sidecar-containers/#resource-sharing-within-containers
    """
    sidecars: dict[str, Decimal] = {}
    init_peak: dict[str, Decimal] = {}
    for container in pod_spec.get("initContainers") or []:
        own = _container_requests(container)
        if isinstance(container, dict) and container.get("restartPolicy") == "Always":
            sidecars = _add(sidecars, own)
        else:
            during = _add(sidecars, own)
            init_peak = {
                name: max(init_peak.get(name, Decimal(0)), during.get(name, Decimal(0))) for name in {*init_peak, *during}
            }
    total = dict(sidecars)
    for container in pod_spec.get("containers") or []:
        total = _add(total, _container_requests(container))
    return {name: max(total.get(name, Decimal(0)), init_peak.get(name, Decimal(0))) for name in {*total, *init_peak}}


def _quantity(value: Any) -> Decimal:
    if value is None:
        return Decimal(0)
    try:
        return parse_quantity(str(value))
    except QuantityError:
        return Decimal(0)


def footprint(objects: list[dict[str, Any]], *, most: bool = False) -> Footprint:
    """Total requests of every pod the objects run (``most``: autoscaled workloads at their maximum)."""
    total = Footprint()
    for part in footprint_by_app(objects, most=most).values():
        total.add(part)
    return total


def footprint_by_app(objects: list[dict[str, Any]], *, most: bool = False) -> dict[str, Footprint]:
    """Requests per workload (app.kubernetes.io/name), for messages that name who asks for what."""
    templates = claim_templates(objects)
    by_app: dict[str, Footprint] = {}
    for group in pod_groups(objects, most=most):
        one = pod_footprint(group.pod_spec, templates)
        gpus = {kind: devices * group.pods for kind, devices in one.gpus.items() if devices * group.pods}
        by_app.setdefault(group.app, Footprint()).add(Footprint(one.cpu * group.pods, one.memory * group.pods, gpus))
    return by_app
