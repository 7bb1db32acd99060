"""Whether the pods a workload needs at once fit in their node pool at its largest (``maxNodes`` nodes).

A TrainJob of 4 nodes x 8 GPUs on a pool capped at 2 nodes of 8 GPUs never starts: each pod fits a
node, so the per-node fit check passes, but the pool cannot grow to hold them all. Kueue would never
admit it either (the pool's flavor quota is the same maxNodes x allocatable). Pools without maxNodes
are unbounded here.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from mlgitops.kube.fit import pool_shortfall
from mlgitops.kube.quantity import format_bytes, format_cpu, parse_quantity
from mlgitops.spec.cluster import NodePool
from mlgitops.spec.container import Resources
from mlgitops.spec.placement import pool_facts

FieldPath = tuple[str | int, ...]
Problem = tuple[FieldPath, str]


@dataclass(frozen=True)
class PodSet:
    """``pods`` pods with ``resources`` each, pinned to ``pool``; ``path`` is the field that sets their count."""

    path: FieldPath
    pods: int
    resources: Resources
    pool: NodePool | None
    gpu_resource: str | None


def _needs(pod_set: PodSet) -> dict[str, Decimal]:
    needs = {
        "cpu": parse_quantity(pod_set.resources.cpu) * pod_set.pods,
        "memory": parse_quantity(pod_set.resources.memory) * pod_set.pods,
    }
    if pod_set.resources.gpu is not None and pod_set.gpu_resource is not None:
        needs[pod_set.gpu_resource] = Decimal(pod_set.resources.gpu * pod_set.pods)
    return needs


def shown_amount(resource: str, amount: Decimal, *, unit: bool = True) -> str:
    """An amount of a resource in a spec check's message: '4 CPU', '32Gi memory', '8 GPUs (nvidia.com/gpu)'
    (without the unit: '4', '32Gi', '8')."""
    if resource == "cpu":
        return f"{format_cpu(amount)} CPU" if unit else format_cpu(amount)
    if resource == "memory":
        return f"{format_bytes(amount)} memory" if unit else format_bytes(amount)
    return f"{int(amount)} GPUs ({resource})" if unit else str(int(amount))


def capacity_problems(pod_sets: list[PodSet]) -> list[Problem]:
    """Pools asked for more than maxNodes x allocatable by one workload's pods together (one problem per pool)."""
    by_pool: dict[str, list[PodSet]] = {}
    for pod_set in pod_sets:
        if pod_set.pool is not None and pod_set.pool.max_nodes is not None and pod_set.pods > 0:
            by_pool.setdefault(pod_set.pool.name, []).append(pod_set)
    problems: list[Problem] = []
    for sets in by_pool.values():
        pool = sets[0].pool
        assert pool is not None
        needs: dict[str, Decimal] = {}
        for pod_set in sets:
            for resource, amount in _needs(pod_set).items():
                needs[resource] = needs.get(resource, Decimal(0)) + amount
        short = pool_shortfall(needs, [pool_facts(pool)])
        if short is not None:
            pods = sum(pod_set.pods for pod_set in sets)
            resource = short.resource
            problems.append(
                (
                    sets[0].path,
                    f"{pods} pods need {shown_amount(resource, short.requested)} at once, but node pool {pool.name!r} "
                    f"holds at most {shown_amount(resource, short.available)} (maxNodes {pool.max_nodes} x "
                    f"{shown_amount(resource, short.per_node)}); they would never all run",
                )
            )
    return problems
