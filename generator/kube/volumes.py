"""Volumes as the kubelet and the attach/detach controller treat them: which claims attach to one node only, and
which mounts of one container the API server refuses as repeated.

Each fact has this one implementation; render's spec checks (``spec/checks.py``, ``spec/server_checks.py``), render's
rollout strategy (``render/storage.py``) and lint's storage rules (``policy/checks/storage.py``: ``pvc-rwo-shared``,
``volume-mounts``) call it and word their own messages from the answer.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence

SHM_PATH = "/dev/shm"
"""Where a container sees shared memory: the runtime's 64 MB default, or the memory-backed emptyDir render mounts."""
SINGLE_NODE_ACCESS_MODES = frozenset(("ReadWriteOnce", "ReadWriteOncePod"))
"""Access modes that attach a claim to one node at a time (pods elsewhere wait on Multi-Attach)."""


def attaches_to_one_node(access_modes: Iterable[str]) -> bool:
    """Whether a claim with ``access_modes`` (as its spec.accessModes lists them) attaches to one node at a time.

    True when at least one mode is listed and none is ReadWriteMany or ReadOnlyMany: a pod on a second node then
    waits on a Multi-Attach error. An empty list says nothing (the controller lets the attacher decide).
    Source: kubernetes/kubernetes pkg/volume/util/util.go ``IsMultiAttachAllowed`` (the attach/detach
    controller's reconciler refuses a second node unless a mode is ReadWriteMany or ReadOnlyMany).
    """
    modes = set(access_modes)
    return bool(modes) and modes <= SINGLE_NODE_ACCESS_MODES


def repeated_paths(paths: Sequence[object], taken: Collection[object] = ()) -> dict[int, int | None]:
    """The mounts of one container that repeat a mount path: index → the index of the first mount at that path,
    or None when ``taken`` (a path something else mounts, such as the /dev/shm volume render adds) holds it.

    ``paths`` are the mounts' mountPath values in order; only strings count (a missing path is the schema's).
    Source: kubernetes/kubernetes pkg/apis/core/validation/validation.go ``ValidateVolumeMounts`` ("must be
    unique": the API server refuses a container with two mounts at one mountPath).
    """
    first_at: dict[object, int] = {}
    repeated: dict[int, int | None] = {}
    for index, path in enumerate(paths):
        if not isinstance(path, str):
            continue
        if path in taken:
            repeated[index] = None
        elif first_at.setdefault(path, index) != index:
            repeated[index] = first_at[path]
    return repeated
