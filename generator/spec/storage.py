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


IMAGE_VOLUME_SINCE = (1, 35)
"""The first Kubernetes minor release whose API server and kubelet accept image volumes by default (KEP-4639)."""


class Volume(SpecModel):
    """A named volume that workloads mount. Exactly one of claim, existingClaim, scratch, configMap or image."""

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
    image: str | None = Field(default=None, pattern=r"^[^\s:@/][^\s]*$", max_length=512)
    """An OCI image (or artifact) mounted read-only, e.g. model weights: 'ghcr.io/acme/llama-405b:2026-11@sha256:…'.

    Rendered as `volumes[].image` {reference, pullPolicy} (k8s.io/api core/v1 ImageVolumeSource; KEP-4639,
    kubernetes/enhancements `keps/sig-node/4639-oci-volume-source`): the ImageVolume feature gate is alpha in 1.31,
    beta but off by default in 1.33-1.34, on by default from 1.35 (the KEP's implementation history), GA in 1.36.
    The kubelet pulls it once per node for every pod there; the runtime mounts it read-only (noexec)."""
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] = "IfNotPresent"
    """When the kubelet pulls `image` (its pullPolicy): IfNotPresent keeps one copy per node."""

    @model_validator(mode="after")
    def _one_source(self) -> Volume:
        given = [k for k in _FIELD if getattr(self, _FIELD[k]) is not None]
        if len(given) != 1:
            raise ValueError(
                "a volume needs exactly one of 'claim', 'existingClaim', 'scratch', 'configMap' or 'image'"
                + (f" (found {', '.join(given)})" if given else "")
            )
        return self

    @model_validator(mode="after")
    def _pull_policy_of_an_image(self) -> Volume:
        if self.image is None and "image_pull_policy" in self.model_fields_set:
            raise ValueError("imagePullPolicy is the pull policy of an image volume: give 'image' or drop it")
        return self

    @property
    def claim_name(self) -> str | None:
        """The PVC a pod refers to, or None for scratch space and ConfigMaps."""
        if self.claim is not None:
            return self.name
        return self.existing_claim


_FIELD = {
    "claim": "claim",
    "existingClaim": "existing_claim",
    "scratch": "scratch",
    "configMap": "config_map",
    "image": "image",
}
