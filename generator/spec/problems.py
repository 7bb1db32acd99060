"""A semantic mistake in an environment file: the field path it is at, and what is wrong."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SpecProblem:
    """A mistake at a field path such as ('workloads', 2, 'resources', 'memory').

    ``at_key`` points at the key itself rather than its value (for a field that should not be there).
    """

    path: tuple[str | int, ...]
    message: str
    at_key: bool = False


class NamedItem(Protocol):
    @property
    def name(self) -> str: ...


def unique(items: Sequence[NamedItem], at: FieldPath) -> list[SpecProblem]:
    """A problem for each item whose name an earlier item already has."""
    seen: set[str] = set()
    problems = []
    for index, item in enumerate(items):
        if item.name in seen:
            problems.append(SpecProblem((*at, index, "name"), f"duplicate name {item.name!r}; names must be unique"))
        seen.add(item.name)
    return problems
