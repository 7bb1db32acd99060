"""Kueue admission of jobs: the labels that queue them and the annotation that keeps Flux off their suspend field."""

from __future__ import annotations

from dataclasses import dataclass

from mlgitops.render.metadata import ObjectMeta
from mlgitops.render.pod import default_priority_class
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.queues import queue_of, rendered_queues

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


def queue_labels(environment: Environment, workload: WorkloadBase) -> dict[str, str]:
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


@dataclass(frozen=True)
class Queued:
    """A job of a kind Kueue can queue, as rendered: its queue (None: not queued) and its metadata with the queue's
    labels."""

    queue: str | None
    meta: ObjectMeta

    @property
    def annotations(self) -> dict[str, str]:
        """Annotations the job object adds (FLUX_CREATE_ONLY when queued)."""
        return queued_job_annotations(self.queue)

    def suspend(self, asked: bool) -> bool | None:
        """spec.suspend: as ``asked``, or None (left out of git) when queued.

        Kueue's mutating webhook suspends a job with the queue-name label when it is created and its reconciler
        resumes it on admission (kubernetes-sigs/kueue v0.19.2 ``ApplyDefaultForSuspend``,
        pkg/controller/jobframework/defaults.go; the webhooks are registered for create only; docs tasks/run/jobs.md:
        "you do not need to create the Job in a suspended state"). A `suspend: true` in git would be applied again
        by every Argo CD sync of a running job, which deletes its pods; left out, the field belongs to Kueue.
        (A queued workload that asks for `suspend` is refused by the spec checks.)
        """
        return None if self.queue is not None else asked


def queued(environment: Environment, workload: WorkloadBase, meta: ObjectMeta) -> Queued:
    """The workload's queue, and ``meta`` with the queue labels added."""
    labels = dict(sorted({**meta.labels, **queue_labels(environment, workload)}.items()))
    return Queued(queue_of(environment, workload), ObjectMeta(meta.name, labels, meta.annotations))


__all__ = [
    "FLUX_CREATE_ONLY",
    "PRIORITY_CLASS_LABEL",
    "QUEUE_LABEL",
    "Queued",
    "queue_labels",
    "queue_of",
    "queued",
    "queued_job_annotations",
]
