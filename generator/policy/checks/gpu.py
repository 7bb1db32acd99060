"""Accelerator rules: extended-resource values, tolerations, node selection, shared memory, and whether a pod fits.

Every accelerator counts (``generator.kube.accelerators``: NVIDIA GPUs, MIG slices, shared
GPUs, AMD, Gaudi, Neuron, TPU, Ascend; and DRA DeviceClasses claimed through
ResourceClaimTemplates), and only when a pod asks for at least one device.
Templates that only override a pod defined elsewhere (a TrainJob's runtime) are not judged
for what they leave out.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from mlgitops.kube.accelerators import (
    NVIDIA_GPU,
    accelerator,
    family_of,
    is_accelerator,
    taint_key_of,
    tolerated_by_the_platform,
    tolerates,
)
from mlgitops.kube.api_rules import extended_resource_problems
from mlgitops.kube.fit import node_fit
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import PodTemplate, group_of, mapping, value_at
from mlgitops.kube.quantity import format_resource
from mlgitops.kube.volumes import SHM_PATH
from mlgitops.policy.checks import check
from mlgitops.policy.checks.pods import ClaimIndex, accelerators_of, claim_index, each_template, pod_claims, pod_requests
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]


@check("gpu-limits")
def gpu_limits(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Extended resources (every accelerator) are whole numbers, set in limits, with any request equal to the limit."""
    for manifest in manifests:
        for problem in extended_resource_problems(manifest.obj, manifest.pod_templates):
            yield manifest, Violation(problem.message, problem.path)


def _judged(manifest: Manifest, template: PodTemplate, index: ClaimIndex) -> dict[str, Decimal]:
    """Accelerators one pod asks for: extended resources, and DeviceClasses it claims through DRA (by class name).

    An override of a pod kept elsewhere (a TrainJob's runtime) is not judged for what it leaves out.
    """
    if template.partial:
        return {}
    devices = accelerators_of(template)
    for device_class, count in pod_claims(manifest, template.spec, index).items():
        devices[device_class] = devices.get(device_class, Decimal(0)) + count
    return devices


def _names(devices: dict[str, Decimal]) -> str:
    return ", ".join(sorted(devices))


@check("gpu-toleration")
def gpu_toleration(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    index = claim_index(context_all(manifests, context))
    for manifest, template in each_template(manifests):
        devices = _judged(manifest, template, index)
        if not devices:
            continue
        tolerations = [t for t in template.spec.get("tolerations") or [] if isinstance(t, dict)]
        pools = context.pools.offering(devices)
        if pools:
            if not context.pools.tolerated_offering(devices, tolerations):
                wanted = ", ".join(f"{t.key}:{t.effect}" for t in pools[0].taints if t.effect != "PreferNoSchedule")
                yield (
                    manifest,
                    Violation(
                        f"pod requests {_names(devices)} but does not tolerate the GPU taint of pool {pools[0].name!r} "
                        f"({wanted}); it will stay Pending",
                        (*template.path, "tolerations"),
                    ),
                )
            continue
        if _dedicated_taint_tolerated(tolerations):
            continue  # the author targets nodes tainted their own way (dedicated=gpu, sku=gpu, ray.io/node-type)
        labels = _selected_labels(template.spec)
        missing = sorted(
            {
                found.taint_key
                for name in devices
                if (found := family_of(name))
                and found.vendor_family
                and not tolerates(tolerations, found)
                and not tolerated_by_the_platform(found, labels)
            }
        )
        if missing:
            yield (
                manifest,
                Violation(
                    f"pod requests {_names(devices)} but tolerates no {' or '.join(missing)} taint (any value), which "
                    "such nodes usually carry; it may stay Pending",
                    (*template.path, "tolerations"),
                ),
            )


def _dedicated_taint_tolerated(tolerations: list[dict[str, Any]]) -> bool:
    """Whether the pod tolerates a NoSchedule taint by key that no accelerator family owns (a pool's own taint)."""
    for toleration in tolerations:
        key = toleration.get("key")
        if not isinstance(key, str) or not key or toleration.get("effect") not in (None, "", "NoSchedule"):
            continue
        if accelerator(key) is None and not key.startswith(("node.kubernetes.io/", "node.cloudprovider.kubernetes.io/")):
            return True
    return False


def _selected_labels(pod: dict[str, Any]) -> set[str]:
    """Node label keys the pod selects on (nodeSelector and required node affinity terms)."""
    keys = set(mapping(pod.get("nodeSelector")))
    affinity = value_at(pod, ("affinity", "nodeAffinity", "requiredDuringSchedulingIgnoredDuringExecution", "nodeSelectorTerms"))
    for term in affinity if isinstance(affinity, list) else []:
        for expression in mapping(term).get("matchExpressions") or []:
            if isinstance(expression, dict) and isinstance(expression.get("key"), str):
                keys.add(expression["key"])
    return keys


@check("gpu-node-selection")
def gpu_node_selection(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest, template in each_template(manifests):
        # Only vendor families span models under one name; example.com/gpu, a DRA-backed name or a DRA
        # DeviceClass (whose selectors choose the devices) is its own class.
        devices = {
            name: n for name, n in _judged(manifest, template, {}).items() if (found := accelerator(name)) and found.vendor_family
        }
        if not devices:
            continue
        pod = template.spec
        affinity = ((pod.get("affinity") or {}).get("nodeAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution")
        if not pod.get("nodeSelector") and not affinity:
            yield (
                manifest,
                Violation(
                    f"pod requests {_names(devices)} but selects no node pool or accelerator model (set nodeSelector "
                    "or a required node affinity)",
                    (*template.path, "nodeSelector"),
                ),
            )


@check("gpu-shm")
def gpu_shm(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    index = claim_index(context_all(manifests, context))
    for manifest, template in each_template(manifests):
        if group_of(manifest.obj) == "ray.io":
            continue  # KubeRay mounts a memory-backed /dev/shm into every Ray pod itself
        devices = {
            name: n
            for name, n in _judged(manifest, template, index).items()
            if (found := family_of(name)) and found.kind == "gpu"
        }
        if sum(devices.values(), Decimal(0)) < 2:
            continue
        pod = template.spec
        if pod.get("hostIPC") is True:
            continue  # the host's /dev/shm
        # Without a sizeLimit it is still shared memory (emptydir-size reports the missing limit).
        memory_volumes = {
            v.get("name")
            for v in pod.get("volumes") or []
            if isinstance(v, dict) and isinstance(v.get("emptyDir"), dict) and v["emptyDir"].get("medium") == "Memory"
        }
        mounted = any(
            mount.get("mountPath") == SHM_PATH and mount.get("name") in memory_volumes
            for container in template.containers
            for mount in container.spec.get("volumeMounts") or []
            if isinstance(mount, dict)
        )
        if not mounted:
            count = int(sum(devices.values(), Decimal(0)))
            yield (
                manifest,
                Violation(
                    f"pod uses {count} GPUs ({_names(devices)}) without a memory-backed /dev/shm: "
                    "NCCL between its ranks and DataLoader workers outgrow the 64Mi default",
                    (*template.path, "volumes"),
                ),
            )


@check("schedulable")
def schedulable(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    if not context.node_pools:
        return
    index = claim_index(context_all(manifests, context))
    for manifest, template in each_template(manifests):
        if template.partial:
            continue
        pod = template.spec
        admitting = context.pools.admitting(pod)
        if not admitting:
            yield (
                manifest,
                Violation(
                    "no node pool admits this pod: none matches its nodeSelector with all of its taints tolerated",
                    (*template.path, "nodeSelector"),
                ),
            )
            continue
        claims = pod_claims(manifest, pod, index)
        requests = {
            name: value
            for name, value in pod_requests(template, claims).items()
            if (name in ("cpu", "memory") or is_accelerator(name) or name in claims) and value > 0
        }
        fit = node_fit(dict(sorted(requests.items())), admitting)
        if fit.fits:
            continue
        if fit.shortfalls:
            short = fit.shortfalls[0]
            yield (
                manifest,
                Violation(
                    f"pod requests {format_resource(short.resource, short.requested)} {short.resource} but the largest "
                    f"node it may use (pool {short.pool.name!r}) has {format_resource(short.resource, short.available)}: "
                    "it would never schedule",
                    (*template.path, "containers"),
                ),
            )
        else:
            yield (
                manifest,
                Violation(
                    "no single node of the pools this pod may use has its CPU, memory and accelerators at once",
                    (*template.path, "containers"),
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
    return any(is_accelerator(str(k)) for k in limits) or any("gpu" in key.lower() for key in keys)


@check("gpu-pool-taint")
def gpu_pool_taint(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """GPU node pools carry a NoSchedule taint, so CPU-only pods do not take the CPU and memory of GPU nodes."""
    for manifest in manifests:
        spec = manifest.obj.get("spec")
        if manifest.ref.kind != "NodePool" or not isinstance(spec, dict) or not _gpu_node_pool(spec):
            continue
        node = (spec.get("template") or {}).get("spec") or {}
        if not _blocks(node.get("taints")):
            key = _pool_taint_key(spec)
            yield (
                manifest,
                Violation(
                    f"NodePool {manifest.ref.name!r} launches GPU nodes without a NoSchedule taint: CPU-only pods can "
                    "land there and take the CPU and memory GPU pods need",
                    ("spec", "template", "spec", "taints") if "taints" in node else ("spec", "template", "spec"),
                    fix=f"Taint the pool's nodes (Karpenter: spec.template.spec.taints) with {key}:NoSchedule; GPU pods "
                    "then tolerate it.",
                    render_fix=f"Add taints: [{{key: {key}, value: present, effect: NoSchedule}}] to the node pool under "
                    "cluster.nodePools; mlgitops adds the toleration to every pod placed on it.",
                ),
            )


def _pool_taint_key(spec: dict[str, Any]) -> str:
    """The taint key of the accelerator a NodePool launches (its own family's: amd.com/gpu for AMD, ...): from the
    accelerator in its limits, else its GPU node labels (kube/accelerators.py); nvidia.com/gpu when nothing says."""
    limits: dict[str, Any] = spec["limits"] if isinstance(spec.get("limits"), dict) else {}
    template: dict[str, Any] = spec["template"] if isinstance(spec.get("template"), dict) else {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    requirements = (template.get("spec") or {}).get("requirements") or []
    keys = [*(str(k) for k in limits), *(str(k) for k in labels)]
    keys += [str(r.get("key")) for r in requirements if isinstance(r, dict)]
    for name in keys:
        found = taint_key_of(name) if is_accelerator(name) else None
        if found is not None:
            return found
    for name in keys:  # a node label such as amd.com/gpu.product names its family
        family = family_of(name.split(".product")[0]) if "/" in name else None
        if family is not None:
            return family.taint_key
    return NVIDIA_GPU
