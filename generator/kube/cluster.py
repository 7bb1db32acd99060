"""Facts about a cluster's node pools that scheduling checks need, free of any spec model.

The renderer builds these from an environment's cluster profile; ``lint`` can build them from
configuration. Both the render-time fit check and the ``schedulable``/``gpu-*`` policies read
the same facts, so the two cannot disagree about where a pod may land.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

DEFAULT_GPU_TAINT_KEY = "nvidia.com/gpu"


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
    names in devices) to the amount a single node can give to pods.
    """

    name: str
    labels: Mapping[str, str] = field(default_factory=dict)
    taints: tuple[Taint, ...] = ()
    allocatable: Mapping[str, Decimal] = field(default_factory=dict)

    def gpu_resources(self) -> list[str]:
        return sorted(name for name, amount in self.allocatable.items() if is_gpu_resource(name) and amount > 0)


def is_gpu_resource(name: str) -> bool:
    """Whether a resource name is a GPU device (whole GPUs or MIG slices) rather than cpu/memory."""
    return name.endswith("/gpu") or name.startswith("nvidia.com/mig-")


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


def selector_matches(node_selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    """Whether a pod's nodeSelector admits nodes carrying ``labels``."""
    return all(labels.get(key) == value for key, value in node_selector.items())
