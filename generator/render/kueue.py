"""Kueue admission: which queue a training workload goes to."""

from __future__ import annotations

from generator.spec.environment import Environment
from generator.spec.workloads import DistributedTraining, Training

QUEUE_LABEL = "kueue.x-k8s.io/queue-name"


def queue_of(environment: Environment, workload: Training | DistributedTraining) -> str | None:
    """The LocalQueue the workload is submitted to, or None when it is not queued.

    Queued workloads are created suspended: Kueue unsuspends them once quota admits them.
    """
    if workload.queue is not None:
        return workload.queue
    if environment.kueue is not None:
        return environment.kueue.default_queue
    return None
