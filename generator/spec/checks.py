"""Semantic checks that typing alone cannot express: limits vs requests, fit on node pools, names.

Each problem names a field path (as written in the file) so the loader can point at its line.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

from mlgitops.kube.api_rules import resource_problems
from mlgitops.kube.cluster import is_gpu_resource
from mlgitops.kube.fit import node_fit
from mlgitops.kube.names import dns1035_label_problem, dns1123_label_problem
from mlgitops.kube.quantity import format_bytes, format_cpu, parse_quantity
from mlgitops.spec.accelerator_checks import device_problems, pool_problems
from mlgitops.spec.batch import Batch
from mlgitops.spec.capacity import PodSet, capacity_problems
from mlgitops.spec.cluster import NodePool
from mlgitops.spec.container import ExtraContainer, Resources, WorkloadBase
from mlgitops.spec.derived import volumes_by_name
from mlgitops.spec.distributed_checks import check_distributed, shared_writes
from mlgitops.spec.environment import Environment
from mlgitops.spec.kueue_checks import check_queues
from mlgitops.spec.llm import LlmServing
from mlgitops.spec.placement import Placement, PlacementError, place, pool_facts
from mlgitops.spec.pod_checks import (
    check_config_maps,
    check_configuration,
    check_extra_containers,
    check_limit_range,
    check_limit_range_spec,
    check_node_affinity,
    check_traffic,
    check_train_job_patch,
    containers_with_paths,
)
from mlgitops.spec.problems import FieldPath, SpecProblem, unique
from mlgitops.spec.ray import RayJob, RayService, RayWorkloadBase
from mlgitops.spec.ray_checks import check_ray
from mlgitops.spec.server_checks import autoscaler_problems, llm_problems, tensor_parallel_fit
from mlgitops.spec.serving import ServerBase, Serving
from mlgitops.spec.serving_defaults import resolved
from mlgitops.spec.storage import Volume
from mlgitops.spec.training import DistributedTraining, Training

# A training Job's name is "<workload>-<8 hex digits>"; a CronJob's Jobs get 11 more characters.
TRAINING_NAME_LIMIT = 63 - 9
CRONJOB_NAME_LIMIT = 52
# "<name>-<hash>-worker-<n>" must stay a valid Service name for every replica (and a TrainJob's JobSet
# names its Jobs and pods "<name>-<hash>-node-<job>-<pod>").
DISTRIBUTED_NAME_LIMIT = 40
# KubeRay: a RayJob or RayService name is at most 47 characters (its RayCluster adds 6, "-serve-svc" 10 more);
# a RayJob's name also carries the 9-character hash of its spec.
RAY_SERVICE_NAME_LIMIT = 47
RAY_JOB_NAME_LIMIT = RAY_SERVICE_NAME_LIMIT - 9


# Spec field names of resources and the Kubernetes resource names they render to.
_KUBERNETES_NAMES = {"ephemeralStorage": "ephemeral-storage"}


def check_environment(environment: Environment) -> list[SpecProblem]:
    """Every semantic problem of the environment, in file order."""
    problems: list[SpecProblem] = []
    problems += unique(environment.cluster.node_pools, ("cluster", "nodePools"))
    problems += pool_problems(environment)
    problems += unique(environment.volumes, ("volumes",))
    problems += unique(environment.workloads, ("workloads",))
    problems += unique(environment.external_secrets, ("externalSecrets",))
    problems += unique(environment.config_maps, ("configMaps",))
    problems += unique(environment.service_accounts, ("serviceAccounts",))
    problems += check_config_maps(environment)
    problems += check_limit_range_spec(environment)
    if environment.external_secrets and environment.secret_store is None:
        problems.append(
            SpecProblem(("externalSecrets",), "externalSecrets need a secretStore to read from (set secretStore.name)")
        )
    volumes = volumes_by_name(environment)
    for index, workload in enumerate(environment.workloads):
        at = ("workloads", index)
        integration_problems = _integrations(environment, workload, at)
        if integration_problems:
            problems += integration_problems
            continue
        problems += _names(workload, at)
        for path, container in containers_with_paths(workload, at):
            problems += _mounts(container, volumes, path)
        problems += unique(workload.env, (*at, "env"))
        problems += check_extra_containers(environment, workload, at)
        problems += check_configuration(environment, workload, at)
        problems += check_limit_range(environment, workload, at)
        problems += check_train_job_patch(workload, at)
        if isinstance(workload, LlmServing):
            problems += llm_problems(workload, volumes, at)
        full = resolved(environment, workload)
        for path, container in containers_with_paths(full, at):
            problems += _resources(container.resources, getattr(container, "shm_size", None), path)
        if isinstance(full, ServerBase):
            problems += _serving(full, at) + autoscaler_problems(full, at)
            problems += check_traffic(environment, full, at)
        found: list[tuple[FieldPath, str]] = []
        if isinstance(full, DistributedTraining):
            found += check_distributed(full, volumes, at)
        if isinstance(full, RayWorkloadBase):
            found += check_ray(environment, full, at)
            pods = 1 + full.worker_pods()
            if pods > 1:
                found += shared_writes(full, pods, volumes, at)
        problems += [SpecProblem(path, message) for path, message in found]
        pod_sets = []
        for view, here, count_path, pods in _pod_groups(full, at):
            if view is not full:
                problems += _resources(view.resources, view.shm_size, here)
            try:
                placement = place(environment, view)  # resources and pool do not depend on integrations
            except PlacementError as error:
                problems.append(SpecProblem((*here, error.field), error.message))
                continue
            unclaimable = _dra_unsupported(view, placement)
            if unclaimable:
                problems.append(SpecProblem((*here, "nodePool"), unclaimable))
                continue
            problems += device_problems(view, placement, here)
            problems += check_node_affinity(view, placement, here)
            if isinstance(workload, LlmServing):
                too_wide = tensor_parallel_fit(workload, placement.candidates, placement.gpu_resource, at)
                problems += too_wide
                if too_wide:
                    continue
            problems += _fit(view, placement.candidates, placement.gpu_resource, here)
            pod_sets.append(PodSet(count_path, pods, view.resources, placement.pool, placement.gpu_resource))
        problems += [SpecProblem(path, message) for path, message in capacity_problems(pod_sets)]
    problems += [SpecProblem(path, message) for path, message in check_queues(environment)]
    return problems


def _dra_unsupported(view: WorkloadBase, placement: Placement) -> str | None:
    """Why pods of this kind cannot claim the pool's devices through DRA (None when they can, or need not)."""
    if placement.device_class is None or view.resources.gpu is None:
        return None
    if isinstance(view, DistributedTraining) and view.job_kind == "TrainJob":
        return (
            f"a TrainJob cannot claim DRA devices ({placement.device_class}): its runtime patches carry no "
            "resourceClaims; use a pool with an extended resource (gpuResource), or jobKind: PyTorchJob"
        )
    if isinstance(view, RayWorkloadBase):
        return (
            f"Ray pods cannot claim DRA devices ({placement.device_class}) yet: use a pool with an extended "
            "resource (gpuResource) for the Ray groups that need accelerators"
        )
    return None


def _pod_groups(workload: WorkloadBase, at: FieldPath) -> list[tuple[WorkloadBase, FieldPath, FieldPath, int]]:
    """Each set of the workload's pods that share resources and a node pool: (the workload as those pods see it,
    where its resources are written, the field that sets how many run at once, how many)."""
    if isinstance(workload, RayWorkloadBase):
        groups: list[tuple[WorkloadBase, FieldPath, FieldPath, int]] = [(workload, at, (*at, "resources"), 1)]
        for index, group in enumerate(workload.worker_groups):
            here = (*at, "workerGroups", index)
            if workload.autoscaling is None:
                groups.append((workload.worker_view(group), here, (*here, "replicas"), group.fixed_replicas))
            else:
                groups.append((workload.worker_view(group), here, (*here, "minReplicas"), group.min_replicas or 0))
        return groups
    if isinstance(workload, DistributedTraining):
        field = "numNodes" if workload.num_nodes is not None else "workers"
        return [(workload, at, (*at, field), workload.pods)]
    if isinstance(workload, Training):
        return [(workload, at, (*at, "parallelism"), workload.parallelism)]
    if isinstance(workload, Serving):
        if workload.autoscaling is not None:
            return [(workload, at, (*at, "autoscaling", "minReplicas"), workload.autoscaling.min_replicas)]
        return [(workload, at, (*at, "replicas"), 1 if workload.replicas is None else workload.replicas)]
    return [(workload, at, (*at, "resources"), 1)]


_NAME_RULES: dict[type, tuple[Callable[[str, int], str | None], int, str]] = {
    Training: (dns1123_label_problem, TRAINING_NAME_LIMIT, "a training Job's name gets a 9-character hash suffix"),
    Batch: (dns1123_label_problem, CRONJOB_NAME_LIMIT, "the Jobs a CronJob creates add 11 characters"),
    ServerBase: (dns1035_label_problem, 63, ""),
    DistributedTraining: (
        dns1035_label_problem,
        DISTRIBUTED_NAME_LIMIT,
        "the TrainJob or PyTorchJob gets a hash suffix and its pods a node or worker index on top",
    ),
    RayJob: (
        dns1035_label_problem,
        RAY_JOB_NAME_LIMIT,
        "KubeRay allows 47 characters and the RayJob's name gets a 9-character hash suffix",
    ),
    RayService: (dns1035_label_problem, RAY_SERVICE_NAME_LIMIT, "KubeRay derives its RayCluster and Service names from it"),
}


def _names(workload: WorkloadBase, at: FieldPath) -> list[SpecProblem]:
    rule = next((rule for kind, rule in _NAME_RULES.items() if isinstance(workload, kind)), None)
    if rule is None:
        return []
    check, limit, why = rule
    problem = check(workload.name, limit)
    if problem and why and len(workload.name) > limit:
        problem += f" ({why})"
    return [SpecProblem((*at, "name"), problem)] if problem else []


def _integrations(environment: Environment, workload: WorkloadBase, at: FieldPath) -> list[SpecProblem]:
    """MLflow, registered models and KServe need the environment's settings; images must be known."""
    problems = []
    if getattr(workload, "mlflow", None) is not None and environment.mlflow is None:
        problems.append(SpecProblem((*at, "mlflow"), "logs to MLflow, but the environment declares no mlflow.trackingUri"))
    model = workload.model if isinstance(workload, Serving) else None
    if model is not None and environment.mlflow is None:
        problems.append(SpecProblem((*at, "model"), "serves a registered model, but the environment declares no mlflow server"))
    if workload.image is None:
        serving_image = environment.mlflow.serving_image if environment.mlflow is not None else None
        if model is None or (serving_image is None and not (isinstance(workload, Serving) and workload.kserve)):
            hint = " (or the environment's mlflow.servingImage)" if model is not None else ""
            problems.append(SpecProblem((*at, "image"), f"missing required field 'image'{hint}"))
    if isinstance(workload, Serving):
        if not workload.ports and model is None and workload.kserve is None:
            problems.append(SpecProblem((*at, "ports"), "a serving workload needs at least one port"))
        kserve = workload.kserve
        if kserve is not None:
            if workload.metrics is not None:
                problems.append(SpecProblem((*at, "metrics"), "KServe publishes the predictor's metrics itself; remove metrics"))
            autoscaling = workload.autoscaling
            if autoscaling is not None and kserve.scale_metric is None:
                first = autoscaling.metrics[0]
                if first.type not in ("cpu", "memory"):
                    problems.append(
                        SpecProblem(
                            (*at, "autoscaling", "metrics", 0),
                            f"KServe scales on cpu, memory, concurrency or rps: a {first.type} metric needs "
                            "kserve.scaleMetric and kserve.scaleTarget instead",
                        )
                    )
    return problems


def _resources(resources: Resources, shm_size: str | None, at: FieldPath) -> list[SpecProblem]:
    problems = []
    at = (*at, "resources")
    pairs = (
        ("cpu", resources.cpu, resources.limits.cpu, format_cpu),
        ("memory", resources.memory, resources.limits.memory, format_bytes),
        ("ephemeralStorage", resources.ephemeral_storage, resources.limits.ephemeral_storage, format_bytes),
    )
    for name, request, limit, _ in pairs:
        if limit is None:
            continue
        if request is None:
            problems.append(SpecProblem((*at, "limits", name), f"a {name} limit needs a {name} request (set resources.{name})"))
            continue
        # The API server's own rule, shared with lint (kube/api_rules.py), on the container the spec renders.
        resource = _KUBERNETES_NAMES.get(name, name)
        for problem in resource_problems({"requests": {resource: request}, "limits": {resource: limit}}):
            problems.append(SpecProblem((*at, "limits", name), problem.message))
    if resources.gpu_resource is not None and not is_gpu_resource(resources.gpu_resource):
        problems.append(
            SpecProblem(
                (*at, "gpuResource"),
                f"{resources.gpu_resource!r} is not a GPU resource (expected e.g. 'nvidia.com/gpu' or 'nvidia.com/mig-1g.10gb')",
            )
        )
    if resources.gpu_resource is not None and resources.gpu is None:
        problems.append(SpecProblem((*at, "gpuResource"), "gpuResource is set but gpu (the device count) is not"))
    if shm_size is not None:
        memory_limit = resources.limits.memory or resources.memory
        if parse_quantity(shm_size) > parse_quantity(memory_limit):
            problems.append(
                SpecProblem(
                    (*at[:-1], "shmSize"),
                    f"/dev/shm of {shm_size} is counted in the memory limit {memory_limit}, "
                    "which is smaller; raise the memory limit or shrink shmSize",
                )
            )
    return problems


def _mounts(container: WorkloadBase | ExtraContainer, volumes: dict[str, Volume], at: FieldPath) -> list[SpecProblem]:
    problems = []
    paths: set[str] = set()
    for index, mount in enumerate(container.mounts):
        here = (*at, "mounts", index)
        volume = volumes.get(mount.volume)
        if volume is None:
            known = ", ".join(sorted(volumes)) or "none defined under volumes"
            problems.append(SpecProblem((*here, "volume"), f"volume {mount.volume!r} does not exist (have: {known})"))
        elif volume.scratch is not None and mount.role != "cache":
            problems.append(
                SpecProblem(
                    (*here, "role"),
                    f"volume {mount.volume!r} is scratch space (emptyDir), deleted with the pod; role "
                    f"{mount.role!r} needs a persistent claim (use 'claim' or 'existingClaim')",
                )
            )
        if mount.path in paths or mount.path == "/dev/shm":
            problems.append(SpecProblem((*here, "path"), f"path {mount.path!r} is mounted twice"))
        paths.add(mount.path)
    return problems


def _serving(workload: ServerBase, at: FieldPath) -> list[SpecProblem]:
    problems = []
    autoscaling = workload.autoscaling
    if autoscaling is not None:
        if workload.replicas is not None:
            problems.append(
                SpecProblem(
                    (*at, "replicas"),
                    "replicas and autoscaling are both set: under an autoscaler the replica count is the "
                    "HPA's to manage (drop replicas, use autoscaling.minReplicas)",
                )
            )
        if autoscaling.min_replicas > autoscaling.max_replicas:
            problems.append(
                SpecProblem(
                    (*at, "autoscaling", "maxReplicas"),
                    f"maxReplicas {autoscaling.max_replicas} is below minReplicas {autoscaling.min_replicas}",
                )
            )
    port_names = {port.name for port in workload.service_ports()}
    if isinstance(workload, Serving):
        problems += unique(workload.ports, (*at, "ports"))
    if workload.metrics is not None and workload.metrics.port not in port_names:
        problems.append(
            SpecProblem(
                (*at, "metrics", "port"),
                f"metrics port {workload.metrics.port!r} is not one of the ports ({', '.join(sorted(port_names))})",
            )
        )
    for probe_name in ("readiness", "liveness", "startup"):
        probe = getattr(workload.probes, probe_name)
        action = probe and (probe.http_get or probe.tcp_socket)
        if action and isinstance(action.port, str) and action.port not in port_names:
            problems.append(
                SpecProblem(
                    (*at, "probes", probe_name),
                    f"probe port {action.port!r} is not one of the ports ({', '.join(sorted(port_names))})",
                )
            )
    return problems


def _fit(workload: WorkloadBase, candidates: tuple[NodePool, ...], gpu_resource: str | None, at: FieldPath) -> list[SpecProblem]:
    """Requests must fit on one node of some pool the pods may land on (the fact: kube/fit.py)."""
    if not candidates:
        return []
    resources = workload.resources
    requests = {"cpu": parse_quantity(resources.cpu), "memory": parse_quantity(resources.memory)}
    fields = {"cpu": "cpu", "memory": "memory"}
    if resources.gpu is not None and gpu_resource is not None:
        requests[gpu_resource] = Decimal(resources.gpu)
        fields[gpu_resource] = "gpu"
    pools = [pool_facts(pool) for pool in candidates]
    fit = node_fit(requests, pools)
    problems = [
        SpecProblem(
            (*at, "resources", fields[short.resource]),
            f"asks for {_amount(short.resource, short.requested)} but the largest node of pool {short.pool.name!r} can "
            f"allocate {_amount(short.resource, short.available, unit=False)}; these pods would never schedule",
        )
        for short in fit.shortfalls
    ]
    if not problems and not fit.fits:
        names = ", ".join(pool.name for pool in pools)
        problems.append(
            SpecProblem(
                (*at, "resources"),
                f"no single node of the pools it may use ({names}) has this much CPU, memory and GPU at once; "
                "these pods would never schedule",
            )
        )
    return problems


def _amount(resource: str, amount: Decimal, *, unit: bool = True) -> str:
    if resource == "cpu":
        return f"{format_cpu(amount)} CPU" if unit else format_cpu(amount)
    if resource == "memory":
        return f"{format_bytes(amount)} memory" if unit else format_bytes(amount)
    return f"{int(amount)} GPUs ({resource})" if unit else str(int(amount))
