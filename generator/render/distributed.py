"""Distributed training with `jobKind: PyTorchJob` → a Training Operator v1 PyTorchJob: one Master, numNodes - 1 Workers."""

from __future__ import annotations

from typing import Any

from mlgitops.render.kueue import queue_labels, queued_job_annotations
from mlgitops.render.metadata import ObjectMeta
from mlgitops.render.pod import pod_template
from mlgitops.render.workloads_hash import hash_named
from mlgitops.spec.environment import Environment
from mlgitops.spec.placement import Placement
from mlgitops.spec.queues import queue_of
from mlgitops.spec.training import DistributedTraining

# The training operator requires the container it configures to be named "pytorch".
CONTAINER_NAME = "pytorch"


def render_pytorch_job(
    environment: Environment, workload: DistributedTraining, meta: ObjectMeta, placement: Placement
) -> dict[str, Any]:
    queue = queue_of(environment, workload)
    labels = dict(sorted({**meta.labels, **queue_labels(environment, workload)}.items()))
    template_meta = ObjectMeta(meta.name, labels, meta.annotations)
    template = pod_template(environment, workload, placement, template_meta, restart_policy=None, container_name=CONTAINER_NAME)
    replicas: dict[str, Any] = {"Master": {"replicas": 1, "restartPolicy": workload.restart_policy, "template": template}}
    if workload.pods > 1:
        replicas["Worker"] = {
            "replicas": workload.pods - 1,
            "restartPolicy": workload.restart_policy,
            "template": template,
        }
    spec: dict[str, Any] = {"nprocPerNode": str(workload.nproc_per_node)}
    if workload.elastic_policy is not None:
        elastic = workload.elastic_policy
        policy: dict[str, Any] = {
            "minReplicas": elastic.min_replicas,
            "maxReplicas": elastic.max_replicas,
            "rdzvBackend": elastic.rdzv_backend,
        }
        if elastic.max_restarts is not None:
            policy["maxRestarts"] = elastic.max_restarts
        spec["elasticPolicy"] = policy
    run_policy: dict[str, Any] = {"cleanPodPolicy": workload.run_policy.clean_pod_policy}
    if workload.run_policy.backoff_limit is not None:
        run_policy["backoffLimit"] = workload.run_policy.backoff_limit
    if workload.run_policy.active_deadline_seconds is not None:
        run_policy["activeDeadlineSeconds"] = workload.run_policy.active_deadline_seconds
    # Kueue admits a queued job by unsuspending it, so it must be created suspended.
    run_policy["suspend"] = workload.run_policy.suspend or queue is not None
    spec["runPolicy"] = run_policy
    spec["pytorchReplicaSpecs"] = replicas
    return hash_named("kubeflow.org/v1", "PyTorchJob", template_meta, environment.namespace, spec, queued_job_annotations(queue))
