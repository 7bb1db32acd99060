"""Namespace guard rails: container defaults and bounds (a LimitRange), and where ingress traffic comes from."""

from __future__ import annotations

from pydantic import Field

from mlgitops.spec.base import NamespaceName, PositiveQuantity, SpecModel


class ContainerAmounts(SpecModel):
    """CPU, memory and ephemeral storage for one container."""

    cpu: PositiveQuantity | None = None
    memory: PositiveQuantity | None = None
    ephemeral_storage: PositiveQuantity | None = None

    def as_resources(self) -> dict[str, str]:
        """As a Kubernetes resource list ('ephemeral-storage' spelt the API's way)."""
        named = {"cpu": self.cpu, "memory": self.memory, "ephemeral-storage": self.ephemeral_storage}
        return {name: value for name, value in named.items() if value is not None}


class LimitRangeSpec(SpecModel):
    """A LimitRange for the namespace's containers: defaults for those that set nothing, and bounds.

    Every container mlgitops renders sets its own requests; the defaults catch objects from extra
    manifests and anything applied by hand, which a ResourceQuota would otherwise refuse.
    """

    default_request: ContainerAmounts | None = None
    """Requests given to containers that set none."""
    default: ContainerAmounts | None = None
    """Limits given to containers that set none."""
    max: ContainerAmounts | None = None
    """Largest limit (and request) a container may have."""
    min: ContainerAmounts | None = None
    """Smallest request a container may have."""


class IngressController(SpecModel):
    """The cluster's ingress controller, for the environment's Ingresses and the network policy that lets it in."""

    class_name: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    """IngressClass of every Ingress that names none, e.g. 'nginx'."""
    namespace: NamespaceName | None = None
    """Namespace the controller's pods run in, e.g. 'ingress-nginx': the network policy admits it to exposed ports."""
