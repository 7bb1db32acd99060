"""Which pods a `matchLabels` selector picks: the fact an InferencePool's selector is judged by, in render's spec
checks (``spec/llm_routing_checks.py``) and in rule inference-pool-selector on anyone's manifests.

A selector picks a pod when every one of its labels is on the pod with the same value (an InferencePool's
``selector.matchLabels``: "an AND operation on all entries", kubernetes-sigs/gateway-api-inference-extension
``api/v1/shared_types.go``). Labels a controller adds to the pods it creates (``CONTROLLER_LABEL_PREFIXES``, e.g. a
LeaderWorkerSet's worker index) are not in the pod template: they narrow a selection within one workload and are
left out when templates are compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

Item = TypeVar("Item")

CONTROLLER_LABEL_PREFIXES = ("leaderworkerset.sigs.k8s.io/",)
"""Label keys the LeaderWorkerSet controller sets on each pod (worker-index, group-index, ...), absent from templates."""


def template_selector(selector: Mapping[str, str]) -> dict[str, str]:
    """The part of ``selector`` a pod template's own labels can answer (controller-set labels left out)."""
    return {key: value for key, value in selector.items() if not key.startswith(CONTROLLER_LABEL_PREFIXES)}


def selects(selector: Mapping[str, str], labels: Mapping[str, str], any_value: Iterable[str] = ()) -> bool:
    """Whether matchLabels ``selector`` picks a pod with ``labels``; keys in ``any_value`` match whatever their value
    (labels whose value the caller does not know)."""
    free = set(any_value)
    return all(key in free or labels.get(key) == value for key, value in selector.items())


def rarest(index: Mapping[tuple[str, str, str], list[Item]], namespace: str, pairs: Iterable[tuple[str, str]]) -> list[Item]:
    """Of what ``index`` holds under (namespace, key, value) for each of a selector's ``pairs``, the shortest list:
    whatever the selector picks carries every pair, so only the holders of the rarest one need judging (a pair all
    the candidates share, such as a team label, would make each selector judge all of them). ``pairs`` must not be
    empty."""
    return min((index.get((namespace, key, value), []) for key, value in pairs), key=len)
