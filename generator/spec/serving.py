"""Serving workloads: a model server with its Service, autoscaler, disruption budget, metrics and ingress sources."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from mlgitops.spec.autoscaling import Autoscaling
from mlgitops.spec.base import INT32_MAX, Annotations, DnsLabel, Labels, NamespaceName, PortName, SpecModel
from mlgitops.spec.container import PodGroup, Port, WorkloadBase
from mlgitops.spec.integrations import KServe, RegisteredModel
from mlgitops.spec.keda import Keda
from mlgitops.spec.monitoring import MetricsEndpoint
from mlgitops.spec.problems import FieldPath


class DisruptionBudget(SpecModel):
    """A PodDisruptionBudget: give minAvailable or maxUnavailable (not both)."""

    min_available: int | str | None = None
    """Pods that must stay up during voluntary disruptions (a count or a percentage such as '50%')."""
    max_unavailable: int | str | None = None
    """Pods that may be down at once (a count or a percentage)."""

    @model_validator(mode="after")
    def _one_bound(self) -> DisruptionBudget:
        if (self.min_available is None) == (self.max_unavailable is None):
            raise ValueError("a disruption budget needs exactly one of 'minAvailable' or 'maxUnavailable'")
        for value in (self.min_available, self.max_unavailable):
            if isinstance(value, str) and not re.fullmatch(r"(100|[1-9]?[0-9])%", value):
                raise ValueError(f"{value!r} must be a whole number or a percentage such as '50%'")
            if isinstance(value, int) and value < 0:
                raise ValueError(f"{value} must not be negative")
        return self


class IngressPeer(SpecModel):
    """Who may reach a serving port: pods by label, namespaces by label, or an IP range."""

    pod_labels: Labels | None = None
    """Pods in the same namespace carrying these labels."""
    namespace_labels: Labels | None = None
    """Every pod in namespaces carrying these labels (combined with podLabels when both are set)."""
    cidr: str | None = Field(default=None, pattern=r"^[0-9a-fA-F.:]+/[0-9]{1,3}$")
    """An IP range such as '10.0.0.0/8'."""

    @model_validator(mode="after")
    def _something(self) -> IngressPeer:
        if self.pod_labels is None and self.namespace_labels is None and self.cidr is None:
            raise ValueError("an ingress source needs podLabels, namespaceLabels or cidr")
        if self.cidr is not None and (self.pod_labels is not None or self.namespace_labels is not None):
            raise ValueError("cidr cannot be combined with podLabels or namespaceLabels")
        return self


_HOSTNAME = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"


class IngressSpec(SpecModel):
    """A networking.k8s.io/v1 Ingress to the server: host, path and TLS secret."""

    host: str = Field(pattern=_HOSTNAME, max_length=253)
    """Host name clients use, e.g. 'resnet.ml.acme.example'."""
    path: str = Field(default="/", pattern=r"^/")
    path_type: Literal["Prefix", "Exact", "ImplementationSpecific"] = "Prefix"
    port: PortName | None = None
    """Name of the port to route to (default: the first)."""
    tls_secret: DnsLabel | None = None
    """Secret holding the certificate for `host` (e.g. issued by cert-manager)."""
    class_name: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")
    """IngressClass (default: the environment's ingressController.className)."""
    annotations: Annotations = Field(default_factory=dict)
    """Controller settings, e.g. 'nginx.ingress.kubernetes.io/proxy-body-size'."""
    allow_from: list[IngressPeer] | None = None
    """Who forwards this traffic, for the network policy (default: the environment's ingressController.namespace)."""


class GatewayRef(SpecModel):
    """The Gateway (and listener) an HTTPRoute attaches to."""

    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$", max_length=253)
    namespace: NamespaceName | None = None
    """Namespace of the Gateway (default: the environment's)."""
    section_name: str | None = Field(default=None, pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$", max_length=253)
    """Listener of the Gateway, e.g. 'https' (TLS is terminated there, with the listener's certificateRefs)."""


class HttpRouteSpec(SpecModel):
    """A Gateway API HTTPRoute (gateway.networking.k8s.io/v1) to the server."""

    gateway: GatewayRef
    hostnames: list[str] = Field(default_factory=list)
    """Host names the route answers, e.g. ['resnet.ml.acme.example'] (default: the listener's)."""
    path: str = Field(default="/", pattern=r"^/")
    path_type: Literal["PathPrefix", "Exact"] = "PathPrefix"
    port: PortName | None = None
    """Name of the port to route to (default: the first)."""
    allow_from: list[IngressPeer] | None = None
    """Who forwards this traffic, for the network policy (default: the Gateway's proxies, where the environment's
    `gateway` says they run)."""

    @field_validator("hostnames")
    @classmethod
    def _hostnames(cls, value: list[str]) -> list[str]:
        for hostname in value:
            if not re.match(_HOSTNAME, hostname) or len(hostname) > 253:
                raise ValueError(f"{hostname!r} is not a host name such as 'api.example.com'")
        return value


MODEL_SERVER_RESOURCES = {"cpu": "1", "memory": "2Gi"}


@dataclass(frozen=True)
class RouteBackend:
    """One backend of a server's HTTPRoute: a Service or an InferencePool, with its weight (None: the only one)."""

    kind: Literal["Service", "InferencePool"]
    name: str
    weight: int | None = None


class ServerBase(WorkloadBase):
    """What every kind of server shares: replicas or an autoscaler, disruption budget, metrics, ingress sources."""

    replicas: int | None = Field(default=None, ge=0, le=INT32_MAX)
    """Fixed replica count (default 1); leave out when autoscaling or keda is set."""
    autoscaling: Autoscaling | None = None
    """Optional HorizontalPodAutoscaler."""
    keda: Keda | None = None
    """Optional KEDA ScaledObject (Prometheus triggers, scale to zero) instead of `autoscaling`."""
    metrics: MetricsEndpoint | None = None
    """Prometheus scraping (renders a ServiceMonitor)."""
    disruption_budget: DisruptionBudget | None = None
    """PodDisruptionBudget; with 2 or more replicas the default is maxUnavailable: 1."""
    allow_from: list[IngressPeer] | None = None
    """Who may reach the ports when the environment's network policy is on (default: its allowFrom)."""
    ingress: IngressSpec | None = None
    """Expose the server through an Ingress (the network policy admits the ingress controller)."""
    http_route: HttpRouteSpec | None = None
    """Expose the server through a Gateway API HTTPRoute (the network policy admits the Gateway's proxies)."""

    def service_ports(self) -> list[Port]:
        """The ports the server's Service exposes."""
        return []

    def route_backends(self) -> list[RouteBackend]:
        """What its HTTPRoute sends requests to: its own Service."""
        return [RouteBackend("Service", self.name)]

    def most_replicas(self) -> int:
        """The HPA's or KEDA's maximum, or the fixed count (default 1)."""
        if self.autoscaling is not None:
            return self.autoscaling.max_replicas
        if self.keda is not None:
            return self.keda.max_replicas
        return 1 if self.replicas is None else self.replicas


class Serving(ServerBase):
    """A model server: an apps/v1 Deployment, a Service, and optionally an HPA or KEDA ScaledObject, PDB and ServiceMonitor."""

    kind: Literal["serving"]
    ports: list[Port] = Field(default_factory=list)
    """Ports the model server listens on (a registered model's server defaults to http 8080)."""
    model: RegisteredModel | None = None
    """Serve this MLflow registered model (command, port and probes are filled in)."""
    kserve: KServe | None = None
    """Render a KServe InferenceService instead of a Deployment, Service and HPA."""

    def service_ports(self) -> list[Port]:
        return list(self.ports)

    def pod_groups(self, at: FieldPath) -> list[PodGroup]:
        """The autoscaler's minimum, or the fixed replica count, run at once."""
        if self.autoscaling is not None:
            return [PodGroup(self, at, (*at, "autoscaling", "minReplicas"), self.autoscaling.min_replicas)]
        return [PodGroup(self, at, (*at, "replicas"), 1 if self.replicas is None else self.replicas)]

    @model_validator(mode="before")
    @classmethod
    def _model_server_defaults(cls, data: Any) -> Any:
        # A registered model's server needs no hand-written sizing to start: 1 CPU and 2Gi by default.
        if isinstance(data, dict) and data.get("model") is not None and "resources" not in data:
            return {**data, "resources": dict(MODEL_SERVER_RESOURCES)}
        return data
