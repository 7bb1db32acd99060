"""Kueue admission: which queue a training workload goes to."""

from __future__ import annotations

from generator.spec.environment import Environment
from generator.spec.training import DistributedTraining, Training

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
# Kueue admits a job by unsuspending it. Flux re-applies the fields it owns on every reconcile and
# has no per-field ignore list (ArgoCD's Applications ignore the field instead), so it would suspend
# the job again: IfNotPresent makes Flux create a queued job and then leave it alone. Nothing is lost,
# since jobs are named by the hash of their spec and a changed job is a new object.
FLUX_CREATE_ONLY = {"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"}


def queued_job_annotations(queue: str | None) -> dict[str, str]:
    """Annotations of a (Py)Torch/batch job object that Kueue admits, none when it is not queued."""
    return dict(FLUX_CREATE_ONLY) if queue is not None else {}


def queue_of(environment: Environment, workload: Training | DistributedTraining) -> str | None:
    """The LocalQueue the workload is submitted to, or None when it is not queued.

    Queued workloads are created suspended: Kueue unsuspends them once quota admits them.
    """
    if workload.queue is not None:
        return workload.queue
    if environment.kueue is not None:
        return environment.kueue.default_queue
    return None
