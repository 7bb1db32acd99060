"""Did-you-mean for unknown fields: only names one or two typing mistakes away, or the field's real home.

difflib's ratio calls 'tolerations' and 'annotations' close (they share 'ations') and would send a
user from one field to an unrelated one. A typo is a small edit: an optimal-string-alignment
distance of at most a quarter of the name's length (at least 1), after ignoring case, '_' and '-'. A field that exists,
only elsewhere, is named with the place it belongs to.
"""

from __future__ import annotations

import types
import typing
from functools import cache
from typing import Any

from pydantic import BaseModel


def _normal(name: str) -> str:
    return name.replace("_", "").replace("-", "").lower()


def typo_of(written: str, known: list[str]) -> str | None:
    """The known name ``written`` is a typo of, or None."""
    from rapidfuzz.distance import OSA

    target = _normal(written)
    best: tuple[int, str] | None = None
    for name in known:
        distance = OSA.distance(target, _normal(name))
        allowed = max(1, len(name) // 4)
        if distance <= allowed and (best is None or distance < best[0]):
            best = (distance, name)
    return best[1] if best is not None else None


@cache
def field_homes(model: type[BaseModel]) -> dict[str, list[str]]:
    """Every field name reachable from ``model`` → the paths it lives at, shortest first ('workloads[].tolerations')."""
    homes: dict[str, list[str]] = {}
    queue: list[tuple[type[BaseModel], str]] = [(model, "")]
    seen: set[type[BaseModel]] = set()
    while queue:
        current, prefix = queue.pop(0)
        if current in seen:
            continue
        seen.add(current)
        for name, info in current.model_fields.items():
            alias = info.alias or name
            path = f"{prefix}.{alias}" if prefix else alias
            if path not in homes.setdefault(alias, []):
                homes[alias].append(path)
            for child, listed in _models(info.annotation):
                queue.append((child, f"{path}[]" if listed else path))
    return homes


def _models(annotation: Any, listed: bool = False) -> list[tuple[type[BaseModel], bool]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, listed)]
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _models(typing.get_args(annotation)[0], listed)
    found: list[tuple[type[BaseModel], bool]] = []
    if origin in (typing.Union, types.UnionType, list, dict, tuple):
        for argument in typing.get_args(annotation):
            found.extend(_models(argument, listed or origin is list))
    return found
