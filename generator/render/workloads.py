"""Workload kinds to Kubernetes objects: training → Job, distributed-training → TrainJob (or PyTorchJob),
serving → Deployment/Service/HPA (or an InferenceService), LLM servers, batch → CronJob, ray-job → RayJob,
ray-service → RayService."""

from __future__ import annotations

from typing import Any

from mlgitops.render.autoscalers import scale_target
from mlgitops.render.distributed import render_pytorch_job
from mlgitops.render.dra import render_claim_template
from mlgitops.render.identity import render_service_account
from mlgitops.render.kserve import render_inference_service
from mlgitops.render.kueue import queue_labels, queued_job_annotations
from mlgitops.render.llm import render_llm_server
from mlgitops.render.metadata import ObjectMeta, object_meta, selector_labels
from mlgitops.render.pod import pod_template
from mlgitops.render.ray import render_ray_job, render_ray_service
from mlgitops.render.serving_extras import render_server_extras
from mlgitops.render.storage import rollout_strategy
from mlgitops.render.trainjob import render_train_job
from mlgitops.render.workloads_hash import hash_named
from mlgitops.spec.batch import Batch
from mlgitops.spec.environment import Environment
from mlgitops.spec.llm import LlmServing
from mlgitops.spec.placement import Placement, place
from mlgitops.spec.queues import queue_of
from mlgitops.spec.ray import RayJob, RayService
from mlgitops.spec.serving import Serving
from mlgitops.spec.serving_defaults import resolved
from mlgitops.spec.training import DistributedTraining, Training
from mlgitops.spec.workloads import Workload


def render_workload(environment: Environment, environment_name: str, workload: Workload) -> list[dict[str, Any]]:
    """The workload's objects: its own ServiceAccount (if it declares one) first; accelerators claimed through
    DRA add the workload's ResourceClaimTemplate."""
    full = resolved(environment, workload)
    placement = place(environment, full)
    component = {"training": "training", "distributed-training": "training", "batch": "batch", "ray-job": "batch"}.get(
        workload.kind, "serving"
    )
    meta = _meta(environment, environment_name, full, component)
    objects = _objects(environment, workload, full, meta, placement)
    if placement.device_class is not None and full.resources.gpu is not None:
        objects.append(render_claim_template(environment, full, meta, placement))
    if workload.service_account is not None:
        account = render_service_account(
            environment, environment_name, workload.name, workload.service_account, app=workload.name
        )
        objects.insert(0, account)
    return objects


def _objects(
    environment: Environment, workload: Workload, full: Workload, meta: ObjectMeta, placement: Placement
) -> list[dict[str, Any]]:
    if isinstance(full, Training):
        return [_training_job(environment, full, meta, placement)]
    if isinstance(full, DistributedTraining):
        if full.job_kind == "PyTorchJob":
            return [render_pytorch_job(environment, full, meta, placement)]
        return [render_train_job(environment, full, meta, placement)]
    if isinstance(full, RayJob):
        return [render_ray_job(environment, full, meta, placement)]
    if isinstance(full, RayService):
        return [render_ray_service(environment, full, meta, placement)]
    if isinstance(workload, LlmServing):
        return render_llm_server(environment, workload, meta, placement)
    if isinstance(full, Serving):
        if full.kserve is not None:
            return [render_inference_service(environment, full, meta, placement)]
        return _serving(environment, full, meta, placement)
    assert isinstance(full, Batch)
    return [_cron_job(environment, full, meta, placement)]


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
        meta = ObjectMeta(
            meta.name, dict(sorted({**meta.labels, **queue_labels(environment, workload)}.items())), meta.annotations
        )
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
    return hash_named("batch/v1", "Job", meta, environment.namespace, spec, queued_job_annotations(queue))


def _serving(environment: Environment, workload: Serving, meta: ObjectMeta, placement: Any) -> list[dict[str, Any]]:
    ports = [{"name": p.name, "containerPort": p.port, "protocol": p.protocol} for p in workload.ports]
    spec: dict[str, Any] = {}
    if workload.autoscaling is None and workload.keda is None:
        # Under an HPA (or KEDA's), spec.replicas stays out of git, or ArgoCD and the autoscaler fight over it.
        spec["replicas"] = 1 if workload.replicas is None else workload.replicas
    spec["selector"] = {"matchLabels": selector_labels(workload.name)}
    strategy = rollout_strategy(environment, (mount.volume for mount in workload.mounts))
    if strategy is not None:
        spec["strategy"] = strategy
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
    target = scale_target("apps/v1", "Deployment", meta.name)
    return [deployment, service, *render_server_extras(environment, workload, meta, target)]


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
