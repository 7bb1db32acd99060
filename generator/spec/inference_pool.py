"""An LLM server behind the Gateway API Inference Extension: an InferencePool and its endpoint picker (EPP).

The pool (``inference.networking.k8s.io/v1`` InferencePool) names the server's pods by label (``selector.matchLabels``,
same namespace only), the port they serve on (``targetPorts[].number``) and the endpoint picker that chooses one pod
per request (``endpointPickerRef`` {name, port, failureMode}: a Service and its port; ``FailClose`` by default, drop
requests while the picker is down). An HTTPRoute sends traffic to it with a backendRef of group
``inference.networking.k8s.io``, kind ``InferencePool``. Sources: kubernetes-sigs/gateway-api-inference-extension
``api/v1/inferencepool_types.go`` and ``conformance/resources/base.yaml`` (commit 84436a96).

The endpoint picker is one Deployment per pool: the reference implementation moved to llm-d/llm-d-router
(``config/charts/routerlib/templates/_deployment.yaml``, ``_service.yaml``, ``_rbac.yaml`` and the gateway chart's
``rbac.yaml``, commit ebab6879; flags in ``pkg/epp/server/options.go``): ``--pool-name --pool-namespace
--pool-group inference.networking.k8s.io``, ext-proc gRPC on 9002 (Service port ``grpc-ext-proc``, appProtocol
``kubernetes.io/h2c``), gRPC health on 9003 (probes with service ``inference-extension``), Prometheus metrics on
9090; it reads pods and InferencePools (and InferenceObjectives, InferenceModelRewrites) of its namespace.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from mlgitops.spec.base import DnsLabel, Labels, PositiveQuantity, SpecModel
from mlgitops.spec.container import IMAGE_PATTERN

EXT_PROC_PORT = 9002
"""The picker's ext-proc gRPC port (the gateway calls it for every request; endpointPickerRef.port)."""
HEALTH_PORT = 9003
"""The picker's gRPC health port (liveness and readiness probes, service 'inference-extension')."""
METRICS_PORT = 9090
"""The picker's Prometheus metrics port."""
HEALTH_SERVICE = "inference-extension"
PICKER_SUFFIX = "-epp"
"""The endpoint picker's Deployment, Service and ServiceAccount are named after the server with this suffix."""
POOL_GROUP = "inference.networking.k8s.io"
POOL_API_VERSION = f"{POOL_GROUP}/v1"


class PickerResources(SpecModel):
    """Requests of the endpoint picker (its memory limit equals the request). Upstream's chart asks for 8 CPU and
    8Gi; a picker of one pool of a few servers needs far less."""

    cpu: PositiveQuantity = "2"
    memory: PositiveQuantity = "4Gi"


class EndpointPicker(SpecModel):
    """The endpoint picker (EPP) of the pool: which server pod takes each request, by queue depth and KV cache."""

    image: str = Field(pattern=IMAGE_PATTERN, min_length=1)
    """The picker's image, e.g. 'ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.5.0' (pin it by digest in prod)."""
    failure_mode: Literal["FailClose", "FailOpen"] = "FailClose"
    """What the gateway does while the picker does not answer: FailClose drops the request, FailOpen sends it to
    any pod of the pool (endpointPickerRef.failureMode)."""
    resources: PickerResources = Field(default_factory=PickerResources)
    node_pool: DnsLabel | None = None
    """Node pool of the picker's pod (default: chosen as for any CPU workload)."""
    args: list[str] = Field(default_factory=list)
    """Extra flags after the ones mlgitops sets (e.g. '--v=2', '--config-file=/config/plugins.yaml')."""


class InferencePoolSpec(SpecModel):
    """Serve through an InferencePool: the gateway asks the pool's endpoint picker which pod takes each request."""

    endpoint_picker: EndpointPicker
    selector: Labels | None = None
    """Labels that pick the pool's pods (default: the server's own, app.kubernetes.io/name: <name>). They must pick
    this server's pods and no other workload's: a pool spanning two models sends requests to the wrong one."""
