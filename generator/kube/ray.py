"""The pod groups of a KubeRay cluster (ray.io/v1 RayCluster, RayJob, RayService): the head and each worker group.

Worker pods per group are `replicas` (KubeRay's default 0, e.g. when the autoscaler owns the count),
at least `minReplicas`, times `numOfHosts` (multi-host groups such as TPU slices).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

FieldPath = tuple[str | int, ...]
RAY_KINDS = ("RayCluster", "RayJob", "RayService")
_CLUSTER_SPEC: dict[str, FieldPath] = {
    "RayCluster": ("spec",),
    "RayJob": ("spec", "rayClusterSpec"),
    "RayService": ("spec", "rayClusterConfig"),
}


@dataclass(frozen=True)
class RayGroup:
    """One group of identical Ray pods: 'head' or a worker group's name, where its pod spec is, how many pods."""

    name: str
    path: FieldPath
    pods: int
    pod_spec: dict[str, Any]
    head: bool = False


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def ray_groups(obj: dict[str, Any]) -> list[RayGroup]:
    """The head and worker groups of a Ray object (none for other kinds or malformed ones)."""
    at = _CLUSTER_SPEC.get(str(obj.get("kind")))
    if at is None or not str(obj.get("apiVersion", "")).startswith("ray.io/"):
        return []
    cluster: Any = obj
    for key in at:
        cluster = cluster.get(key) if isinstance(cluster, dict) else None
    if not isinstance(cluster, dict):
        return []
    groups = []
    head = cluster.get("headGroupSpec")
    template = head.get("template") if isinstance(head, dict) else None
    pod = template.get("spec") if isinstance(template, dict) else None
    if isinstance(pod, dict):
        groups.append(RayGroup("head", (*at, "headGroupSpec", "template", "spec"), 1, pod, head=True))
    workers = cluster.get("workerGroupSpecs")
    for index, group in enumerate(workers if isinstance(workers, list) else []):
        if not isinstance(group, dict) or not isinstance(group.get("template"), dict):
            continue
        pod = group["template"].get("spec")
        if not isinstance(pod, dict):
            continue
        # KubeRay keeps a group between minReplicas and maxReplicas; replicas left out (for the autoscaler) is 0.
        replicas = max(_count(group.get("replicas")) or 0, _count(group.get("minReplicas")) or 0)
        hosts = _count(group.get("numOfHosts"))
        pods = replicas * (1 if hosts is None else hosts)
        groups.append(
            RayGroup(str(group.get("groupName", index)), (*at, "workerGroupSpecs", index, "template", "spec"), pods, pod)
        )
    return groups
