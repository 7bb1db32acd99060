"""Semantic checks that typing alone cannot express: limits vs requests, fit on node pools, names.

Each problem names a field path (as written in the file) so the loader can point at its line.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from generator.kube.cluster import is_gpu_resource
from generator.kube.names import dns1035_label_problem, dns1123_label_problem
from generator.kube.quantity import format_bytes, format_cpu, parse_quantity
from generator.spec.accelerator_checks import device_problems, pool_problems
from generator.spec.batch import Batch
from generator.spec.cluster import NodePool
from generator.spec.container import WorkloadBase
from generator.spec.environment import Environment
from generator.spec.llm import LlmServing
from generator.spec.placement import PlacementError, place, pool_facts
from generator.spec.problems import FieldPath, SpecProblem
from generator.spec.server_checks import autoscaler_problems, llm_problems, tensor_parallel_fit
from generator.spec.serving import ServerBase, Serving
from generator.spec.serving_defaults import resolved
from generator.spec.storage import Volume
from generator.spec.training import DistributedTraining, Training

# A training Job's name is "<workload>-<8 hex digits>"; a CronJob's Jobs get 11 more characters.
TRAINING_NAME_LIMIT = 63 - 9
CRONJOB_NAME_LIMIT = 52
# "<name>-<hash>-worker-<n>" must stay a valid Service name for every replica.
DISTRIBUTED_NAME_LIMIT = 40


class NamedItem(Protocol):
    @property
    def name(self) -> str: ...


def check_environment(environment: Environment) -> list[SpecProblem]:
    """Every semantic problem of the environment, in file order."""
    problems: list[SpecProblem] = []
    problems += _unique(environment.cluster.node_pools, ("cluster", "nodePools"))
    problems += pool_problems(environment)
    problems += _unique(environment.volumes, ("volumes",))
    problems += _unique(environment.workloads, ("workloads",))
    problems += _unique(environment.external_secrets, ("externalSecrets",))
    if environment.external_secrets and environment.secret_store is None:
        problems.append(
            SpecProblem(("externalSecrets",), "externalSecrets need a secretStore to read from (set secretStore.name)")
        )
    volumes = {volume.name: volume for volume in environment.volumes}
    for index, workload in enumerate(environment.workloads):
        at = ("workloads", index)
        integration_problems = _integrations(environment, workload, at)
        if integration_problems:
            problems += integration_problems
            continue
        problems += _names(workload, at)
        problems += _mounts(workload, volumes, at)
        problems += _unique(workload.env, (*at, "env"))
        if isinstance(workload, LlmServing):
            problems += llm_problems(workload, volumes, at)
        full = resolved(environment, workload)
        problems += _resources(full, at)
        if isinstance(full, ServerBase):
            problems += _serving(full, at) + autoscaler_problems(full, at)
        if isinstance(workload, DistributedTraining):
            problems += _distributed(workload, volumes, at)
        try:
            placement = place(environment, full)  # resources and pool do not depend on integrations
        except PlacementError as error:
            problems.append(SpecProblem((*at, error.field), error.message))
            continue
        problems += device_problems(full, placement, at)
        if isinstance(workload, LlmServing):
            too_wide = tensor_parallel_fit(workload, placement.candidates, placement.gpu_resource, at)
            problems += too_wide
            if too_wide:
                continue
        problems += _fit(full, placement.candidates, placement.gpu_resource, at)
    return problems


def _unique(items: Sequence[NamedItem], at: FieldPath) -> list[SpecProblem]:
    seen: set[str] = set()
    problems = []
    for index, item in enumerate(items):
        if item.name in seen:
            problems.append(SpecProblem((*at, index, "name"), f"duplicate name {item.name!r}; names must be unique"))
        seen.add(item.name)
    return problems


def _names(workload: WorkloadBase, at: FieldPath) -> list[SpecProblem]:
    problem = None
    if isinstance(workload, Training):
        problem = dns1123_label_problem(workload.name, TRAINING_NAME_LIMIT)
        if problem and len(workload.name) > TRAINING_NAME_LIMIT:
            problem += " (a training Job's name gets a 9-character hash suffix)"
    elif isinstance(workload, Batch):
        problem = dns1123_label_problem(workload.name, CRONJOB_NAME_LIMIT)
        if problem and len(workload.name) > CRONJOB_NAME_LIMIT:
            problem += " (the Jobs a CronJob creates add 11 characters)"
    elif isinstance(workload, ServerBase):
        problem = dns1035_label_problem(workload.name)
    elif isinstance(workload, DistributedTraining):
        problem = dns1035_label_problem(workload.name, DISTRIBUTED_NAME_LIMIT)
        if problem and len(workload.name) > DISTRIBUTED_NAME_LIMIT:
            problem += " (the PyTorchJob gets a hash suffix and its pods '-worker-N' on top)"
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


def _distributed(workload: DistributedTraining, volumes: dict[str, Volume], at: FieldPath) -> list[SpecProblem]:
    problems = []
    elastic = workload.elastic_policy
    if elastic is not None and elastic.min_replicas > elastic.max_replicas:
        problems.append(
            SpecProblem(
                (*at, "elasticPolicy", "maxReplicas"),
                f"maxReplicas {elastic.max_replicas} is below minReplicas {elastic.min_replicas}",
            )
        )
    if workload.pods > 1:
        for index, mount in enumerate(workload.mounts):
            volume = volumes.get(mount.volume)
            if mount.read_only or volume is None or volume.claim is None:
                continue
            if "ReadWriteMany" not in volume.claim.access_modes:
                problems.append(
                    SpecProblem(
                        (*at, "mounts", index, "volume"),
                        f"{workload.pods} pods write to volume {mount.volume!r}, but its claim is "
                        f"{'/'.join(volume.claim.access_modes)}: pods on different nodes need ReadWriteMany",
                    )
                )
    return problems


def _resources(workload: WorkloadBase, at: FieldPath) -> list[SpecProblem]:
    resources = workload.resources
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
        elif parse_quantity(limit) < parse_quantity(request):
            problems.append(
                SpecProblem(
                    (*at, "limits", name),
                    f"limit {limit!r} is below the request {request!r}; a limit must be >= the request",
                )
            )
    if resources.gpu_resource is not None and not is_gpu_resource(resources.gpu_resource):
        problems.append(
            SpecProblem(
                (*at, "gpuResource"),
                f"{resources.gpu_resource!r} is not a GPU resource (expected e.g. 'nvidia.com/gpu' or 'nvidia.com/mig-1g.10gb')",
            )
        )
    if resources.gpu_resource is not None and resources.gpu is None:
        problems.append(SpecProblem((*at, "gpuResource"), "gpuResource is set but gpu (the device count) is not"))
    if workload.shm_size is not None:
        memory_limit = resources.limits.memory or resources.memory
        if parse_quantity(workload.shm_size) > parse_quantity(memory_limit):
            problems.append(
                SpecProblem(
                    (*at[:-1], "shmSize"),
                    f"/dev/shm of {workload.shm_size} is counted in the memory limit {memory_limit}, "
                    "which is smaller; raise the memory limit or shrink shmSize",
                )
            )
    return problems


def _mounts(workload: WorkloadBase, volumes: dict[str, Volume], at: FieldPath) -> list[SpecProblem]:
    problems = []
    paths: set[str] = set()
    for index, mount in enumerate(workload.mounts):
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
        problems += _unique(workload.ports, (*at, "ports"))
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
    """Requests must fit on one node of some pool the pods may land on."""
    if not candidates:
        return []
    resources = workload.resources
    wanted: dict[str, tuple[str, Decimal]] = {
        "cpu": ("cpu", parse_quantity(resources.cpu)),
        "memory": ("memory", parse_quantity(resources.memory)),
    }
    if resources.gpu is not None and gpu_resource is not None:
        wanted["gpu"] = (gpu_resource, Decimal(resources.gpu))
    pools = [pool_facts(pool) for pool in candidates]
    problems = []
    for field, (resource, amount) in wanted.items():
        largest = max(pools, key=lambda pool: pool.allocatable.get(resource, Decimal(0)))
        available = largest.allocatable.get(resource, Decimal(0))
        if amount > available:
            problems.append(
                SpecProblem(
                    (*at, "resources", field),
                    f"asks for {_amount(resource, amount)} but the largest node of pool {largest.name!r} can "
                    f"allocate {_amount(resource, available, unit=False)}; these pods would never schedule",
                )
            )
    fits_somewhere = any(
        all(amount <= pool.allocatable.get(resource, Decimal(0)) for resource, amount in wanted.values()) for pool in pools
    )
    if not problems and not fits_somewhere:
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
