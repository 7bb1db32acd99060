"""Serving workloads: a model server with its Service, autoscaler, disruption budget, metrics and ingress sources."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, model_validator

from generator.spec.autoscaling import Autoscaling
from generator.spec.base import INT32_MAX, Labels, PortName, SpecModel
from generator.spec.container import Port, WorkloadBase
from generator.spec.integrations import KServe, RegisteredModel
from generator.spec.keda import Keda


class MetricsEndpoint(SpecModel):
    """Where Prometheus scrapes the server; renders a Prometheus Operator ServiceMonitor."""

    port: PortName = "http"
    """Name of one of the workload's ports (default 'http')."""
    path: str = Field(default="/metrics", pattern=r"^/")
    interval: str = Field(default="30s", pattern=r"^([0-9]+(ms|s|m|h))+$")
    """Scrape interval, e.g. '30s'."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on the ServiceMonitor, e.g. the one your Prometheus selects ('release: prometheus')."""


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


MODEL_SERVER_RESOURCES = {"cpu": "1", "memory": "2Gi"}


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

    def service_ports(self) -> list[Port]:
        """The ports the server's Service exposes."""
        return []


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

    @model_validator(mode="before")
    @classmethod
    def _model_server_defaults(cls, data: Any) -> Any:
        # A registered model's server needs no hand-written sizing to start: 1 CPU and 2Gi by default.
        if isinstance(data, dict) and data.get("model") is not None and "resources" not in data:
            return {**data, "resources": dict(MODEL_SERVER_RESOURCES)}
        return data
