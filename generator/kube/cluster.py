"""Facts about a cluster's node pools that scheduling checks need, free of any spec model.

The renderer builds these from an environment's cluster profile; ``lint`` can build them from
configuration. Both the render-time fit check and the ``schedulable``/``gpu-*`` policies read
the same facts, so the two cannot disagree about where a pod may land.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, overload

from mlgitops.kube.accelerators import is_accelerator, is_accelerator_class, taint_key_of

_NONE = Decimal(0)


@dataclass(frozen=True)
class Taint:
    """A node taint: pods without a matching toleration are kept off (NoSchedule) or out."""

    key: str
    effect: str = "NoSchedule"
    value: str | None = None


@dataclass(frozen=True)
class NodePoolFacts:
    """One group of identical nodes: how they are labelled and tainted, and what one node holds.

    ``allocatable`` maps resource names (``cpu`` in cores, ``memory`` in bytes, GPU resource
    names in devices) to the amount a single node can give to pods. ``max_nodes`` is the most
    nodes the pool grows to (None: unbounded).
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    allocatable: Mapping[str, Decimal] = field(default_factory=dict)
    device_classes: tuple[str, ...] = ()
    """DRA DeviceClasses whose devices the pool's nodes offer (counted in ``allocatable`` by class name)."""
    max_nodes: int | None = None

    def on_node(self, resource: str) -> Decimal:
        """What one node allocates of ``resource`` (0 when it offers none)."""
        return self.allocatable.get(resource, _NONE)

    def gpu_resources(self) -> list[str]:
        """Accelerators a node offers: extended resource names and DRA DeviceClass names."""
        return sorted(
            name
            for name, amount in self.allocatable.items()
            if (is_gpu_resource(name) or name in self.device_classes) and amount > 0
        )


def is_gpu_resource(name: str) -> bool:
    """Whether a resource name is an accelerator device (any GPU, MIG slice, shared GPU, Gaudi, Neuron, TPU, Ascend).

    Extended resources only; cpu, memory and other extended resources (hugepages, RDMA) are not.
    The facts live in ``generator.kube.accelerators``.
    """
    return is_accelerator(name)


def accelerator_taint_key(name: str) -> str | None:
    """The taint key nodes offering accelerator ``name`` (an extended resource or a DRA DeviceClass) usually carry.

    An unknown extended resource's own name; None for a DeviceClass nothing is known about.
    """
    return taint_key_of(name)


def is_accelerator_device_class(name: str) -> bool:
    """Whether a DRA DeviceClass hands out accelerators (a known driver class, or one naming gpu/tpu)."""
    return is_accelerator_class(name)


def toleration_matches(toleration: Mapping[str, Any], taint: Taint) -> bool:
    """Whether one pod toleration tolerates ``taint``, following the Kubernetes rules."""
    effect = toleration.get("effect")
    if effect and effect != taint.effect:
        return False
    key = toleration.get("key")
    operator = str(toleration.get("operator", "Equal"))
    if not key:
        # An empty key with operator Exists tolerates every taint.
        return operator == "Exists"
    if key != taint.key:
        return False
    if operator == "Exists":
        return True
    value: object = toleration.get("value") or ""
    return value == (taint.value or "")


def tolerates_all(tolerations: Sequence[Mapping[str, Any]], taints: Sequence[Taint]) -> bool:
    """Whether the pod may be placed on a node with all of ``taints``.

    PreferNoSchedule taints never keep a pod off a node, so they need no toleration.
    """
    return all(taint.effect == "PreferNoSchedule" or any(toleration_matches(t, taint) for t in tolerations) for taint in taints)


_WHOLE = re.compile(r"[+-]?[0-9]+")
_INT64 = 2**63


def _int64(text: str | None) -> int | None:
    """``text`` as Go's strconv.ParseInt(text, 10, 64) reads it, None where that fails."""
    if text is None or not _WHOLE.fullmatch(text):
        return None
    number = int(text)
    return number if -_INT64 <= number < _INT64 else None


def requirement_matches(key: str, operator: str, values: Sequence[str], labels: Mapping[str, str]) -> bool:
    """Whether nodes carrying ``labels`` meet one node selector requirement (``key operator values``, as in a
    required node affinity term's matchExpressions).

    In needs the label with one of ``values``; NotIn is met by a missing label; Gt and Lt compare the label and the
    one value as 64-bit integers and fail where either is not one. Source: kubernetes/kubernetes
    staging/src/k8s.io/apimachinery/pkg/labels/selector.go ``Requirement.Matches`` (the scheduler's NodeAffinity
    filter reads node selector requirements through it).
    """
    value = labels.get(key)
    if operator == "In":
        return value is not None and value in values
    if operator == "NotIn":
        return value is None or value not in values
    if operator == "Exists":
        return value is not None
    if operator == "DoesNotExist":
        return value is None
    if operator in ("Gt", "Lt") and len(values) == 1:
        have, want = _int64(value), _int64(values[0])
        if have is None or want is None:
            return False
        return have > want if operator == "Gt" else have < want
    return False


def selector_matches(node_selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Whether a pod's nodeSelector admits nodes carrying ``labels``."""
    return all(labels.get(key) == value for key, value in node_selector.items())


def blocking(taints: Sequence[Taint]) -> tuple[Taint, ...]:
    """The taints that keep pods without a toleration off a node (NoSchedule) or out of it (NoExecute)."""
    return tuple(t for t in taints if t.effect in ("NoSchedule", "NoExecute"))


def placement_of(pod: Mapping[str, Any]) -> tuple[Mapping[Any, Any], list[Mapping[str, Any]]]:
    """A pod spec's nodeSelector (empty when it is not a mapping) and its tolerations that are mappings."""
    selector = pod.get("nodeSelector")
    tolerations = pod.get("tolerations")
    return (
        selector if isinstance(selector, dict) else {},
        [t for t in tolerations if isinstance(t, dict)] if isinstance(tolerations, list) else [],
    )


def admits(pool: NodePoolFacts, pod: Mapping[str, Any]) -> bool:
    """Whether the pool's nodes admit the pod: its nodeSelector matches and every blocking taint is tolerated."""
    selector, tolerations = placement_of(pod)
    return selector_matches(selector, pool.labels) and tolerates_all(tolerations, blocking(pool.taints))


class PoolChoice(Sequence[NodePoolFacts]):
    """The pools a pod may use, in order, and what fit checks ask of them all, each found once per choice.

    N pods that may each use the same N pools (no nodeSelector, no taint) were each judged against every pool,
    for the largest node of each resource and for the pools' total at ``maxNodes``: quadratic in a render of N
    unpinned workloads on N untainted pools (1,200 of each: 4.6 s). ``ClusterPools.admitting`` gives one choice
    per distinct set of pools, so a check may key its groups by the choice itself.
    """

    def __init__(self, pools: Iterable[NodePoolFacts]) -> None:
        self.pools = tuple(pools)
        self._largest: dict[str, NodePoolFacts] = {}
        self._largest_at_most: dict[str, NodePoolFacts] = {}
        self._offering: dict[str, PoolChoice] = {}

    @overload
    def __getitem__(self, index: int) -> NodePoolFacts: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[NodePoolFacts]: ...

    def __getitem__(self, index: int | slice) -> NodePoolFacts | Sequence[NodePoolFacts]:
        return self.pools[index]

    def __len__(self) -> int:
        return len(self.pools)

    def largest(self, resource: str) -> NodePoolFacts:
        """The pool whose one node allocates the most of ``resource`` (the first of equals; the choice is not empty)."""
        found = self._largest.get(resource)
        if found is None:
            found = self._largest[resource] = max(self.pools, key=lambda pool: pool.on_node(resource))
        return found

    def largest_at_most(self, resource: str) -> NodePoolFacts:
        """The pool holding the most of ``resource`` at ``maxNodes`` nodes (the first of equals; unbounded counts 0)."""
        found = self._largest_at_most.get(resource)
        if found is None:
            found = self._largest_at_most[resource] = max(
                self.pools, key=lambda pool: pool.on_node(resource) * (pool.max_nodes or 0)
            )
        return found

    @functools.cached_property
    def unbounded(self) -> bool:
        """Whether one of the pools has no ``maxNodes``: it can grow to take any number of pods."""
        return any(pool.max_nodes is None for pool in self.pools)

    def offering(self, resource: str) -> PoolChoice:
        """The pools whose nodes allocate some of ``resource``, in order."""
        found = self._offering.get(resource)
        if found is None:
            found = self._offering[resource] = PoolChoice(pool for pool in self.pools if pool.on_node(resource) > 0)
        return found


class ClusterPools:
    """A cluster's node pools in order, and what scheduling checks ask of them, found through a ``PlacementIndex``
    (built once per set of pools) instead of by trying every pool for every pod."""

    def __init__(self, pools: Sequence[NodePoolFacts]) -> None:
        self.pools = tuple(pools)
        self.blocking = [blocking(pool.taints) for pool in self.pools]
        self.index = PlacementIndex(list(zip((pool.labels for pool in self.pools), self.blocking, strict=True)))
        self._offering: dict[frozenset[str], list[int]] = {}
        self._admitting: dict[str, PoolChoice] = {}
        self._choices: dict[tuple[int, ...], PoolChoice] = {}

    def admitting(self, pod: Mapping[str, Any]) -> PoolChoice:
        """The pools that admit ``pod`` (``admits``), in order: found once per distinct nodeSelector and tolerations,
        and the same ``PoolChoice`` for every pod admitted by the same pools."""
        selector, tolerations = placement_of(pod)
        # repr tells placements apart exactly (equal text, equal values of the same types); equal placements written
        # in another order are only found again.
        key = repr((selector, tolerations))
        found = self._admitting.get(key)
        if found is None:
            positions = tuple(
                at
                for at in self.index.candidates(selector, tolerations)
                if selector_matches(selector, self.pools[at].labels) and tolerates_all(tolerations, self.blocking[at])
            )
            found = self._choices.get(positions)
            if found is None:
                found = self._choices[positions] = PoolChoice(self.pools[at] for at in positions)
            self._admitting[key] = found
        return found

    def offering(self, devices: Iterable[str]) -> list[NodePoolFacts]:
        """The pools whose nodes offer any of the accelerators ``devices`` (``NodePoolFacts.gpu_resources``), in order."""
        return [self.pools[at] for at in self._offering_positions(frozenset(devices))]

    def tolerated_offering(self, devices: Iterable[str], tolerations: Sequence[Mapping[str, Any]]) -> bool:
        """Whether some pool offering any of ``devices`` has every taint tolerated by ``tolerations`` (mappings;
        ``tolerates_all``, which PreferNoSchedule taints never fail)."""
        offering = self._offering_positions(frozenset(devices))
        possible = self.index.candidates({}, tolerations)
        if len(possible) < len(offering):
            chosen = set(offering)
            found = (at for at in possible if at in chosen)
        else:
            found = (at for at in offering if at in possible)
        return any(tolerates_all(tolerations, self.pools[at].taints) for at in found)

    def _offering_positions(self, devices: frozenset[str]) -> list[int]:
        found = self._offering.get(devices)
        if found is None:
            found = self._offering[devices] = [at for at, pool in enumerate(self.pools) if set(pool.gpu_resources()) & devices]
        return found


class PlacementIndex:
    """Node pools in order (each as the labels and the blocking taints of its nodes), indexed so that the pools that may
    admit a pod are found without trying every pool.

    A pod is admitted where its nodeSelector matches the nodes' labels and it tolerates their every blocking taint
    (``selector_matches``, ``tolerates_all``). So a pool that admits it carries each text pair of its nodeSelector, and
    has either no blocking taint or its rarest blocking taint key tolerated, by a toleration of that key or by one of
    no key with operator Exists (``toleration_matches``). ``candidates`` gives the positions of the pools meeting the
    more selective of the two, a superset of those that admit the pod, in order: N pools each pinned or tolerated by
    one of N workloads were every pod judged against every pool (2,000 of each: 12 s of a render, issue 30).
    """

    def __init__(self, pools: Sequence[tuple[Mapping[str, str], Sequence[Taint]]]) -> None:
        self.count = len(pools)
        self.by_label: dict[tuple[str, str], list[int]] = {}
        self.untainted: list[int] = []
        self.by_taint_key: dict[str, list[int]] = {}
        """A taint key -> the pools filed under it (each under its blocking taint key fewest pools carry)."""
        carrying: dict[str, int] = {}
        for _, taints in pools:
            for key in {taint.key for taint in taints}:
                carrying[key] = carrying.get(key, 0) + 1
        for position, (labels, taints) in enumerate(pools):
            for pair in labels.items():
                self.by_label.setdefault(pair, []).append(position)
            if taints:
                rarest = min(sorted({taint.key for taint in taints}), key=carrying.__getitem__)
                self.by_taint_key.setdefault(rarest, []).append(position)
            else:
                self.untainted.append(position)

    def candidates(self, selector: Mapping[Any, Any], tolerations: Sequence[Mapping[str, Any]]) -> Sequence[int]:
        """The positions, ascending, of the pools that may admit a pod of ``selector`` (its nodeSelector) and
        ``tolerations`` (those that are mappings, as ``placement_of`` gives them): every pool that does is among them."""
        # A pair written as text is on every pool it matches, under its own text (a label value is text).
        written = [(key, value) for key, value in selector.items() if isinstance(key, str) and isinstance(value, str)]
        by_label = min((self.by_label.get(pair, []) for pair in written), key=len) if written else None
        if any(not toleration.get("key") and str(toleration.get("operator", "Equal")) == "Exists" for toleration in tolerations):
            return by_label if by_label is not None else range(self.count)
        tolerated = {key for toleration in tolerations if isinstance(key := toleration.get("key"), str) and key}
        filed = [self.by_taint_key[key] for key in sorted(tolerated) if key in self.by_taint_key]
        size = len(self.untainted) + sum(len(positions) for positions in filed)
        if by_label is not None and len(by_label) <= size:
            return by_label
        return sorted(self.untainted + [position for positions in filed for position in positions]) if filed else self.untainted
