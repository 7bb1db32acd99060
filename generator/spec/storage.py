"""Volumes: new PersistentVolumeClaims, existing claims, and scratch space."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlgitops.spec.base import DnsLabel, DnsSubdomain, PositiveQuantity, SpecModel

AccessMode = Literal["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"]
_DEFAULT_ACCESS_MODE: AccessMode = "ReadWriteOnce"


class ClaimSpec(SpecModel):
    """A PersistentVolumeClaim that mlgitops renders (and protects from pruning)."""

    size: PositiveQuantity
    """Requested storage, e.g. '500Gi'."""
    storage_class: DnsSubdomain | None = None
    """StorageClass name; omitted means the cluster default."""
    access_modes: list[AccessMode] = Field(default_factory=lambda: [_DEFAULT_ACCESS_MODE], min_length=1)
    """Access modes; use ReadWriteMany when several pods or nodes mount the claim."""
    volume_mode: Literal["Filesystem", "Block"] = "Filesystem"
    """Filesystem (default) or a raw Block device."""


class ScratchSpec(SpecModel):
    """Node-local scratch space (emptyDir): deleted with the pod, so only for caches."""

    size_limit: PositiveQuantity
    """Upper bound of the scratch space, e.g. '50Gi'."""
    memory: bool = False
    """Back the scratch space with RAM (counts against the container's memory limit)."""


class Volume(SpecModel):
    """A named volume that workloads mount. Exactly one of claim, existingClaim, scratch or configMap."""

    name: DnsLabel
    """Volume name; a new claim's PVC gets this name."""
    claim: ClaimSpec | None = None
    """Create a new PersistentVolumeClaim."""
    existing_claim: DnsLabel | None = None
    """Name of a PersistentVolumeClaim that already exists in the namespace."""
    scratch: ScratchSpec | None = None
    """Ephemeral scratch space; only role 'cache' may mount it."""
    config_map: DnsLabel | None = None
    """A ConfigMap (one of the environment's configMaps, or an existing one) as read-only files; role 'config'."""

    @model_validator(mode="after")
    def _one_source(self) -> Volume:
        given = [k for k in _FIELD if getattr(self, _FIELD[k]) is not None]
        if len(given) != 1:
            raise ValueError(
                "a volume needs exactly one of 'claim', 'existingClaim', 'scratch' or 'configMap'"
                + (f" (found {', '.join(given)})" if given else "")
            )
        return self

    @property
    def claim_name(self) -> str | None:
        """The PVC a pod refers to, or None for scratch space and ConfigMaps."""
        if self.claim is not None:
            return self.name
        return self.existing_claim


_FIELD = {"claim": "claim", "existingClaim": "existing_claim", "scratch": "scratch", "configMap": "config_map"}
