"""PersistentVolumeClaims for the environment's new claims, protected from GitOps pruning."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from mlgitops.kube.volumes import attaches_to_one_node
from mlgitops.render.metadata import object_meta
from mlgitops.spec.derived import volumes_by_name
from mlgitops.spec.environment import Environment
from mlgitops.spec.storage import Volume

# Dynamically provisioned volumes default to reclaim policy Delete: a prune would delete the data.
PRUNE_PROTECTION = {
    "argocd.argoproj.io/sync-options": "Prune=false,Delete=false",
    "kustomize.toolkit.fluxcd.io/prune": "disabled",
}


def render_claim(environment: Environment, environment_name: str, volume: Volume) -> dict[str, Any]:
    assert volume.claim is not None
    meta = object_meta(environment, environment_name, name=volume.name, app=volume.name, component="storage")
    spec: dict[str, Any] = {
        "accessModes": list(volume.claim.access_modes),
        "resources": {"requests": {"storage": volume.claim.size}},
    }
    if volume.claim.storage_class is not None:
        spec["storageClassName"] = volume.claim.storage_class
    spec["volumeMode"] = volume.claim.volume_mode
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": meta.render(environment.namespace, PRUNE_PROTECTION),
        "spec": spec,
    }


def rollout_strategy(environment: Environment, volume_names: Iterable[str | None]) -> dict[str, str] | None:
    """``{type: Recreate}`` for a server that mounts a claim rendered here whose access modes attach it to one
    node only; None (the default RollingUpdate) otherwise.

    A RollingUpdate starts the new pod before the old one stops; on a ReadWriteOnce claim it would wait
    on Multi-Attach whenever it lands on another node. Recreate stops the old pod first.
    """
    volumes = volumes_by_name(environment)
    for name in volume_names:
        volume = volumes.get(name) if name is not None else None
        if volume is not None and volume.claim is not None and attaches_to_one_node(volume.claim.access_modes):
            return {"type": "Recreate"}
    return None
