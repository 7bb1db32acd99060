"""Repository files that an environment names (ConfigMap files, extra manifests), as the loader read them.

Rendering stays pure: the loader reads every named file once, and the environment model carries
their text to the renderer. Files are keyed by the spec field that names them, e.g.
``("configMaps", 0, "files", 1, "path")`` or ``("workloads", 2, "manifests", 0)``.
"""

from __future__ import annotations

from dataclasses import dataclass

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class RepositoryFile:
    """A file's text and its path as messages show it (e.g. 'environments/files/serve.yaml')."""

    shown: str
    text: str
