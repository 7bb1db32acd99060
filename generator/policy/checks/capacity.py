"""Jobs whose pods, all at once, need more than their node pool holds at its largest (rule job-pool-capacity).

A TrainJob of numNodes x 8 GPUs on a pool that grows to at most maxNodes 8-GPU nodes never starts when
numNodes > maxNodes: each pod fits a node, so `schedulable` is satisfied, but a gang-scheduled job
(TrainJob, PyTorchJob, a Job's parallel pods, a Ray cluster's groups) needs them all together.
Needs the cluster profile's maxNodes (render passes it; policy examples give `maxNodes`).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from mlgitops.kube.cluster import PoolChoice, is_gpu_resource
from mlgitops.kube.fit import pool_shortfall
from mlgitops.kube.footprint import PodGroup, pod_groups
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.quantity import format_resource
from mlgitops.policy.checks import check
from mlgitops.policy.checks.pods import pod_spec_requests
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]


@check("job-pool-capacity")
def job_pool_capacity(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    if not any(pool.max_nodes is not None for pool in context.node_pools):
        return
    for manifest in manifests:
        # Pods of one job that may use the same pools share them: a PyTorchJob's Master and Workers, Ray groups.
        # Keyed by the pools themselves: ClusterPools gives one PoolChoice per set of pools.
        needs: dict[PoolChoice, tuple[PoolChoice, PodGroup, int, dict[str, Decimal]]] = {}
        for group in pod_groups([manifest.obj]):
            pools = context.pools.admitting(group.pod_spec)
            if group.pods == 0 or not pools:
                continue  # none can take the pods: schedulable says so
            _, first, pods, total = needs.get(pools, (pools, group, 0, {}))
            for resource, value in pod_spec_requests(group.pod_spec).items():
                if resource in ("cpu", "memory") or is_gpu_resource(resource):
                    total[resource] = total.get(resource, Decimal(0)) + value * group.pods
            needs[pools] = (pools, first, pods + group.pods, total)
        for pools, first, pods, total in needs.values():
            violation = _over(pods, total, pools, first)
            if violation is not None:
                yield manifest, violation


def _over(pods: int, total: dict[str, Decimal], pools: PoolChoice, first: PodGroup) -> Violation | None:
    if pods < 2:
        return None  # a single pod is the schedulable rule's
    short = pool_shortfall(total, pools)  # None too when a pool is unbounded: it can take them
    if short is None:
        return None
    resource, pool = short.resource, short.pool
    return Violation(
        f"{pods} pods need {format_resource(resource, short.requested)} {resource} at once, but pool {pool.name!r} holds "
        f"at most {format_resource(resource, short.available)} (maxNodes {pool.max_nodes} x "
        f"{format_resource(resource, short.per_node)}): the job never starts",
        first.count_path,
    )
