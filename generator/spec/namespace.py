"""Namespace guard rails: container defaults and bounds (a LimitRange), and where ingress traffic comes from (the
ingress controller, the Gateway API implementation's proxies)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from mlgitops.spec.base import Labels, NamespaceName, PositiveQuantity, SpecModel


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


GatewayImplementation = Literal["envoy-gateway", "istio", "gke", "other"]
GKE_FRONT_END_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
"""Where Google Cloud's front ends (global external load balancers and health checks) connect from (Google Cloud,
"Load balancer firewall rules"); regional and internal load balancers connect from the VPC's proxy-only subnet."""


class GatewaySpec(SpecModel):
    """The cluster's Gateway API implementation: its GatewayClass, and where the proxies that forward an HTTPRoute's
    traffic run, so that the network policy admits them (and nothing else) to the routed port.

    Where the proxies run differs by implementation, so each has its own default:

    - envoy-gateway: the controller's namespace `envoy-gateway-system`, pods labelled `app.kubernetes.io/component:
      proxy`, `app.kubernetes.io/managed-by: envoy-gateway` and the owning Gateway's name and namespace
      (envoyproxy/gateway `internal/envoygateway/config/config.go` DefaultNamespace; deploy type ControllerNamespace
      is the default, v1.9.0 `api/v1alpha1/envoygateway_types.go`);
    - istio: the Gateway's own namespace, pods labelled `gateway.networking.k8s.io/gateway-name: <gateway>`
      (istio/istio `manifests/charts/istio-control/istio-discovery/files/kube-gateway.yaml`);
    - gke: managed load balancers without pods in the cluster: `cidrs` (default Google's front ends, for
      gke-l7-global-external-managed; give the proxy-only subnet for regional and internal classes);
    - other (the default): any pod of the Gateway's namespace (Gateway API GEP-1762 in-cluster deployments).
    """

    class_name: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)
    """GatewayClass of the cluster's Gateways, e.g. 'eg' (KubeRay's incremental RayService upgrades use it)."""
    implementation: GatewayImplementation = "other"
    """Which implementation runs the proxies: envoy-gateway, istio, gke, or other."""
    namespace: NamespaceName | None = None
    """Namespace the proxies run in (default: the implementation's, above)."""
    pod_labels: Labels | None = None
    """Labels of the proxy pods (default: the implementation's; {} admits every pod of the namespace)."""
    cidrs: list[str] = Field(default_factory=list)
    """Address ranges the traffic arrives from when the proxies are not pods of the cluster (managed gateways)."""

    @field_validator("cidrs")
    @classmethod
    def _cidrs(cls, value: list[str]) -> list[str]:
        import ipaddress

        for cidr in value:
            try:
                ipaddress.ip_network(cidr, strict=False)
            except ValueError:
                raise ValueError(f"{cidr!r} is not an address range such as '10.0.0.0/8'") from None
        return value
