"""What the built-in checks share: the pod templates of manifests, their accelerators, their requests."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from mlgitops.kube.accelerators import requested
from mlgitops.kube.footprint import claim_templates, claimed_devices, effective_requests
from mlgitops.kube.manifest import FieldPath, Manifest
from mlgitops.kube.pod_shapes import listed_containers
from mlgitops.kube.pods import PodTemplate
from mlgitops.kube.quantity import QuantityError, parse_quantity
from mlgitops.policy.targets import containers, pod_specs, templates


def each_template(manifests: list[Manifest]) -> Iterator[tuple[Manifest, PodTemplate]]:
    for manifest in manifests:
        for template in templates(manifest):
            yield manifest, template


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


def accelerators_of(template: PodTemplate) -> dict[str, Decimal]:
    """Accelerator devices one pod of the template asks for, by resource (``nvidia.com/gpu: 0`` asks for none).

    Main containers run together and add up; an init container runs alone, so the pod needs
    at least its largest one.
    """
    total: dict[str, Decimal] = {}
    for container in template.main_containers():
        for name, devices in requested(*resources_of(container.spec)).items():
            total[name] = total.get(name, Decimal(0)) + devices
    for container in template.init_containers():
        for name, devices in requested(*resources_of(container.spec)).items():
            total[name] = max(total.get(name, Decimal(0)), devices)
    return total


ClaimIndex = dict[str, dict[str, dict[str, int]]]
"""Accelerators per pod of each ResourceClaimTemplate, by namespace and template name."""


def claim_index(everything: list[Manifest]) -> ClaimIndex:
    """Every ResourceClaimTemplate of the run with the accelerators it hands each pod (built once per check)."""
    by_namespace: dict[str, list[dict[str, Any]]] = {}
    for manifest in everything:
        if manifest.ref.kind == "ResourceClaimTemplate":
            by_namespace.setdefault(manifest.namespace, []).append(manifest.obj)
    return {namespace: claim_templates(objects) for namespace, objects in by_namespace.items()}


def pod_claims(manifest: Manifest, pod: dict[str, Any], index: ClaimIndex) -> dict[str, int]:
    """Accelerators the pod claims through DRA, by DeviceClass: these count as GPUs like extended resources."""
    return claimed_devices(pod, index.get(manifest.namespace, {}))


def amount(value: Any) -> Decimal | None:
    try:
        return parse_quantity(str(value))
    except QuantityError:
        return None


def pod_requests(template: PodTemplate, claims: dict[str, int] | None = None) -> dict[str, Decimal]:
    """What the scheduler reserves for one pod of the template (``kube.footprint.effective_requests``: containers
    and native sidecars, at least each init container's peak), plus the devices it claims through DRA (by
    DeviceClass). A limit without a request counts as the request, as the API server copies it."""
    pod = {
        "initContainers": [container.spec for container in template.init_containers()],
        "containers": [container.spec for container in template.main_containers()],
    }
    total: dict[str, Decimal] = {name: Decimal(devices) for name, devices in (claims or {}).items()}
    for name, value in effective_requests(pod).items():
        if value:
            total[name] = total.get(name, Decimal(0)) + value
    return total


def pod_spec_requests(pod: dict[str, Any], claims: dict[str, int] | None = None) -> dict[str, Decimal]:
    """:func:`pod_requests` of a bare pod spec (its ``containers`` and ``initContainers``), for pods that
    ``kube.footprint`` or ``kube.ray`` found."""
    return pod_requests(PodTemplate((), pod, containers=listed_containers(pod, ())), claims)


def autoscalers(everything: list[Manifest]) -> dict[tuple[str, str, str], dict[str, Any]]:
    """Each HPA's spec by the (namespace, kind, name) of its target: built once per check, not per object."""
    index: dict[tuple[str, str, str], dict[str, Any]] = {}
    for manifest in everything:
        if manifest.ref.kind == "HorizontalPodAutoscaler" and isinstance(manifest.obj.get("spec"), dict):
            spec = manifest.obj["spec"]
            target = spec.get("scaleTargetRef") if isinstance(spec.get("scaleTargetRef"), dict) else {}
            index[(manifest.namespace, str(target.get("kind")), str(target.get("name")))] = spec
    return index
