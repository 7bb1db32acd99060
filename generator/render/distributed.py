"""Distributed training → a Kubeflow Trainer v2 TrainJob (trainjob.py), or with `jobKind: PyTorchJob` a Training
Operator v1 PyTorchJob: one Master, numNodes - 1 Workers."""

from __future__ import annotations

from typing import Any

from mlgitops.kube.trainjob import TRAINER_STEP
from mlgitops.render.kinds import renders
from mlgitops.render.kueue import queued
from mlgitops.render.metadata import ObjectMeta
from mlgitops.render.monitoring import declared_port, render_pod_monitor
from mlgitops.render.network import distributed_ingress
from mlgitops.render.pod import pod_template
from mlgitops.render.trainjob import render_train_job
from mlgitops.render.workloads_hash import hash_named
from mlgitops.spec.environment import Environment
from mlgitops.spec.placement import Placement
from mlgitops.spec.training import DistributedTraining

# The training operator requires the container it configures to be named "pytorch".
CONTAINER_NAME = "pytorch"


@renders(DistributedTraining, ingress=distributed_ingress)
def render_distributed_training(
    environment: Environment, workload: DistributedTraining, meta: ObjectMeta, placement: Placement
) -> list[dict[str, Any]]:
    """A TrainJob (trainjob.py), or with `jobKind: PyTorchJob` a PyTorchJob."""
    if workload.job_kind == "PyTorchJob":
        return [
            render_pytorch_job(environment, workload, meta, placement),
            *render_pod_monitor(environment, meta, workload, workload.metrics),
        ]
    # The trainer cannot declare ports: the PodMonitor points at its pods' addresses (render/monitoring.py).
    monitors = render_pod_monitor(environment, meta, workload, workload.metrics, container=TRAINER_STEP)
    return [render_train_job(environment, workload, meta, placement), *monitors]


def render_pytorch_job(
    environment: Environment, workload: DistributedTraining, meta: ObjectMeta, placement: Placement
) -> dict[str, Any]:
    """One Master and numNodes - 1 Workers of the same pods; queued, the pods carry the queue's labels too."""
    job = queued(environment, workload, meta)
    template = pod_template(
        environment,
        workload,
        placement,
        job.meta,
        restart_policy=None,
        container_name=CONTAINER_NAME,
        ports=declared_port(workload, workload.metrics),
    )
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
    suspend = job.suspend(workload.run_policy.suspend)
    if suspend is not None:
        run_policy["suspend"] = suspend
    spec["runPolicy"] = run_policy
    spec["pytorchReplicaSpecs"] = replicas
    return hash_named("kubeflow.org/v1", "PyTorchJob", job.meta, environment.namespace, spec, job.annotations)
