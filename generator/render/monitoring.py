"""Prometheus Operator monitors: a server's ServiceMonitor and a run's PodMonitor, built by one function.

Both select the workload's pods (or its Service) by the workload's selector labels and carry the labels the
environment's Prometheus selects monitors by (``monitoring.labels``) plus the workload's own. SOURCE:
prometheus-operator/prometheus-operator example/prometheus-operator-crd/monitoring.coreos.com_{servicemonitors,
podmonitors}.yaml (``spec.endpoints`` and ``spec.podMetricsEndpoints``; ``port`` names a declared port, and
Prometheus' Kubernetes discovery makes one port-less target per container that declares none, which a relabeling
can point at a port: prometheus/prometheus discovery/kubernetes/pod.go).
"""

from __future__ import annotations

from typing import Any, Literal

from mlgitops.render.metadata import ObjectMeta, selector_labels
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.kinds import kind_of
from mlgitops.spec.monitoring import PodMetrics, Scrape

MonitorKind = Literal["ServiceMonitor", "PodMonitor"]
DEFAULT_METRICS_PORT = 9090
METRICS_PORT_NAME = "metrics"


def render_monitor(
    environment: Environment, kind: MonitorKind, meta: ObjectMeta, app: str, scrape: Scrape, endpoint: dict[str, Any]
) -> dict[str, Any]:
    """A ServiceMonitor or PodMonitor named after the workload, selecting its Service or pods by ``app``;
    ``endpoint`` says where (a port name, or relabelings), ``scrape`` the path, interval and extra labels."""
    shared = environment.monitoring.labels if environment.monitoring is not None else {}
    labels = dict(sorted({**meta.labels, **shared, **scrape.labels}.items()))
    endpoints = "endpoints" if kind == "ServiceMonitor" else "podMetricsEndpoints"
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": kind,
        "metadata": ObjectMeta(meta.name, labels, meta.annotations).render(environment.namespace),
        "spec": {
            "selector": {"matchLabels": selector_labels(app)},
            endpoints: [{**endpoint, "path": scrape.path, "interval": scrape.interval}],
        },
    }


def metrics_port(workload: WorkloadBase, metrics: PodMetrics) -> int:
    """The container port a run's metrics are scraped on (the port its operator declares, e.g. KubeRay's)."""
    fixed = kind_of(workload).metrics_port
    if fixed is not None:
        return fixed
    return metrics.port if metrics.port is not None else DEFAULT_METRICS_PORT


def declared_port(workload: WorkloadBase, metrics: PodMetrics | None) -> list[dict[str, Any]] | None:
    """The main container's `metrics` port, to declare in its pod template (None without metrics)."""
    if metrics is None:
        return None
    return [{"name": METRICS_PORT_NAME, "containerPort": metrics_port(workload, metrics), "protocol": "TCP"}]


def render_pod_monitor(
    environment: Environment,
    meta: ObjectMeta,
    workload: WorkloadBase,
    metrics: PodMetrics | None,
    *,
    container: str | None = None,
) -> list[dict[str, Any]]:
    """A PodMonitor of the run's pods on their declared `metrics` port; with ``container`` (a TrainJob's trainer,
    which cannot declare ports) on that container's pod address at the metrics port instead. None without metrics."""
    if metrics is None:
        return []
    endpoint: dict[str, Any] = {"port": METRICS_PORT_NAME}
    if container is not None:
        endpoint = {
            "relabelings": [
                {
                    "action": "keep",
                    "sourceLabels": ["__meta_kubernetes_pod_container_name"],
                    "regex": container,
                },
                {
                    "action": "replace",
                    "sourceLabels": ["__meta_kubernetes_pod_ip"],
                    "targetLabel": "__address__",
                    "regex": "(.+)",
                    "replacement": f"$1:{metrics_port(workload, metrics)}",
                },
            ]
        }
    return [render_monitor(environment, "PodMonitor", meta, workload.name, metrics, endpoint)]
