"""The pod template every workload kind shares: container, resources, placement, storage, security."""

from __future__ import annotations

from typing import Any

from generator.kube.quantity import parse_quantity
from generator.render.dra import CLAIM_NAME, pod_resource_claims
from generator.render.metadata import ObjectMeta
from generator.spec.container import EnvVar, Probe, Probes, WorkloadBase
from generator.spec.environment import Environment
from generator.spec.placement import GPU_PRODUCT_LABEL, Placement
from generator.spec.serving import Serving
from generator.spec.storage import Volume

SHM_VOLUME = "dshm"
EXTERNAL_CLAIMS_ANNOTATION = "mlgitops.io/external-claims"
SCRATCH_VOLUMES_ANNOTATION = "mlgitops.io/scratch-volumes"
EXTERNAL_SECRETS_ANNOTATION = "mlgitops.io/external-secrets"


def container_resources(workload: WorkloadBase, placement: Placement) -> dict[str, Any]:
    """Requests and limits. GPUs go in limits, with an equal request; memory is always limited."""
    spec = workload.resources
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
    if spec.gpu is not None and placement.device_class is not None:
        # DRA: the devices come from the pod's ResourceClaim, not from an extended resource.
        return {"requests": requests, "limits": limits, "claims": [{"name": CLAIM_NAME}]}
    if spec.gpu is not None and placement.gpu_resource is not None:
        requests[placement.gpu_resource] = spec.gpu
        limits[placement.gpu_resource] = spec.gpu
    return {"requests": requests, "limits": limits}


def env_var(var: EnvVar) -> dict[str, Any]:
    if var.secret_key_ref is not None:
        return {
            "name": var.name,
            "valueFrom": {"secretKeyRef": {"name": var.secret_key_ref.name, "key": var.secret_key_ref.key}},
        }
    if var.config_map_key_ref is not None:
        return {
            "name": var.name,
            "valueFrom": {"configMapKeyRef": {"name": var.config_map_key_ref.name, "key": var.config_map_key_ref.key}},
        }
    return {"name": var.name, "value": var.value}


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


def _probes(workload: WorkloadBase) -> dict[str, Any]:
    probes: Probes = workload.probes
    rendered: dict[str, Any] = {}
    readiness = probes.readiness
    if readiness is None and isinstance(workload, Serving) and workload.ports:
        # A server that is not ready must not get traffic; a TCP check of its port is the safe floor.
        rendered["readinessProbe"] = {"tcpSocket": {"port": workload.ports[0].name}}
    elif readiness is not None:
        rendered["readinessProbe"] = _probe(readiness)
    if probes.liveness is not None:
        rendered["livenessProbe"] = _probe(probes.liveness)
    if probes.startup is not None:
        rendered["startupProbe"] = _probe(probes.startup)
    return rendered


def container_security(workload: WorkloadBase) -> dict[str, Any]:
    security = workload.security
    context: dict[str, Any] = {"allowPrivilegeEscalation": security.allow_privilege_escalation}
    if security.drop_all_capabilities:
        context["capabilities"] = {"drop": ["ALL"]}
    context["readOnlyRootFilesystem"] = security.read_only_root_filesystem
    context["runAsNonRoot"] = security.run_as_non_root
    return context


def _pod_security(workload: WorkloadBase) -> dict[str, Any]:
    security = workload.security
    context: dict[str, Any] = {"runAsNonRoot": security.run_as_non_root}
    for field, key in (("run_as_user", "runAsUser"), ("run_as_group", "runAsGroup"), ("fs_group", "fsGroup")):
        value = getattr(security, field)
        if value is not None:
            context[key] = value
    context["seccompProfile"] = {"type": security.seccomp_profile}
    return context


def _volumes(workload: WorkloadBase, volumes: dict[str, Volume]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    mounts: list[dict[str, Any]] = []
    pod_volumes: dict[str, dict[str, Any]] = {}
    for mount in workload.mounts:
        volume = volumes[mount.volume]
        entry: dict[str, Any] = {"name": volume.name, "mountPath": mount.path}
        if mount.read_only:
            entry["readOnly"] = True
        if mount.sub_path:
            entry["subPath"] = mount.sub_path
        mounts.append(entry)
        if volume.scratch is not None:
            empty_dir: dict[str, Any] = {}
            if volume.scratch.memory:
                empty_dir["medium"] = "Memory"
            empty_dir["sizeLimit"] = volume.scratch.size_limit
            pod_volumes[volume.name] = {"name": volume.name, "emptyDir": empty_dir}
        else:
            pod_volumes[volume.name] = {"name": volume.name, "persistentVolumeClaim": {"claimName": volume.claim_name}}
    if workload.shm_size is not None:
        mounts.append({"name": SHM_VOLUME, "mountPath": "/dev/shm"})
        pod_volumes[SHM_VOLUME] = {"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": workload.shm_size}}
    return mounts, sorted(pod_volumes.values(), key=lambda v: str(v["name"]))


def default_priority_class(environment: Environment, workload: WorkloadBase) -> str | None:
    """The environment's priority class for this kind of workload (training low, serving high)."""
    priorities = environment.priorities
    kind = getattr(workload, "kind", "")
    if kind in ("training", "distributed-training"):
        return priorities.training
    if kind in ("serving", "llm-serving", "ray-service"):
        return priorities.serving
    return priorities.batch  # batch and ray-job


def _placement(placement: Placement, workload: WorkloadBase) -> dict[str, Any]:
    rendered: dict[str, Any] = {}
    taints = {(t.key, t.effect) for t in placement.extra_gpu_taints}
    selector: dict[str, str] = {}
    if placement.pool is not None:
        selector.update(placement.pool.labels)
        taints |= {(t.key, t.effect) for t in placement.pool.taints}
    if workload.resources.gpu_product is not None and workload.resources.gpu is not None:
        selector[GPU_PRODUCT_LABEL] = workload.resources.gpu_product
    if selector:
        rendered["nodeSelector"] = dict(sorted(selector.items()))
    if taints:
        unique = sorted(taints)
        rendered["tolerations"] = [{"key": key, "operator": "Exists", "effect": effect} for key, effect in unique]
    return rendered


def pod_template(
    environment: Environment,
    workload: WorkloadBase,
    placement: Placement,
    meta: ObjectMeta,
    *,
    restart_policy: str | None,
    ports: list[dict[str, Any]] | None = None,
    container_name: str | None = None,
) -> dict[str, Any]:
    """A PodTemplateSpec for ``workload``."""
    volumes = {volume.name: volume for volume in environment.volumes}
    mounts, pod_volumes = _volumes(workload, volumes)
    container: dict[str, Any] = {"name": container_name or workload.name}
    if workload.image is not None:
        container["image"] = workload.image
    if workload.image_pull_policy:
        container["imagePullPolicy"] = workload.image_pull_policy
    if workload.command is not None:
        container["command"] = list(workload.command)
    if workload.args is not None:
        container["args"] = list(workload.args)
    if workload.working_dir:
        container["workingDir"] = workload.working_dir
    if workload.env:
        container["env"] = [env_var(var) for var in workload.env]
    if ports:
        container["ports"] = ports
    container["resources"] = container_resources(workload, placement)
    container.update(_probes(workload))
    container["securityContext"] = container_security(workload)
    if mounts:
        container["volumeMounts"] = mounts

    annotations = dict(meta.annotations)
    external = sorted({volumes[m.volume].existing_claim for m in workload.mounts if volumes[m.volume].existing_claim is not None})  # type: ignore[type-var]
    if external:
        annotations[EXTERNAL_CLAIMS_ANNOTATION] = ",".join(str(name) for name in external)
    scratch = sorted({m.volume for m in workload.mounts if volumes[m.volume].scratch is not None})
    if scratch:
        annotations[SCRATCH_VOLUMES_ANNOTATION] = ",".join(scratch)
    referenced = {var.secret_key_ref.name for var in workload.env if var.secret_key_ref is not None}
    existing = sorted(referenced & set(environment.existing_secrets))
    if existing:
        annotations[EXTERNAL_SECRETS_ANNOTATION] = ",".join(existing)
    template_meta: dict[str, Any] = {"labels": dict(meta.labels)}
    if annotations:
        template_meta["annotations"] = dict(sorted(annotations.items()))

    spec: dict[str, Any] = {}
    if workload.service_account_name:
        spec["serviceAccountName"] = workload.service_account_name
    priority_class = workload.priority_class_name or default_priority_class(environment, workload)
    if priority_class:
        spec["priorityClassName"] = priority_class
    if restart_policy:
        spec["restartPolicy"] = restart_policy
    spec["securityContext"] = _pod_security(workload)
    spec.update(_placement(placement, workload))
    if workload.resources.gpu is not None and placement.device_class is not None:
        spec["resourceClaims"] = pod_resource_claims(workload.name)
    spec["containers"] = [container]
    if pod_volumes:
        spec["volumes"] = pod_volumes
    return {"metadata": template_meta, "spec": spec}


def gpu_count(workload: WorkloadBase) -> int:
    return workload.resources.gpu or 0


def memory_bytes(workload: WorkloadBase) -> int:
    return int(parse_quantity(workload.resources.memory))
