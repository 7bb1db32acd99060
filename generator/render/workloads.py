"""Workload kinds to Kubernetes objects: training → Job, serving → Deployment/Service/HPA, batch → CronJob."""

from __future__ import annotations

from typing import Any

from generator.render.distributed import render_pytorch_job
from generator.render.kserve import render_inference_service
from generator.render.kueue import QUEUE_LABEL, queue_of, queued_job_annotations
from generator.render.metadata import ObjectMeta, object_meta, selector_labels
from generator.render.pod import pod_template
from generator.render.serving_extras import render_disruption_budget, render_service_monitor
from generator.render.workloads_hash import spec_hash
from generator.spec.autoscaling import (
    Autoscaling,
    CpuMetric,
    ExternalMetric,
    MemoryMetric,
    PodsMetric,
    ScalingRules,
)
from generator.spec.batch import Batch
from generator.spec.environment import Environment
from generator.spec.placement import place
from generator.spec.serving import Serving
from generator.spec.serving_defaults import with_mlflow
from generator.spec.training import DistributedTraining, Training
from generator.spec.workloads import Workload


def render_workload(environment: Environment, environment_name: str, workload: Workload) -> list[dict[str, Any]]:
    workload = with_mlflow(environment, workload)
    placement = place(environment, workload)
    if isinstance(workload, Training):
        meta = _meta(environment, environment_name, workload, "training")
        return [_training_job(environment, workload, meta, placement)]
    if isinstance(workload, DistributedTraining):
        meta = _meta(environment, environment_name, workload, "training")
        return [render_pytorch_job(environment, workload, meta, placement)]
    if isinstance(workload, Serving):
        meta = _meta(environment, environment_name, workload, "serving")
        if workload.kserve is not None:
            return [render_inference_service(environment, workload, meta, placement)]
        return _serving(environment, workload, meta, placement)
    meta = _meta(environment, environment_name, workload, "batch")
    return [_cron_job(environment, workload, meta, placement)]


def _meta(environment: Environment, environment_name: str, workload: Workload, component: str) -> ObjectMeta:
    return object_meta(
        environment,
        environment_name,
        name=workload.name,
        app=workload.name,
        component=component,
        labels=dict(workload.labels),
        annotations=dict(workload.annotations),
    )


def _training_job(environment: Environment, workload: Training, meta: ObjectMeta, placement: Any) -> dict[str, Any]:
    queue = queue_of(environment, workload)
    if queue is not None:
        meta = ObjectMeta(meta.name, dict(sorted({**meta.labels, QUEUE_LABEL: queue}.items())), meta.annotations)
    spec: dict[str, Any] = {"backoffLimit": workload.backoff_limit}
    if workload.active_deadline_seconds is not None:
        spec["activeDeadlineSeconds"] = workload.active_deadline_seconds
    spec["completions"] = workload.completions
    spec["parallelism"] = workload.parallelism
    if queue is not None:
        # Kueue admits a queued Job by unsuspending it, so it must be created suspended.
        spec["suspend"] = True
    spec["template"] = pod_template(environment, workload, placement, meta, restart_policy=workload.restart_policy)
    # No ttlSecondsAfterFinished: ArgoCD would recreate the deleted Job and the run would start again.
    name = f"{workload.name}-{spec_hash(spec)}"
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": ObjectMeta(name, meta.labels, meta.annotations).render(environment.namespace, queued_job_annotations(queue)),
        "spec": spec,
    }


def _serving(environment: Environment, workload: Serving, meta: ObjectMeta, placement: Any) -> list[dict[str, Any]]:
    ports = [{"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in workload.ports]
    spec: dict[str, Any] = {}
    if workload.autoscaling is None:
        # Under an HPA, spec.replicas stays out of git, or ArgoCD and the HPA fight over it.
        spec["replicas"] = 1 if workload.replicas is None else workload.replicas
    spec["selector"] = {"matchLabels": selector_labels(workload.name)}
    spec["template"] = pod_template(environment, workload, placement, meta, restart_policy=None, ports=ports)
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": meta.render(environment.namespace),
        "spec": spec,
    }
    service = {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta.render(environment.namespace),
        "spec": {
            "type": "ClusterIP",
            "selector": selector_labels(workload.name),
            "ports": [{"name": p.name, "port": p.port, "targetPort": p.name, "protocol": p.protocol} for p in workload.ports],
        },
    }
    objects = [deployment, service]
    if workload.autoscaling is not None:
        objects.append(_autoscaler(environment, workload.autoscaling, meta))
    for extra in (
        render_disruption_budget(environment, workload, meta),
        render_service_monitor(environment, workload, meta),
    ):
        if extra is not None:
            objects.append(extra)
    return objects


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
    target = (
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


def _autoscaler(environment: Environment, autoscaling: Autoscaling, meta: ObjectMeta) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": meta.name},
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


def _cron_job(environment: Environment, workload: Batch, meta: ObjectMeta, placement: Any) -> dict[str, Any]:
    job_spec: dict[str, Any] = {"backoffLimit": workload.backoff_limit}
    if workload.active_deadline_seconds is not None:
        job_spec["activeDeadlineSeconds"] = workload.active_deadline_seconds
    job_spec["template"] = pod_template(environment, workload, placement, meta, restart_policy=workload.restart_policy)
    spec: dict[str, Any] = {"schedule": workload.schedule}
    if workload.time_zone is not None:
        spec["timeZone"] = workload.time_zone
    spec["concurrencyPolicy"] = workload.concurrency_policy
    spec["suspend"] = workload.suspend
    if workload.starting_deadline_seconds is not None:
        spec["startingDeadlineSeconds"] = workload.starting_deadline_seconds
    spec["successfulJobsHistoryLimit"] = workload.successful_jobs_history_limit
    spec["failedJobsHistoryLimit"] = workload.failed_jobs_history_limit
    spec["jobTemplate"] = {"metadata": {"labels": dict(meta.labels)}, "spec": job_spec}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": meta.render(environment.namespace),
        "spec": spec,
    }
