"""Semantic checks of pod-level fields: extra containers, configuration sources, identity, traffic, guard rails.

Each problem names the field path as written, so the loader points at its line.
"""

from __future__ import annotations

from decimal import Decimal

from mlgitops.kube.cluster import requirement_matches
from mlgitops.kube.quantity import format_bytes, parse_quantity
from mlgitops.spec.container import ExtraContainer, Resources, WorkloadBase
from mlgitops.spec.derived import config_map_positions, volumes_by_name
from mlgitops.spec.environment import Environment
from mlgitops.spec.namespace import ContainerAmounts
from mlgitops.spec.placement import Placement
from mlgitops.spec.problems import FieldPath, SpecProblem, unique
from mlgitops.spec.serving import ServerBase

# Native sidecars (init containers with restartPolicy: Always) are on by default from Kubernetes 1.29.
SIDECAR_VERSION = (1, 29)
CONFIG_MAP_LIMIT = 1024 * 1024


def _version(text: str) -> tuple[int, int]:
    major, minor = text.lstrip("v").split(".")[:2]
    return int(major), int(minor)


def check_extra_containers(environment: Environment, workload: WorkloadBase, at: FieldPath, main: str) -> list[SpecProblem]:
    """Init containers and sidecars: unique names (``main`` is the main container's), no GPUs, probes only on
    sidecars, sidecars on 1.29+."""
    problems: list[SpecProblem] = []
    seen = {main}
    for field in ("sidecars", "initContainers"):
        extras: list[ExtraContainer] = getattr(workload, "sidecars" if field == "sidecars" else "init_containers")
        for index, extra in enumerate(extras):
            here = (*at, field, index)
            if extra.name in seen:
                problems.append(SpecProblem((*here, "name"), f"container name {extra.name!r} is used twice in the pod"))
            seen.add(extra.name)
            if extra.resources.gpu is not None or extra.resources.gpu_resource is not None:
                problems.append(
                    SpecProblem((*here, "resources", "gpu"), "GPUs belong to the main container; remove gpu from this container")
                )
            problems += unique(extra.env, (*here, "env"))
            if field == "initContainers" and any((extra.probes.readiness, extra.probes.liveness, extra.probes.startup)):
                problems.append(
                    SpecProblem((*here, "probes"), "init containers run to completion and take no probes (a sidecar does)")
                )
    if workload.sidecars and _version(environment.kubernetes_version) < SIDECAR_VERSION:
        problems.append(
            SpecProblem(
                (*at, "sidecars"),
                f"native sidecars need Kubernetes 1.29 or later (kubernetesVersion is {environment.kubernetes_version})",
            )
        )
    return problems


def containers_with_paths(workload: WorkloadBase, at: FieldPath) -> list[tuple[FieldPath, WorkloadBase | ExtraContainer]]:
    """The main container (the workload itself) and every extra container, each with its spec path."""
    found: list[tuple[FieldPath, WorkloadBase | ExtraContainer]] = [(at, workload)]
    found += [((*at, "sidecars", i), c) for i, c in enumerate(workload.sidecars)]
    found += [((*at, "initContainers", i), c) for i, c in enumerate(workload.init_containers)]
    return found


def check_configuration(environment: Environment, workload: WorkloadBase, at: FieldPath) -> list[SpecProblem]:
    """ConfigMap keys that exist, ConfigMap volumes mounted as config, one ServiceAccount source."""
    problems: list[SpecProblem] = []
    rendered = config_map_positions(environment)
    volumes = volumes_by_name(environment)
    for path, container in containers_with_paths(workload, at):
        for index, var in enumerate(container.env):
            ref = var.config_map_key_ref
            if ref is None or ref.name not in rendered:
                continue
            keys = _config_keys(environment, rendered[ref.name])
            if ref.key not in keys:
                problems.append(
                    SpecProblem(
                        (*path, "env", index, "configMapKeyRef", "key"),
                        f"ConfigMap {ref.name!r} has no key {ref.key!r} (it has: {', '.join(sorted(keys)) or 'none'})",
                    )
                )
        for index, mount in enumerate(container.mounts):
            volume = volumes.get(mount.volume)
            if volume is None:
                continue
            if (volume.config_map is not None) != (mount.role == "config"):
                wanted = "config" if volume.config_map is not None else "data, model, checkpoint, output or cache"
                problems.append(
                    SpecProblem(
                        (*path, "mounts", index, "role"),
                        f"volume {mount.volume!r} {'is' if volume.config_map else 'is not'} a ConfigMap: its role is {wanted}",
                    )
                )
    if workload.service_account is not None and workload.service_account_name is not None:
        problems.append(
            SpecProblem(
                (*at, "serviceAccountName"),
                "serviceAccount renders the workload's own ServiceAccount; drop serviceAccountName (or serviceAccount)",
            )
        )
    return problems


def _config_keys(environment: Environment, index: int) -> set[str]:
    spec = environment.config_maps[index]
    return set(spec.data) | {file.key_name for file in spec.files}


def check_config_maps(environment: Environment) -> list[SpecProblem]:
    """Keys given once, and content within the API server's 1 MiB."""
    problems: list[SpecProblem] = []
    for index, spec in enumerate(environment.config_maps):
        at: FieldPath = ("configMaps", index)
        seen = set(spec.data)
        size = sum(len(key) + len(value.encode()) for key, value in spec.data.items())
        for file_index, file in enumerate(spec.files):
            if file.key_name in seen:
                problems.append(SpecProblem((*at, "files", file_index), f"key {file.key_name!r} is given twice; set key:"))
            seen.add(file.key_name)
            read = environment.repository_file((*at, "files", file_index, "path"))
            size += len(file.key_name) + (len(read.text.encode()) if read is not None else 0)
        if size > CONFIG_MAP_LIMIT:
            problems.append(
                SpecProblem(
                    at, f"holds {format_bytes(Decimal(size))}; a ConfigMap is limited to 1Mi (use a volume for large files)"
                )
            )
    return problems


def check_traffic(environment: Environment, workload: ServerBase, at: FieldPath) -> list[SpecProblem]:
    """Ingress and HTTPRoute: a server with a Service, a known port, a known forwarder for the network policy."""
    problems: list[SpecProblem] = []
    names = {port.name for port in workload.service_ports()}
    kserve = getattr(workload, "kserve", None)
    policy_on = environment.network_policy is not None and environment.network_policy.enabled
    for field, spec in (("ingress", workload.ingress), ("httpRoute", workload.http_route)):
        if spec is None:
            continue
        if kserve is not None:
            problems.append(SpecProblem((*at, field), f"KServe routes to its InferenceService itself; remove {field}"))
            continue
        if spec.port is not None and spec.port not in names:
            problems.append(
                SpecProblem((*at, field, "port"), f"port {spec.port!r} is not one of the ports ({', '.join(sorted(names))})")
            )
    ingress = workload.ingress
    controller = environment.ingress_controller
    unknown_controller = controller is None or controller.namespace is None
    if ingress is not None and kserve is None and policy_on and ingress.allow_from is None and unknown_controller:
        problems.append(
            SpecProblem(
                (*at, "ingress"),
                "the network policy denies ingress by default: say where the ingress controller runs "
                "(the environment's ingressController.namespace) or set ingress.allowFrom",
            )
        )
    return problems


def check_node_affinity(workload: WorkloadBase, placement: Placement, at: FieldPath) -> list[SpecProblem]:
    """Required node labels that the chosen pool's labels contradict: the pods would never schedule. The match is
    kube/cluster.py's (the scheduler's, which Kueue's flavor matching in kube/kueue_admission.py shares)."""
    if workload.node_affinity is None or placement.pool is None:
        return []
    labels = placement.pool.labels
    problems = []
    for index, requirement in enumerate(workload.node_affinity.required):
        value = labels.get(requirement.key)
        if value is None:
            continue  # a label the profile does not list may still be on the nodes
        if not requirement_matches(requirement.key, requirement.operator, requirement.values, labels):
            problems.append(
                SpecProblem(
                    (*at, "nodeAffinity", "required", index),
                    f"node pool {placement.pool.name!r} has {requirement.key}={value}, which this requirement excludes: "
                    "the pods would never schedule",
                )
            )
    return problems


def _amounts(resources: Resources) -> tuple[dict[str, str], dict[str, str]]:
    requests = {"cpu": resources.cpu, "memory": resources.memory}
    if resources.ephemeral_storage is not None:
        requests["ephemeralStorage"] = resources.ephemeral_storage
    limits = {"memory": resources.limits.memory or resources.memory}
    if resources.limits.cpu is not None:
        limits["cpu"] = resources.limits.cpu
    storage_limit = resources.limits.ephemeral_storage or resources.ephemeral_storage
    if storage_limit is not None:
        limits["ephemeralStorage"] = storage_limit
    return requests, limits


def _bounds(amounts: ContainerAmounts | None) -> dict[str, str]:
    if amounts is None:
        return {}
    named = {"cpu": amounts.cpu, "memory": amounts.memory, "ephemeralStorage": amounts.ephemeral_storage}
    return {name: value for name, value in named.items() if value is not None}


def check_limit_range(environment: Environment, workload: WorkloadBase, at: FieldPath) -> list[SpecProblem]:
    """Every container within the LimitRange's bounds: the API server refuses pods outside them."""
    spec = environment.limit_range
    if spec is None:
        return []
    problems = []
    most, least = _bounds(spec.max), _bounds(spec.min)
    for path, container in containers_with_paths(workload, at):
        requests, limits = _amounts(container.resources)
        for name, bound in most.items():
            value = limits.get(name) or requests.get(name)
            if value is not None and parse_quantity(value) > parse_quantity(bound):
                field = (*path, "resources", "limits", name) if name in limits else (*path, "resources", name)
                problems.append(SpecProblem(field, f"{value} is above the environment's limitRange.max.{name} {bound}"))
        for name, bound in least.items():
            value = requests.get(name)
            if value is not None and parse_quantity(value) < parse_quantity(bound):
                problems.append(
                    SpecProblem((*path, "resources", name), f"{value} is below the environment's limitRange.min.{name} {bound}")
                )
    return problems


def check_limit_range_spec(environment: Environment) -> list[SpecProblem]:
    spec = environment.limit_range
    if spec is None:
        return []
    problems = []
    pairs = (("defaultRequest", spec.default_request, "default", spec.default), ("min", spec.min, "max", spec.max))
    for low_name, low, high_name, high in pairs:
        lows, highs = _bounds(low), _bounds(high)
        for name in sorted(set(lows) & set(highs)):
            if parse_quantity(lows[name]) > parse_quantity(highs[name]):
                problems.append(
                    SpecProblem(("limitRange", low_name, name), f"{lows[name]} is above {high_name}.{name} {highs[name]}")
                )
    return problems
