"""Dynamic Resource Allocation (resource.k8s.io/v1, GA in Kubernetes 1.34): accelerators claimed from a DeviceClass.

A workload on a pool with a `deviceClass` gets a ResourceClaimTemplate asking for exactly `gpu`
devices of that class (optionally narrowed by CEL selectors over the driver's attributes), the pod
lists it under `resourceClaims`, and the container under `resources.claims`: every pod gets a claim
of its own. Source: https://kubernetes.io/docs/concepts/scheduling-eviction/dynamic-resource-allocation/
"""

from __future__ import annotations

from typing import Any

from mlgitops.render.metadata import ObjectMeta
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.placement import Placement

CLAIM_NAME = "gpu"
"""Name of the claim in the pod, and of the one request in the claim."""


def claim_template_name(workload_name: str) -> str:
    return f"{workload_name}-{CLAIM_NAME}"


def pod_resource_claims(workload_name: str) -> list[dict[str, Any]]:
    """The pod's `resourceClaims`: one claim per pod, made from the workload's template."""
    return [{"name": CLAIM_NAME, "resourceClaimTemplateName": claim_template_name(workload_name)}]


def device_selectors(workload: WorkloadBase, driver: str) -> list[dict[str, Any]]:
    """CEL selectors for the workload's `resources.device` (attributes and capacity the DRA driver publishes)."""
    wanted = workload.resources.device
    if wanted is None:
        return []
    selectors = []
    if wanted.product_name is not None:
        selectors.append({"cel": {"expression": f'device.attributes["{driver}"].productName == "{wanted.product_name}"'}})
    if wanted.min_memory is not None:
        expression = f'device.capacity["{driver}"].memory.compareTo(quantity("{wanted.min_memory}")) >= 0'
        selectors.append({"cel": {"expression": expression}})
    return selectors


def render_claim_template(
    environment: Environment, workload: WorkloadBase, meta: ObjectMeta, placement: Placement
) -> dict[str, Any]:
    """The ResourceClaimTemplate asking for exactly the workload's device count from its pool's DeviceClass."""
    pool = placement.pool
    device_class = placement.device_class
    assert pool is not None
    assert device_class is not None
    assert workload.resources.gpu is not None
    exactly: dict[str, Any] = {"deviceClassName": device_class, "allocationMode": "ExactCount", "count": workload.resources.gpu}
    selectors = device_selectors(workload, pool.device_driver or device_class)
    if selectors:
        exactly["selectors"] = selectors
    return {
        "apiVersion": "resource.k8s.io/v1",
        "kind": "ResourceClaimTemplate",
        "metadata": ObjectMeta(claim_template_name(meta.name), meta.labels, meta.annotations).render(environment.namespace),
        "spec": {"spec": {"devices": {"requests": [{"name": CLAIM_NAME, "exactly": exactly}]}}},
    }
