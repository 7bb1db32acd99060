"""Kueue admission of jobs: the labels that queue them and the annotation that keeps Flux off their suspend field."""

from __future__ import annotations

from mlgitops.render.pod import default_priority_class
from mlgitops.spec.environment import Environment
from mlgitops.spec.queues import queue_of, rendered_queues
from mlgitops.spec.workloads import Workload

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
PRIORITY_CLASS_LABEL = "kueue.x-k8s.io/priority-class"
# Kueue admits a job by unsuspending it. Flux re-applies the fields it owns on every reconcile and
# has no per-field ignore list (ArgoCD's Applications ignore the field instead), so it would suspend
# the job again: IfNotPresent makes Flux create a queued job and then leave it alone. Nothing is lost,
# since jobs are named by the hash of their spec and a changed job is a new object.
FLUX_CREATE_ONLY = {"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"}


def queued_job_annotations(queue: str | None) -> dict[str, str]:
    """Annotations of a job object that Kueue admits, none when it is not queued."""
    return dict(FLUX_CREATE_ONLY) if queue is not None else {}


def queue_labels(environment: Environment, workload: Workload) -> dict[str, str]:
    """The queue label of a queued job, and its WorkloadPriorityClass when the environment renders that class.

    Kueue orders and preempts queued jobs by the WorkloadPriorityClass named in
    kueue.x-k8s.io/priority-class (falling back to the pods' PriorityClass).
    """
    queue = queue_of(environment, workload)
    if queue is None:
        return {}
    labels = {QUEUE_LABEL: queue}
    priority = workload.priority_class_name or default_priority_class(environment, workload)
    if rendered_queues(environment) and priority in {c.name for c in environment.priorities.classes}:
        labels[PRIORITY_CLASS_LABEL] = str(priority)
    return labels


__all__ = ["FLUX_CREATE_ONLY", "PRIORITY_CLASS_LABEL", "QUEUE_LABEL", "queue_labels", "queue_of", "queued_job_annotations"]
