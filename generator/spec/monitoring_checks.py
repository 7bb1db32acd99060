"""What a workload's `metrics` and `alerts` ask for that cannot work, at the lines that ask for it."""

from __future__ import annotations

from typing import Any

from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.kinds import KindSpec
from mlgitops.spec.monitoring import PodMetrics
from mlgitops.spec.problems import FieldPath, SpecProblem


def monitoring_problems(environment: Environment, row: KindSpec[Any], workload: WorkloadBase, at: FieldPath) -> list[SpecProblem]:
    """A metrics port the operator fixes (KubeRay's), alerts without the environment's monitoring section, and a
    latency objective without a histogram to measure it."""
    problems = []
    metrics = getattr(workload, "metrics", None)
    if isinstance(metrics, PodMetrics) and row.metrics_port is not None and metrics.port not in (None, row.metrics_port):
        problems.append(
            SpecProblem(
                (*at, "metrics", "port"),
                f"{row.kind} pods are scraped on the port the operator declares as `metrics` ({row.metrics_port}): "
                "leave metrics.port out",
            )
        )
    alerts = workload.alerts
    if alerts is None:
        return problems
    if environment.monitoring is None:
        problems.append(
            SpecProblem((*at, "alerts"), "alerts are rendered into the environment's PrometheusRule: add a `monitoring:` section")
        )
    latency = alerts.latency
    if latency is not None and latency.histogram is None and getattr(workload, "server", None) != "vllm":
        problems.append(
            SpecProblem(
                (*at, "alerts", "latency"),
                "name the latency histogram the server exports (alerts.latency.histogram, without `_bucket`); only "
                "vLLM's is known",
            )
        )
    return problems
