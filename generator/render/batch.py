"""Batch → a batch/v1 CronJob: a scheduled job, such as nightly batch inference."""

from __future__ import annotations

from typing import Any

from mlgitops.render.kinds import renders
from mlgitops.render.metadata import ObjectMeta
from mlgitops.render.monitoring import declared_port, render_pod_monitor
from mlgitops.render.pod import pod_template
from mlgitops.spec.batch import Batch
from mlgitops.spec.environment import Environment
from mlgitops.spec.placement import Placement


@renders(Batch)
def render_cron_job(environment: Environment, workload: Batch, meta: ObjectMeta, placement: Placement) -> list[dict[str, Any]]:
    job_spec: dict[str, Any] = {"backoffLimit": workload.backoff_limit}
    if workload.active_deadline_seconds is not None:
        job_spec["activeDeadlineSeconds"] = workload.active_deadline_seconds
    job_spec["template"] = pod_template(
        environment,
        workload,
        placement,
        meta,
        restart_policy=workload.restart_policy,
        ports=declared_port(workload, workload.metrics),
    )
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
    return [
        {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": meta.render(environment.namespace),
            "spec": spec,
        },
        *render_pod_monitor(environment, meta, workload, workload.metrics),
    ]
