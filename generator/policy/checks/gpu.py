"""GPU rules: limits, tolerations, node selection, shared memory, and whether a pod can schedule at all."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from generator.kube.cluster import NodePoolFacts, Taint, accelerator_taint_key, admits, is_gpu_resource
from generator.kube.manifest import FieldPath, Manifest
from generator.kube.quantity import format_resource
from generator.policy.checks.pods import (
    all_containers,
    amount,
    claim_index,
    each_pod,
    gpu_resources,
    pod_claims,
    pod_requests,
    resources_of,
)
from generator.policy.checks.storage import context_all
from generator.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]


def _claim_names(pod: dict[str, object]) -> set[str]:
    claims = pod.get("resourceClaims")
    return {str(c.get("name")) for c in claims if isinstance(c, dict)} if isinstance(claims, list) else set()


def gpu_limits(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest, pod_path, pod in each_pod(manifests):
        for path, container in all_containers(manifest, pod_path, pod):
            requests, limits = resources_of(container)
            name = container.get("name", "?")
            resources = container.get("resources")
            claims = resources.get("claims") if isinstance(resources, dict) else None
            for index, claim in enumerate(claims if isinstance(claims, list) else []):
                # DRA: a container uses a claim by naming an entry of the pod's resourceClaims (API server rule).
                if isinstance(claim, dict) and str(claim.get("name")) not in _claim_names(pod):
                    yield (
                        manifest,
                        Violation(
                            f"container {name!r} uses claim {claim.get('name')!r}, which is not in the pod's resourceClaims: "
                            "the API server refuses the pod",
                            (*path, "resources", "claims", index, "name"),
                        ),
                    )
            for resource in sorted({*requests, *limits}):
                if not is_gpu_resource(str(resource)):
                    continue
                for where, values in (("limits", limits), ("requests", requests)):
                    if resource in values:
                        value = amount(values[resource])
                        if value is None or value != value.to_integral_value() or value <= 0:
                            yield (
                                manifest,
                                Violation(
                                    f"container {name!r}: {resource} must be a whole number of devices, not {values[resource]!r}",
                                    (*path, "resources", where, resource),
                                ),
                            )
                if resource not in limits:
                    yield (
                        manifest,
                        Violation(
                            f"container {name!r} requests {resource} without a limit: GPUs are set in limits",
                            (*path, "resources", "requests", resource),
                        ),
                    )
                elif resource in requests and amount(requests[resource]) != amount(limits[resource]):
                    yield (
                        manifest,
                        Violation(
                            f"container {name!r}: {resource} request {requests[resource]!r} differs from the limit "
                            f"{limits[resource]!r}; GPU requests must equal limits",
                            (*path, "resources", "requests", resource),
                        ),
                    )


def _gpu_taints(context: PolicyContext, resources: set[str]) -> list[tuple[NodePoolFacts | None, tuple[Taint, ...]]]:
    pools = [pool for pool in context.node_pools if set(pool.gpu_resources()) & resources]
    if pools:
        return [(pool, pool.taints) for pool in pools]
    # Without cluster facts: the taint key nodes offering each accelerator usually carry.
    keys = sorted({key for key in map(accelerator_taint_key, resources) if key is not None})
    return [(None, tuple(Taint(key=key, effect="NoSchedule") for key in keys))]


PodAccelerators = tuple[Manifest, FieldPath, dict[str, Any], set[str]]


def _accelerators(manifests: list[Manifest], context: PolicyContext) -> Iterator[PodAccelerators]:
    """Each pod with the accelerators it asks for: extended resources and DeviceClasses it claims through DRA."""
    index = claim_index(context_all(manifests, context))
    for manifest, pod_path, pod in each_pod(manifests):
        yield manifest, pod_path, pod, gpu_resources(manifest, pod_path, pod) | set(pod_claims(manifest, pod, index))


def gpu_toleration(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    from generator.kube.cluster import tolerates_all

    for manifest, pod_path, pod, resources in _accelerators(manifests, context):
        if not resources:
            continue
        tolerations = [t for t in pod.get("tolerations") or [] if isinstance(t, dict)]
        options = _gpu_taints(context, resources)
        if not any(tolerates_all(tolerations, taints) for _, taints in options):
            wanted = ", ".join(f"{t.key}:{t.effect}" for t in options[0][1])
            pool = f" of pool {options[0][0].name!r}" if options[0][0] is not None else ""
            yield (
                manifest,
                Violation(
                    f"pod requests {', '.join(sorted(resources))} but does not tolerate the GPU taint{pool} ({wanted}); "
                    "it will stay Pending",
                    (*pod_path, "tolerations"),
                ),
            )


def gpu_node_selection(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest, pod_path, pod in each_pod(manifests):
        resources = gpu_resources(manifest, pod_path, pod)
        if not resources:
            continue
        affinity = ((pod.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        if not pod.get("nodeSelector") and not affinity:
            yield (
                manifest,
                Violation(
                    f"pod requests {', '.join(sorted(resources))} but selects no GPU nodes (set nodeSelector or a "
                    "required node affinity)",
                    (*pod_path, "nodeSelector"),
                ),
            )


def gpu_shm(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest, pod_path, pod, resources in _accelerators(manifests, context):
        if not resources:
            continue
        memory_volumes = {
            v.get("name")
            for v in pod.get("volumes") or []
            if isinstance(v, dict)
            and isinstance(v.get("emptyDir"), dict)
            and v["emptyDir"].get("medium") == "Memory"
            and v["emptyDir"].get("sizeLimit")
        }
        mounted = any(
            mount.get("mountPath") == "/dev/shm" and mount.get("name") in memory_volumes
            for _, container in all_containers(manifest, pod_path, pod)
            for mount in container.get("volumeMounts") or []
            if isinstance(mount, dict)
        )
        if not mounted:
            yield (
                manifest,
                Violation(
                    "GPU training pod has no memory-backed /dev/shm with a sizeLimit: PyTorch DataLoader workers fail "
                    "with the 64Mi default",
                    (*pod_path, "volumes"),
                ),
            )


def schedulable(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    if not context.node_pools:
        return
    index = claim_index(context_all(manifests, context))
    for manifest, pod_path, pod in each_pod(manifests):
        admitting = [pool for pool in context.node_pools if admits(pool, pod)]
        if not admitting:
            yield (
                manifest,
                Violation(
                    "no node pool admits this pod: none matches its nodeSelector with all of its taints tolerated",
                    (*pod_path, "nodeSelector"),
                ),
            )
            continue
        claims = pod_claims(manifest, pod, index)
        requests = {
            name: value
            for name, value in pod_requests(manifest, pod_path, pod, claims).items()
            if name in ("cpu", "memory") or is_gpu_resource(name) or name in claims
        }
        fits = [
            pool for pool in admitting if all(value <= pool.allocatable.get(name, Decimal(0)) for name, value in requests.items())
        ]
        if fits:
            continue
        for name, value in sorted(requests.items()):
            largest = max(admitting, key=lambda pool: pool.allocatable.get(name, Decimal(0)))
            available = largest.allocatable.get(name, Decimal(0))
            if value > available:
                yield (
                    manifest,
                    Violation(
                        f"pod requests {format_resource(name, value)} {name} but the largest node it may use (pool "
                        f"{largest.name!r}) has {format_resource(name, available)}: it would never schedule",
                        (*pod_path, "containers"),
                    ),
                )
                break
        else:
            yield (
                manifest,
                Violation(
                    "no single node of the pools this pod may use has its CPU, memory and GPUs at once",
                    (*pod_path, "containers"),
                ),
            )


def _blocks(taints: Any) -> bool:
    return isinstance(taints, list) and any(
        isinstance(t, dict) and t.get("effect") in ("NoSchedule", "NoExecute") for t in taints
    )


def _gpu_node_pool(spec: dict[str, Any]) -> bool:
    """A Karpenter NodePool that launches GPU nodes: GPU limits, or GPU labels or requirements on its nodes."""
    template: dict[str, Any] = spec["template"] if isinstance(spec.get("template"), dict) else {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    requirements = (template.get("spec") or {}).get("requirements") or []
    keys = [str(k) for k in labels] + [str(r.get("key")) for r in requirements if isinstance(r, dict)]
    limits: dict[str, Any] = spec["limits"] if isinstance(spec.get("limits"), dict) else {}
    return any(is_gpu_resource(str(k)) for k in limits) or any("gpu" in key.lower() for key in keys)


def gpu_pool_taint(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """GPU node pools carry a NoSchedule taint, so CPU-only pods do not take the CPU and memory of GPU nodes."""
    for manifest in manifests:
        spec = manifest.obj.get("spec")
        if manifest.ref.kind != "NodePool" or not isinstance(spec, dict) or not _gpu_node_pool(spec):
            continue
        node = (spec.get("template") or {}).get("spec") or {}
        if not _blocks(node.get("taints")):
            yield (
                manifest,
                Violation(
                    f"NodePool {manifest.ref.name!r} launches GPU nodes without a NoSchedule taint: CPU-only pods can "
                    "land there and take the CPU and memory GPU pods need",
                    ("spec", "template", "spec", "taints") if "taints" in node else ("spec", "template", "spec"),
                ),
            )
