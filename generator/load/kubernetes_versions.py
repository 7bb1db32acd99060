"""Each environment's ``kubernetesVersion``, read without building the models: what `lint` of rendered/ judges each
environment's objects at.

The value is followed through ``extends:`` (the nearest file that writes it wins, as load/merge.py merges), read
with PyYAML's safe loader. An environment whose files cannot be read, or that names no version, is left out: its
objects are judged at the run's version (``--kubernetes-version``), as before. Abstract bases are left out too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def _document(path: Path) -> dict[str, Any] | None:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return loaded if isinstance(loaded, dict) else None


def _version(path: Path, seen: frozenset[Path] = frozenset()) -> str | None:
    if path in seen:
        return None  # an extends: loop: render reports it; here it names no version
    document = _document(path)
    if document is None:
        return None
    version = document.get("kubernetesVersion")
    if isinstance(version, str):
        return version.removeprefix("v")
    base = document.get("extends")
    return _version(path.parent / base, seen | {path}) if isinstance(base, str) else None


def kubernetes_versions(environments_dir: Path) -> dict[str, str]:
    """Environment name → its Kubernetes version (``1.34``), for every concrete environment file in the folder."""
    versions: dict[str, str] = {}
    if not environments_dir.is_dir():
        return versions
    for path in sorted(environments_dir.glob("*.yaml")):
        document = _document(path)
        if document is None or document.get("abstract") is True:
            continue
        version = _version(path)
        if version is not None:
            versions[path.stem] = ".".join(version.split(".")[:2])
    return versions


__all__ = ["kubernetes_versions"]
