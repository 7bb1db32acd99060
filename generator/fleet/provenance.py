"""Which environment-file field produced a field of a rendered object, so `render` points at the line to change.

A finding on `spec.template.spec.containers[0].resources.limits.memory` of a Deployment is about
`workloads[serve].resources.limits.memory` (or `resources.memory`, where the limit defaults from);
`initContainers[1]` is the sidecar or init container of that name (or an LLM server's model
downloader, `model.download`); a field a patch wrote is the patch's. Where no closer field exists,
the object's own spec item (`workloads[serve]`) answers.
"""

from __future__ import annotations

from typing import Any

from mlgitops.errors import Location
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import value_at
from mlgitops.load.environments import LoadedEnvironment
from mlgitops.policy.model import Finding, Policy
from mlgitops.policy.targets import pod_specs
from mlgitops.render.model_download import DOWNLOAD_CONTAINER
from mlgitops.render.rendered import FieldPath, Rendered
from mlgitops.spec.container import ExtraContainer, WorkloadBase
from mlgitops.spec.derived import per_model
from mlgitops.spec.environment import Environment
from mlgitops.spec.llm import ModelDownload

ROOT = "$environment"
"""First segment of a field path that starts at the environment rather than at the workload."""
_PROBES = {"readinessProbe": "readiness", "livenessProbe": "liveness", "startupProbe": "startup"}
_OWN_NAMES = ("image", "imagePullPolicy", "command", "args", "workingDir", "envFrom", "ports")
_POD_FIELDS = {
    "securityContext": ("security",),
    "hostIPC": ("hostIPC",),
    "topologySpreadConstraints": ("spread",),
    "nodeSelector": ("nodePool",),
    "serviceAccountName": ("serviceAccountName",),
    "automountServiceAccountToken": ("automountServiceAccountToken",),
    "priorityClassName": ("priorityClassName",),
    "restartPolicy": ("restartPolicy",),
}
_OBJECT_FIELDS = {
    "HorizontalPodAutoscaler": ("autoscaling",),
    "PodDisruptionBudget": ("disruptionBudget",),
    "ServiceMonitor": ("metrics",),
    "PodMonitor": ("metrics",),
    "Ingress": ("ingress",),
    "HTTPRoute": ("httpRoute",),
    "Service": ("ports",),
    "NetworkPolicy": ("allowFrom",),
    "ServiceAccount": ("serviceAccount",),
}
_BUDGET = {"requests.cpu": "cpu", "requests.memory": "memory", "cpu": "cpu", "memory": "memory"}


def field_source(item: Rendered, path: FieldPath, environment: LoadedEnvironment) -> Location | None:
    """Where in the environment files the field ``path`` of ``item``'s object was written (file:line:column of the value;
    an inherited value at the file that wrote it, through the merged tree's positions).

    The one mapping `render` (findings and schema errors) and `lint` of rendered/ (fleet/sources.py) both use.
    Objects without a spec field of their own (Argo CD/Flux objects, extra manifests) keep their own source.
    """
    if not item.origin or item.is_extra:
        return item.source
    return environment.locate(spec_field(item, path, environment.spec))


def environment_fix(finding: Finding, policy: Policy | None) -> str:
    """The fix of ``finding`` in environment-file terms: the check's own, else the policy's ``renderFix`` (or fix)."""
    if finding.render_fix:
        return finding.render_fix
    return (policy.render_fix or policy.fix) if policy is not None else finding.fix


def spec_field(item: Rendered, path: FieldPath, environment: Environment) -> FieldPath:
    """The spec field (from the environment's root) that produced ``path`` of ``item``'s object."""
    for length in range(len(path), -1, -1):
        if path[:length] in item.patched:
            return item.patched[path[:length]]
    origin = item.origin
    if len(origin) == 2 and origin[0] == "workloads" and isinstance(origin[1], int):
        workload = environment.workloads[origin[1]]
        field = _workload_field(item, path, workload)
        return field[1:] if field[:1] == (ROOT,) else (*origin, *field)
    if origin == ("budget",) and len(path) >= 3 and path[:2] == ("spec", "hard"):
        key = str(path[2])
        return ("budget", _BUDGET.get(key, "gpus"))
    if item.kind == "ClusterQueue" and path[-1:] == ("nominalQuota",) and environment.budget is not None:
        # A flavor's quota is split from the budget: a finding on it is about the budget's figure.
        entry = value_at(item.obj, path[:-1])
        resource = str(entry.get("name")) if isinstance(entry, dict) else ""
        return ("budget", resource if resource in ("cpu", "memory") else "gpus")
    if origin[:2] == ("cluster", "nodePools") and "taints" in path:
        return (*origin, "taints")
    if len(origin) == 2 and origin[0] == "volumes" and path[:1] == ("spec",):
        return (*origin, "claim", "size" if "resources" in path else "accessModes" if "accessModes" in path else "storageClass")
    return origin


def _workload_field(item: Rendered, path: FieldPath, workload: WorkloadBase) -> FieldPath:
    manifest = Manifest(obj=item.obj, file="")
    for pod_path, pod in pod_specs(manifest):
        if path[: len(pod_path)] == pod_path:
            return _pod_field(path[len(pod_path) :], pod, workload)
    if path[:2] == ("metadata", "annotations"):
        return ("annotations",)
    if path[:2] == ("metadata", "labels"):
        return ("labels",)
    kind = item.kind
    if kind in _OBJECT_FIELDS:
        return _OBJECT_FIELDS[kind]
    if kind == "Deployment" and path[:2] == ("spec", "replicas"):
        return ("replicas",)
    if kind == "TrainJob" and path[:2] == ("spec", "runtimeRef"):
        return ("runtime", "name")
    if len(path) >= 2 and path[0] == "spec" and isinstance(path[1], str):
        return (path[1],)  # Job and CronJob fields carry the spec's names: backoffLimit, schedule, ...
    return ()


def _pod_field(relative: FieldPath, pod: dict[str, Any], workload: WorkloadBase) -> FieldPath:
    if not relative:
        return ()
    head = relative[0]
    if head in ("containers", "model"):
        rest = relative[2:] if head == "containers" else relative[1:]
        rendered = _item(pod.get("containers"), relative[1]) if head == "containers" else pod.get("model")
        return _container_field(rest, workload, (), rendered if isinstance(rendered, dict) else {})
    if head == "initContainers" and len(relative) >= 2 and isinstance(relative[1], int):
        rendered = _item(pod.get("initContainers"), relative[1])
        for field, extras in (("sidecars", workload.sidecars), ("initContainers", workload.init_containers)):
            for index, extra in enumerate(extras):
                if extra.name == rendered.get("name"):
                    return _container_field(relative[2:], extra, (field, index), rendered)
        if rendered.get("name") == DOWNLOAD_CONTAINER:
            return _download_field(relative[2:], workload, rendered)
        return ()
    if head == "volumes" and len(relative) >= 2:
        return _volume_user(workload, str(_item(pod.get("volumes"), relative[1]).get("name")))
    if head == "tolerations":
        return ("tolerations",) if workload.tolerations else ("nodePool",)
    if head == "affinity":
        return ("nodeAffinity",) if "nodeAffinity" in relative else ("antiAffinity",)
    if head == "serviceAccountName" and workload.service_account is not None:
        return ("serviceAccount",)
    if head == "imagePullSecrets":
        # The environment's default, unless the workload names its own.
        return ("imagePullSecrets",) if workload.image_pull_secrets is not None else (ROOT, "imagePullSecrets")
    return _POD_FIELDS.get(str(head), ())


def _download_field(rest: FieldPath, workload: WorkloadBase, rendered: dict[str, Any]) -> FieldPath:
    """The `model.download` field behind the LLM server's download init container (render/model_download.py)."""
    download = getattr(getattr(workload, "model", None), "download", None)
    if download is None:
        return ()
    head = str(rest[0]) if rest else ""
    if head == "env" and len(rest) >= 2 and isinstance(rest[1], int):
        return ("model", "download", *_env_field(rest, download, rendered))
    field = {"image": "image", "command": "command", "volumeMounts": "volume"}.get(head)
    if head == "resources" and len(rest) >= 3 and rest[2] in ("cpu", "memory"):
        return ("model", "download", "resources", str(rest[2]))
    return ("model", "download", field) if field else ("model", "download")


def _item(items: Any, index: Any) -> dict[str, Any]:
    if isinstance(items, list) and isinstance(index, int) and 0 <= index < len(items) and isinstance(items[index], dict):
        found: dict[str, Any] = items[index]
        return found
    return {}


def _volume_user(workload: WorkloadBase, volume: str) -> FieldPath:
    """The first mount of the volume (where the user named it), or shmSize for /dev/shm."""
    if volume == "dshm":
        return ("shmSize",)
    return _first_mounts(workload).get(volume, ("mounts",))


@per_model
def _first_mounts(workload: WorkloadBase) -> dict[str, FieldPath]:
    """Each volume the workload's containers mount → the spec field of its first mount (read-only): found once per
    workload, not once per finding on a volume."""
    containers: list[tuple[FieldPath, WorkloadBase | ExtraContainer]] = [((), workload)]
    containers += [(("sidecars", i), c) for i, c in enumerate(workload.sidecars)]
    containers += [(("initContainers", i), c) for i, c in enumerate(workload.init_containers)]
    first: dict[str, FieldPath] = {}
    for prefix, container in containers:
        for index, mount in enumerate(container.mounts):
            first.setdefault(mount.volume, (*prefix, "mounts", index, "volume"))
    return first


def _container_field(
    rest: FieldPath, container: WorkloadBase | ExtraContainer, prefix: FieldPath, rendered: dict[str, Any]
) -> FieldPath:
    if not rest:
        return prefix
    head = str(rest[0])
    if head in _OWN_NAMES:
        return (*prefix, head, *rest[1:2])
    if head in _PROBES:
        return (*prefix, "probes", _PROBES[head])
    if head == "securityContext":
        return (*prefix, "security")
    if head == "env" and len(rest) >= 2 and isinstance(rest[1], int):
        return (*prefix, *_env_field(rest, container, rendered))
    if head == "volumeMounts":
        return (*prefix, *_mount_field(rest, container))
    if head == "resources" and len(rest) >= 3:
        return (*prefix, *_resource_field(str(rest[1]), str(rest[2]), container))
    if head == "resources":
        return (*prefix, "resources")
    return prefix


def _env_field(rest: FieldPath, container: WorkloadBase | ExtraContainer | ModelDownload, rendered: dict[str, Any]) -> FieldPath:
    # Generated variables (MLflow's) come before the container's own: match by name, not position.
    own = _env_positions(container)
    name = _item(rendered.get("env"), rest[1]).get("name")
    if name not in own:
        return ("mlflow",) if getattr(container, "mlflow", None) is not None else ("env",)
    tail = tuple(segment for segment in rest[2:] if segment != "valueFrom")
    return ("env", own[name], *tail)


@per_model
def _env_positions(container: WorkloadBase | ExtraContainer | ModelDownload) -> dict[str, int]:
    """Each of the container's variables (``env``) by name → its index, the last of equal names (read-only): found
    once per container, not once per finding on its variables (8,000 variables with a finding each took 22.8 s)."""
    return {variable.name: index for index, variable in enumerate(container.env)}


def _mount_field(rest: FieldPath, container: WorkloadBase | ExtraContainer) -> FieldPath:
    if len(rest) < 2 or not isinstance(rest[1], int):
        return ("mounts",)
    if rest[1] >= len(container.mounts):
        return ("shmSize",)
    tail = {"mountPath": "path", "name": "volume", "readOnly": "readOnly", "subPath": "subPath"}.get(
        str(rest[2]) if len(rest) > 2 else ""
    )
    return ("mounts", rest[1], tail) if tail else ("mounts", rest[1])


def _resource_field(kind: str, name: str, container: WorkloadBase | ExtraContainer) -> FieldPath:
    field = {"cpu": "cpu", "memory": "memory", "ephemeral-storage": "ephemeralStorage"}.get(name, "gpu")
    if kind == "limits" and field != "gpu":
        limits = container.resources.limits
        if getattr(limits, {"ephemeralStorage": "ephemeral_storage"}.get(field, field)) is not None:
            return ("resources", "limits", field)
    return ("resources", field)
