"""Semantic checks that typing alone cannot express: limits vs requests, fit on node pools, names.

What a kind checks beyond these is named in its row of the registry (``spec/kinds.py``).

Each problem names a field path (as written in the file) so the loader can point at its line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mlgitops.kube.api_rules import resource_problems
from mlgitops.kube.cluster import is_gpu_resource
from mlgitops.kube.fit import node_fit
from mlgitops.kube.quantity import format_bytes, format_cpu, memory_limit_problem, memory_unit_problem, parse_quantity
from mlgitops.kube.volumes import SHM_PATH, repeated_paths
from mlgitops.spec.accelerator_checks import device_problems, pool_problems
from mlgitops.spec.capacity import PodSet, capacity_problems, shown_amount
from mlgitops.spec.checked import Checked
from mlgitops.spec.cluster import NodePool
from mlgitops.spec.container import ExtraContainer, Resources, WorkloadBase
from mlgitops.spec.controller_checks import check_controllers
from mlgitops.spec.derived import volumes_by_name
from mlgitops.spec.environment import Environment
from mlgitops.spec.image_volumes import image_volume_problems, writable_image_mount
from mlgitops.spec.kinds import KindSpec, kind_of
from mlgitops.spec.kueue_checks import check_queues
from mlgitops.spec.monitoring_checks import monitoring_problems
from mlgitops.spec.placement import PlacementError, place, pool_choice
from mlgitops.spec.pod_checks import (
    check_config_maps,
    check_configuration,
    check_extra_containers,
    check_limit_range,
    check_limit_range_spec,
    check_node_affinity,
    containers_with_paths,
)
from mlgitops.spec.problems import FieldPath, SpecProblem, unique
from mlgitops.spec.queues import queue_of
from mlgitops.spec.run_as import run_as_problems
from mlgitops.spec.storage import Volume

# Spec field names of resources and the Kubernetes resource names they render to.
_KUBERNETES_NAMES = {"ephemeralStorage": "ephemeral-storage"}


def check_environment(environment: Environment) -> list[SpecProblem]:
    """Every semantic problem of the environment, in file order.

    Each workload gets the checks every workload gets, then its kind's own (its row in ``spec/kinds.py``).
    """
    problems: list[SpecProblem] = []
    problems += unique(environment.cluster.node_pools, ("cluster", "nodePools"))
    problems += pool_problems(environment)
    problems += unique(environment.volumes, ("volumes",))
    problems += image_volume_problems(environment)
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
        row = kind_of(workload)
        integration_problems = (row.integrations or _integrations)(environment, workload, at)
        if integration_problems:
            problems += integration_problems
            continue
        name_problem = row.name_rule.problem(workload.name)
        if name_problem:
            problems.append(SpecProblem((*at, "name"), name_problem))
        for path, container in containers_with_paths(workload, at):
            problems += _mounts(container, volumes, path)
        problems += unique(workload.env, (*at, "env"))
        problems += check_extra_containers(environment, workload, at, main=row.main_container or workload.name)
        problems += run_as_problems(workload, at)
        problems += check_configuration(environment, workload, at)
        problems += check_limit_range(environment, workload, at)
        problems += monitoring_problems(environment, row, workload, at)
        full = row.resolve(environment, workload)
        for path, container in containers_with_paths(full, at):
            problems += _resources(container.resources, getattr(container, "shm_size", None), path)
        checked = Checked(environment, workload, full, volumes, at, queue_of(environment, workload))
        for check in row.checks:
            problems += check(checked)
        problems += _pod_groups(environment, row, full, at)
    problems += [SpecProblem(path, message) for path, message in check_queues(environment)]
    problems += check_controllers(environment)
    return problems


def _pod_groups(environment: Environment, row: KindSpec[Any], workload: WorkloadBase, at: FieldPath) -> list[SpecProblem]:
    """Each group of the workload's pods placed on a pool whose nodes fit them, and all of them in their pools."""
    problems: list[SpecProblem] = []
    pod_sets = []
    for group in workload.pod_groups(at):
        view, here = group.view, group.at
        if view is not workload:
            problems += _resources(view.resources, view.shm_size, here)
        try:
            placement = place(environment, view)  # resources and pool do not depend on integrations
        except PlacementError as error:
            problems.append(SpecProblem((*here, error.field), error.message))
            continue
        if placement.device_class is not None and view.resources.gpu is not None and row.dra_refusal is not None:
            unclaimable = row.dra_refusal(view, placement.device_class)
            if unclaimable:
                problems.append(SpecProblem((*here, "nodePool"), unclaimable))
                continue
        problems += device_problems(view, placement, here)
        problems += check_node_affinity(view, placement, here)
        if row.node_check is not None:
            own = row.node_check(view, placement, here)
            problems += own
            if own:
                continue
        problems += _fit(view, placement.candidates, placement.gpu_resource, here)
        pod_sets.append(PodSet(group.count_path, group.pods, view.resources, placement.pool, placement.gpu_resource))
    return problems + [SpecProblem(path, message) for path, message in capacity_problems(pod_sets)]


def _integrations(environment: Environment, workload: WorkloadBase, at: FieldPath) -> list[SpecProblem]:
    """MLflow needs the environment's tracking server; an image is required (kinds may say otherwise)."""
    problems = []
    if getattr(workload, "mlflow", None) is not None and environment.mlflow is None:
        problems.append(SpecProblem((*at, "mlflow"), "logs to MLflow, but the environment declares no mlflow.trackingUri"))
    if workload.image is None:
        problems.append(SpecProblem((*at, "image"), "missing required field 'image'"))
    return problems


def _resources(resources: Resources, shm_size: str | None, at: FieldPath) -> list[SpecProblem]:
    problems = []
    at = (*at, "resources")
    pairs = (
        ("cpu", resources.cpu, resources.limits.cpu, format_cpu),
        ("memory", resources.memory, resources.limits.memory, format_bytes),
        ("ephemeralStorage", resources.ephemeral_storage, resources.limits.ephemeral_storage, format_bytes),
    )
    problems += _memory(resources, at)
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
    shm_unit = memory_unit_problem(shm_size) if shm_size is not None else None
    if shm_unit is not None:
        problems.append(SpecProblem((*at[:-1], "shmSize"), shm_unit))
    elif shm_size is not None:
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


def _memory(resources: Resources, at: FieldPath) -> list[SpecProblem]:
    """Memory amounts no container starts with (kube/quantity.py): a forgotten unit, or a limit under 12Mi. The
    limit is `limits.memory`, or the request it defaults to."""
    if resources.limits.memory is not None:
        limit = memory_limit_problem(resources.limits.memory)
        request = memory_unit_problem(resources.memory)
        found = [((*at, "memory"), request), ((*at, "limits", "memory"), limit)]
    else:
        floor = memory_unit_problem(resources.memory) is None and memory_limit_problem(resources.memory) is not None
        problem = memory_limit_problem(resources.memory)
        found = [((*at, "memory"), f"{problem} (the limit is this request: no limits.memory)" if floor else problem)]
    return [SpecProblem(path, problem) for path, problem in found if problem is not None]


def _mounts(container: WorkloadBase | ExtraContainer, volumes: dict[str, Volume], at: FieldPath) -> list[SpecProblem]:
    problems = []
    # Render mounts the shared-memory volume at /dev/shm (render/container.py): no mount of the user's may take it.
    repeated = repeated_paths([mount.path for mount in container.mounts], taken=(SHM_PATH,))
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
        elif (why := writable_image_mount(volume, mount.read_only)) is not None:
            problems.append(SpecProblem(here, why))
        if index in repeated:
            problems.append(SpecProblem((*here, "path"), f"path {mount.path!r} is mounted twice"))
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
    pools = pool_choice(candidates)
    fit = node_fit(requests, pools)
    problems = [
        SpecProblem(
            (*at, "resources", fields[short.resource]),
            f"asks for {shown_amount(short.resource, short.requested)} but the largest node of pool {short.pool.name!r} can "
            f"allocate {shown_amount(short.resource, short.available, unit=False)}; these pods would never schedule",
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
