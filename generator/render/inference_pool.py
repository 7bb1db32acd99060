"""An LLM server's InferencePool and its endpoint picker: Deployment, Service, ServiceAccount, Role and RoleBinding.

The picker is rendered as a `serving` workload of its own (so it gets the same security, placement, pull secrets
and ServiceMonitor as any server), then given what that spec cannot say: gRPC probes and the ext-proc port's
appProtocol. The facts and their sources: ``spec/inference_pool.py``.
"""

from __future__ import annotations

from typing import Any

from mlgitops.render.metadata import ObjectMeta, selector_labels
from mlgitops.render.serving import render_serving
from mlgitops.spec.environment import Environment
from mlgitops.spec.inference_pool import EXT_PROC_PORT, HEALTH_PORT, HEALTH_SERVICE, POOL_API_VERSION, POOL_GROUP
from mlgitops.spec.kinds import resolved
from mlgitops.spec.llm import LlmServing
from mlgitops.spec.picker import EXT_PROC_PORT_NAME, picker_name, picker_workload
from mlgitops.spec.placement import place

H2C = "kubernetes.io/h2c"
LWS_WORKER_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index"
_READ = ["get", "list", "watch"]
_TUNING = ["inferencemodelrewrites", "inferenceobjectives"]
PICKER_RULES = [
    {"apiGroups": [""], "resources": ["pods"], "verbs": _READ},
    {"apiGroups": [POOL_GROUP], "resources": ["inferencepools"], "verbs": _READ},
    {"apiGroups": ["inference.networking.x-k8s.io"], "resources": _TUNING, "verbs": _READ},
    {"apiGroups": ["llm-d.ai"], "resources": _TUNING, "verbs": _READ},
]
"""What the picker reads in its namespace (llm-d/llm-d-router routerlib ``_rbac.yaml`` and the gateway chart's
``rbac.yaml``): the pool's pods, the pool, and the objectives and rewrites that tune its choices."""


def pool_selector(server: LlmServing) -> dict[str, str]:
    """The pool's matchLabels: the server's own pods (or the spec's selector); of a LeaderWorkerSet, its leaders only,
    since the workers serve no HTTP."""
    pool = server.inference_pool
    assert pool is not None
    selector = dict(pool.selector) if pool.selector is not None else selector_labels(server.name)
    if server.multi_node:
        selector[LWS_WORKER_INDEX_LABEL] = "0"
    return dict(sorted(selector.items()))


def _grpc_probes(container: dict[str, Any]) -> None:
    probe = {"grpc": {"port": HEALTH_PORT, "service": HEALTH_SERVICE}, "initialDelaySeconds": 5, "periodSeconds": 10}
    container["readinessProbe"] = {**probe, "periodSeconds": 2}
    container["livenessProbe"] = probe


def render_pool(environment: Environment, server: LlmServing, meta: ObjectMeta) -> list[dict[str, Any]]:
    """The InferencePool, and its picker's objects (ServiceAccount, Role, RoleBinding, Deployment, Service, and the
    ServiceMonitor when the server is scraped). None without `inferencePool`."""
    pool = server.inference_pool
    if pool is None:
        return []
    namespace = environment.namespace
    name = picker_name(server)
    picker_meta = ObjectMeta(name, {**meta.labels, "app.kubernetes.io/name": name}, meta.annotations)
    inference_pool = {
        "apiVersion": POOL_API_VERSION,
        "kind": "InferencePool",
        "metadata": meta.render(namespace),
        "spec": {
            "selector": {"matchLabels": pool_selector(server)},
            "targetPorts": [{"number": server.port}],
            "endpointPickerRef": {
                "kind": "Service",
                "name": name,
                "port": {"number": EXT_PROC_PORT},
                "failureMode": pool.endpoint_picker.failure_mode,
            },
        },
    }
    workload = picker_workload(server, namespace)
    full = resolved(environment, workload)
    objects = render_serving(environment, full, picker_meta, place(environment, full))
    for obj in objects:
        if obj["kind"] == "Deployment":
            _grpc_probes(obj["spec"]["template"]["spec"]["containers"][0])
        if obj["kind"] == "Service":
            for port in obj["spec"]["ports"]:
                if port["name"] == EXT_PROC_PORT_NAME:
                    port["appProtocol"] = H2C
    account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": picker_meta.render(namespace),
        "automountServiceAccountToken": True,
    }
    role = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": picker_meta.render(namespace),
        "rules": PICKER_RULES,
    }
    binding = {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": picker_meta.render(namespace),
        "subjects": [{"kind": "ServiceAccount", "name": name, "namespace": namespace}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
    }
    return [inference_pool, account, role, binding, *objects]
