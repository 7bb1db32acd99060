"""The model-server-startup-probe rule (issue 28): examples from real manifests and our own cases."""

from __future__ import annotations

from mlgitops.policy import Catalog
from tests.policy.linting import located

VLLM = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: llama}
spec:
  selector: {matchLabels: {app: llama}}
  template:
    metadata: {labels: {app: llama}}
    spec:
      containers:
        - name: vllm
          image: vllm/vllm-openai:v0.11.0
          livenessProbe:
            httpGet: {path: /health, port: 8000}
            periodSeconds: 10
"""


def test_a_model_server_killed_before_it_loads(catalog: Catalog) -> None:
    assert located(VLLM, catalog, "model-server-startup-probe") == [
        (
            13,
            13,
            "container 'vllm' loads a model at start and has a livenessProbe but no startupProbe: the kubelet kills "
            "it before the weights are loaded",
        )
    ]
    waits = VLLM.replace("periodSeconds: 10", "initialDelaySeconds: 600")
    assert located(waits, catalog, "model-server-startup-probe") == []
    # The same probe on a web server, or on llm-d's endpoint picker (no model), is left alone.
    for image in ("nginx:1.27", "ghcr.io/llm-d/llm-d-router-endpoint-picker:v0.10.0"):
        assert located(VLLM.replace("vllm/vllm-openai:v0.11.0", image), catalog, "model-server-startup-probe") == []
    triton = VLLM.replace("vllm/vllm-openai:v0.11.0", "nvcr.io/nvidia/tritonserver:24.10-py3")
    assert [line for line, _, _ in located(triton, catalog, "model-server-startup-probe")] == [13]
