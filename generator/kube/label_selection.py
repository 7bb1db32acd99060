"""Which pods a `matchLabels` selector picks: the fact an InferencePool's selector is judged by, in render's spec
checks (``spec/llm_routing_checks.py``) and in rule inference-pool-selector on anyone's manifests; and which a full
LabelSelector (``picks``: matchLabels and matchExpressions) picks, for rule pdb-blocks-drain.

A selector picks a pod when every one of its labels is on the pod with the same value (an InferencePool's
``selector.matchLabels``: "an AND operation on all entries", kubernetes-sigs/gateway-api-inference-extension
``api/v1/shared_types.go``). Labels a controller adds to the pods it creates (``CONTROLLER_LABEL_PREFIXES``, e.g. a
LeaderWorkerSet's worker index) are not in the pod template: they narrow a selection within one workload and are
left out when templates are compared.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

Item = TypeVar("Item")

CONTROLLER_LABEL_PREFIXES = ("leaderworkerset.sigs.k8s.io/",)
"""Label keys the LeaderWorkerSet controller sets on each pod (worker-index, group-index, ...), absent from templates."""


def template_selector(selector: Mapping[str, str]) -> dict[str, str]:
    """The part of ``selector`` a pod template's own labels can answer (controller-set labels left out)."""
    return {key: value for key, value in selector.items() if not key.startswith(CONTROLLER_LABEL_PREFIXES)}


LABEL_OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")
"""The operators of a LabelSelector's matchExpressions (k8s.io/apimachinery pkg/apis/meta/v1 ``LabelSelectorOperator``)."""


def picks(selector: Mapping[Any, Any], labels: Mapping[Any, Any]) -> bool | None:
    """Whether LabelSelector ``selector`` (matchLabels and matchExpressions, ANDed) picks a pod with ``labels``; None
    when the API server refuses the selector (a label or value that is not text, an unknown operator, In or NotIn
    without values, Exists or DoesNotExist with some), so that nothing it selects can be judged.

    Source: k8s.io/apimachinery pkg/apis/meta/v1/helpers.go ``LabelSelectorAsSelector`` (matchLabels as equality
    requirements) and pkg/labels/selector.go ``Requirement.Matches``: In needs the label with one of the values,
    NotIn is met by a missing label or another value, Exists needs the label, DoesNotExist its absence. (Which of
    an empty and a missing selector picks everything differs between objects: callers decide that.)
    """
    match = selector.get("matchLabels") or {}
    expressions = selector.get("matchExpressions") or []
    if not isinstance(match, Mapping) or not isinstance(expressions, list):
        return None
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in match.items()):
        return None
    picked = all(labels.get(key) == value for key, value in match.items())
    for expression in expressions:
        key = expression.get("key") if isinstance(expression, Mapping) else None
        operator = expression.get("operator") if isinstance(expression, Mapping) else None
        values = (expression.get("values") or []) if isinstance(expression, Mapping) else None
        if not isinstance(key, str) or operator not in LABEL_OPERATORS or not isinstance(values, list):
            return None
        if not all(isinstance(value, str) for value in values) or bool(values) != (operator in ("In", "NotIn")):
            return None
        held = key in labels
        if operator == "In":
            picked = picked and held and labels[key] in values
        elif operator == "NotIn":
            picked = picked and not (held and labels[key] in values)
        else:
            picked = picked and held == (operator == "Exists")
    return picked


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
