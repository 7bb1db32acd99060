"""A rendered object, the spec line that produced it, and the file it is written to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from generator.errors import Location


@dataclass(frozen=True)
class Rendered:
    """One Kubernetes object ready to write: ``path`` is relative to ``rendered/<env>/``."""

    obj: dict[str, Any]
    path: str
    source: Location | None = None

    @property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])


def file_name(obj: dict[str, Any]) -> str:
    """`<kind>-<name>.yaml`, lower-case: names are DNS labels, so this is unique per kind and name."""
    return f"{str(obj['kind']).lower()}-{obj['metadata']['name']}.yaml"
