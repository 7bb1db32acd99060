"""Ray worker groups that ask for more GPUs than their pods can have.

A worker pod asking for more GPUs than a node of the pool it may land on has never starts (the Ray
autoscaler keeps asking for it); a group that tells Ray `num-gpus` above the GPUs its container
gets makes Ray schedule GPU tasks onto devices that are not there (CUDA fails inside the task).
Whether a pod's GPUs fit a node is ``kube/fit.py``'s answer, the one render's spec checks use.
Source: KubeRay's RayCluster API (workerGroupSpecs[].rayStartParams, template).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from mlgitops.kube.cluster import is_gpu_resource
from mlgitops.kube.fit import node_fit
from mlgitops.kube.manifest import FieldPath, Manifest
from mlgitops.kube.ray import ray_groups
from mlgitops.policy.checks import check
from mlgitops.policy.checks.pods import amount, pod_spec_requests, resources_of
from mlgitops.policy.model import Policy, PolicyContext, Violation
from mlgitops.policy.severity import Severity
from mlgitops.policy.targets import containers, value_at

Found = Iterator[tuple[Manifest, Violation]]


@check("ray-worker-gpus")
def ray_worker_gpus(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest in manifests:
        for group in ray_groups(manifest.obj):
            label = "the head" if group.head else f"worker group {group.name!r}"
            requests = pod_spec_requests(group.pod_spec)
            gpus = {name: value for name, value in requests.items() if is_gpu_resource(name) and value > 0}
            admitting = context.pools.admitting(group.pod_spec)
            for resource, wanted in sorted(gpus.items()):
                offered = admitting.offering(resource)
                if not offered:
                    continue  # the schedulable and gpu-* rules say where such a pod may not go
                for short in node_fit({resource: wanted}, offered).shortfalls:
                    yield (
                        manifest,
                        Violation(
                            f"{label} asks for {int(wanted)} {resource} per pod, but a node of pool {short.pool.name!r} "
                            f"has {int(short.available)}: its pods never start",
                            _limit_path(manifest, group.path, group.pod_spec, resource),
                        ),
                    )
            told = _ray_gpus(manifest, group.path)
            has = int(sum(gpus.values(), Decimal(0)))
            if told is not None and told > has:
                yield (
                    manifest,
                    Violation(
                        f"{label} tells Ray num-gpus={told} but its pods get {has} GPU{'' if has == 1 else 's'}: "
                        "Ray would schedule GPU tasks onto GPUs that are not there",
                        (*group.path[:-2], "rayStartParams", "num-gpus"),
                        # Logical GPUs are sometimes declared on purpose (tests of Ray's own accounting).
                        severity=Severity.WARNING,
                    ),
                )


def _limit_path(manifest: Manifest, pod_path: FieldPath, pod: dict[str, Any], resource: str) -> FieldPath:
    """Where the first container asking for ``resource`` sets its limit (or the containers, when none does)."""
    for path, container in containers(manifest, pod_path, pod, init=False):
        _, limits = resources_of(container)
        if resource in limits:
            return (*path, "resources", "limits", resource)
    return (*pod_path, "containers")


def _ray_gpus(manifest: Manifest, template_spec_path: FieldPath) -> Decimal | None:
    """The group's rayStartParams num-gpus (the group spec holds template.spec), None when not set."""
    value = value_at(manifest.obj, (*template_spec_path[:-2], "rayStartParams", "num-gpus"))
    return amount(value) if value is not None else None
