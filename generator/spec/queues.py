"""Kueue from the cluster profile: which queue a job goes to, which queues exist, and the quota of each flavor.

One ResourceFlavor per node pool; its nominal quota of each resource is what the pool can hold at most
(``maxNodes`` x one node's allocatable), capped by the environment's budget, or the budget alone for a
pool of unknown size. Source: Kueue's ClusterQueue.spec.resourceGroups[].flavors[].resources[].nominalQuota.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mlgitops.kube.quantity import parse_quantity
from mlgitops.spec.cluster import NodePool
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.kinds import kind_of

DEFAULT_FLAVOR = "default-flavor"
"""The single flavor of an environment without node pools (quota from the budget alone)."""
BUDGET_GPU_RESOURCE = "nvidia.com/gpu"
"""The resource a budget's `gpus` stands for when no node pool names one."""
# Kueue limits (ResourceFlavor.spec.nodeLabels / nodeTaints: at most 8 each).
MAX_FLAVOR_LABELS = 8
MAX_FLAVOR_TAINTS = 8


class QuotaError(ValueError):
    """A quota cannot be derived; ``path`` is the spec field to point at."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class FlavorQuota:
    """One ResourceFlavor (named after its pool) and its nominal quota: cores, bytes, or devices per resource."""

    name: str
    pool: NodePool | None
    quotas: dict[str, Decimal]


def queue_of(environment: Environment, workload: WorkloadBase) -> str | None:
    """The LocalQueue a job is submitted to, or None when its kind is not queued (``queued`` in its row of
    ``spec/kinds.py``: serving, batch, RayService).

    Queued workloads are created suspended: Kueue unsuspends them once quota admits them.
    """
    if not kind_of(workload).queued:
        return None
    queue: str | None = getattr(workload, "queue", None)
    if queue is not None:
        return queue
    if environment.kueue is not None:
        return environment.kueue.default_queue
    return None


def rendered_queues(environment: Environment) -> list[str]:
    """LocalQueues (and so a ClusterQueue and flavors) the environment renders; none without `kueue`."""
    return environment.kueue.rendered_queues() if environment.kueue is not None else []


def known_queues(environment: Environment) -> set[str]:
    """Queues a job may name: rendered here or declared as existing."""
    existing = set(environment.kueue.existing_queues) if environment.kueue is not None else set()
    return set(rendered_queues(environment)) | existing


def cluster_queue_name(environment: Environment) -> str:
    kueue = environment.kueue
    name = kueue.cluster_queue.name if kueue is not None else None
    return name or environment.namespace


def covered_resources(environment: Environment) -> list[str]:
    """Resources the ClusterQueue covers: cpu, memory, and every accelerator a pool offers (sorted): its extended
    resource, or under DRA its DeviceClass name (the name Kueue's deviceClassMappings must give the class, so that
    claimed devices count against this quota)."""
    pools = environment.cluster.node_pools
    gpus = sorted({pool.accelerator for pool in pools if pool.allocatable.gpus})
    if not pools and environment.budget is not None and environment.budget.gpus is not None:
        gpus = [BUDGET_GPU_RESOURCE]
    return ["cpu", "memory", *gpus]


def flavor_quotas(environment: Environment) -> list[FlavorQuota]:
    """Each flavor's quota of every covered resource, in node-pool order; raises QuotaError."""
    budget = environment.budget
    caps: dict[str, Decimal | None] = {
        "cpu": parse_quantity(budget.cpu) if budget is not None and budget.cpu is not None else None,
        "memory": parse_quantity(budget.memory) if budget is not None and budget.memory is not None else None,
        "gpus": Decimal(budget.gpus) if budget is not None and budget.gpus is not None else None,
    }
    covered = covered_resources(environment)
    pools = environment.cluster.node_pools
    if not pools:
        quotas = {}
        for resource in covered:
            cap = caps["gpus" if resource == BUDGET_GPU_RESOURCE else resource]
            if cap is None:
                raise QuotaError(
                    ("kueue",),
                    f"Kueue needs a quota of {resource}: declare cluster.nodePools (with maxNodes) or budget.{resource}, "
                    "or list the queues in kueue.existingQueues when the cluster's queues are made elsewhere",
                )
            quotas[resource] = cap
        return [FlavorQuota(DEFAULT_FLAVOR, None, quotas)]
    flavors = []
    for index, pool in enumerate(pools):
        offered: dict[str, tuple[str, Decimal]] = {
            "cpu": ("cpu", parse_quantity(pool.allocatable.cpu)),
            "memory": ("memory", parse_quantity(pool.allocatable.memory)),
        }
        if pool.allocatable.gpus:
            offered[pool.accelerator] = ("gpus", Decimal(pool.allocatable.gpus))
        quotas = {}
        for resource in covered:
            if resource not in offered:
                quotas[resource] = Decimal(0)
                continue
            measure, per_node = offered[resource]
            cap = caps[measure]
            size = per_node * pool.max_nodes if pool.max_nodes is not None else None
            if size is None and cap is None:
                raise QuotaError(
                    ("cluster", "nodePools", index),
                    f"Kueue needs the size of node pool {pool.name!r} for its {resource} quota: set maxNodes (or the "
                    f"environment's budget.{measure}), or list the queues in kueue.existingQueues when the cluster's "
                    "queues are made elsewhere",
                )
            quotas[resource] = min(amount for amount in (size, cap) if amount is not None)
        flavors.append(FlavorQuota(pool.name, pool, quotas))
    return flavors
