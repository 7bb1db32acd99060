"""Content hashes that give immutable objects (Jobs, TrainJobs, PyTorchJobs, RayJobs) a name that changes with their spec."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from mlgitops.render.metadata import ObjectMeta

HASH_LENGTH = 8


def spec_hash(spec: dict[str, Any]) -> str:
    """A short, stable digest: a changed pod template gives a new object name instead of an immutable-field error."""
    canonical = json.dumps(spec, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(canonical.encode()).hexdigest()[:HASH_LENGTH]


def hash_named(
    api_version: str,
    kind: str,
    meta: ObjectMeta,
    namespace: str,
    spec: dict[str, Any],
    extra_annotations: dict[str, str],
) -> dict[str, Any]:
    """An object named "<workload>-<hash of its spec>": a changed spec is a new object, not an immutable-field error."""
    named = ObjectMeta(f"{meta.name}-{spec_hash(spec)}", meta.labels, meta.annotations)
    return {"apiVersion": api_version, "kind": kind, "metadata": named.render(namespace, extra_annotations), "spec": spec}
