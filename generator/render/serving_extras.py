"""What a production model server needs besides its Deployment: a PodDisruptionBudget and a ServiceMonitor."""

from __future__ import annotations

from typing import Any

from mlgitops.render.autoscalers import render_autoscalers
from mlgitops.render.metadata import ObjectMeta, selector_labels
from mlgitops.render.monitoring import render_monitor
from mlgitops.render.traffic import render_http_route, render_ingress
from mlgitops.spec.environment import Environment
from mlgitops.spec.serving import ServerBase


def least_replicas(workload: ServerBase) -> int:
    """The fewest replicas the workload runs with (HPA or KEDA minimum, or the fixed count)."""
    if workload.autoscaling is not None:
        return workload.autoscaling.min_replicas
    if workload.keda is not None:
        return workload.keda.min_replicas
    return 1 if workload.replicas is None else workload.replicas


def render_server_extras(
    environment: Environment, workload: ServerBase, meta: ObjectMeta, target: dict[str, str]
) -> list[dict[str, Any]]:
    """What a server has besides its pods and Service: its autoscaler, PodDisruptionBudget, ServiceMonitor, Ingress
    and HTTPRoute."""
    extras = render_autoscalers(environment, workload, meta, target)
    for extra in (
        render_disruption_budget(environment, workload, meta),
        render_service_monitor(environment, workload, meta),
        render_ingress(environment, workload, meta),
        render_http_route(environment, workload, meta),
    ):
        if extra is not None:
            extras.append(extra)
    return extras


def render_disruption_budget(environment: Environment, workload: ServerBase, meta: ObjectMeta) -> dict[str, Any] | None:
    """A PDB when asked for, or by default once the server runs 2 or more replicas (maxUnavailable: 1)."""
    budget = workload.disruption_budget
    if budget is None and least_replicas(workload) < 2:
        return None
    spec: dict[str, Any] = {}
    if budget is None or budget.max_unavailable is not None:
        spec["maxUnavailable"] = 1 if budget is None else budget.max_unavailable
    else:
        spec["minAvailable"] = budget.min_available
    spec["selector"] = {"matchLabels": selector_labels(workload.name)}
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta.render(environment.namespace),
        "spec": spec,
    }


def render_service_monitor(environment: Environment, workload: ServerBase, meta: ObjectMeta) -> dict[str, Any] | None:
    """A Prometheus Operator ServiceMonitor scraping the workload's Service (render/monitoring.py)."""
    metrics = workload.metrics
    if metrics is None:
        return None
    return render_monitor(environment, "ServiceMonitor", meta, workload.name, metrics, {"port": metrics.port})
