"""Facts about a cluster's node pools that scheduling checks need, free of any spec model.

The renderer builds these from an environment's cluster profile; ``lint`` can build them from
configuration. Both the render-time fit check and the ``schedulable``/``gpu-*`` policies read
the same facts, so the two cannot disagree about where a pod may land.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mlgitops.kube.accelerators import is_accelerator, is_accelerator_class, taint_key_of


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


def admits(pool: NodePoolFacts, pod: Mapping[str, Any]) -> bool:
    """Whether the pool's nodes admit the pod: its nodeSelector matches and every blocking taint is tolerated."""
    selector = pod.get("nodeSelector")
    tolerations = pod.get("tolerations")
    blocking = tuple(t for t in pool.taints if t.effect in ("NoSchedule", "NoExecute"))
    return selector_matches(selector if isinstance(selector, dict) else {}, pool.labels) and tolerates_all(
        [t for t in tolerations if isinstance(t, dict)] if isinstance(tolerations, list) else [], blocking
    )
