"""Autoscalers of servers: an autoscaling/v2 HorizontalPodAutoscaler, or a KEDA ScaledObject on Prometheus queries.

A server has at most one (checks refuse both: KEDA runs an HPA of its own). The target it scales
never sets spec.replicas in git, or ArgoCD and the autoscaler fight over it.
"""

from __future__ import annotations

from typing import Any

from mlgitops.render.keda import render_scaled_object
from mlgitops.render.metadata import ObjectMeta
from mlgitops.spec.autoscaling import Autoscaling, CpuMetric, ExternalMetric, MemoryMetric, PodsMetric, ScalingRules
from mlgitops.spec.environment import Environment
from mlgitops.spec.serving import ServerBase


def scale_target(api_version: str, kind: str, name: str) -> dict[str, str]:
    """The scaleTargetRef of an autoscaler: the object whose scale subresource it sets."""
    return {"apiVersion": api_version, "kind": kind, "name": name}


def render_autoscalers(
    environment: Environment, workload: ServerBase, meta: ObjectMeta, target: dict[str, str]
) -> list[dict[str, Any]]:
    """The server's HPA or ScaledObject (none when its replica count is fixed)."""
    if workload.autoscaling is not None:
        return [_autoscaler(environment, workload.autoscaling, meta, target)]
    if workload.keda is not None:
        return [render_scaled_object(environment, workload, meta, target)]
    return []


def _metric(metric: CpuMetric | MemoryMetric | PodsMetric | ExternalMetric) -> dict[str, Any]:
    if isinstance(metric, (CpuMetric, MemoryMetric)):
        return {
            "type": "Resource",
            "resource": {
                "name": metric.type,
                "target": {"type": "Utilization", "averageUtilization": metric.utilization},
            },
        }
    if isinstance(metric, PodsMetric):
        described: dict[str, Any] = {"name": metric.name}
        if metric.selector:
            described["selector"] = {"matchLabels": dict(sorted(metric.selector.items()))}
        return {
            "type": "Pods",
            "pods": {"metric": described, "target": {"type": "AverageValue", "averageValue": metric.average_value}},
        }
    described = {"name": metric.name}
    if metric.selector:
        described["selector"] = {"matchLabels": dict(sorted(metric.selector.items()))}
    target: dict[str, Any] = (
        {"type": "Value", "value": metric.value}
        if metric.value is not None
        else {"type": "AverageValue", "averageValue": metric.average_value}
    )
    return {"type": "External", "external": {"metric": described, "target": target}}


def _rules(rules: ScalingRules) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    if rules.stabilization_window_seconds is not None:
        rendered["stabilizationWindowSeconds"] = rules.stabilization_window_seconds
    if rules.select_policy is not None:
        rendered["selectPolicy"] = rules.select_policy
    if rules.policies:
        rendered["policies"] = [{"type": p.type, "value": p.value, "periodSeconds": p.period_seconds} for p in rules.policies]
    return rendered


def _autoscaler(environment: Environment, autoscaling: Autoscaling, meta: ObjectMeta, target: dict[str, str]) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": dict(target),
        "minReplicas": autoscaling.min_replicas,
        "maxReplicas": autoscaling.max_replicas,
        "metrics": [_metric(metric) for metric in autoscaling.metrics],
    }
    if autoscaling.behavior is not None:
        behavior = {}
        if autoscaling.behavior.scale_up is not None:
            behavior["scaleUp"] = _rules(autoscaling.behavior.scale_up)
        if autoscaling.behavior.scale_down is not None:
            behavior["scaleDown"] = _rules(autoscaling.behavior.scale_down)
        spec["behavior"] = behavior
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": meta.render(environment.namespace),
        "spec": spec,
    }
