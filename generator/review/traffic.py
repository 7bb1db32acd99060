"""How an environment's HTTPRoutes split traffic between backends by weight (a canary), before and after a change.

Gateway API sends each backend of a rule its weight's share of the requests (HTTPBackendRef.weight, default 1;
kubernetes-sigs/gateway-api ``apis/v1/shared_types.go`` BackendRef): a reviewer of a canary's pull request sees the
shares, not a changed number in a YAML diff.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

Split = tuple[tuple[str, int], ...]
"""(backend name, weight) of each backend of a rule, in the route's order."""


@dataclass(frozen=True)
class TrafficSplit:
    """One HTTPRoute rule that splits traffic, before and after (None: no split there)."""

    route: str
    before: Split | None
    after: Split | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


def route_splits(obj: dict[str, Any]) -> list[Split]:
    """The splits of an HTTPRoute: each rule with more than one backend."""
    if obj.get("kind") != "HTTPRoute":
        return []
    found = []
    for rule in (obj.get("spec") or {}).get("rules") or []:
        backends = [ref for ref in (rule or {}).get("backendRefs") or [] if isinstance(ref, dict)]
        if len(backends) > 1:
            found.append(tuple((str(ref.get("name")), _weight(ref.get("weight"))) for ref in backends))
    return found


def _weight(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 1


def traffic_splits(before: list[dict[str, Any]], after: list[dict[str, Any]]) -> list[TrafficSplit]:
    """Every split rule of the environment's routes after the change (and those the change removed)."""
    old = {str(obj["metadata"]["name"]): route_splits(obj) for obj in before if obj.get("kind") == "HTTPRoute"}
    new = {str(obj["metadata"]["name"]): route_splits(obj) for obj in after if obj.get("kind") == "HTTPRoute"}
    found = []
    for name in sorted(set(old) | set(new)):
        was, now = old.get(name, []), new.get(name, [])
        for index in range(max(len(was), len(now))):
            found.append(TrafficSplit(name, was[index] if index < len(was) else None, now[index] if index < len(now) else None))
    return found


def shares(split: Split) -> dict[str, str]:
    """Each backend's share of the requests, as a percentage ('90%'; '0%' for all when the weights sum to 0)."""
    total = sum(weight for _, weight in split)
    return {
        name: f"{(Decimal(weight) * 100 / total).quantize(Decimal('0.1')).normalize():f}%" if total else "0%"
        for name, weight in split
    }


def split_line(split: TrafficSplit, code: Any) -> str:
    """'HTTPRoute `chat-llm`: `chat-llm` 90% → 50%, `chat-llm-canary` 10% → 50%' (``code`` shows user text)."""
    old = shares(split.before) if split.before else {}
    new = shares(split.after) if split.after else {}
    parts = []
    for name in dict.fromkeys([*new, *old]):
        was, now = old.get(name), new.get(name)
        value = now if was in (None, now) and now is not None else f"{was or '0%'} → {now or '0%'}"
        parts.append(f"{code(name)} {value}")
    return f"HTTPRoute {code(split.route)}: " + ", ".join(parts)
