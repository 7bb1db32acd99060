"""Event-driven autoscaling with KEDA: a ScaledObject that scales a server on Prometheus queries, down to zero.

KEDA (keda.sh/v1alpha1 ScaledObject) creates and owns an HPA of its own; it also takes a workload
from 0 to 1 replica and back, which an HPA cannot. Source: https://keda.sh/docs/latest/reference/scaledobject-spec/
and the Prometheus scaler (https://keda.sh/docs/latest/scalers/prometheus/).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from mlgitops.spec.base import INT32_MAX, DnsLabel, PositiveQuantity, Quantity, SpecModel

Signal = Literal["queue-depth", "kv-cache", "gpu-utilization"]
SERVER_SIGNALS: frozenset[str] = frozenset({"queue-depth", "kv-cache"})
"""Signals read from the model server's own /metrics (an LLM server's queue and KV cache)."""


class PrometheusTrigger(SpecModel):
    """One Prometheus query KEDA scales on: a `signal` mlgitops writes the query for, or your own `query`."""

    name: DnsLabel | None = None
    """Name of the trigger in the ScaledObject (default: the signal, or 'query-<index>')."""
    signal: Signal | None = None
    """'queue-depth': requests waiting in the LLM server's queue (vllm:num_requests_waiting), `target` per replica;
    'kv-cache': the servers' average KV-cache usage (0 to 1); 'gpu-utilization': the pods' average GPU
    utilisation in percent (DCGM exporter's DCGM_FI_DEV_GPU_UTIL)."""
    query: str | None = Field(default=None, min_length=1)
    """A PromQL query returning one number, instead of `signal`."""
    metric_type: Literal["AverageValue", "Value"] | None = None
    """How `target` is compared: 'AverageValue' divides the query by the replica count (for totals such as a queue
    length), 'Value' compares it as is (for averages). Default: 'AverageValue' for queue-depth and a query, 'Value'
    for kv-cache and gpu-utilization."""
    target: PositiveQuantity
    """Threshold: KEDA adds replicas while the query (per replica for AverageValue) is above it, e.g. '5' waiting requests."""
    activation: Quantity | None = None
    """Activation threshold: the workload is woken from zero replicas (and kept above zero) only while the query is
    above this value. Required when minReplicas is 0, so that cold starts are a decision written down."""

    @model_validator(mode="after")
    def _signal_or_query(self) -> PrometheusTrigger:
        if (self.signal is None) == (self.query is None):
            raise ValueError("a trigger needs exactly one of 'signal' or 'query'")
        return self

    @property
    def compared_as(self) -> Literal["AverageValue", "Value"]:
        if self.metric_type is not None:
            return self.metric_type
        return "Value" if self.signal in ("kv-cache", "gpu-utilization") else "AverageValue"


class Keda(SpecModel):
    """A KEDA ScaledObject scaling the server on Prometheus queries; with minReplicas 0 an idle server scales to zero.

    Use it instead of `autoscaling` (never both: KEDA's own HPA and a second one would fight over the replicas).
    """

    min_replicas: int = Field(ge=0, le=INT32_MAX)
    """Fewest replicas; 0 lets an idle server scale to zero (needs a startup probe and an activation threshold)."""
    max_replicas: int = Field(ge=1, le=INT32_MAX)
    """Most replicas."""
    prometheus: str = Field(pattern=r"^https?://[^\s]+$")
    """Address of the Prometheus server KEDA queries, e.g. 'http://prometheus-operated.monitoring.svc:9090'."""
    triggers: list[PrometheusTrigger] = Field(min_length=1)
    """What to scale on; KEDA scales to the largest replica count any trigger asks for."""
    polling_interval: int = Field(default=30, ge=1, le=3600)
    """Seconds between two queries (KEDA's pollingInterval)."""
    cooldown_period: int = Field(default=300, ge=0, le=86400)
    """Seconds after the last active trigger before scaling to zero (KEDA's cooldownPeriod)."""
