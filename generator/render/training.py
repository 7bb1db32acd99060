"""Training → a batch/v1 Job named by the hash of its spec (a changed spec is a new Job, a new run)."""

from __future__ import annotations

from typing import Any

from mlgitops.render.kinds import renders
from mlgitops.render.kueue import queued
from mlgitops.render.metadata import ObjectMeta
from mlgitops.render.monitoring import declared_port, render_pod_monitor
from mlgitops.render.pod import pod_template
from mlgitops.render.tuning import render_experiment
from mlgitops.render.workloads_hash import hash_named
from mlgitops.spec.environment import Environment
from mlgitops.spec.placement import Placement
from mlgitops.spec.training import Training


@renders(Training)
def render_training_job(
    environment: Environment, workload: Training, meta: ObjectMeta, placement: Placement
) -> list[dict[str, Any]]:
    """The Job; queued, it carries the queue's labels (its pods too), and Kueue's webhook suspends it on create."""
    job = queued(environment, workload, meta)
    spec: dict[str, Any] = {"backoffLimit": workload.backoff_limit}
    if workload.active_deadline_seconds is not None:
        spec["activeDeadlineSeconds"] = workload.active_deadline_seconds
    spec["completions"] = workload.completions
    spec["parallelism"] = workload.parallelism
    # No spec.suspend: Kueue's webhook suspends a queued Job when it is created (render/kueue.py, Queued.suspend).
    spec["template"] = pod_template(
        environment,
        workload,
        placement,
        job.meta,
        restart_policy=workload.restart_policy,
        ports=declared_port(workload, workload.metrics),
    )
    # No ttlSecondsAfterFinished: ArgoCD would recreate the deleted Job and the run would start again.
    if workload.tuning is not None:
        # Tuned: Katib runs the Job as trials (render/tuning.py).
        job_object = render_experiment(environment, workload, job.meta, spec, job.annotations)
    else:
        job_object = hash_named("batch/v1", "Job", job.meta, environment.namespace, spec, job.annotations)
    return [job_object, *render_pod_monitor(environment, meta, workload, workload.metrics)]
