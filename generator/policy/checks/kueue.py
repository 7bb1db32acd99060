"""Kueue quotas that a queued job can never fit in (rule kueue-quota).

Kueue admits a job only when all its pods fit in its ClusterQueue's quota at once: a job asking for
more than the queue's total nominal quota of a resource (plus what it may borrow from its cohort),
for a resource the queue does not cover, or with a pod set larger than any single flavor's quota
(Kueue gives each pod set one flavor) stays pending forever with no error on the job itself.
Source: Kueue ClusterQueue.spec.resourceGroups, LocalQueue.spec.clusterQueue.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from mlgitops.kube.footprint import pod_groups
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.quantity import format_resource
from mlgitops.policy.checks import check
from mlgitops.policy.checks.pods import amount, pod_spec_requests
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
MIN_PARALLELISM = "kueue.x-k8s.io/job-min-parallelism"
_UNLIMITED = None


class Quota:
    """A ClusterQueue's quota per resource: the total over flavors and the largest single flavor (None: unlimited)."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.total: dict[str, Decimal | None] = {}
        self.largest: dict[str, Decimal | None] = {}
        cohort = spec.get("cohortName") or spec.get("cohort")
        groups = spec.get("resourceGroups")
        for group in groups if isinstance(groups, list) else []:
            flavors = group.get("flavors") if isinstance(group, dict) else None
            for flavor in flavors if isinstance(flavors, list) else []:
                resources = flavor.get("resources") if isinstance(flavor, dict) else None
                for resource in resources if isinstance(resources, list) else []:
                    if isinstance(resource, dict) and isinstance(resource.get("name"), str):
                        self._add(str(resource["name"]), resource, bool(cohort))

    def _add(self, name: str, resource: dict[str, Any], cohort: bool) -> None:
        nominal = amount(resource.get("nominalQuota", 0)) or Decimal(0)
        if cohort:
            borrowing = resource.get("borrowingLimit")
            limit = amount(borrowing) if borrowing is not None else None
            quota: Decimal | None = None if limit is None else nominal + limit
        else:
            quota = nominal
        if name in self.total and self.total[name] is None:
            return
        self.total[name] = None if quota is None else (self.total.get(name) or Decimal(0)) + quota
        previous = self.largest.get(name, Decimal(0))
        self.largest[name] = None if quota is None or previous is None else max(previous, quota)


def _index(manifests: tuple[Manifest, ...]) -> tuple[dict[str, Quota | None], dict[tuple[str, str], str | None]]:
    """ClusterQueues by name and LocalQueues by (namespace, name); None where differing definitions share a name."""
    specs: dict[str, list[dict[str, Any]]] = {}
    local_queues: dict[tuple[str, str], str | None] = {}
    for manifest in manifests:
        group = str(manifest.obj.get("apiVersion", "")).rpartition("/")[0]
        spec = manifest.obj.get("spec")
        if group != "kueue.x-k8s.io" or not isinstance(spec, dict):
            continue
        if manifest.ref.kind == "ClusterQueue":
            specs.setdefault(manifest.ref.name, []).append(spec)
        elif manifest.ref.kind == "LocalQueue" and isinstance(spec.get("clusterQueue"), str):
            key = (manifest.namespace, manifest.ref.name)
            target = spec["clusterQueue"]
            local_queues[key] = target if local_queues.get(key, target) == target else None
    cluster_queues = {name: Quota(found[0]) if all(s == found[0] for s in found) else None for name, found in specs.items()}
    return cluster_queues, local_queues


@check("kueue-quota")
def kueue_quota(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    cluster_queues, local_queues = _index(context.all_manifests or tuple(manifests))
    for manifest in manifests:
        metadata = manifest.obj.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        queue = labels.get(QUEUE_LABEL) if isinstance(labels, dict) else None
        if not isinstance(queue, str):
            continue
        cluster_queue = local_queues.get((manifest.namespace, queue))
        quota = cluster_queues.get(cluster_queue) if cluster_queue is not None else None
        if quota is None:
            continue  # a queue not among the manifests (or defined twice, differently): nothing to compare with
        problem = _never_admitted(manifest, quota)
        if problem is not None:
            yield (
                manifest,
                Violation(
                    f"{problem} of ClusterQueue {cluster_queue!r} (LocalQueue {queue!r}): it can never be admitted",
                    ("metadata", "labels", QUEUE_LABEL),
                ),
            )


def _gpus_first(item: tuple[str, Decimal]) -> tuple[bool, str]:
    return item[0] in ("cpu", "memory", "ephemeral-storage", "pods"), item[0]


def _never_admitted(manifest: Manifest, quota: Quota) -> str | None:
    totals: dict[str, Decimal] = {}
    # Partial admission: Kueue may admit a Job with as few as job-min-parallelism pods.
    metadata = manifest.obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    written = annotations.get(MIN_PARALLELISM) if isinstance(annotations, dict) else None
    minimum = amount(written) if written is not None else None
    for group in pod_groups([manifest.obj]):
        pods = group.pods
        if minimum is not None and group.owner_kind == "Job":
            pods = min(pods, int(minimum))
        if pods == 0:
            continue
        per_pod = pod_spec_requests(group.pod_spec)
        for resource, value in sorted(per_pod.items(), key=_gpus_first):
            if value <= 0:
                continue
            if resource not in quota.total:
                return f"asks for {resource}, which is not among the covered resources"
            need = value * pods
            largest = quota.largest[resource]
            if largest is not _UNLIMITED and need > largest:
                return (
                    f"runs {pods} pods needing {format_resource(resource, need)} {resource} together, above the "
                    f"largest flavor quota ({format_resource(resource, largest)})"
                )
            totals[resource] = totals.get(resource, Decimal(0)) + need
    for resource, need in sorted(totals.items(), key=_gpus_first):
        total = quota.total[resource]
        if total is not _UNLIMITED and need > total:
            shown = format_resource(resource, total)
            return f"needs {format_resource(resource, need)} {resource} at once, above the quota ({shown})"
    return None
