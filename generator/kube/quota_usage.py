"""What a namespace's pods may request at once, as a ResourceQuota counts it, with Kueue's queues taken into account.

A ResourceQuota charges pods' requests under ``requests.<name>`` (``cpu`` and ``memory`` also bare), never an
extended resource under its bare or ``limits.`` name, and DRA devices per ResourceClaim under
``<deviceclass>.deviceclass.resource.k8s.io/devices`` (kubernetes/kubernetes ``isExtendedResourceNameForQuota``
in pkg/quota/v1/evaluator/core/pods.go and ``V1ResourceByDeviceClass`` in resource_claims.go; the key exists since
Kubernetes 1.31, k8s.io/api ``ResourceClaimsPerClass``). Pods Kueue does not queue count at their most (every
autoscaler at its maximum); queued ones at most what their ClusterQueue admits at once (``kueue_admission.totals``),
since Kueue keeps the rest suspended. Rules env-budget and kueue-budget, and render's budget split, read the same
numbers from here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mlgitops.kube.cluster import is_gpu_resource
from mlgitops.kube.footprint import claim_templates, pod_groups
from mlgitops.kube.kueue_admission import totals
from mlgitops.kube.kueue_queues import Queues, pod_requests, queue_name

DEVICE_CLASS_KEY = ".deviceclass.resource.k8s.io/devices"
"""Suffix of the ResourceQuota key that counts a DRA DeviceClass's devices (``<class>.deviceclass.resource.k8s.io/devices``)."""
REQUESTS = "requests."


def quota_key(resource: str) -> str:
    """The ResourceQuota key that limits requests of ``resource`` (a DeviceClass name: its devices key)."""
    if "/" not in resource and resource not in ("cpu", "memory", "ephemeral-storage", "storage"):
        return f"{resource}{DEVICE_CLASS_KEY}"
    return f"{REQUESTS}{resource}"


def charged_resource(key: str) -> str | None:
    """The resource (a DeviceClass for a devices key) whose requests a ResourceQuota key charges, None for keys that
    are not about pod requests (counts, limits, storage of claims) or that charge nothing."""
    if key.endswith(DEVICE_CLASS_KEY):
        return key.removesuffix(DEVICE_CLASS_KEY)
    if key in ("cpu", "memory"):
        return key
    if key.startswith(REQUESTS):
        resource = key.removeprefix(REQUESTS)
        return None if resource == "storage" else resource
    return None


def uncharged_key(key: str) -> bool:
    """A key naming an accelerator that the quota evaluator never charges: bare or ``limits.``-prefixed (only
    ``requests.<name>`` counts extended resources)."""
    return is_gpu_resource(key.removeprefix("limits.")) and not key.startswith(REQUESTS)


def _add(into: dict[str, Decimal], more: Mapping[str, Decimal], times: int = 1) -> None:
    for resource, value in more.items():
        into[resource] = into.get(resource, Decimal(0)) + value * times


@dataclass
class NamespaceUsage:
    """The most one namespace's pods may request at once, split by who decides it."""

    unqueued: dict[str, Decimal] = field(default_factory=dict)
    """Pods Kueue does not queue (servers, CronJobs, ...), autoscalers at their maximum."""
    by_app: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    """The same per workload (app.kubernetes.io/name), for messages."""
    queued: dict[str | None, dict[str, Decimal]] = field(default_factory=dict)
    """Queued pods, all at once, by ClusterQueue (None: a queue not among the objects)."""
    unqueued_pods: list[tuple[dict[str, Any], int, dict[str, Decimal]]] = field(default_factory=list)
    """Each template of pods Kueue does not queue: its pod spec, how many at most, what one requests."""

    def most(self, resource: str, queues: Queues) -> Decimal:
        """The most the namespace requests of ``resource`` at once: unqueued pods, plus queued ones up to what their
        ClusterQueue admits."""
        return self.unqueued.get(resource, Decimal(0)) + self.admitted(resource, queues)

    def admitted(self, resource: str, queues: Queues) -> Decimal:
        """The most queued pods request of ``resource`` at once: all of them, or what their ClusterQueue admits."""
        used = Decimal(0)
        for name, asked in self.queued.items():
            want = asked.get(resource, Decimal(0))
            queue = queues.cluster_queues.get(name) if name is not None else None
            admits = totals(queue, queues).get(resource, Decimal(0)) if queue is not None else None
            used += want if admits is None else min(want, admits)
        return used


def namespace_usage(objects: Iterable[dict[str, Any]], namespace: str, queues: Queues) -> NamespaceUsage:
    """Usage of ``objects`` (all of one namespace) in ``namespace``; queued objects are those with a queue label."""
    listed = list(objects)
    templates = claim_templates(listed)
    queued_by_owner = {}
    for obj in listed:
        queue = queue_name(obj)
        if queue is not None:
            name = queues.local_queues.get((namespace, queue))
            key = (str(obj.get("kind")), str((obj.get("metadata") or {}).get("name")))
            queued_by_owner[key] = name if name in queues.cluster_queues else None
    usage = NamespaceUsage()
    for group in pod_groups(listed, most=True):
        requests = pod_requests(group.pod_spec, templates)
        owner = (group.owner_kind, group.owner_name)
        if owner in queued_by_owner:
            _add(usage.queued.setdefault(queued_by_owner[owner], {}), requests, group.pods)
        else:
            _add(usage.unqueued, requests, group.pods)
            _add(usage.by_app.setdefault(group.app, {}), requests, group.pods)
            usage.unqueued_pods.append((group.pod_spec, group.pods, requests))
    return usage
