"""What changed between two renders of the same environments: objects, fields and resource totals."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mlgitops.fleet.cost import EnvironmentCost
from mlgitops.kube.cluster import is_gpu_resource
from mlgitops.kube.footprint import Footprint, footprint
from mlgitops.render.workloads_hash import HASH_LENGTH
from mlgitops.review.traffic import TrafficSplit, traffic_splits

ObjectKey = tuple[str, str]  # (kind, workload or object name)


@dataclass(frozen=True)
class FieldChange:
    """One changed field of an object, with a category reviewers care about."""

    path: str
    before: Any
    after: Any
    category: str  # image, replicas, resources, gpu, schedule, autoscaling, volumes, other


@dataclass
class ObjectChange:
    kind: str
    name: str
    state: str  # added, removed, changed
    previous_name: str | None = None
    fields: list[FieldChange] = field(default_factory=list)


@dataclass
class EnvironmentChanges:
    name: str
    objects: list[ObjectChange]
    before: Footprint
    after: Footprint
    cost_before: EnvironmentCost | None = None
    """Hourly cost and job GPU-hours before the change (None: the environment did not exist)."""
    cost_after: EnvironmentCost | None = None
    total_before: int = 0
    """Objects the environment rendered before the change."""
    total_after: int = 0
    splits: list[TrafficSplit] = field(default_factory=list)
    """Routes that split traffic by weight (canaries), before and after."""

    @property
    def counts(self) -> dict[str, int]:
        counts = {"added": 0, "removed": 0, "changed": 0}
        for change in self.objects:
            counts[change.state] += 1
        return counts


def _key(obj: dict[str, Any]) -> ObjectKey:
    # Objects named "<workload>-<hash of the spec>" (Jobs, TrainJobs, PyTorchJobs, RayJobs): match them by workload.
    metadata = obj.get("metadata") or {}
    name = str(metadata.get("name"))
    app = (metadata.get("labels") or {}).get("app.kubernetes.io/name")
    if isinstance(app, str) and re.fullmatch(rf"{re.escape(app)}-[0-9a-f]{{{HASH_LENGTH}}}", name):
        name = app
    return str(obj.get("kind")), name


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, child in value.items():
            flat.update(_flatten(child, f"{prefix}.{key}" if prefix else str(key)))
        return flat
    for key in ("name", "groupName"):  # named lists (containers, env, Ray worker groups) by item name
        if isinstance(value, list) and value and all(isinstance(item, dict) and key in item for item in value):
            flat = {}
            for item in value:
                flat.update(_flatten(item, f"{prefix}[{item[key]}]"))
            return flat
    return {prefix: value}


def _category(path: str) -> str:
    leaf = path.rsplit(".", 1)[-1]
    if leaf == "image":
        return "image"
    resources = re.search(r"(^|\.)resources(PerNode)?\.", path)
    if resources and ("gpu" in leaf or is_gpu_resource(path[resources.end() :].split(".", 1)[-1])):
        return "gpu"
    if ".devices.requests" in path or "resourceClaims" in path or path.endswith("leaderWorkerTemplate.size"):
        return "gpu"  # DRA claims and a LeaderWorkerSet's pods per group decide how many accelerators run
    if resources:
        return "resources"
    if leaf in ("replicas", "parallelism", "completions", "numNodes"):
        return "replicas"
    if leaf in ("minReplicas", "maxReplicas") or path.startswith("spec.metrics"):
        return "autoscaling"
    if leaf in ("schedule", "timeZone", "suspend"):
        return "schedule"
    if "volumes" in path or "volumeMounts" in path or "claimName" in path:
        return "volumes"
    return "other"


def compare_objects(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    """Changed leaf fields (metadata.name aside), named lists keyed by item name."""
    old, new = _flatten(before), _flatten(after)
    changes = []
    for path in sorted(set(old) | set(new)):
        if path == "metadata.name" or old.get(path) == new.get(path):
            continue
        changes.append(FieldChange(path, old.get(path), new.get(path), _category(path)))
    return changes


def compare_environment(name: str, before: list[dict[str, Any]], after: list[dict[str, Any]]) -> EnvironmentChanges:
    old = {_key(obj): obj for obj in before}
    new = {_key(obj): obj for obj in after}
    objects: list[ObjectChange] = []
    for key in sorted(set(old) | set(new)):
        kind, _display = key
        if key not in old:
            objects.append(ObjectChange(kind, str(new[key]["metadata"]["name"]), "added"))
        elif key not in new:
            objects.append(ObjectChange(kind, str(old[key]["metadata"]["name"]), "removed"))
        else:
            fields = compare_objects(old[key], new[key])
            if fields:
                old_name, new_name = old[key]["metadata"]["name"], new[key]["metadata"]["name"]
                objects.append(
                    ObjectChange(kind, str(new_name), "changed", str(old_name) if old_name != new_name else None, fields)
                )
    return EnvironmentChanges(
        name,
        objects,
        footprint(before),
        footprint(after),
        total_before=len(before),
        total_after=len(after),
        splits=traffic_splits(before, after),
    )
