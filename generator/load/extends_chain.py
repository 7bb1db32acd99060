"""An environment file and the files it ``extends:``, read as plain YAML without building the models.

For the quick answers that must never fail and need no validation: shell completion of workload names, and each
environment's ``kubernetesVersion`` for lint of rendered/. Read with PyYAML's safe loader; a file that cannot be read
or is not a mapping ends the chain; an ``extends:`` loop ends it too (render reports both, located).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml


def read_mapping(path: Path) -> dict[str, Any] | None:
    """``path`` as a YAML mapping, or None when it cannot be read, parsed, or is not a mapping."""
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    return loaded if isinstance(loaded, dict) else None


def extends_chain(path: Path) -> list[dict[str, Any]]:
    """The documents of ``path`` and of every file it extends, nearest first (the order load/merge.py overrides in)."""
    chain: list[dict[str, Any]] = []
    seen: set[Path] = set()
    current: Path | None = path
    while current is not None and current not in seen and current.is_file():
        seen.add(current)
        document = read_mapping(current)
        if document is None:
            break
        chain.append(document)
        base = document.get("extends")
        current = current.parent / base if isinstance(base, str) else None
    return chain


__all__ = ["extends_chain", "read_mapping"]
