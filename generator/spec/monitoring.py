"""Prometheus scraping and alerting: where a workload's metrics are scraped, and the thresholds of its alerts.

A server's metrics are scraped through its Service (a Prometheus Operator ServiceMonitor, ``MetricsEndpoint``); the
pods of a run (training, distributed training, batch, Ray) are scraped one by one (a PodMonitor, ``PodMetrics``).
``Alerts`` are the thresholds of the alerts mlgitops derives from the spec (``render/alert_rules.py``): the
environment's ``monitoring.alerts`` are the defaults, a workload's ``alerts`` override them field by field.
Durations are Prometheus durations ('30s', '15m', '2h'); SOURCE of the duration syntax: prometheus/prometheus
model/time (ParseDuration), as the PrometheusRule CRD's ``for`` pattern repeats it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlgitops.spec.base import Labels, PortName, SpecModel

DURATION = r"^([0-9]+(ms|s|m|h))+$"
"""A duration in hours, minutes, seconds ('1h30m', '15m', '30s'): both a Prometheus and a Go duration."""

Duration = str
AlertName = Literal["gpu-idle", "queue-depth", "kv-cache", "latency", "restarts", "oom-killed", "kueue-pending", "volume-full"]


class Scrape(SpecModel):
    """How Prometheus scrapes: path, interval and the labels of the monitor object."""

    path: str = Field(default="/metrics", pattern=r"^/")
    interval: str = Field(default="30s", pattern=r"^([0-9]+(ms|s|m|h))+$")
    """Scrape interval, e.g. '30s'."""
    labels: Labels = Field(default_factory=dict)
    """Extra labels on the monitor object, besides the environment's monitoring.labels (e.g. 'release: prometheus',
    the label your Prometheus selects monitors by)."""


class MetricsEndpoint(Scrape):
    """Where Prometheus scrapes a server: a port of its Service; renders a Prometheus Operator ServiceMonitor."""

    port: PortName = "http"
    """Name of one of the workload's ports (default 'http')."""


class PodMetrics(Scrape):
    """Where Prometheus scrapes the pods of a run: a container port; renders a Prometheus Operator PodMonitor.

    The main container declares the port (`metrics`, Prometheus scrapes declared ports only); a TrainJob's trainer
    cannot declare ports (its runtime patches carry env, volumeMounts and securityContext), so its PodMonitor
    points at the pod's address and this port instead. Ray pods are scraped on the `metrics` port KubeRay declares
    on every Ray container (8080; ray-project/kuberay ray-operator/controllers/ray/common/pod.go, utils/constant.go
    DefaultMetricsPort).
    """

    port: int | None = Field(default=None, ge=1, le=65535)
    """Container port the program serves metrics on (default 9090; Ray: KubeRay's 8080, the only one allowed)."""


class GpuIdle(SpecModel):
    """GPUs allocated to running pods but idle (DCGM exporter's DCGM_FI_DEV_GPU_UTIL, percent)."""

    below: int = Field(default=10, ge=1, le=100)
    """Average utilisation (percent) under which the GPUs count as idle."""
    for_: Duration = Field(default="30m", alias="for", pattern=DURATION)
    """How long they must stay idle."""


class Restarts(SpecModel):
    """Containers restarting (kube-state-metrics' kube_pod_container_status_restarts_total)."""

    above: int = Field(default=3, ge=0)
    """Restarts of one container within `within` that fire the alert."""
    within: Duration = Field(default="1h", pattern=DURATION)


class Saturation(SpecModel):
    """A ratio (0 to 1) that stays above a threshold: an LLM server's KV cache, a volume's bytes."""

    above: float = Field(default=0.9, gt=0, lt=1)
    for_: Duration = Field(default="15m", alias="for", pattern=DURATION)


class LatencySlo(SpecModel):
    """The server's p95 latency objective: a Prometheus histogram and the most its 95th percentile may be."""

    p95: float = Field(gt=0)
    """Seconds, e.g. 2.5."""
    histogram: str | None = Field(default=None, pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    """Histogram the server exports, without `_bucket` (default for vLLM: vllm:e2e_request_latency_seconds; other
    servers must name theirs)."""
    for_: Duration = Field(default="10m", alias="for", pattern=DURATION)


class Alerts(SpecModel):
    """Thresholds of the alerts mlgitops derives (the environment's are defaults; a workload's override them)."""

    gpu_idle: GpuIdle | None = None
    restarts: Restarts | None = None
    kv_cache: Saturation | None = None
    """An LLM server's KV cache usage (vLLM's vllm:kv_cache_usage_perc); default above 0.9 for 15m."""
    queue_depth_for: Duration | None = Field(default=None, pattern=DURATION)
    """How long an LLM server's queue may stay above its autoscaler's target (default: the scale-up window, at
    least 5m)."""
    latency: LatencySlo | None = None
    """The p95 latency objective of a server (no alert without one)."""
    kueue_pending: Duration | None = Field(default=None, pattern=DURATION)
    """How long a queued run may wait in Kueue (default 2h)."""
    volume_full: Saturation | None = None
    """A claim's used bytes over its capacity (kubelet_volume_stats_*); environment-wide only."""
    disabled: list[AlertName] = Field(default_factory=list)
    """Alerts not to render, e.g. ['gpu-idle'] for a job that waits on data by design."""


class Monitoring(SpecModel):
    """The environment's Prometheus: the labels it selects monitors and rules by, and the alerts mlgitops derives.

    With this section the environment renders a PrometheusRule (`<namespace>-ml-alerts`) of every alert the spec
    implies; every ServiceMonitor, PodMonitor and the PrometheusRule carry `labels`.
    """

    labels: Labels = Field(default_factory=dict)
    """Labels the environment's Prometheus selects by (serviceMonitorSelector, podMonitorSelector, ruleSelector),
    e.g. 'release: prometheus'."""
    alerts: Alerts = Field(default_factory=Alerts)
    """Default thresholds of every workload's alerts."""
    runbook_url: str | None = Field(default=None, pattern=r"^https?://[^\s#]+$")
    """Base address of the runbooks: each alert links '<runbookUrl>#<alert name in lower case>'."""
    gpu_exporter_honor_labels: bool = False
    """Whether Prometheus keeps the DCGM exporter's own `namespace` and `pod` labels (its ServiceMonitor's
    honorLabels). The exporter's Helm chart defaults to false (NVIDIA/dcgm-exporter deployment/values.yaml), so
    the pod's labels arrive as `exported_namespace` and `exported_pod`."""
