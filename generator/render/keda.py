"""A server's KEDA ScaledObject (keda.sh/v1alpha1): Prometheus triggers, and scale to zero with a written-down wake-up.

Queries for the signals follow the servers' documented metrics: vLLM `vllm:num_requests_waiting` and
`vllm:kv_cache_usage_perc`, SGLang `sglang:num_queue_reqs` and `sglang:token_usage`, TGI
`tgi_queue_size`, and the DCGM exporter's `DCGM_FI_DEV_GPU_UTIL` (labelled with the pod and namespace).
Server metrics are selected by the `service` label the Prometheus Operator puts on what a ServiceMonitor
scrapes. Source: https://keda.sh/docs/latest/scalers/prometheus/
"""

from __future__ import annotations

from typing import Any

from mlgitops.render.metadata import ObjectMeta
from mlgitops.spec.environment import Environment
from mlgitops.spec.keda import PrometheusTrigger
from mlgitops.spec.llm import LlmServing
from mlgitops.spec.serving import ServerBase

QUEUE_METRICS = {"vllm": "vllm:num_requests_waiting", "sglang": "sglang:num_queue_reqs", "tgi": "tgi_queue_size"}
KV_CACHE_METRICS = {"vllm": "vllm:kv_cache_usage_perc", "sglang": "sglang:token_usage"}
GPU_UTILIZATION_METRIC = "DCGM_FI_DEV_GPU_UTIL"
SCALE_TO_ZERO_ANNOTATION = "mlgitops.io/scale-to-zero"


def _pod_name_pattern(name: str, target_kind: str) -> str:
    """Names of the target's pods: '<lws>-<group>[-<worker>]' for a LeaderWorkerSet, '<deploy>-<rs>-<pod>' else."""
    if target_kind == "LeaderWorkerSet":
        return f"{name}-[0-9]+(-[0-9]+)?"
    return f"{name}-[a-z0-9]+-[a-z0-9]+"


def trigger_query(environment: Environment, workload: ServerBase, trigger: PrometheusTrigger, target_kind: str) -> str:
    """The PromQL query of a trigger: the user's own, or the one its signal stands for."""
    if trigger.query is not None:
        return trigger.query
    namespace = environment.namespace
    if trigger.signal == "gpu-utilization":
        pods = _pod_name_pattern(workload.name, target_kind)
        return f'avg({GPU_UTILIZATION_METRIC}{{namespace="{namespace}",pod=~"{pods}"}})'
    assert isinstance(workload, LlmServing)  # checks allow server signals on LLM servers only
    series = f'{{namespace="{namespace}",service="{workload.name}"}}'
    if trigger.signal == "queue-depth":
        return f"sum({QUEUE_METRICS[workload.server]}{series})"
    return f"avg({KV_CACHE_METRICS[workload.server]}{series})"


def _trigger(
    environment: Environment, workload: ServerBase, trigger: PrometheusTrigger, index: int, target_kind: str
) -> dict[str, Any]:
    keda = workload.keda
    assert keda is not None
    metadata: dict[str, str] = {
        "serverAddress": keda.prometheus,
        "query": trigger_query(environment, workload, trigger, target_kind),
        "threshold": trigger.target,
    }
    if trigger.activation is not None:
        metadata["activationThreshold"] = trigger.activation
    return {
        "type": "prometheus",
        "name": trigger.name or trigger.signal or f"query-{index}",
        "metricType": trigger.compared_as,
        "metadata": metadata,
    }


def _cold_start(workload: ServerBase, triggers: list[dict[str, Any]]) -> str:
    wake = "; or ".join(f"{t['name']} above {t['metadata']['activationThreshold']}" for t in triggers)
    startup = workload.probes.startup
    budget = ""
    if startup is not None:
        seconds = (startup.period_seconds or 10) * (startup.failure_threshold or 3) + (startup.initial_delay_seconds or 0)
        budget = f" (its startup probe allows {seconds} s)"
    return (
        f"scales to zero when idle and wakes when {wake}; the first requests then wait for the server to start "
        f"and load its model{budget}"
    )


def render_scaled_object(
    environment: Environment, workload: ServerBase, meta: ObjectMeta, target: dict[str, str]
) -> dict[str, Any]:
    """The ScaledObject; with minReplicas 0 its annotation says when the server wakes up and what a cold start costs."""
    keda = workload.keda
    assert keda is not None
    triggers = [_trigger(environment, workload, trigger, index, target["kind"]) for index, trigger in enumerate(keda.triggers)]
    annotations = {SCALE_TO_ZERO_ANNOTATION: _cold_start(workload, triggers)} if keda.min_replicas == 0 else {}
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": meta.render(environment.namespace, annotations),
        "spec": {
            "scaleTargetRef": dict(target),
            "pollingInterval": keda.polling_interval,
            "cooldownPeriod": keda.cooldown_period,
            "minReplicaCount": keda.min_replicas,
            "maxReplicaCount": keda.max_replicas,
            "triggers": triggers,
        },
    }
