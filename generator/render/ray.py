"""Ray workloads → KubeRay objects (ray.io/v1): a RayJob (named by the hash of its spec) or a RayService.

Every Ray pod gets the pod treatment of any other kind (placement and tolerations from its node
pool, GPUs in limits, security, mounts): the head from the workload's `resources` and `nodePool`,
each worker group from its own. With the Ray autoscaler on, worker `replicas` are left out: the
autoscaler owns them, and git must not fight it (ArgoCD also ignores them, see gitops.py).
"""

from __future__ import annotations

from typing import Any

from mlgitops.render.kinds import renders
from mlgitops.render.kueue import queued
from mlgitops.render.metadata import ObjectMeta
from mlgitops.render.monitoring import render_pod_monitor
from mlgitops.render.network import ray_ingress
from mlgitops.render.pod import pod_template
from mlgitops.render.workloads_hash import hash_named
from mlgitops.spec.environment import Environment
from mlgitops.spec.placement import Placement, place
from mlgitops.spec.ray import RayJob, RayService, RayWorkerGroup, RayWorkloadBase
from mlgitops.spec.ray_upgrade import upgrade_plan
from mlgitops.yaml.writer import dump_embedded

RAY_API = "ray.io/v1"
HEAD_CONTAINER = "ray-head"
WORKER_CONTAINER = "ray-worker"


def _worker_group(environment: Environment, workload: RayWorkloadBase, group: RayWorkerGroup, meta: ObjectMeta) -> dict[str, Any]:
    view = workload.worker_view(group)
    template = pod_template(
        environment, view, place(environment, view), meta, restart_policy=None, container_name=WORKER_CONTAINER
    )
    rendered: dict[str, Any] = {"groupName": group.name}
    if workload.autoscaling is None:
        rendered["replicas"] = group.fixed_replicas
        rendered["minReplicas"] = group.fixed_replicas
        rendered["maxReplicas"] = group.fixed_replicas
    else:
        rendered["minReplicas"] = group.min_replicas or 0
        rendered["maxReplicas"] = group.max_replicas
    rendered["rayStartParams"] = dict(sorted(group.ray_start_params.items()))
    rendered["template"] = template
    return rendered


def ray_cluster_spec(
    environment: Environment, workload: RayWorkloadBase, meta: ObjectMeta, placement: Placement
) -> dict[str, Any]:
    """A RayClusterSpec: the head placed like the workload, each worker group on its own pool."""
    spec: dict[str, Any] = {}
    if workload.ray_version is not None:
        spec["rayVersion"] = workload.ray_version
    autoscaling = workload.autoscaling
    if autoscaling is not None:
        spec["enableInTreeAutoscaling"] = True
        options: dict[str, Any] = {}
        if autoscaling.idle_timeout_seconds is not None:
            options["idleTimeoutSeconds"] = autoscaling.idle_timeout_seconds
        if autoscaling.upscaling_mode is not None:
            options["upscalingMode"] = autoscaling.upscaling_mode
        if options:
            spec["autoscalerOptions"] = options
    # The in-tree autoscaler is a container of the head pod that calls the API server with the pod's ServiceAccount
    # token (spec/ray_checks.py): an autoscaled head keeps its token, the workers do without.
    head_view = workload.model_copy(update={"automount_service_account_token": True}) if autoscaling else workload
    head = pod_template(environment, head_view, placement, meta, restart_policy=None, container_name=HEAD_CONTAINER)
    spec["headGroupSpec"] = {"rayStartParams": dict(sorted(workload.head_start_params.items())), "template": head}
    if workload.worker_groups:
        spec["workerGroupSpecs"] = [_worker_group(environment, workload, group, meta) for group in workload.worker_groups]
    return spec


@renders(RayJob, ingress=ray_ingress)
def render_ray_job(environment: Environment, workload: RayJob, meta: ObjectMeta, placement: Placement) -> list[dict[str, Any]]:
    job = queued(environment, workload, meta)
    spec: dict[str, Any] = {"entrypoint": workload.entrypoint}
    if workload.runtime_env is not None:
        spec["runtimeEnvYAML"] = dump_embedded(workload.runtime_env)
    spec["shutdownAfterJobFinishes"] = workload.shutdown_after_job_finishes
    if workload.ttl_seconds_after_finished is not None:
        spec["ttlSecondsAfterFinished"] = workload.ttl_seconds_after_finished
    if workload.active_deadline_seconds is not None:
        spec["activeDeadlineSeconds"] = workload.active_deadline_seconds
    if workload.backoff_limit is not None:
        spec["backoffLimit"] = workload.backoff_limit
    suspend = job.suspend(workload.suspend)
    if suspend is not None:
        spec["suspend"] = suspend
    # The Ray pods carry the workload's labels, not the queue's (Kueue queues the RayJob).
    spec["rayClusterSpec"] = ray_cluster_spec(environment, workload, meta, placement)
    ray_job = hash_named(RAY_API, "RayJob", job.meta, environment.namespace, spec, job.annotations)
    return [ray_job, *render_pod_monitor(environment, meta, workload, workload.metrics)]


@renders(RayService, ingress=ray_ingress)
def render_ray_service(
    environment: Environment, workload: RayService, meta: ObjectMeta, placement: Placement
) -> list[dict[str, Any]]:
    spec: dict[str, Any] = {}
    plan = upgrade_plan(environment, workload)
    if plan.strategy is not None:
        # Always written: without it the operator's ENABLE_ZERO_DOWNTIME decides (spec/ray_upgrade.py).
        strategy: dict[str, Any] = {"type": plan.strategy}
        if plan.gateway_class_name is not None:
            upgrade = workload.upgrade
            strategy["clusterUpgradeOptions"] = {
                "gatewayClassName": plan.gateway_class_name,
                "maxSurgePercent": upgrade.max_surge_percent,
                "stepSizePercent": upgrade.step_size_percent,
                "intervalSeconds": upgrade.interval_seconds,
            }
        spec["upgradeStrategy"] = strategy
    spec["serveConfigV2"] = dump_embedded(workload.serve_config)
    spec["rayClusterConfig"] = ray_cluster_spec(environment, workload, meta, placement)
    service = {"apiVersion": RAY_API, "kind": "RayService", "metadata": meta.render(environment.namespace), "spec": spec}
    return [service, *render_pod_monitor(environment, meta, workload, workload.metrics)]
