"""Kueue from the cluster profile: which queue a job goes to, which queues exist, what each flavor can hold at most,
and the topology a queued pod set asks for.

One ResourceFlavor per node pool; the most it can hold of each resource is the pool at ``maxNodes`` (``maxNodes`` x
one node's allocatable), unbounded for a pool of unknown size when the budget bounds the resource instead. Kueue's
nominal quotas are split from the budget within these bounds (render/budget_split.py).
Source: Kueue's ClusterQueue.spec.resourceGroups[].flavors[].resources[].nominalQuota.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mlgitops.kube.kueue_queues import TOPOLOGY_ANNOTATIONS
from mlgitops.kube.quantity import parse_quantity
from mlgitops.spec.cluster import HOSTNAME_LABEL, NodePool
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
    """One ResourceFlavor (named after its pool) and an amount per covered resource: cores, bytes, or devices.

    ``flavor_capacities`` gives the most a pool can hold (None: unbounded); the budget split
    (render/budget_split.py) gives Kueue's nominal quota.
    """

    name: str
    pool: NodePool | None
    quotas: dict[str, Decimal | None]


def queue_of(environment: Environment, workload: WorkloadBase) -> str | None:
    """The LocalQueue a job is submitted to, or None when its kind is not queued (``queued`` in its row of
    ``spec/kinds.py``: serving, batch, RayService; an LLM server only when it names its queue).

    Queued workloads are created suspended: Kueue unsuspends them once quota admits them.
    """
    if not kind_of(workload).queued:
        return None
    queue: str | None = getattr(workload, "queue", None)
    if queue is not None:
        return queue
    if environment.kueue is not None and kind_of(workload).default_queue:
        return environment.kueue.default_queue
    return None


def topology_level(environment: Environment, pool: NodePool) -> str | None:
    """The topology level queued pods on ``pool`` ask Kueue to pack into: kueue.topology.level, else the pool's
    narrowest level above the node (the node itself when it has no other); None for a pool without a topology."""
    levels = pool.kueue_topology
    if not levels:
        return None
    if environment.kueue is not None and environment.kueue.topology.level is not None:
        return environment.kueue.topology.level
    above_node = [level for level in levels if level != HOSTNAME_LABEL]
    return above_node[-1] if above_node else levels[-1]


def topology_annotations(environment: Environment, workload: WorkloadBase, pool: NodePool | None) -> dict[str, str]:
    """The pod template annotation that asks Kueue for topology-aware placement, for the pods of a workload queued in
    a queue rendered here on a pool with a Kueue topology (none otherwise).

    Kueue (v0.9+, kubernetes-sigs/kueue ``checkPodSetAndFlavorMatchForTAS``) gives a flavor with a topologyName only
    to pod sets whose pod template asks for a topology, unless every flavor of the queue has one: the queues
    mlgitops renders mix them (a flavor per pool), so the pods on a pool with a topology must ask.
    """
    queue = queue_of(environment, workload)
    if queue is None or pool is None or environment.kueue is None or queue not in rendered_queues(environment):
        return {}
    level = topology_level(environment, pool)
    if level is None:
        return {}
    mode = environment.kueue.topology.mode
    return {TOPOLOGY_ANNOTATIONS[mode]: "true" if mode == "unconstrained" else level}


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


def accelerator_resources(environment: Environment) -> list[str]:
    """Every accelerator the environment's pools offer or its workloads name (extended resources and DRA DeviceClass
    names), sorted: the keys a budget's `gpus` is split over."""
    found = {pool.accelerator for pool in environment.cluster.node_pools if pool.allocatable.gpus}
    found |= {w.resources.gpu_resource for w in environment.workloads if w.resources.gpu_resource is not None}
    budget = environment.budget
    if not found and budget is not None and budget.gpus is not None:
        found.add(BUDGET_GPU_RESOURCE)
    return sorted(found)


def _budget_caps(environment: Environment) -> dict[str, Decimal | None]:
    budget = environment.budget
    return {
        "cpu": parse_quantity(budget.cpu) if budget is not None and budget.cpu is not None else None,
        "memory": parse_quantity(budget.memory) if budget is not None and budget.memory is not None else None,
        "gpus": Decimal(budget.gpus) if budget is not None and budget.gpus is not None else None,
    }


def flavor_capacities(environment: Environment) -> list[FlavorQuota]:
    """Each flavor's most of every covered resource, in node-pool order: the pool at maxNodes (0 of an accelerator it
    does not offer; None: unbounded, when the budget bounds it instead). Raises QuotaError where neither does."""
    caps = _budget_caps(environment)
    covered = covered_resources(environment)
    pools = environment.cluster.node_pools
    if not pools:
        for resource in covered:
            if caps["gpus" if resource == BUDGET_GPU_RESOURCE else resource] is None:
                raise QuotaError(
                    ("kueue",),
                    f"Kueue needs a quota of {resource}: declare cluster.nodePools (with maxNodes) or budget.{resource}, "
                    "or list the queues in kueue.existingQueues when the cluster's queues are made elsewhere",
                )
        return [FlavorQuota(DEFAULT_FLAVOR, None, dict.fromkeys(covered))]
    flavors = []
    for index, pool in enumerate(pools):
        offered: dict[str, tuple[str, Decimal]] = {
            "cpu": ("cpu", parse_quantity(pool.allocatable.cpu)),
            "memory": ("memory", parse_quantity(pool.allocatable.memory)),
        }
        if pool.allocatable.gpus:
            offered[pool.accelerator] = ("gpus", Decimal(pool.allocatable.gpus))
        most: dict[str, Decimal | None] = {}
        for resource in covered:
            if resource not in offered:
                most[resource] = Decimal(0)
                continue
            measure, per_node = offered[resource]
            if pool.max_nodes is None and caps[measure] is None:
                raise QuotaError(
                    ("cluster", "nodePools", index),
                    f"Kueue needs the size of node pool {pool.name!r} for its {resource} quota: set maxNodes (or the "
                    f"environment's budget.{measure}), or list the queues in kueue.existingQueues when the cluster's "
                    "queues are made elsewhere",
                )
            most[resource] = per_node * pool.max_nodes if pool.max_nodes is not None else None
        flavors.append(FlavorQuota(pool.name, pool, most))
    return flavors
