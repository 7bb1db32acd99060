"""Content hashes that give immutable objects (Jobs, PyTorchJobs) a name that changes with their spec."""

from __future__ import annotations

import hashlib
import json
from typing import Any

HASH_LENGTH = 8


def spec_hash(spec: dict[str, Any]) -> str:
    """A short, stable digest: a changed pod template gives a new object name instead of an immutable-field error."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_LENGTH]
