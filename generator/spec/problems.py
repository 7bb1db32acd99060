"""A semantic mistake in an environment file: the field path it is at, and what is wrong."""

from __future__ import annotations

from dataclasses import dataclass

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class SpecProblem:
    """A mistake at a field path such as ('workloads', 2, 'resources', 'memory').

    ``at_key`` points at the key itself rather than its value (for a field that should not be there).
    """

    path: tuple[str | int, ...]
    message: str
    at_key: bool = False
