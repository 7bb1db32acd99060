"""A rendered object, the spec field that produced it, and the file it is written to."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlgitops.errors import Location

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Rendered:
    """One Kubernetes object ready to write: ``path`` is relative to ``rendered/<env>/``.

    ``origin`` is the spec field that produced it (``("workloads", 2)``); ``patched`` maps the
    fields a patch wrote (paths within the object) to the patch's spec field. An extra manifest
    keeps its own file: ``text`` is that file's content (written as it is) and ``file`` its path
    as messages show it, so its problems point into the file the user wrote.
    """

    obj: dict[str, Any]
    path: str
    source: Location | None = None
    origin: FieldPath = ()
    patched: dict[FieldPath, FieldPath] = field(default_factory=dict)
    text: str | None = None
    file: str | None = None
    document: int = 0

    @property
    def kind(self) -> str:
        return str(self.obj["kind"])

    @property
    def name(self) -> str:
        return str(self.obj["metadata"]["name"])

    @property
    def is_extra(self) -> bool:
        """An object from an extra manifest (copied as written) rather than rendered from the spec."""
        return self.text is not None


def file_name(obj: dict[str, Any]) -> str:
    """`<kind>-<name>.yaml`, lower-case: names are DNS labels, so this is unique per kind and name."""
    return f"{str(obj['kind']).lower()}-{obj['metadata']['name']}.yaml"
