"""Helpers the built-in checks share: GPU requests of a pod, its containers, its requests."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from generator.kube.cluster import is_gpu_resource
from generator.kube.footprint import claim_templates, claimed_devices
from generator.kube.manifest import FieldPath, Manifest
from generator.kube.quantity import QuantityError, parse_quantity
from generator.policy.targets import containers, pod_specs


def each_pod(manifests: list[Manifest]) -> Iterator[tuple[Manifest, FieldPath, dict[str, Any]]]:
    for manifest in manifests:
        for pod_path, pod in pod_specs(manifest):
            yield manifest, pod_path, pod


def all_containers(manifest: Manifest, pod_path: FieldPath, pod: dict[str, Any]) -> list[tuple[FieldPath, dict[str, Any]]]:
    return [*containers(manifest, pod_path, pod, init=True), *containers(manifest, pod_path, pod, init=False)]


def resources_of(container: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    resources = container.get("resources")
    resources = resources if isinstance(resources, dict) else {}
    requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
    limits = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
    return requests or {}, limits or {}


def gpu_resources(manifest: Manifest, pod_path: FieldPath, pod: dict[str, Any]) -> set[str]:
    """GPU resource names any container of the pod asks for."""
    found: set[str] = set()
    for _, container in all_containers(manifest, pod_path, pod):
        requests, limits = resources_of(container)
        found |= {str(name) for name in {**requests, **limits} if is_gpu_resource(str(name))}
    return found


ClaimIndex = dict[str, dict[str, dict[str, int]]]
"""Accelerators per pod of each ResourceClaimTemplate, by namespace and template name."""


def claim_index(everything: list[Manifest]) -> ClaimIndex:
    """Every ResourceClaimTemplate of the run with the accelerators it hands each pod (built once per check)."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for manifest in everything:
        if manifest.ref.kind == "ResourceClaimTemplate":
            by_namespace.setdefault(manifest.ref.namespace, []).append(manifest.obj)
    return {namespace: claim_templates(objects) for namespace, objects in by_namespace.items()}


def pod_claims(manifest: Manifest, pod: dict[str, Any], index: ClaimIndex) -> dict[str, int]:
    """Accelerators the pod claims through DRA, by DeviceClass: these count as GPUs like extended resources."""
    return claimed_devices(pod, index.get(manifest.ref.namespace, {}))


def amount(value: Any) -> Decimal | None:
    try:
        return parse_quantity(str(value))
    except QuantityError:
        return None


def pod_requests(
    manifest: Manifest, pod_path: FieldPath, pod: dict[str, Any], claims: dict[str, int] | None = None
) -> dict[str, Decimal]:
    """What the scheduler reserves for the pod: containers and native sidecars, at least each init container's
    peak (see footprint.effective_requests), and the devices it claims through DRA (by DeviceClass)."""
    from generator.kube.footprint import effective_requests

    main = [container for _, container in containers(manifest, pod_path, pod, init=False)]
    total: dict[str, Decimal] = {name: Decimal(devices) for name, devices in (claims or {}).items()}
    for name, value in effective_requests({**pod, "containers": main}).items():
        if value:
            total[name] = total.get(name, Decimal(0)) + value
    return total


def autoscalers(everything: list[Manifest]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Each HPA's spec by the (namespace, kind, name) of its target: built once per check, not per object."""
    index: dict[tuple[str, str, str], dict[str, Any]] = {}
    for manifest in everything:
        if manifest.ref.kind == "HorizontalPodAutoscaler" and isinstance(manifest.obj.get("spec"), dict):
            spec = manifest.obj["spec"]
            target = spec.get("scaleTargetRef") if isinstance(spec.get("scaleTargetRef"), dict) else {}
            index[(manifest.ref.namespace, str(target.get("kind")), str(target.get("name")))] = spec
    return index
