"""Horizontal autoscaling of serving workloads: bounds, metrics and scaling behaviour."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator, model_validator

from mlgitops.spec.base import INT32_MAX, Labels, Quantity, SpecModel


class CpuMetric(SpecModel):
    """Scale on average CPU use as a percentage of the containers' CPU request."""

    type: Literal["cpu"]
    utilization: int = Field(ge=1, le=1000)
    """Target average utilization in percent of the request, e.g. 70."""


class MemoryMetric(SpecModel):
    """Scale on average memory use as a percentage of the containers' memory request."""

    type: Literal["memory"]
    utilization: int = Field(ge=1, le=1000)
    """Target average utilization in percent of the request."""


class PodsMetric(SpecModel):
    """Scale on a per-pod custom metric (e.g. inference requests per second via prometheus-adapter)."""

    type: Literal["pods"]
    name: str = Field(min_length=1)
    """Metric name as the custom metrics API serves it."""
    average_value: Quantity
    """Target average value per pod, e.g. '20' requests per second."""
    selector: Labels | None = None
    """Optional label selector narrowing the metric series."""


class ExternalMetric(SpecModel):
    """Scale on a metric from outside the cluster (a queue length, say). Give value or averageValue."""

    type: Literal["external"]
    name: str = Field(min_length=1)
    """Metric name as the external metrics API serves it."""
    selector: Labels | None = None
    """Optional label selector narrowing the metric series."""
    value: Quantity | None = None
    """Target total value across all pods."""
    average_value: Quantity | None = None
    """Target value per pod."""

    @model_validator(mode="after")
    def _one_target(self) -> ExternalMetric:
        if (self.value is None) == (self.average_value is None):
            raise ValueError("an external metric needs exactly one of 'value' or 'averageValue'")
        return self


Metric = Annotated[CpuMetric | MemoryMetric | PodsMetric | ExternalMetric, Field(discriminator="type")]


class ScalingPolicy(SpecModel):
    """At most `value` pods (or percent) may be added or removed per `periodSeconds`."""

    type: Literal["Pods", "Percent"]
    value: int = Field(ge=1, le=INT32_MAX)
    period_seconds: int = Field(ge=1, le=1800)


class ScalingRules(SpecModel):
    """How fast the autoscaler may scale in one direction."""

    stabilization_window_seconds: int | None = Field(default=None, ge=0, le=3600)
    """How long recommendations are remembered before acting (damps flapping)."""
    select_policy: Literal["Max", "Min", "Disabled"] | None = None
    """Which policy wins when several apply."""
    policies: list[ScalingPolicy] = Field(default_factory=list)
    """Rate limits for this direction."""


class Behavior(SpecModel):
    """Scale-up and scale-down rules."""

    scale_up: ScalingRules | None = None
    scale_down: ScalingRules | None = None


class Autoscaling(SpecModel):
    """A HorizontalPodAutoscaler for a serving workload. At least one metric is required."""

    min_replicas: int = Field(ge=1, le=INT32_MAX)
    """Fewest replicas (at least 1)."""
    max_replicas: int = Field(ge=1, le=INT32_MAX)
    """Most replicas."""
    metrics: list[Metric] = Field(default_factory=list, validate_default=True)
    """What to scale on; an autoscaler without a metric never scales."""
    behavior: Behavior | None = None
    """Optional scaling rates and stabilization."""

    @field_validator("metrics")
    @classmethod
    def _has_metric(cls, metrics: list[Metric]) -> list[Metric]:
        if not metrics:
            raise ValueError(
                "autoscaling needs at least one metric (e.g. '- type: cpu' with 'utilization: 70'); "
                "without one the HorizontalPodAutoscaler never scales"
            )
        return metrics
