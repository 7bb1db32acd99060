"""The pod groups of a KubeRay cluster (ray.io/v1 RayCluster, RayJob, RayService): the head and each worker group.

Worker pods per group are `replicas` (KubeRay's default 0, e.g. when the autoscaler owns the count),
at least `minReplicas`, times `numOfHosts` (multi-host groups such as TPU slices): KubeRay clamps replicas into
[minReplicas, maxReplicas] and multiplies by numOfHosts (ray-project/kuberay `controllers/ray/utils/util.go`
GetWorkerGroupDesiredReplicas). At the most (``most``, what a quota must allow), an autoscaled group
(`enableInTreeAutoscaling`) counts at `maxReplicas`, the furthest the autoscaler may patch `replicas`; and a
RayService counts the second cluster of an upgrade (``upgrade_surge``; the facts: ``spec/ray_upgrade.py``).
"""

from __future__ import annotations

import math
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
    added: tuple[dict[str, Any], ...] = ()
    """Containers KubeRay adds to these pods: the in-tree autoscaler in the head (``autoscaler_container``)."""

    @property
    def running_pod(self) -> dict[str, Any]:
        """The pod spec as it runs, with the containers KubeRay adds (for what the pods request)."""
        if not self.added:
            return self.pod_spec
        containers = self.pod_spec.get("containers")
        return {**self.pod_spec, "containers": [*(containers if isinstance(containers, list) else []), *self.added]}


AUTOSCALER_RESOURCES = {"requests": {"cpu": "500m", "memory": "512Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
"""What KubeRay's autoscaler container asks for unless autoscalerOptions.resources says otherwise (ray-project/kuberay
v1.7.0 `controllers/ray/common/pod.go` BuildAutoscalerContainer, mergeAutoscalerOverrides)."""


def autoscaler_container(cluster: dict[str, Any]) -> tuple[dict[str, Any], ...]:
    """The autoscaler container KubeRay adds to the head pod of an autoscaled cluster (none otherwise)."""
    if cluster.get("enableInTreeAutoscaling") is not True:
        return ()
    options = cluster.get("autoscalerOptions")
    resources = options.get("resources") if isinstance(options, dict) else None
    return ({"name": "autoscaler", "resources": resources if isinstance(resources, dict) else AUTOSCALER_RESOURCES},)


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def upgrade_surge(obj: dict[str, Any]) -> int | None:
    """Percent of a RayService's capacity a second cluster adds during an upgrade: 100 for NewCluster (also the
    operator's default without upgradeStrategy), maxSurgePercent for an incremental upgrade (KubeRay's default 100),
    0 for None; None for other kinds."""
    if obj.get("kind") != "RayService":
        return None
    strategy = (obj.get("spec") or {}).get("upgradeStrategy") if isinstance(obj.get("spec"), dict) else None
    strategy = strategy if isinstance(strategy, dict) else {}
    kind = strategy.get("type", "NewCluster")
    if kind == "None":
        return 0
    if kind == "NewClusterWithIncrementalUpgrade":
        options = strategy.get("clusterUpgradeOptions")
        surge = _count(options.get("maxSurgePercent")) if isinstance(options, dict) else None
        return min(100, 100 if surge is None else surge)
    return 100


def ray_groups(obj: dict[str, Any], *, most: bool = False) -> list[RayGroup]:
    """The head and worker groups of a Ray object (none for other kinds or malformed ones); ``most``: each at the
    most it may run (autoscaled groups at maxReplicas, a RayService's upgrade included)."""
    at = _CLUSTER_SPEC.get(str(obj.get("kind")))
    if at is None or not str(obj.get("apiVersion", "")).startswith("ray.io/"):
        return []
    cluster: Any = obj
    for key in at:
        cluster = cluster.get(key) if isinstance(cluster, dict) else None
    if not isinstance(cluster, dict):
        return []
    groups = []
    surge = (upgrade_surge(obj) or 0) if most else 0
    autoscaled = cluster.get("enableInTreeAutoscaling") is True
    head = cluster.get("headGroupSpec")
    template = head.get("template") if isinstance(head, dict) else None
    pod = template.get("spec") if isinstance(template, dict) else None
    if isinstance(pod, dict):
        groups.append(
            RayGroup(
                "head",
                (*at, "headGroupSpec", "template", "spec"),
                2 if surge else 1,
                pod,
                head=True,
                added=autoscaler_container(cluster),
            )
        )
    workers = cluster.get("workerGroupSpecs")
    for index, group in enumerate(workers if isinstance(workers, list) else []):
        if not isinstance(group, dict) or not isinstance(group.get("template"), dict):
            continue
        pod = group["template"].get("spec")
        if not isinstance(pod, dict):
            continue
        # KubeRay keeps a group between minReplicas and maxReplicas; replicas left out (for the autoscaler) is 0.
        least = _count(group.get("minReplicas")) or 0
        replicas = max(_count(group.get("replicas")) or 0, least)
        ceiling = _count(group.get("maxReplicas"))
        if most and autoscaled and ceiling is not None:
            replicas = max(ceiling, least)
        if surge:
            # The upgrade's new cluster: at least its minimum, at most the surge's share of the capacity.
            replicas += max(least, math.ceil(replicas * surge / 100))
        hosts = _count(group.get("numOfHosts"))
        pods = replicas * (1 if hosts is None else hosts)
        groups.append(
            RayGroup(str(group.get("groupName", index)), (*at, "workerGroupSpecs", index, "template", "spec"), pods, pod)
        )
    return groups
