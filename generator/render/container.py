"""One container of a pod: the main container and every init container and sidecar, rendered the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from mlgitops.kube.volumes import SHM_PATH
from mlgitops.spec.container import ContainerSecurity, EnvVar, Mount, Probe, Probes, Resources, Security
from mlgitops.spec.pod import EnvFromSource
from mlgitops.spec.run_as import container_run_as

SHM_VOLUME = "dshm"


class ContainerSpec(Protocol):
    """What the main container (a workload) and an extra container (init or sidecar) both carry."""

    @property
    def name(self) -> str: ...
    @property
    def image(self) -> str | None: ...
    @property
    def image_pull_policy(self) -> str | None: ...
    @property
    def command(self) -> list[str] | None: ...
    @property
    def args(self) -> list[str] | None: ...
    @property
    def working_dir(self) -> str | None: ...
    @property
    def env(self) -> list[EnvVar]: ...
    @property
    def env_from(self) -> list[EnvFromSource]: ...
    @property
    def resources(self) -> Resources: ...
    @property
    def mounts(self) -> list[Mount]: ...
    @property
    def probes(self) -> Probes: ...


ConfigMapName = Callable[[str], str]
"""The rendered name of a ConfigMap named in the spec (its hashed name, or the name of an existing one)."""


def resource_amounts(spec: Resources, gpu_resource: str | None) -> dict[str, Any]:
    """Requests and limits. GPUs go in limits, with an equal request; memory is always limited."""
    requests: dict[str, Any] = {"cpu": spec.cpu, "memory": spec.memory}
    limits: dict[str, Any] = {}
    if spec.limits.cpu is not None:
        limits["cpu"] = spec.limits.cpu
    limits["memory"] = spec.limits.memory or spec.memory
    if spec.ephemeral_storage is not None:
        requests["ephemeral-storage"] = spec.ephemeral_storage
        limits["ephemeral-storage"] = spec.limits.ephemeral_storage or spec.ephemeral_storage
    elif spec.limits.ephemeral_storage is not None:
        limits["ephemeral-storage"] = spec.limits.ephemeral_storage
    if spec.gpu is not None and gpu_resource is not None:
        requests[gpu_resource] = spec.gpu
        limits[gpu_resource] = spec.gpu
    return {"requests": requests, "limits": limits}


def _as_named(name: str) -> str:
    return name


def env_var(var: EnvVar, config_map_name: ConfigMapName = _as_named) -> dict[str, Any]:
    if var.secret_key_ref is not None:
        return {
            "name": var.name,
            "valueFrom": {"secretKeyRef": {"name": var.secret_key_ref.name, "key": var.secret_key_ref.key}},
        }
    if var.config_map_key_ref is not None:
        reference = {"name": config_map_name(var.config_map_key_ref.name), "key": var.config_map_key_ref.key}
        return {"name": var.name, "valueFrom": {"configMapKeyRef": reference}}
    return {"name": var.name, "value": var.value}


def env_from(source: EnvFromSource, config_map_name: ConfigMapName) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    if source.prefix is not None:
        rendered["prefix"] = source.prefix
    if source.config_map_ref is not None:
        rendered["configMapRef"] = {"name": config_map_name(source.config_map_ref.name)}
    elif source.secret_ref is not None:
        rendered["secretRef"] = {"name": source.secret_ref.name}
    return rendered


def _probe(probe: Probe) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    if probe.http_get is not None:
        rendered["httpGet"] = {"path": probe.http_get.path, "port": probe.http_get.port}
    elif probe.tcp_socket is not None:
        rendered["tcpSocket"] = {"port": probe.tcp_socket.port}
    elif probe.exec is not None:
        rendered["exec"] = {"command": list(probe.exec.command)}
    for field, key in (
        ("initial_delay_seconds", "initialDelaySeconds"),
        ("period_seconds", "periodSeconds"),
        ("timeout_seconds", "timeoutSeconds"),
        ("failure_threshold", "failureThreshold"),
    ):
        value = getattr(probe, field)
        if value is not None:
            rendered[key] = value
    return rendered


def probes(spec: Probes, default_readiness_port: str | None = None) -> dict[str, Any]:
    """Probes as container fields; ``default_readiness_port`` gives a server without one a TCP readiness check."""
    rendered: dict[str, Any] = {}
    if spec.readiness is None and default_readiness_port is not None:
        # A server that is not ready must not get traffic; a TCP check of its port is the safe floor.
        rendered["readinessProbe"] = {"tcpSocket": {"port": default_readiness_port}}
    elif spec.readiness is not None:
        rendered["readinessProbe"] = _probe(spec.readiness)
    if spec.liveness is not None:
        rendered["livenessProbe"] = _probe(spec.liveness)
    if spec.startup is not None:
        rendered["startupProbe"] = _probe(spec.startup)
    return rendered


def container_security(security: Security, override: ContainerSecurity | None = None) -> dict[str, Any]:
    """The container's securityContext: the workload's settings, with an extra container's overrides; who it runs as
    is decided in ``spec/run_as.py`` (runAsNonRoot never together with uid 0)."""

    def pick(name: str) -> Any:
        own = getattr(override, name, None) if override is not None else None
        return own if own is not None else getattr(security, name)

    context: dict[str, Any] = {"allowPrivilegeEscalation": pick("allow_privilege_escalation")}
    if pick("drop_all_capabilities"):
        context["capabilities"] = {"drop": ["ALL"]}
    context["readOnlyRootFilesystem"] = pick("read_only_root_filesystem")
    run_as = container_run_as(security, override)
    context["runAsNonRoot"] = run_as.non_root
    if run_as.user is not None:
        context["runAsUser"] = run_as.user
    if override is not None and override.run_as_group is not None:
        context["runAsGroup"] = override.run_as_group
    return context


def volume_mounts(mounts: list[Mount], *, shm: bool) -> list[dict[str, Any]]:
    rendered: list[dict[str, Any]] = []
    for mount in mounts:
        entry: dict[str, Any] = {"name": mount.volume, "mountPath": mount.path}
        if mount.read_only:
            entry["readOnly"] = True
        if mount.sub_path:
            entry["subPath"] = mount.sub_path
        rendered.append(entry)
    if shm:
        rendered.append({"name": SHM_VOLUME, "mountPath": SHM_PATH})
    return rendered


def render_container(
    spec: ContainerSpec,
    *,
    name: str,
    resources: dict[str, Any],
    security: dict[str, Any],
    config_map_name: ConfigMapName,
    ports: list[dict[str, Any]] | None = None,
    probe_fields: dict[str, Any] | None = None,
    shm: bool = False,
    restart_policy: str | None = None,
) -> dict[str, Any]:
    """A container in the API's field order (name, image, command, env, ports, resources, probes, security, mounts)."""
    container: dict[str, Any] = {"name": name}
    if spec.image is not None:
        container["image"] = spec.image
    if spec.image_pull_policy:
        container["imagePullPolicy"] = spec.image_pull_policy
    if restart_policy is not None:
        container["restartPolicy"] = restart_policy
    if spec.command is not None:
        container["command"] = list(spec.command)
    if spec.args is not None:
        container["args"] = list(spec.args)
    if spec.working_dir:
        container["workingDir"] = spec.working_dir
    if spec.env:
        container["env"] = [env_var(var, config_map_name) for var in spec.env]
    if spec.env_from:
        container["envFrom"] = [env_from(source, config_map_name) for source in spec.env_from]
    if ports:
        container["ports"] = ports
    container["resources"] = resources
    container.update(probe_fields or {})
    container["securityContext"] = security
    mounts = volume_mounts(spec.mounts, shm=shm)
    if mounts:
        container["volumeMounts"] = mounts
    return container
