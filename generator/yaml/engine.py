"""Which YAML engine reads and writes: the fast path where it is installed and allowed, else PyYAML.

yaml-rs (a Rust YAML parser with wheels for Linux, macOS and Windows on CPython 3.10-3.13)
loads ~7x faster than PyYAML's C loader; the documentation's "Speed" page (docs/speed.md) scores it against the
other candidates. Where it is not installed (a platform without wheels) every file is read
by PyYAML, with the same results, only slower. ``MLGITOPS_YAML_ENGINE=pyyaml`` forces that
fallback for reading and writing alike; the tests use it to compare both paths.
"""

from __future__ import annotations

import functools
import os
from types import ModuleType

ENGINE_VARIABLE = "MLGITOPS_YAML_ENGINE"
"""Set to "pyyaml" to read and write every file with PyYAML alone (the fallback path)."""


@functools.cache
def fast_engine() -> ModuleType | None:
    """The yaml-rs module, or None where it is not installed (imported on first use: ~2 ms)."""
    try:
        import yaml_rs
    except ImportError:  # pragma: no cover - a platform without yaml-rs wheels
        return None
    return yaml_rs


def fast_path_enabled() -> bool:
    """False when ``MLGITOPS_YAML_ENGINE=pyyaml`` asks for PyYAML alone."""
    return os.environ.get(ENGINE_VARIABLE, "").lower() != "pyyaml"


__all__ = ["ENGINE_VARIABLE", "fast_engine", "fast_path_enabled"]
