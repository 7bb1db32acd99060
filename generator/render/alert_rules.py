"""The ML alerts an environment's spec implies, each with the synthetic series that must fire it and keep it quiet.

``derive_alerts`` reads the spec; ``render/alert_objects.py`` turns the alerts into the environment's PrometheusRule
and into promtool's rule and unit-test files. Each alert's thresholds are the workload's ``alerts`` over the
environment's ``monitoring.alerts`` (``spec/monitoring.py``). The metrics, and where their names come from:

- GPUs allocated but idle: ``DCGM_FI_DEV_GPU_UTIL`` (percent), a default counter of NVIDIA/dcgm-exporter
  (etc/default-counters.csv); the exporter labels it with the GPU's pod as ``pod`` and ``namespace``
  (internal/pkg/transformation/const.go), which Prometheus renames ``exported_pod``/``exported_namespace`` unless its
  ServiceMonitor honours labels (deployment/values.yaml: honorLabels false).
- an LLM server's queue and KV cache: vLLM's ``vllm:num_requests_waiting`` and ``vllm:kv_cache_usage_perc`` (0 to 1),
  which replaced ``vllm:gpu_cache_usage_perc`` (vllm-project/vllm pull request 18354; the old name is hidden, then
  removed, two releases later: pull request 29330), so the rule reads either; p95 latency from a histogram
  (vLLM's ``vllm:e2e_request_latency_seconds``). Series of a server carry the ``service`` label the Prometheus
  Operator adds to what a ServiceMonitor scrapes.
- restarts and OOM kills: kube-state-metrics' ``kube_pod_container_status_restarts_total``,
  ``kube_pod_container_status_last_terminated_reason`` and ``kube_pod_container_status_terminated_reason``
  (kubernetes/kube-state-metrics internal/store/pod.go).
- runs pending in Kueue: ``kueue_local_queue_pending_workloads`` per LocalQueue (``name``, ``namespace``, ``status``;
  kubernetes-sigs/kueue pkg/metrics/metrics.go; feature gate LocalQueueMetrics, on by default from Kueue 0.17:
  pkg/features/kube_features.go).
- a claim nearly full: the kubelet's ``kubelet_volume_stats_used_bytes`` over ``kubelet_volume_stats_capacity_bytes``
  (labels ``namespace`` and ``persistentvolumeclaim``; kubernetes/kubernetes
  pkg/kubelet/metrics/collectors/volume_stats.go).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from mlgitops.kube.readiness import duration_seconds
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.derived import names_extending
from mlgitops.spec.environment import Environment
from mlgitops.spec.kinds import resolved
from mlgitops.spec.llm import LlmServing
from mlgitops.spec.monitoring import Alerts, GpuIdle, LatencySlo, Restarts, Saturation
from mlgitops.spec.placement import place
from mlgitops.spec.queues import queue_of

VLLM_LATENCY = "vllm:e2e_request_latency_seconds"
DEFAULT_KUEUE_PENDING = "2h"
MIN_QUEUE_WINDOW = 300
"""Seconds: the least an LLM queue may stay above target before it alerts (KEDA polls, the HPA adds pods at once:
its default scale-up stabilisation window is 0, but new pods take minutes to load a model)."""


@dataclass(frozen=True)
class Series:
    """One synthetic input series of a promtool test: a metric with labels, and its values while firing and quiet
    (promtool's expanding notation without the count, 'start+increment': one sample a minute)."""

    metric: str
    labels: dict[str, str]
    firing: str
    quiet: str


@dataclass(frozen=True)
class Alert:
    """One alerting rule, in the rule group of a workload (or of the environment), with its promtool test."""

    group: str
    name: str
    expr: str
    duration: str | None
    severity: str
    labels: dict[str, str]
    summary: str
    description: str
    series: tuple[Series, ...]
    output: dict[str, str]
    """The labels the expression's result carries for the firing series (promtool expects them exactly)."""
    runbook_url: str | None = None
    window: str | None = None
    """The range the expression looks back over, when it has one (restarts' increase)."""

    @property
    def eval_minutes(self) -> int:
        """When the firing series has fired for certain: the `for` (or the range the query looks back) plus 10m."""
        seconds = max(duration_seconds(self.duration or "0") or 0, duration_seconds(self.window or "0") or 0)
        return int(seconds // 60) + 10


def merged(environment: Environment, workload: WorkloadBase | None) -> Alerts:
    """The workload's thresholds over the environment's (field by field; `disabled` adds up)."""
    base = environment.monitoring.alerts if environment.monitoring is not None else Alerts()
    own = workload.alerts if workload is not None else None
    if own is None:
        return base
    chosen = {name: getattr(own, name) if getattr(own, name) is not None else getattr(base, name) for name in Alerts.model_fields}
    chosen["disabled"] = sorted({*base.disabled, *own.disabled})
    return Alerts(**chosen)


def _pods(environment: Environment, workload: WorkloadBase, label: str = "pod") -> str:
    """Matchers of the workload's pods by name (`<name>-…`), leaving out workloads whose names extend it."""
    matchers = [f'{label}=~"{workload.name}-.+"']
    matchers += [f'{label}!~"{other}-.+"' for other in names_extending(environment, workload.name)]
    return ",".join(matchers)


def _runbook(environment: Environment, alert: str) -> str | None:
    monitoring = environment.monitoring
    if monitoring is None or monitoring.runbook_url is None:
        return None
    return f"{monitoring.runbook_url}#{alert.lower()}"


def _nvidia_gpus(environment: Environment, workload: WorkloadBase) -> bool:
    """Whether any of the workload's pods hold NVIDIA GPUs (which the DCGM exporter reports on)."""
    full = resolved(environment, workload)
    for group in full.pod_groups(()):
        if group.view.resources.gpu:
            resource = place(environment, group.view).gpu_resource or ""
            if resource.startswith("nvidia.com/"):
                return True
    return False


class _Builder:
    """Alerts of one environment, with the labels and texts every alert of it shares."""

    def __init__(self, environment: Environment, name: str) -> None:
        self.environment = environment
        self.name = name
        self.namespace = environment.namespace
        self.alerts: list[Alert] = []

    def add(
        self,
        group: str,
        alert: str,
        severity: str,
        what: str,
        runbook: str,
        about: dict[str, str] | None = None,
        **fields: object,
    ) -> None:
        """An alert of ``group`` (a workload, or "environment"); ``about`` labels tell apart the environment's alerts
        of the same name (a queue, a claim), which promtool's lint requires."""
        labels = {"severity": severity, "environment": self.name, "namespace": self.namespace, **(about or {})}
        if group != "environment":
            labels["workload"] = group
        where = f"workload {group}" if group != "environment" else "the environment"
        self.alerts.append(
            Alert(
                group=group,
                name=alert,
                labels=labels,
                severity=severity,
                summary=f"{what} ({where}, environment {self.name})",
                description=f"{what}: {where} in environment {self.name} (namespace {self.namespace}). Runbook: {runbook}",
                runbook_url=_runbook(self.environment, alert),
                **fields,  # type: ignore[arg-type]
            )
        )

    def workload(self, workload: WorkloadBase) -> None:
        thresholds = merged(self.environment, workload)
        off = set(thresholds.disabled)
        if "gpu-idle" not in off and _nvidia_gpus(self.environment, workload):
            self._gpu_idle(workload, thresholds.gpu_idle or GpuIdle())
        if _is_vllm(workload):
            self._llm(workload, thresholds, off)  # type: ignore[arg-type]
        latency = thresholds.latency
        if "latency" not in off and latency is not None and (latency.histogram or _is_vllm(workload)):
            self._latency(workload, latency)
        if "restarts" not in off:
            self._restarts(workload, thresholds.restarts or Restarts())
        if "oom-killed" not in off:
            self._oom(workload)

    def _gpu_idle(self, workload: WorkloadBase, idle: GpuIdle) -> None:
        honour = self.environment.monitoring is not None and self.environment.monitoring.gpu_exporter_honor_labels
        ns, pod = ("namespace", "pod") if honour else ("exported_namespace", "exported_pod")
        selector = f'{ns}="{self.namespace}",{_pods(self.environment, workload, pod)}'
        sample = {ns: self.namespace, pod: f"{workload.name}-x7k2p"}
        self.add(
            workload.name,
            "GPUAllocatedIdle",
            "warning",
            f"GPUs allocated but below {idle.below}% busy for {idle.for_}",
            "check the pod's logs for a stalled input pipeline or a hung collective; stop a run that no longer "
            "progresses, or shrink the GPU request",
            expr=f"avg by ({ns}, {pod}) (DCGM_FI_DEV_GPU_UTIL{{{selector}}}) < {idle.below}",
            duration=idle.for_,
            series=(Series("DCGM_FI_DEV_GPU_UTIL", {**sample, "gpu": "0"}, "2+0", "90+0"),),
            output=sample,
        )

    def _server(self, workload: WorkloadBase) -> tuple[str, dict[str, str]]:
        return f'namespace="{self.namespace}",service="{workload.name}"', {
            "namespace": self.namespace,
            "service": workload.name,
        }

    def _llm(self, workload: LlmServing, thresholds: Alerts, off: set[str]) -> None:
        selector, output = self._server(workload)
        sample = {**output, "pod": f"{workload.name}-7d9c4-x7k2p"}
        keda = workload.keda
        targets = [t for t in keda.triggers if t.signal == "queue-depth"] if keda is not None else []
        if "queue-depth" not in off and keda is not None and targets:
            target = float(targets[0].target)
            window = thresholds.queue_depth_for or f"{max(MIN_QUEUE_WINDOW, 2 * keda.polling_interval) // 60}m"
            self.add(
                workload.name,
                "LLMQueueAboveTarget",
                "warning",
                f"requests waiting above the autoscaler's target of {targets[0].target} per replica for {window}",
                f"the server is at its most replicas ({keda.max_replicas}) or new replicas do not start: check the "
                "ScaledObject's status and pending pods; raise maxReplicas or the GPU budget",
                expr=f"avg by (namespace, service) (vllm:num_requests_waiting{{{selector}}}) > {_number(target)}",
                duration=window,
                series=(Series("vllm:num_requests_waiting", sample, f"{_number(target * 3)}+0", "0+0"),),
                output=output,
            )
        if "kv-cache" not in off:
            cache = thresholds.kv_cache or Saturation()
            self.add(
                workload.name,
                "LLMKVCacheNearlyFull",
                "warning",
                f"KV cache above {_number(cache.above * 100)}% for {cache.for_}",
                "requests queue and get preempted: lower --max-model-len or --max-num-seqs, raise "
                "--gpu-memory-utilization, or add replicas",
                expr=(
                    f"max by (namespace, service) (vllm:kv_cache_usage_perc{{{selector}}} "
                    f"or vllm:gpu_cache_usage_perc{{{selector}}}) > {_number(cache.above)}"
                ),
                duration=cache.for_,
                series=(Series("vllm:kv_cache_usage_perc", sample, "0.99+0", "0.2+0"),),
                output=output,
            )

    def _latency(self, workload: WorkloadBase, slo: LatencySlo) -> None:
        histogram = slo.histogram or VLLM_LATENCY
        selector, output = self._server(workload)
        low, high = slo.p95 / 2, slo.p95 * 4
        buckets = (
            Series(f"{histogram}_bucket", {**output, "le": _number(low)}, "0+0", "0+10"),
            Series(f"{histogram}_bucket", {**output, "le": _number(high)}, "0+10", "0+10"),
            Series(f"{histogram}_bucket", {**output, "le": "+Inf"}, "0+10", "0+10"),
        )
        self.add(
            workload.name,
            "LatencyAboveSLO",
            "warning",
            f"p95 latency above the objective of {_number(slo.p95)}s for {slo.for_}",
            "compare with the request rate and the replica count; look for a slow dependency, throttled CPU or a "
            "model change in the last rollout",
            expr=(
                f"histogram_quantile(0.95, sum by (namespace, service, le) (rate({histogram}_bucket{{{selector}}}[5m]))) "
                f"> {_number(slo.p95)}"
            ),
            duration=slo.for_,
            series=buckets,
            output=output,
        )

    def _restarts(self, workload: WorkloadBase, restarts: Restarts) -> None:
        sample = {"namespace": self.namespace, "pod": f"{workload.name}-x7k2p", "container": workload.name}
        selector = f'namespace="{self.namespace}",{_pods(self.environment, workload)}'
        self.add(
            workload.name,
            "ContainerRestarting",
            "warning",
            f"a container restarted more than {restarts.above} times in {restarts.within}",
            "read the previous container's logs (kubectl logs --previous) and the pod's events: a crash, a failing "
            "probe or an OOM kill",
            expr=f"increase(kube_pod_container_status_restarts_total{{{selector}}}[{restarts.within}]) > {restarts.above}",
            duration=None,
            series=(Series("kube_pod_container_status_restarts_total", sample, "0+1", "0+0"),),
            output=sample,
            window=restarts.within,
        )

    def _oom(self, workload: WorkloadBase) -> None:
        sample = {"namespace": self.namespace, "pod": f"{workload.name}-x7k2p", "container": workload.name}
        selector = f'namespace="{self.namespace}",{_pods(self.environment, workload)},reason="OOMKilled"'
        self.add(
            workload.name,
            "ContainerOOMKilled",
            "warning",
            "a container was killed for exceeding its memory limit",
            "raise the memory limit, or lower the batch size, DataLoader workers or model length; /dev/shm counts "
            "against the limit too",
            expr=(
                "max by (namespace, pod, container) ("
                f"kube_pod_container_status_last_terminated_reason{{{selector}}} "
                f"or kube_pod_container_status_terminated_reason{{{selector}}}) > 0"
            ),
            duration=None,
            series=(
                Series(
                    "kube_pod_container_status_last_terminated_reason",
                    {**sample, "reason": "OOMKilled"},
                    "1+0",
                    "0+0",
                ),
            ),
            output=sample,
        )

    def kueue(self) -> None:
        """One alert per LocalQueue that queued runs use: something has waited in it longer than the shortest time
        its runs allow (Kueue reports pending workloads per queue, not per job)."""
        waits: dict[str, list[tuple[float, str, str]]] = defaultdict(list)
        for workload in self.environment.workloads:
            queue = queue_of(self.environment, workload)
            thresholds = merged(self.environment, workload)
            if queue is None or "kueue-pending" in thresholds.disabled:
                continue
            wait = thresholds.kueue_pending or DEFAULT_KUEUE_PENDING
            waits[queue].append((duration_seconds(wait) or 0, wait, workload.name))
        for queue in sorted(waits):
            _, wait, _ = min(waits[queue])
            names = ", ".join(sorted(name for _, _, name in waits[queue]))
            sample = {"namespace": self.namespace, "name": queue}
            self.add(
                "environment",
                "KueuePendingTooLong",
                "warning",
                f"runs pending in Kueue queue {queue} for more than {wait} (runs of {names})",
                "kubectl get workloads shows why (quota, flavors, a missing ClusterQueue): free quota, lower the "
                "request, or raise the budget",
                expr=(
                    "sum by (namespace, name) (kueue_local_queue_pending_workloads"
                    f'{{namespace="{self.namespace}",name="{queue}"}}) > 0'
                ),
                duration=wait,
                series=(
                    Series(
                        "kueue_local_queue_pending_workloads",
                        {**sample, "status": "inadmissible"},
                        "1+0",
                        "0+0",
                    ),
                ),
                output=sample,
                about={"queue": queue},
            )

    def volumes(self) -> None:
        thresholds = merged(self.environment, None)
        if "volume-full" in thresholds.disabled:
            return
        full = thresholds.volume_full or Saturation()
        claims = {volume.name if volume.claim is not None else volume.existing_claim for volume in self.environment.volumes}
        for claim in sorted(claim for claim in claims if claim is not None):
            sample = {"namespace": self.namespace, "persistentvolumeclaim": claim}
            selector = f'namespace="{self.namespace}",persistentvolumeclaim="{claim}"'
            self.add(
                "environment",
                "VolumeNearlyFull",
                "warning",
                f"claim {claim} more than {_number(full.above * 100)}% full for {full.for_}",
                "delete old checkpoints or outputs, or expand the claim (its StorageClass must allow volume expansion)",
                expr=(
                    f"kubelet_volume_stats_used_bytes{{{selector}}} / kubelet_volume_stats_capacity_bytes{{{selector}}} "
                    f"> {_number(full.above)}"
                ),
                duration=full.for_,
                series=(
                    Series("kubelet_volume_stats_used_bytes", sample, "98+0", "10+0"),
                    Series("kubelet_volume_stats_capacity_bytes", sample, "100+0", "100+0"),
                ),
                output=sample,
                about={"persistentvolumeclaim": claim},
            )


def _is_vllm(workload: WorkloadBase) -> bool:
    """An LLM server running vLLM (whose metric names the alerts use)."""
    return getattr(workload, "server", None) == "vllm"


def _number(value: float) -> str:
    """A threshold as PromQL and promtool write it: no trailing zeros ('0.9', '8', '2.5')."""
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text or "0"


def derive_alerts(environment: Environment, name: str) -> list[Alert]:
    """Every alert the environment's spec implies: by workload name, then the environment's queues and claims by
    name (none without a `monitoring` section)."""
    if environment.monitoring is None:
        return []
    builder = _Builder(environment, name)
    for workload in environment.workloads:
        builder.workload(workload)
    builder.kueue()
    builder.volumes()
    # Workloads' groups by name, the environment's last: the file order of workloads and volumes changes no byte.
    return sorted(builder.alerts, key=lambda alert: (alert.group == "environment", alert.group))
