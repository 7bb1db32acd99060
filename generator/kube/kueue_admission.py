"""A small model of Kueue's admission: may a queued workload ever be admitted, and how much may a queue admit at once?

One implementation, called by render (the quotas it derives from the budget, and its self-check through
rule kueue-quota) and by lint (rules kueue-quota and kueue-budget) on anyone's manifests. It works on the
objects of ``kube/kueue_queues.py`` and follows kubernetes-sigs/kueue v0.19.2 (same logic at main ``ff69552e``):

- **Flavors, in list order, one per PodSet per resource group** (``findFlavorForPodSets``,
  pkg/scheduler/flavorassigner/flavorassigner.go): every resource of a group comes from the same flavor, the
  first that matches and fits. A requested resource no group covers makes the workload inadmissible
  ("resource %s unavailable in ClusterQueue", the default QuotaCheckStrategy BlockUndeclared).
- **A flavor matches a PodSet** (``checkFlavorForPodSets``) when its NoSchedule/NoExecute ``nodeTaints`` are
  tolerated by the pod's tolerations or the flavor's own, and the pod's nodeSelector and required node affinity,
  restricted to the flavor's own label keys (``flavorSelector``), match its ``nodeLabels`` (which Kueue then
  injects into the pods, ``podset.FromAssignment`` in pkg/podset/podset.go).
- **Topology-aware scheduling** (``checkPodSetAndFlavorMatchForTAS``, tas_flavorassigner.go): a PodSet without a
  topology annotation is refused every flavor with ``topologyName`` ("supports only TopologyAwareScheduling")
  unless the queue is TAS-only (every flavor has a topology: TAS is then implied, ``isTASImplied``); a PodSet
  with one is refused flavors without a topology ("does not support TopologyAwareScheduling") unless it asks
  nothing that group covers, and a TAS flavor whose Topology lacks the requested level. A TAS PodSet must end
  with exactly one TAS flavor (``onlyTASFlavor``).
- **Quota** (``ClusterQueueSnapshot.Fits``, pkg/cache/scheduler): a (flavor, resource) admits up to its
  ``nominalQuota`` plus what it may borrow in its cohort: ``borrowingLimit`` when set, else all the cohort's
  unused quota (``available`` in resource_node.go); other members lend all but their ``lendingLimit`` reserve.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, Inexact, Rounded, localcontext
from typing import Any

from mlgitops.kube.cluster import Taint, requirement_matches, toleration_matches
from mlgitops.kube.kueue_queues import ClusterQueue, Flavor, PodSet, Queues
from mlgitops.kube.quantity import format_resource

FlavorResource = tuple[str, str]
"""(flavor name, resource name): the unit Kueue counts usage in."""


@dataclass(frozen=True)
class Refusal:
    """Why a workload can never be admitted: the PodSet (None: the workload as a whole) and Kueue's reason."""

    pod_set: PodSet | None
    reason: str


@dataclass
class Admission:
    """The flavor each PodSet was given per resource group, and the usage that adds per (flavor, resource)."""

    flavors: list[dict[int, str]] = field(default_factory=list)
    usage: dict[FlavorResource, Decimal] = field(default_factory=dict)
    refusal: Refusal | None = None

    @property
    def admitted(self) -> bool:
        return self.refusal is None


def is_tas_only(queue: ClusterQueue, flavors: Mapping[str, Flavor | None]) -> bool:
    """Every flavor of every resource group has a topology (``clusterQueue.isTASOnly``): TAS is implied."""
    names = [name for group in queue.groups for name, _ in group.flavors]
    return bool(names) and all((found := flavors.get(name)) is not None and found.topology for name in names)


def capacity(queue: ClusterQueue, queues: Queues) -> dict[FlavorResource, Decimal | None]:
    """The most the queue can use of each (flavor, resource) with nothing else admitted: its nominal quota plus what
    it may borrow (None: unbounded, a cohort without borrowingLimit whose lenders are not all known). Worked out once
    per queue of ``queues``, not once per workload queued to it (read-only)."""
    known = queues.derived.get(("capacity", queue.name))
    if known is not None and known[0] is queue:
        found: dict[FlavorResource, Decimal | None] = known[1]
        return found
    found = _capacity(queue, queues)
    queues.derived[("capacity", queue.name)] = (queue, found)
    return found


def _capacity(queue: ClusterQueue, queues: Queues) -> dict[FlavorResource, Decimal | None]:
    if queue.cohort is None:
        return {(flavor_name, resource): quota.nominal for flavor_name, resource, quota in queue.quotas()}
    cohort = queues.cohort(queue.cohort)
    # The queue is a member of its cohort when the one of its name known here is this queue (names are unique here).
    known = queues.cluster_queues.get(queue.name)
    itself = known if known is not None and known == queue else None
    members = len(cohort) - (itself is not None)
    lending = _cohort_lending(queue.cohort, queues)
    found: dict[FlavorResource, Decimal | None] = {}
    for flavor_name, resource, quota in queue.quotas():
        lent = lending[(flavor_name, resource)].lent_by_others(itself) if (flavor_name, resource) in lending else None
        if lent is None:  # sums that round (past Decimal's 28 digits): added up over the others, in their order
            lent = _lent_by_folding(flavor_name, resource, [member for member in cohort if member != queue])
        if quota.borrowing_limit is None:
            found[(flavor_name, resource)] = quota.nominal + lent if members else None
        else:
            borrowed = min(quota.borrowing_limit, lent) if members else quota.borrowing_limit
            found[(flavor_name, resource)] = quota.nominal + borrowed
    return found


def _lent_by_folding(flavor_name: str, resource: str, others: list[ClusterQueue]) -> Decimal:
    """What ``others`` lend of (flavor, resource), summed from 0 in their order: the definition ``Lending`` follows."""
    lent = Decimal(0)
    for member in others:
        for other_flavor, other_resource, other in member.quotas():
            if (other_flavor, other_resource) == (flavor_name, resource):
                lent += other.lending_limit if other.lending_limit is not None else other.nominal
    return lent


@dataclass
class Lending:
    """What a cohort's queues lend of one (flavor, resource), summed once per cohort, so that what the others lend
    each queue costs no sum over the cohort (a cohort of 4,000 queues took 66 s). Exactly ``_lent_by_folding`` over
    the others: when no sum rounds and no amount is negative, the others' sum is the total less the queue's own, and
    Decimal writes it at the least exponent of its terms (and 0's)."""

    total: Decimal = Decimal(0)
    exact: bool = True
    own: dict[int, Decimal] = field(default_factory=dict)
    """Each member's own lending (by identity)."""
    exponents: list[tuple[int, int]] = field(default_factory=list)
    """(least exponent of a member's amounts, the member's identity), least first."""

    def lent_by_others(self, itself: ClusterQueue | None) -> Decimal | None:
        """What the members other than ``itself`` lend (None: not exact here; fold them)."""
        if not self.exact:
            return None
        excluded = id(itself) if itself is not None else None
        exponent = next((least for least, member in self.exponents if member != excluded), None)
        if exponent is None:
            return Decimal(0)
        value = self.total - self.own[excluded] if excluded in self.own else self.total
        return value.quantize(Decimal(1).scaleb(min(0, exponent)))


def _cohort_lending(cohort: str, queues: Queues) -> dict[FlavorResource, Lending]:
    """Each (flavor, resource) the queues of ``cohort`` lend, summed once per cohort (read-only)."""
    known: dict[FlavorResource, Lending] | None = queues.derived.get(("lending", cohort))
    if known is not None:
        return known
    known = queues.derived[("lending", cohort)] = {}
    least: dict[FlavorResource, dict[int, int]] = {}
    with localcontext() as context:
        for member in queues.cohort(cohort):
            for flavor_name, resource, quota in member.quotas():
                amount = quota.lending_limit if quota.lending_limit is not None else quota.nominal
                lending = known.setdefault((flavor_name, resource), Lending())
                context.clear_flags()
                lending.total += amount
                lending.own[id(member)] = lending.own.get(id(member), Decimal(0)) + amount
                rounded = context.flags[Inexact] or context.flags[Rounded]
                if rounded or not amount.is_finite() or amount.is_signed():
                    lending.exact = False
                    continue
                exponents = least.setdefault((flavor_name, resource), {})
                exponent = int(amount.as_tuple().exponent)
                exponents[id(member)] = min(exponents.get(id(member), exponent), exponent)
    for key, lending in known.items():
        lending.exponents = sorted((exponent, member) for member, exponent in least.get(key, {}).items())
    return known


def totals(queue: ClusterQueue, queues: Queues) -> dict[str, Decimal | None]:
    """The most the queue admits at once of each resource: its capacity summed over flavors (None: unbounded)."""
    summed: dict[str, Decimal | None] = {}
    for (_, resource), amount in capacity(queue, queues).items():
        before = summed.get(resource, Decimal(0))
        summed[resource] = None if amount is None or before is None else before + amount
    return summed


def matches(pod_set: PodSet, flavor: Flavor) -> str | None:
    """Why the flavor's nodes cannot take the PodSet's pods (None: they can): its taints and node labels."""
    tolerations = [*pod_set.tolerations, *flavor.tolerations]
    for taint in flavor.node_taints:
        effect = str(taint.get("effect", ""))
        if effect not in ("NoSchedule", "NoExecute"):
            continue
        value = taint.get("value")
        found = Taint(str(taint.get("key")), effect, str(value) if value is not None else None)
        if not any(toleration_matches(t, found) for t in tolerations):
            return f"untolerated taint {found.key}"
    keys = set(flavor.node_labels)
    for key, value in pod_set.node_selector.items():
        if key in keys and flavor.node_labels[key] != value:
            return f"the pods' nodeSelector {key}={value} does not match its {key}={flavor.node_labels[key]}"
    if pod_set.affinity_terms is not None and not _affinity_matches(pod_set.affinity_terms, flavor.node_labels):
        return "the pods' required node affinity does not match its node labels"
    return None


def _affinity_matches(terms: tuple[tuple[Mapping[str, Any], ...], ...], labels: Mapping[str, str]) -> bool:
    kept = []
    for term in terms:
        expressions = [e for e in term if e.get("key") in labels]
        if not expressions:
            return True  # a term with no key of the flavor matches any flavor (terms are ORed)
        kept.append(expressions)
    return not kept or any(all(_expression(e, labels) for e in term) for term in kept)


def _expression(expression: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    values = expression.get("values")
    listed = [str(v) for v in values] if isinstance(values, list) else []
    return requirement_matches(str(expression.get("key")), str(expression.get("operator")), listed, labels)


def tas_refusal(pod_set: PodSet, flavor: Flavor, covered: Iterable[str], tas_only: bool, queues: Queues) -> str | None:
    """Why topology-aware scheduling refuses the flavor to the PodSet (None: it does not)."""
    if pod_set.topology is None:
        if flavor.topology is not None and not tas_only:
            return (
                "it supports only topology-aware scheduling and the pod template asks for no topology "
                "(kueue.x-k8s.io/podset-required-topology, -preferred- or -unconstrained-), in a queue that mixes TAS "
                "and other flavors"
            )
        return None
    if flavor.topology is None:
        if any(pod_set.requests.get(resource) for resource in covered):
            return "it does not support topology-aware scheduling, which the pod template asks for"
        return None
    levels = queues.topologies.get(flavor.topology)
    level = pod_set.topology.level
    if level is not None and levels is not None and level not in levels:
        shown = ", ".join(levels) or "none"
        return f"its topology {flavor.topology!r} has no level {level!r} (levels: {shown})"
    return None


def admit(
    pod_sets: list[PodSet],
    queue: ClusterQueue,
    queues: Queues,
    available: Mapping[FlavorResource, Decimal | None] | None = None,
) -> Admission:
    """Whether Kueue can admit the PodSets together into ``queue`` given ``available`` quota per (flavor, resource)
    (default: the queue's capacity with nothing else admitted), and with which flavors."""
    room = dict(capacity(queue, queues) if available is None else available)
    flavors = {name: found for name, found in queues.flavors.items() if found is not None}
    tas_only = is_tas_only(queue, queues.flavors)
    admission = Admission()
    for pod_set in pod_sets:
        given: dict[int, str] = {}
        for resource in sorted(pod_set.requests):
            if pod_set.requests[resource] > 0 and queue.group_of(resource) is None:
                admission.refusal = Refusal(pod_set, f"it asks for {resource}, which no resource group of the queue covers")
                return admission
        for index, group in enumerate(queue.groups):
            asked = {r: pod_set.requests[r] * pod_set.count for r in group.covered if pod_set.requests.get(r, 0) > 0}
            if not asked:
                continue
            reasons = []
            for name, _ in group.flavors:
                flavor = flavors.get(name, Flavor(name))
                why = tas_refusal(pod_set, flavor, group.covered, tas_only, queues) or matches(pod_set, flavor)
                if why is None:
                    why = _short(name, asked, room)
                if why is None:
                    given[index] = name
                    for resource, need in asked.items():
                        left = room.get((name, resource))
                        room[(name, resource)] = None if left is None else left - need
                        admission.usage[(name, resource)] = admission.usage.get((name, resource), Decimal(0)) + need
                    break
                reasons.append(f"flavor {name!r}: {why}")
            if index not in given:
                admission.refusal = Refusal(pod_set, "; ".join(reasons) or f"resource group {index} has no flavor")
                return admission
        tas_flavors = {name for name in given.values() if (found := flavors.get(name)) is not None and found.topology}
        if (pod_set.topology is not None or (tas_only and given)) and len(tas_flavors) != 1:
            what = "more than one TAS flavor" if tas_flavors else "no TAS flavor"
            admission.refusal = Refusal(pod_set, f"gets {what} for its resources (Kueue requires exactly one)")
            return admission
        admission.flavors.append(given)
    return admission


def _short(flavor: str, asked: Mapping[str, Decimal], room: Mapping[FlavorResource, Decimal | None]) -> str | None:
    for resource in sorted(asked, key=lambda r: (r in ("cpu", "memory"), r)):
        left = room.get((flavor, resource), Decimal(0))
        if left is not None and asked[resource] > left:
            return (
                f"{format_resource(resource, asked[resource])} {resource} needed, "
                f"{format_resource(resource, max(left, Decimal(0)))} of quota"
            )
    return None
