"""Checks of Ray workloads: worker groups and the autoscaler, GitOps-safe RayJobs, and what Kueue admits.

Sources: KubeRay's RayCluster API (workerGroupSpecs: replicas between minReplicas and maxReplicas),
and Kueue's RayJob webhook, which refuses queued RayJobs that keep their cluster, autoscale (without
workload slicing) or have more than 7 worker groups (8 pod sets with the head).
"""

from __future__ import annotations

from mlgitops.kube.autoscalers import ReplicaBounds, replicas_fight
from mlgitops.spec.checked import Checked
from mlgitops.spec.distributed_checks import shared_writes
from mlgitops.spec.environment import Environment
from mlgitops.spec.problems import SpecProblem
from mlgitops.spec.ray import RayJob, RayService, RayWorkloadBase
from mlgitops.spec.ray_upgrade import upgrade_problems
from mlgitops.spec.storage import Volume

FieldPath = tuple[str | int, ...]
Problem = tuple[FieldPath, str]
KUEUE_MAX_WORKER_GROUPS = 7


def ray_job_problems(checked: Checked[RayJob]) -> list[SpecProblem]:
    """Problems of one ray-job workload (resolved)."""
    workload, at = checked.workload, checked.at
    found = _cluster_problems(workload, "entrypoint", at) + _ray_job(checked.environment, workload, checked.queue, at)
    return checked.located(found + _shared_writes(workload, checked.volumes, at)) + _token(checked.written, at)


def ray_service_problems(checked: Checked[RayService]) -> list[SpecProblem]:
    """Problems of one ray-service workload (resolved)."""
    workload, at = checked.workload, checked.at
    found = _cluster_problems(workload, "serveConfig", at) + _shared_writes(workload, checked.volumes, at)
    return checked.located(found) + upgrade_problems(checked.environment, workload, at) + _token(checked.written, at)


def _token(written: RayWorkloadBase, at: FieldPath) -> list[SpecProblem]:
    """The in-tree autoscaler runs in the head pod and calls the API server with the pod's ServiceAccount token
    (ray-project/kuberay `common/pod.go` DefaultHeadPodTemplate adds the `autoscaler` container; ray-project/ray
    `autoscaler/_private/kuberay/node_provider.py` load_k8s_secrets reads the mounted token): the head keeps it."""
    if written.autoscaling is None or "automount_service_account_token" not in written.model_fields_set:
        return []
    if written.automount_service_account_token:
        return []
    return [
        SpecProblem(
            (*at, "automountServiceAccountToken"),
            "the Ray autoscaler runs in the head pod and calls the Kubernetes API with its ServiceAccount token: "
            "the head must mount it (drop automountServiceAccountToken: false, or turn off autoscaling)",
        )
    ]


def ray_dra(workload: RayWorkloadBase, device_class: str) -> str:
    """Why Ray pods cannot claim DRA devices (the KubeRay objects rendered carry no resourceClaims)."""
    return (
        f"Ray pods cannot claim DRA devices ({device_class}) yet: use a pool with an extended "
        "resource (gpuResource) for the Ray groups that need accelerators"
    )


def _shared_writes(workload: RayWorkloadBase, volumes: dict[str, Volume], at: FieldPath) -> list[Problem]:
    pods = 1 + workload.worker_pods()
    return shared_writes(workload, pods, volumes, at) if pods > 1 else []


def _cluster_problems(workload: RayWorkloadBase, where: str, at: FieldPath) -> list[Problem]:
    """The Ray cluster's: no command of its own (the program goes in ``where``), worker groups, the autoscaler."""
    problems: list[Problem] = []
    for field in ("command", "args"):
        if getattr(workload, field) is not None:
            problems.append(
                (
                    (*at, field),
                    f"KubeRay starts Ray in the container itself (`ray start`): remove {field} and put the program in {where}",
                )
            )
    seen: set[str] = set()
    for index, group in enumerate(workload.worker_groups):
        here = (*at, "workerGroups", index)
        if group.name in seen:
            problems.append(((*here, "name"), f"duplicate worker group {group.name!r}; names must be unique"))
        seen.add(group.name)
        if workload.autoscaling is not None:
            if replicas_fight(group.replicas is not None, autoscalers=1):
                problems.append(
                    (
                        (*here, "replicas"),
                        "replicas and autoscaling are both set: the Ray autoscaler owns the worker "
                        "count (drop replicas, use minReplicas and maxReplicas)",
                    )
                )
            if group.max_replicas is None:
                problems.append((here, "missing required field 'maxReplicas' (the most workers the autoscaler may start)"))
            elif ReplicaBounds(group.min_replicas or 0, group.max_replicas).inverted:
                problems.append(
                    ((*here, "maxReplicas"), f"maxReplicas {group.max_replicas} is below minReplicas {group.min_replicas}")
                )
        else:
            for field, key in (("min_replicas", "minReplicas"), ("max_replicas", "maxReplicas")):
                if getattr(group, field) is not None:
                    problems.append(((*here, key), f"{key} needs the Ray autoscaler (set autoscaling), or use replicas"))
    return problems


def _ray_job(environment: Environment, workload: RayJob, queue: str | None, at: FieldPath) -> list[Problem]:
    problems: list[Problem] = []
    if workload.ttl_seconds_after_finished is not None and environment.gitops is not None:
        problems.append(
            (
                (*at, "ttlSecondsAfterFinished"),
                "ttlSecondsAfterFinished under ArgoCD/Flux: a KubeRay operator that "
                "deletes finished RayJobs would make GitOps recreate it and run the job again; remove it "
                "(shutdownAfterJobFinishes already frees the cluster)",
            )
        )
    if queue is None:
        return problems
    if not workload.shutdown_after_job_finishes:
        problems.append(
            (
                (*at, "shutdownAfterJobFinishes"),
                f"Kueue refuses queued RayJobs (queue {queue!r}) that keep their Ray "
                "cluster after the job: it would hold the queue's quota; set shutdownAfterJobFinishes: true",
            )
        )
    if workload.autoscaling is not None:
        problems.append(
            (
                (*at, "autoscaling"),
                f"Kueue admits queued RayJobs (queue {queue!r}) for a fixed size: remove "
                "autoscaling, or do not queue the job (Kueue needs workload slicing for elastic jobs)",
            )
        )
    if len(workload.worker_groups) > KUEUE_MAX_WORKER_GROUPS:
        problems.append(
            (
                (*at, "workerGroups"),
                f"Kueue admits at most {KUEUE_MAX_WORKER_GROUPS} worker groups in a queued RayJob "
                f"(8 pod sets with the head); this one has {len(workload.worker_groups)}",
            )
        )
    return problems
