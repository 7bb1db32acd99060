"""Rule ray-object-store-shm: a Ray object store larger than the memory that sizes its /dev/shm.

KubeRay mounts a memory-backed emptyDir at /dev/shm into every Ray container (unless rayStartParams set
``plasma-directory``) and sizes it from the container's memory limit, else its request
(ray-project/kuberay ray-operator/controllers/ray/common/pod.go: ``addEmptyDir``, ``makeEmptyDirVolume``,
``findMemoryReqOrLimit``). The object store lives there, and what it holds counts against the container's
memory: an ``object-store-memory`` (bytes, rayStartParams) above that memory cannot fit: Ray refuses to start
or the container is OOM-killed once the store fills.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlgitops.kube.manifest import Manifest
from mlgitops.kube.quantity import format_resource
from mlgitops.kube.ray import ray_groups
from mlgitops.policy.checks import check
from mlgitops.policy.checks.pods import amount, resources_of
from mlgitops.policy.model import Policy, PolicyContext, Violation
from mlgitops.policy.targets import value_at

Found = Iterator[tuple[Manifest, Violation]]


@check("ray-object-store-shm")
def ray_object_store_shm(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest in manifests:
        for group in ray_groups(manifest.obj):
            params = value_at(manifest.obj, (*group.path[:-2], "rayStartParams"))
            params = params if isinstance(params, dict) else {}
            store = amount(params.get("object-store-memory"))
            if store is None or "plasma-directory" in params:
                continue
            containers = group.pod_spec.get("containers")
            ray = containers[0] if isinstance(containers, list) and containers and isinstance(containers[0], dict) else None
            if ray is None:
                continue
            requests, limits = resources_of(ray)
            memory = amount(limits.get("memory", requests.get("memory")))
            if memory is None or store <= memory:
                continue
            label = "the head" if group.head else f"worker group {group.name!r}"
            yield (
                manifest,
                Violation(
                    f"{label} gives Ray's object store {format_resource('memory', store)} "
                    f"(object-store-memory), but KubeRay sizes its /dev/shm from the container's memory, "
                    f"{format_resource('memory', memory)}: the store cannot fit",
                    (*group.path[:-2], "rayStartParams", "object-store-memory"),
                ),
            )
