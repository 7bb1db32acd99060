"""The endpoint picker of an LLM server's InferencePool, as the `serving` workload it is rendered as.

Its flags, ports and rights follow llm-d/llm-d-router (facts and sources: ``spec/inference_pool.py``). As a workload
of its own it is placed like any CPU server, so the checks can refuse, at its spec, a picker with nowhere to run.
"""

from __future__ import annotations

from typing import Any

from mlgitops.spec.inference_pool import EXT_PROC_PORT, HEALTH_PORT, METRICS_PORT, PICKER_SUFFIX, POOL_GROUP
from mlgitops.spec.llm import LlmServing
from mlgitops.spec.serving import Serving

EXT_PROC_PORT_NAME = "grpc-ext-proc"
HEALTH_PORT_NAME = "grpc-health"
METRICS_PORT_NAME = "http-metrics"


def picker_name(server: LlmServing) -> str:
    return f"{server.name}{PICKER_SUFFIX}"


def picker_workload(server: LlmServing, namespace: str) -> Serving:
    """The endpoint picker as a `serving` workload: one replica, its own ServiceAccount with an API token."""
    pool = server.inference_pool
    assert pool is not None
    picker = pool.endpoint_picker
    spec: dict[str, Any] = {
        "kind": "serving",
        "name": picker_name(server),
        "image": picker.image,
        "args": [
            "--pool-name",
            server.name,
            "--pool-namespace",
            namespace,
            "--pool-group",
            POOL_GROUP,
            "--grpc-port",
            str(EXT_PROC_PORT),
            "--grpc-health-port",
            str(HEALTH_PORT),
            "--metrics-port",
            str(METRICS_PORT),
            # Prometheus scrapes it like any server (no TokenReview rights in a namespaced root).
            "--metrics-endpoint-auth=false",
            *picker.args,
        ],
        "ports": [
            {"name": EXT_PROC_PORT_NAME, "port": EXT_PROC_PORT},
            {"name": HEALTH_PORT_NAME, "port": HEALTH_PORT},
            {"name": METRICS_PORT_NAME, "port": METRICS_PORT},
        ],
        "resources": {"cpu": picker.resources.cpu, "memory": picker.resources.memory},
        "replicas": 1,
        "serviceAccount": {},
        "automountServiceAccountToken": True,
        "nodePool": picker.node_pool,
    }
    if server.image_pull_secrets is not None:
        spec["imagePullSecrets"] = list(server.image_pull_secrets)
    if server.metrics is not None:
        spec["metrics"] = {"port": METRICS_PORT_NAME, "labels": dict(server.metrics.labels)}
    return Serving.model_validate(spec)
