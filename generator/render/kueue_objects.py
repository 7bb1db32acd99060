"""Kueue's queueing objects derived from the cluster profile (kueue.x-k8s.io/v1beta2).

Cluster-scoped (rendered/<env>/cluster/): a ResourceFlavor per node pool (its node labels and taints),
a ClusterQueue with each flavor's nominal quota (the budget's split, render/budget_split.py), WorkloadPriorityClasses from
`priorities.classes`, and a Topology per pool that declares `topologyLevels` (or a `topologyLabel`). Namespaced: a LocalQueue
per queue the environment renders, each feeding the ClusterQueue.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mlgitops.kube.quantity import format_cpu, format_exact_bytes
from mlgitops.render.metadata import object_meta
from mlgitops.spec.cluster import NodePool
from mlgitops.spec.environment import Environment
from mlgitops.spec.queues import FlavorQuota, cluster_queue_name, covered_resources, rendered_queues

KUEUE_API = "kueue.x-k8s.io/v1beta2"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def _quantity(resource: str, amount: Decimal) -> str:
    if resource == "cpu":
        return format_cpu(amount)
    if resource in ("memory", "ephemeral-storage"):
        return format_exact_bytes(amount)
    return str(int(amount))


def flavor_spec(environment: Environment, pool: NodePool | None) -> dict[str, Any]:
    """A ResourceFlavor's spec: the pool's labels (Kueue matches and injects them), taints, and topology (TAS)."""
    spec: dict[str, Any] = {}
    if pool is not None:
        if pool.labels:
            spec["nodeLabels"] = dict(sorted(pool.labels.items()))
        taints = [{"key": t.key, **({"value": t.value} if t.value is not None else {}), "effect": t.effect} for t in pool.taints]
        if taints:
            spec["nodeTaints"] = taints
            kueue = environment.kueue
            if kueue is not None and kueue.flavor_tolerations:
                spec["tolerations"] = [{"key": t.key, "operator": "Exists", "effect": t.effect} for t in pool.taints]
        if pool.kueue_topology:
            spec["topologyName"] = pool.name
    return spec


def _resource_flavor(environment: Environment, environment_name: str, flavor: FlavorQuota) -> dict[str, Any]:
    meta = object_meta(environment, environment_name, name=flavor.name, app=flavor.name, component="queueing")
    spec = flavor_spec(environment, flavor.pool)
    return {"apiVersion": KUEUE_API, "kind": "ResourceFlavor", "metadata": meta.render(None), "spec": spec}


def _resource(resource: str, amount: Decimal | None, cohort: str | None) -> dict[str, Any]:
    """One (flavor, resource) quota; in a cohort with borrowingLimit 0, so that borrowing never takes the queue past the
    budget (without it a queue may borrow all of its cohort's unused quota: kubernetes-sigs/kueue v0.19.2,
    apis/kueue/v1beta2/clusterqueue_types.go ResourceQuota.BorrowingLimit; lending its own unused quota stays on)."""
    entry: dict[str, Any] = {"name": resource, "nominalQuota": _quantity(resource, amount or Decimal(0))}
    if cohort is not None:
        entry["borrowingLimit"] = _quantity(resource, Decimal(0))
    return entry


def _cluster_queue(environment: Environment, environment_name: str, flavors: list[FlavorQuota]) -> dict[str, Any]:
    kueue = environment.kueue
    assert kueue is not None
    settings = kueue.cluster_queue
    name = cluster_queue_name(environment)
    meta = object_meta(environment, environment_name, name=name, app=name, component="queueing")
    covered = list(flavors[0].quotas) if flavors else covered_resources(environment)
    spec: dict[str, Any] = {}
    if settings.cohort is not None:
        spec["cohortName"] = settings.cohort
    # Only this environment's namespace may submit to its queue.
    spec["namespaceSelector"] = {"matchLabels": {NAMESPACE_NAME_LABEL: environment.namespace}}
    spec["preemption"] = {"withinClusterQueue": settings.preemption}
    spec["queueingStrategy"] = settings.queueing_strategy
    spec["resourceGroups"] = [
        {
            "coveredResources": covered,
            "flavors": [
                {
                    "name": flavor.name,
                    "resources": [_resource(resource, flavor.quotas[resource], settings.cohort) for resource in covered],
                }
                for flavor in flavors
            ],
        }
    ]
    return {"apiVersion": KUEUE_API, "kind": "ClusterQueue", "metadata": meta.render(None), "spec": spec}


def render_cluster_queueing(
    environment: Environment, environment_name: str, flavors: list[FlavorQuota]
) -> list[tuple[dict[str, Any], tuple[str | int, ...]]]:
    """Cluster-scoped Kueue objects, each with the spec path it comes from, ``flavors`` with Kueue's nominal quotas
    (render/budget_split.py); none without rendered queues."""
    if not rendered_queues(environment):
        return []
    objects: list[tuple[dict[str, Any], tuple[str | int, ...]]] = []
    pools = environment.cluster.node_pools
    for flavor in flavors:
        at: tuple[str | int, ...] = ("cluster", "nodePools", pools.index(flavor.pool)) if flavor.pool is not None else ("kueue",)
        objects.append((_resource_flavor(environment, environment_name, flavor), at))
    objects.append((_cluster_queue(environment, environment_name, flavors), ("kueue",)))
    for index, priority in enumerate(environment.priorities.classes):
        meta = object_meta(environment, environment_name, name=priority.name, app=priority.name, component="queueing")
        obj: dict[str, Any] = {"apiVersion": KUEUE_API, "kind": "WorkloadPriorityClass", "metadata": meta.render(None)}
        obj["value"] = priority.value
        if priority.description:
            obj["description"] = priority.description
        objects.append((obj, ("priorities", "classes", index)))
    for index, pool in enumerate(pools):
        if pool.kueue_topology:
            meta = object_meta(environment, environment_name, name=pool.name, app=pool.name, component="queueing")
            spec = {"levels": [{"nodeLabel": label} for label in pool.kueue_topology]}
            objects.append(
                (
                    {"apiVersion": KUEUE_API, "kind": "Topology", "metadata": meta.render(None), "spec": spec},
                    ("cluster", "nodePools", index, "topologyLevels"),
                )
            )
    return objects


def render_local_queues(environment: Environment, environment_name: str) -> list[dict[str, Any]]:
    """A LocalQueue in the environment's namespace for each queue it renders, feeding its ClusterQueue."""
    cluster_queue = cluster_queue_name(environment)
    objects = []
    for queue in rendered_queues(environment):
        meta = object_meta(environment, environment_name, name=queue, app=queue, component="queueing")
        objects.append(
            {
                "apiVersion": KUEUE_API,
                "kind": "LocalQueue",
                "metadata": meta.render(environment.namespace),
                "spec": {"clusterQueue": cluster_queue},
            }
        )
    return objects
