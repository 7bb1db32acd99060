"""Checks of Kueue queueing: every queue a job names exists, and the queues can be derived from the cluster profile.

A job that names a LocalQueue nobody created waits forever without an error anywhere: Kueue only
marks its Workload inadmissible. ResourceFlavor limits (8 node labels, 8 taints; a topology needs a
node label) follow Kueue's CRD validation (kueue.x-k8s.io/v1beta2).
"""

from __future__ import annotations

from mlgitops.spec.environment import Environment
from mlgitops.spec.queues import (
    MAX_FLAVOR_LABELS,
    MAX_FLAVOR_TAINTS,
    QuotaError,
    flavor_capacities,
    known_queues,
    queue_of,
    rendered_queues,
)

FieldPath = tuple[str | int, ...]
Problem = tuple[FieldPath, str]


def check_queues(environment: Environment) -> list[Problem]:
    """Queue references of every workload, and the derivation of Kueue objects, as (field path, message)."""
    problems: list[Problem] = []
    known = known_queues(environment)
    for index, workload in enumerate(environment.workloads):
        queue = queue_of(environment, workload)
        if queue is None or queue in known:
            continue
        where = ("workloads", index, "queue") if getattr(workload, "queue", None) is not None else ("kueue", "defaultQueue")
        problems.append(
            (
                where,
                f"queue {queue!r} is neither rendered (kueue.defaultQueue, kueue.localQueues) nor declared in "
                "kueue.existingQueues: the job would wait forever",
            )
        )
    if not rendered_queues(environment):
        return problems
    try:
        flavor_capacities(environment)
    except QuotaError as error:
        problems.append((error.path, error.message))
    for index, pool in enumerate(environment.cluster.node_pools):
        at = ("cluster", "nodePools", index)
        if len(pool.labels) > MAX_FLAVOR_LABELS:
            problems.append(
                (
                    (*at, "labels"),
                    f"a Kueue ResourceFlavor takes at most {MAX_FLAVOR_LABELS} node labels; pool "
                    f"{pool.name!r} has {len(pool.labels)}",
                )
            )
        if len(pool.taints) > MAX_FLAVOR_TAINTS:
            problems.append(
                (
                    (*at, "taints"),
                    f"a Kueue ResourceFlavor takes at most {MAX_FLAVOR_TAINTS} taints; pool {pool.name!r} has {len(pool.taints)}",
                )
            )
        if pool.kueue_topology and not pool.labels:
            problems.append(
                (
                    (*at, "topologyLevels"),
                    f"a topology needs the pool's node labels to find its nodes: give pool {pool.name!r} labels",
                )
            )
        repeated = sorted({level for level in pool.topology_levels if pool.topology_levels.count(level) > 1})
        if repeated:
            problems.append(((*at, "topologyLevels"), f"topology level {repeated[0]!r} is listed twice"))
    return problems
