"""The environment's budget split between what serving keeps and Kueue's quotas, so the cluster enforces exactly it.

Kueue admits up to the *sum* of a ClusterQueue's ``nominalQuota`` over its flavors, and knows nothing of pods it does
not queue (its API: nominalQuota "should represent the resources in the cluster available for running jobs (after
discounting resources consumed by system components and pods not managed by kueue)", kubernetes-sigs/kueue v0.19.2
apis/kueue/v1beta2/clusterqueue_types.go). So mlgitops **reserves serving's maximum**: the pods Kueue does not queue
(servers at their autoscalers' maximum, CronJobs, extra manifests) are counted first (``kube/quota_usage.py``, as
rule env-budget counts them), and Kueue gets the rest of the budget:

1. each flavor can hold at most its pool at ``maxNodes``, minus what unqueued pods pinned to the pool may take;
2. each queued workload is placed by the admission model (``kube/kueue_admission.py``) on the flavors it would be
   admitted to, and each flavor gets at least the most one workload needs of it, so every queued workload fits alone;
3. what is left of the accelerators goes to the flavors in node-pool order, each up to what it can hold; then each
   accelerator flavor gets the CPU and memory of the nodes its accelerators fill, then the pools without accelerators
   get what is left of CPU and memory, then every pool, in node-pool order (whole cores and Gi, rounded down).

The sum over flavors never exceeds the budget minus the reservation, for CPU, memory and accelerators (all kinds
together: ``budget.gpus``). The ResourceQuota then gives each accelerator kind its share: what unqueued pods use of
it plus Kueue's quota of it, and what neither takes to the first accelerator of the node pools; its cpu and memory
are the budget's. (Queueing serving too, so Kueue accounts for it, is the LLM-serving issue's subject.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any

from mlgitops.kube.footprint import claim_templates
from mlgitops.kube.kueue_admission import FlavorResource, admit
from mlgitops.kube.kueue_queues import ClusterQueue, Queues, ResourceGroup, flavor, pod_sets, queue_name
from mlgitops.kube.quantity import parse_quantity
from mlgitops.kube.quota_usage import namespace_usage
from mlgitops.render.kueue_objects import flavor_spec
from mlgitops.spec.environment import Environment
from mlgitops.spec.queues import FlavorQuota, accelerator_resources, covered_resources, flavor_capacities, rendered_queues


@dataclass(frozen=True)
class BudgetSplit:
    """Kueue's nominal quota per flavor, the ResourceQuota's share of each accelerator, and the reservation."""

    flavors: list[FlavorQuota] = field(default_factory=list)
    """Kueue's nominal quota of every covered resource, per flavor in node-pool order (none without queues)."""
    accelerators: dict[str, Decimal] = field(default_factory=dict)
    """Each accelerator's share of budget.gpus (extended resource or DeviceClass name); empty without budget.gpus."""
    reserved: dict[str, Decimal] = field(default_factory=dict)
    """What the pods Kueue does not queue may request at most, per resource."""


EPHEMERAL_STORAGE = "ephemeral-storage"


def _measure(resource: str, accelerators: set[str]) -> str:
    return "gpus" if resource in accelerators else resource


def _budget(environment: Environment) -> dict[str, Decimal | None]:
    budget = environment.budget
    return {
        "cpu": parse_quantity(budget.cpu) if budget is not None and budget.cpu is not None else None,
        "memory": parse_quantity(budget.memory) if budget is not None and budget.memory is not None else None,
        "gpus": Decimal(budget.gpus) if budget is not None and budget.gpus is not None else None,
    }


def split_budget(environment: Environment, objects: Iterable[dict[str, Any]]) -> BudgetSplit:
    """The budget split over Kueue's flavors and the accelerator kinds, given the environment's namespaced ``objects``
    (workloads as rendered, patches applied, and extra manifests). Raises QuotaError (spec/queues.py) where a flavor's
    quota cannot be bounded."""
    listed = list(objects)
    accelerators = set(accelerator_resources(environment))
    usage = namespace_usage(listed, environment.namespace, Queues())
    reserved = usage.unqueued
    budget = _budget(environment)
    left: dict[str, Decimal | None] = {}
    for measure in ("cpu", "memory", "gpus"):
        total = budget[measure]
        used = sum((v for r, v in reserved.items() if _measure(r, accelerators) == measure), Decimal(0))
        left[measure] = None if total is None else max(total - used, Decimal(0))
    flavors = _kueue_quotas(environment, listed, usage.unqueued_pods, left, accelerators) if rendered_queues(environment) else []
    shares: dict[str, Decimal] = {}
    if budget["gpus"] is not None:
        remaining = budget["gpus"]
        for resource in sorted(accelerators):
            shares[resource] = min(reserved.get(resource, Decimal(0)), remaining)
            remaining -= shares[resource]
        for quota in flavors:
            for resource, amount in quota.quotas.items():
                if resource in accelerators and amount:
                    shares[resource] += amount
                    remaining -= amount
        first = next((pool.accelerator for pool in environment.cluster.node_pools if pool.allocatable.gpus), None)
        first = first or (sorted(accelerators)[0] if accelerators else None)
        if first is not None and remaining > 0:
            shares[first] = shares.get(first, Decimal(0)) + remaining
    return BudgetSplit(flavors, shares, reserved)


def _kueue_quotas(
    environment: Environment,
    objects: list[dict[str, Any]],
    unqueued_pods: list[tuple[dict[str, Any], int, dict[str, Decimal]]],
    left: dict[str, Decimal | None],
    accelerators: set[str],
) -> list[FlavorQuota]:
    capacities = flavor_capacities(environment)
    covered = covered_resources(environment)
    # Kueue refuses a workload that requests a resource its queue does not cover (QuotaCheckStrategy BlockUndeclared):
    # node-local disk asked by queued pods is covered, with room for all of them, since no budget limits it.
    templates = claim_templates(objects)
    rendered = set(rendered_queues(environment))
    queued = [obj for obj in objects if queue_name(obj) in rendered]
    if any(p.requests.get(EPHEMERAL_STORAGE) for obj in queued for p in pod_sets(obj, templates)):
        covered = [*covered, EPHEMERAL_STORAGE]
        capacities = [FlavorQuota(c.name, c.pool, {**c.quotas, EPHEMERAL_STORAGE: None}) for c in capacities]
    # What each flavor can hold: its pool at maxNodes, minus the unqueued pods pinned to the pool (nodeSelector).
    room: dict[FlavorResource, Decimal | None] = {}
    for capacity in capacities:
        labels = capacity.pool.labels if capacity.pool is not None else {}
        pinned = [
            (pods, requests)
            for pod, pods, requests in unqueued_pods
            if labels and all((pod.get("nodeSelector") or {}).get(k) == v for k, v in labels.items())
        ]
        for resource in covered:
            most = capacity.quotas[resource]
            taken = sum((requests.get(resource, Decimal(0)) * pods for pods, requests in pinned), Decimal(0))
            room[(capacity.name, resource)] = None if most is None else max(most - taken, Decimal(0))
    needs, summed = _needs(environment, queued, templates, capacities, covered, room)
    amounts: dict[FlavorResource, Decimal] = {
        (c.name, EPHEMERAL_STORAGE): summed.get((c.name, EPHEMERAL_STORAGE), Decimal(0))
        for c in capacities
        if EPHEMERAL_STORAGE in covered
    }
    # Accelerators first: a flavor's share of them says which nodes its CPU and memory are on.
    for measure in ("gpus", "cpu", "memory"):
        keys = [
            (c.name, r) for c in capacities for r in covered if _measure(r, accelerators) == measure and r != EPHEMERAL_STORAGE
        ]
        budget = left[measure]
        if budget is None:
            # No budget for it: every flavor gets its pool (flavor_capacities made sure the pool is bounded).
            amounts.update({key: room[key] or Decimal(0) for key in keys})
            continue
        for key in keys:  # first what the largest queued workload needs of each flavor (whole cores and Gi)
            grain = _GRAIN.get(key[1], Decimal(1))
            need = (needs.get(key, Decimal(0)) / grain).to_integral_value(rounding=ROUND_CEILING) * grain
            amounts[key] = min(need, _finite(room[key], budget), budget)
            budget -= amounts[key]
        if measure != "gpus":
            # An accelerator flavor's quota comes with the CPU and memory of the nodes it fills.
            shaped = {key: _node_share(key, capacities, room, amounts, accelerators) for key in keys}
            budget = _give(keys, shaped, amounts, budget)
            # Then the pools without accelerators, then every pool, in node-pool order.
            plain = {c.name for c in capacities if not any(c.quotas.get(r) for r in accelerators)}
            budget = _give([key for key in keys if key[0] in plain], room, amounts, budget)
        _give(keys, room, amounts, budget)
    return [FlavorQuota(c.name, c.pool, {r: amounts[(c.name, r)] for r in covered}) for c in capacities]


def _node_share(
    key: FlavorResource,
    capacities: list[FlavorQuota],
    room: dict[FlavorResource, Decimal | None],
    amounts: dict[FlavorResource, Decimal],
    accelerators: set[str],
) -> Decimal | None:
    """The CPU or memory of the nodes a flavor's accelerator quota fills (0 for a flavor without accelerators)."""
    flavor, _ = key
    [capacity] = [c for c in capacities if c.name == flavor]
    offered = [r for r in accelerators if capacity.quotas.get(r)]
    if not offered:
        return Decimal(0)
    devices, most = amounts.get((flavor, offered[0]), Decimal(0)), room.get((flavor, offered[0]))
    whole = room[key]
    if most is None or whole is None or not most:
        return whole if devices else Decimal(0)
    return whole * devices / most


def _give(
    keys: list[FlavorResource],
    most: dict[FlavorResource, Decimal | None],
    amounts: dict[FlavorResource, Decimal],
    budget: Decimal | None,
) -> Decimal | None:
    """Raise each amount towards ``most`` (None: no bound) in order while the budget lasts; what is left of it.

    Amounts are raised in whole cores and whole Gi (rounded down, so the sum stays inside the budget).
    """
    if budget is None:
        return None
    for key in keys:
        more = min(_finite(most.get(key), budget) - amounts[key], budget)
        if more <= 0:
            continue
        grain = _GRAIN.get(key[1], Decimal(1))
        rounded = max(amounts[key], ((amounts[key] + more) // grain) * grain)
        budget -= rounded - amounts[key]
        amounts[key] = rounded
    return budget


_GRAIN = {"cpu": Decimal(1), "memory": Decimal(1024**3)}


def _finite(amount: Decimal | None, otherwise: Decimal) -> Decimal:
    return otherwise if amount is None else amount


def _needs(
    environment: Environment,
    queued: list[dict[str, Any]],
    templates: dict[str, dict[str, int]],
    capacities: list[FlavorQuota],
    covered: list[str],
    room: dict[FlavorResource, Decimal | None],
) -> tuple[dict[FlavorResource, Decimal], dict[FlavorResource, Decimal]]:
    """The most one queued workload needs of each (flavor, resource), and what all of them need together, where the
    admission model places them when the flavors hold what their pools can."""
    group = ResourceGroup(tuple(covered), tuple((c.name, {}) for c in capacities))
    queue = ClusterQueue(environment.namespace, (group,))
    queues = Queues(
        flavors={c.name: flavor(c.name, flavor_spec(environment, c.pool)) for c in capacities},
        topologies={c.pool.name: tuple(c.pool.kueue_topology) for c in capacities if c.pool is not None},
    )
    needs: dict[FlavorResource, Decimal] = {}
    summed: dict[FlavorResource, Decimal] = {}
    for obj in queued:
        admission = admit(pod_sets(obj, templates), queue, queues, available=room)
        if admission.admitted:
            for key, amount in admission.usage.items():
                needs[key] = max(needs.get(key, Decimal(0)), amount)
                summed[key] = summed.get(key, Decimal(0)) + amount
    return needs, summed
