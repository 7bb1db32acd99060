"""Whether pods fit: one pod on one node of a pool, and a job's pods together in a pool grown to ``maxNodes``.

Each fact has this one implementation. Render asks it through the spec checks (``spec/checks.py``: a pod's
requests on the pools it may use; ``spec/capacity.py``: a workload's pods on their pool at its largest) and
lint through the policy checks (``schedulable`` in ``policy/checks/gpu.py``, ``job-pool-capacity`` in
``policy/checks/capacity.py``); each side words its own message from the answer. Requests are
``{resource: amount}`` (cpu in cores, memory in bytes, accelerators in devices, a DRA DeviceClass by its
name), pools are ``NodePoolFacts`` (``kube/cluster.py``). Source: the scheduler's NodeResourcesFit filter
(a pod fits a node when every request is at most the node's allocatable).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from mlgitops.kube.cluster import NodePoolFacts, PoolChoice

Requests = Mapping[str, Decimal]
"""Amounts by resource name: cores of ``cpu``, bytes of ``memory``, devices of an accelerator or DeviceClass."""


@dataclass(frozen=True)
class Shortfall:
    """A resource asked for beyond what ``pool`` offers: ``requested`` of it against ``available``.

    ``per_node`` is what one node of the pool allocates (``available`` itself for one node; times
    ``maxNodes`` for a pool at its largest).
    """

    resource: str
    requested: Decimal
    pool: NodePoolFacts
    available: Decimal
    per_node: Decimal


@dataclass(frozen=True)
class NodeFit:
    """Whether a pod's requests fit one node of some pool (``fits``), and if not, why.

    ``shortfalls`` are the resources that even the node with the most of them cannot allocate, in the order
    of the requests; none while ``fits`` is False means every resource fits some node, but no node has them
    all at once.
    """

    fits: bool
    shortfalls: tuple[Shortfall, ...]


def node_fit(requests: Requests, pools: Sequence[NodePoolFacts]) -> NodeFit:
    """Whether one node of one of ``pools`` (at least one) can allocate every request at once.

    Each shortfall names the pool with the most of the resource per node (the first of equals). Give the same
    ``PoolChoice`` for pods that may use the same pools (``ClusterPools.admitting`` does): each pool with the most of a
    resource is then found once. A pod with no shortfall is judged first against those pools, one per resource it
    asks for (a pod asking for much of one resource fits there if anywhere, wherever the pool stands in the list),
    then against the pools in order up to the first that fits.
    """
    choice = pools if isinstance(pools, PoolChoice) else PoolChoice(pools)
    shortfalls = []
    for resource, amount in requests.items():
        largest = choice.largest(resource)
        available = largest.on_node(resource)
        if amount > available:
            shortfalls.append(Shortfall(resource, amount, largest, available, available))

    def holds(pool: NodePoolFacts) -> bool:
        return all(amount <= pool.on_node(resource) for resource, amount in requests.items())

    # A shortfall is a resource no node has enough of: then no node has them all.
    fits = not shortfalls and (any(holds(choice.largest(resource)) for resource in requests) or any(map(holds, choice)))
    return NodeFit(fits, tuple(shortfalls))


def pool_shortfall(needs: Requests, pools: Sequence[NodePoolFacts]) -> Shortfall | None:
    """The first resource that pods needing ``needs`` together overflow ``pools`` (at least one) with, at maxNodes.

    A pool holds at most ``maxNodes`` x one node's allocatable; the pool that holds the most of a resource
    is the one judged. Accelerators are judged first, then cpu and memory (each by name). None when every
    need fits, or when one of the pools is unbounded (no ``maxNodes``): it can grow to take them. Like
    ``node_fit``, it finds each answer about the pools once per ``PoolChoice``.
    """
    choice = pools if isinstance(pools, PoolChoice) else PoolChoice(pools)
    if choice.unbounded:
        return None
    for resource, need in sorted(needs.items(), key=lambda item: (item[0] in ("cpu", "memory"), item[0])):
        largest = choice.largest_at_most(resource)
        per_node = largest.on_node(resource)
        capacity = per_node * (largest.max_nodes or 0)
        if need > capacity:
            return Shortfall(resource, need, largest, capacity, per_node)
    return None
