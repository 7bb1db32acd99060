"""Where a workload's pods may run: its node pool, GPU resource, and the pools it must fit on."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mlgitops.kube.cluster import NodePoolFacts, PoolChoice, Taint, accelerator_taint_key, tolerates_all
from mlgitops.kube.quantity import parse_quantity
from mlgitops.spec.cluster import NodePool
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.derived import node_pools_by_name, per_environment, per_model
from mlgitops.spec.environment import Environment

DEFAULT_GPU_RESOURCE = "nvidia.com/gpu"
GPU_PRODUCT_LABEL = "nvidia.com/gpu.product"


class PlacementError(ValueError):
    """The workload cannot be placed; ``field`` names the spec field to point at."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


@dataclass(frozen=True)
class Placement:
    """The outcome of placing one workload.

    ``pool`` is the pool its pods are pinned to (nodeSelector + tolerations), or None when the
    pods may go to any untainted node. ``candidates`` are the pools its requests must fit on.
    """

    pool: NodePool | None
    gpu_resource: str | None
    """What the pods' accelerators are counted as: an extended resource, or the DeviceClass under DRA."""
    candidates: tuple[NodePool, ...]
    extra_gpu_taints: tuple[Taint, ...] = ()

    @property
    def device_class(self) -> str | None:
        """The DRA DeviceClass the accelerators are claimed from (None: an extended resource in limits)."""
        if self.pool is not None and self.pool.device_class is not None and self.gpu_resource == self.pool.device_class:
            return self.pool.device_class
        return None


# Pools whose facts are remembered: every pool of the largest fleets (placing and checking each workload asks for
# the facts of every pool it may use, N unpinned workloads over N open pools made them N squared times).
POOLS_REMEMBERED = 4096


def _pool_facts(pool: NodePool) -> NodePoolFacts:
    """The spec's node pool as the neutral facts that scheduling policies read (read-only: shared)."""
    allocatable = {
        "cpu": parse_quantity(pool.allocatable.cpu),
        "memory": parse_quantity(pool.allocatable.memory),
    }
    if pool.allocatable.gpus:
        allocatable[pool.accelerator] = Decimal(pool.allocatable.gpus)
    return NodePoolFacts(
        name=pool.name,
        labels=dict(pool.labels),
        taints=tuple(Taint(key=t.key, effect=t.effect, value=t.value) for t in pool.taints),
        allocatable=allocatable,
        device_classes=(pool.device_class,) if pool.device_class else (),
        max_nodes=pool.max_nodes,
    )


pool_facts = per_model(_pool_facts, POOLS_REMEMBERED)


def _pool_choice(candidates: tuple[NodePool, ...]) -> PoolChoice:
    return PoolChoice(pool_facts(pool) for pool in candidates)


pool_choice = per_model(_pool_choice, POOLS_REMEMBERED)
"""A placement's candidate pools as one ``PoolChoice``, made once per candidates tuple: every workload without a
nodePool shares its environment's open pools, whose facts the fit checks then find once, not once per workload."""


def _blocks_pods(pool: NodePool) -> bool:
    """Whether the pool's taints keep off a pod that tolerates none (the fact: kube/cluster.py, lint's too)."""
    return not tolerates_all([], pool_facts(pool).taints)


@per_environment
def _open_pools(environment: Environment) -> tuple[NodePool, ...]:
    """The pools a pod that tolerates no taint may use, in order."""
    return tuple(pool for pool in environment.cluster.node_pools if not _blocks_pods(pool))


@per_environment
def _gpu_pools(environment: Environment) -> dict[tuple[str | None, str | None], list[NodePool]]:
    """The pools with accelerators, in order, by (accelerator, GPU product label), by each alone (the other None) and
    under (None, None) all of them: what a GPU workload without a nodePool chooses from, looked up once per workload."""
    found: dict[tuple[str | None, str | None], list[NodePool]] = {}
    for pool in environment.cluster.node_pools:
        if pool.allocatable.gpus:
            product = pool.labels.get(GPU_PRODUCT_LABEL)
            for key in dict.fromkeys([(pool.accelerator, product), (pool.accelerator, None), (None, product), (None, None)]):
                found.setdefault(key, []).append(pool)
    return found


def place(environment: Environment, workload: WorkloadBase) -> Placement:
    """Choose the node pool of ``workload``; raises PlacementError when none can take it."""
    pools = environment.cluster.node_pools
    wants_gpu = workload.resources.gpu is not None
    if workload.node_pool is not None:
        pool = node_pools_by_name(environment).get(workload.node_pool)
        if pool is None:
            known = ", ".join(p.name for p in pools) or "none defined under cluster.nodePools"
            raise PlacementError("nodePool", f"node pool {workload.node_pool!r} does not exist (have: {known})")
        gpu_resource = (workload.resources.gpu_resource or pool.accelerator) if wants_gpu else None
        if wants_gpu and not pool.allocatable.gpus:
            raise PlacementError(
                "nodePool", f"workload asks for GPUs but node pool {pool.name!r} has none (allocatable.gpus is 0)"
            )
        if wants_gpu and gpu_resource != pool.accelerator:
            offers = f"DeviceClass {pool.device_class} (DRA)" if pool.device_class else pool.gpu_resource
            raise PlacementError("resources", f"asks for {gpu_resource} but node pool {pool.name!r} offers {offers}")
        product = workload.resources.gpu_product
        if product is not None and pool.labels.get(GPU_PRODUCT_LABEL, product) != product:
            raise PlacementError(
                "resources",
                f"asks for GPU product {product!r} but node pool {pool.name!r} has "
                f"{pool.labels[GPU_PRODUCT_LABEL]!r} ({GPU_PRODUCT_LABEL})",
            )
        return Placement(pool, gpu_resource, (pool,))
    if wants_gpu:
        wanted = workload.resources.gpu_resource
        if not pools:
            # No cluster profile: assume the common NVIDIA taint so the pod can still land.
            resource = wanted or DEFAULT_GPU_RESOURCE
            return Placement(None, resource, (), (Taint(key=accelerator_taint_key(resource) or resource, effect="NoSchedule"),))
        product = workload.resources.gpu_product
        matching = _gpu_pools(environment).get((wanted, product), [])
        if not matching:
            what = " ".join(x for x in (product, wanted) if x) or "GPUs"
            raise PlacementError("resources", f"no node pool offers {what}; add one under cluster.nodePools")
        if len(matching) > 1:
            names = ", ".join(p.name for p in matching)
            raise PlacementError("resources", f"several node pools offer GPUs ({names}): choose one with nodePool")
        return Placement(matching[0], wanted or matching[0].accelerator, (matching[0],))
    if pools:
        open_pools = _open_pools(environment)
        if not open_pools:
            raise PlacementError("nodePool", "every node pool is tainted, so these pods fit nowhere: choose one with nodePool")
        return Placement(None, None, open_pools)
    return Placement(None, None, ())
