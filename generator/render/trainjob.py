"""Distributed training → a Kubeflow Trainer v2 TrainJob (trainer.kubeflow.org/v1alpha1).

The trainer section carries what the TrainJob API names (image, command, args, env, numNodes,
numProcPerNode, resourcesPerNode); everything else a pod needs (placement, volumes, security,
service account, labels) goes into the field the environment's Kubeflow Trainer release patches the runtime's
'node' job with (kube/trainjob.py): its own entry of `spec.runtimePatches` (2.2 and later), a
`podTemplateOverrides` entry (2.1: no securityContext), or a `podSpecOverrides` entry (2.0: no metadata,
affinity, imagePullSecrets or securityContext). Like a Job, the name carries a hash of the spec: trainer and
runtimeRef are immutable, so a changed spec is a new TrainJob.
"""

from __future__ import annotations

from typing import Any

from mlgitops.kube.trainjob import patch_field, shipped_runtimes
from mlgitops.render.kueue import FLUX_CREATE_ONLY, queued
from mlgitops.render.metadata import ObjectMeta
from mlgitops.render.pod import pod_template
from mlgitops.render.workloads_hash import hash_named
from mlgitops.spec.environment import Environment
from mlgitops.spec.operators import release_tuple
from mlgitops.spec.placement import Placement
from mlgitops.spec.training import DistributedTraining

TRAINER_API = "trainer.kubeflow.org/v1alpha1"
TRAINER_STEP = "node"
"""Name of the replicated job and of its container that run the trainer in Kubeflow's runtimes."""
PATCH_MANAGER = "mlgitops.io/render"
"""The runtimePatches entry mlgitops owns (each manager, e.g. Kueue, writes its own entry)."""
# Pod fields the TrainJob API lets a runtime patch set (PodSpecPatch), in the order they are written.
_PATCHED_POD_FIELDS = (
    "serviceAccountName",
    "securityContext",
    "imagePullSecrets",
    "nodeSelector",
    "affinity",
    "tolerations",
    "volumes",
)
_PATCHED_CONTAINER_FIELDS = ("securityContext", "volumeMounts")
# What the older fields carry (kubeflow/trainer v2.1.0 PodTemplateSpecOverride, v2.0.0 PodSpecOverride).
_OVERRIDE_POD_FIELDS = {
    "podTemplateOverrides": ("serviceAccountName", "nodeSelector", "affinity", "tolerations", "volumes", "imagePullSecrets"),
    "podSpecOverrides": ("serviceAccountName", "nodeSelector", "tolerations", "volumes"),
}
EXISTING_RUNTIMES_ANNOTATION = "mlgitops.io/external-trainingruntimes"
"""The (Cluster)TrainingRuntime a TrainJob names, when it exists outside the rendered set: installed with the
declared Kubeflow Trainer release, or listed in the environment's existingTrainingRuntimes."""


def num_proc_per_node(workload: DistributedTraining) -> int | None:
    """trainer.numProcPerNode: a number, the GPU count for 'gpu', or None ('auto': the runtime decides)."""
    if isinstance(workload.nproc_per_node, int):
        return workload.nproc_per_node
    if workload.nproc_per_node == "gpu":
        return workload.resources.gpu
    return None


def render_train_job(
    environment: Environment, workload: DistributedTraining, meta: ObjectMeta, placement: Placement
) -> dict[str, Any]:
    job = queued(environment, workload, meta)
    template = pod_template(environment, workload, placement, meta, restart_policy=None, container_name=TRAINER_STEP)
    pod = template["spec"]
    [container] = pod["containers"]
    trainer: dict[str, Any] = {"image": container["image"]}
    for key in ("command", "args", "env"):
        if key in container:
            trainer[key] = container[key]
    trainer["numNodes"] = workload.pods
    processes = num_proc_per_node(workload)
    if processes is not None:
        trainer["numProcPerNode"] = processes
    trainer["resourcesPerNode"] = container["resources"]
    field = patch_field(release_tuple(environment.operators.trainer)[:2])
    spec: dict[str, Any] = {
        "runtimeRef": {"apiGroup": "trainer.kubeflow.org", "kind": workload.runtime.kind, "name": workload.runtime.name}
    }
    if workload.run_policy.active_deadline_seconds is not None:
        spec["activeDeadlineSeconds"] = workload.run_policy.active_deadline_seconds
    suspend = job.suspend(workload.run_policy.suspend)
    if suspend is not None:
        spec["suspend"] = suspend
    spec["trainer"] = trainer
    spec[field] = [_patch(field, template["metadata"], pod, container)]
    # The Trainer webhook writes into runtimePatches on every update: Flux creates the TrainJob once and then
    # leaves it alone (a changed spec is a new, re-hashed TrainJob), whether or not Kueue queues it.
    annotations = dict(FLUX_CREATE_ONLY)
    # Always written, empty when the runtime must come from the set: rule trainingruntime-reference reads it.
    annotations[EXISTING_RUNTIMES_ANNOTATION] = workload.runtime.name if runtime_exists_outside(environment, workload) else ""
    return hash_named(TRAINER_API, "TrainJob", job.meta, environment.namespace, spec, annotations)


def _patch(field: str, metadata: dict[str, Any], pod: dict[str, Any], container: dict[str, Any]) -> dict[str, Any]:
    """The one entry that patches the runtime's 'node' job, in the shape of ``field``."""
    if field == "runtimePatches":
        patched_container: dict[str, Any] = {"name": TRAINER_STEP}
        patched_container.update({key: container[key] for key in _PATCHED_CONTAINER_FIELDS if key in container})
        pod_patch: dict[str, Any] = {key: pod[key] for key in _PATCHED_POD_FIELDS if key in pod}
        pod_patch["containers"] = [patched_container]
        node_job = {"name": TRAINER_STEP, "template": {"spec": {"template": {"metadata": metadata, "spec": pod_patch}}}}
        return {"manager": PATCH_MANAGER, "trainingRuntimeSpec": {"template": {"spec": {"replicatedJobs": [node_job]}}}}
    overridden: dict[str, Any] = {key: pod[key] for key in _OVERRIDE_POD_FIELDS[field] if key in pod}
    if "volumeMounts" in container:
        overridden["containers"] = [{"name": TRAINER_STEP, "volumeMounts": container["volumeMounts"]}]
    targets = [{"name": TRAINER_STEP}]
    if field == "podSpecOverrides":
        return {"targetJobs": targets, **overridden}
    return {"targetJobs": targets, "metadata": metadata, "spec": overridden}


def runtime_exists_outside(environment: Environment, workload: DistributedTraining) -> bool:
    """Whether the named runtime is one the declared Kubeflow Trainer release installs, or declared as existing."""
    runtime = workload.runtime
    if runtime.name in environment.existing_training_runtimes:
        return True
    shipped = shipped_runtimes(release_tuple(environment.operators.trainer)[:2])
    return runtime.kind == "ClusterTrainingRuntime" and runtime.name in shipped
