"""`metrics:` on runs renders a PodMonitor from the builder serving's ServiceMonitor uses, with the labels the
environment's Prometheus selects, and Prometheus may reach the port under the network policy."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.load.environments import load_environments
from tests.support import REPO, lint_findings, run_cli, upstream_crd, write

ENVIRONMENT = """\
namespace: ml
kubernetesVersion: "1.32"
monitoring:
  labels: {release: prometheus}
networkPolicy:
  allowFrom:
    - namespaceLabels: {kubernetes.io/metadata.name: monitoring}
cluster:
  nodePools:
    - name: cpu
      labels: {node-pool: cpu}
      allocatable: {cpu: "16", memory: 64Gi}
    - name: gpu
      labels: {node-pool: gpu}
      taints: [{key: nvidia.com/gpu, value: present}]
      allocatable: {cpu: "96", memory: 1000Gi, gpus: 8}
      maxNodes: 4
workloads:
"""

TRAINING = """\
  - name: train
    kind: training
    image: registry.example/train:1
    resources: {cpu: "8", memory: 64Gi, gpu: 1}
    metrics: {port: 8000, interval: 15s, labels: {team: vision}}
"""

TRAINJOB = """\
  - name: ddp
    kind: distributed-training
    image: registry.example/train:1
    numNodes: 2
    resources: {cpu: "8", memory: 64Gi, gpu: 8}
    metrics: {}
"""

RAYJOB = """\
  - name: etl
    kind: ray-job
    image: rayproject/ray:2.41.0
    entrypoint: python etl.py
    security: {runAsUser: 1000}
    resources: {cpu: "2", memory: 8Gi}
    nodePool: cpu
    metrics: {}
"""

BATCH = """\
  - name: nightly
    kind: batch
    image: registry.example/batch:1
    schedule: "0 2 * * *"
    resources: {cpu: "2", memory: 8Gi}
    metrics: {path: /stats}
"""


def _build(tmp_path: Path, workloads: str) -> EnvironmentOutput:
    write(tmp_path / "env" / "dev.yaml", ENVIRONMENT + workloads)
    [loaded] = load_environments(tmp_path / "env")
    return build(loaded)


def _objects(output: EnvironmentOutput, kind: str) -> list[dict[str, Any]]:
    return [item.obj for item in output.objects if item.kind == kind]


def _container(pod_spec: dict[str, Any], name: str) -> dict[str, Any]:
    [container] = [c for c in pod_spec["containers"] if c["name"] == name]
    return container


def test_training_declares_the_port_and_gets_a_pod_monitor(tmp_path: Path) -> None:
    output = _build(tmp_path, TRAINING)
    [job] = _objects(output, "Job")
    container = _container(job["spec"]["template"]["spec"], "train")
    assert container["ports"] == [{"name": "metrics", "containerPort": 8000, "protocol": "TCP"}]
    [monitor] = _objects(output, "PodMonitor")
    assert monitor["apiVersion"] == "monitoring.coreos.com/v1"
    assert monitor["metadata"]["name"] == "train"
    assert monitor["metadata"]["labels"]["release"] == "prometheus"  # the environment's Prometheus selects it
    assert monitor["metadata"]["labels"]["team"] == "vision"
    assert monitor["spec"] == {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "train"}},
        "podMetricsEndpoints": [{"port": "metrics", "path": "/metrics", "interval": "15s"}],
    }
    # The pods carry the label the PodMonitor selects.
    assert job["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"] == "train"


def test_prometheus_may_reach_the_metrics_port(tmp_path: Path) -> None:
    output = _build(tmp_path, TRAINING)
    [allow] = [p for p in _objects(output, "NetworkPolicy") if p["metadata"]["name"] == "allow-train"]
    assert allow["spec"]["ingress"] == [
        {
            "from": [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}],
            "ports": [{"protocol": "TCP", "port": 8000}],
        }
    ]


def test_a_trainjob_is_scraped_at_its_pods_addresses(tmp_path: Path) -> None:
    """The trainer cannot declare ports: the PodMonitor keeps the trainer container's port-less target and points
    it at the pod's address on the metrics port."""
    output = _build(tmp_path, TRAINJOB)
    [monitor] = _objects(output, "PodMonitor")
    [endpoint] = monitor["spec"]["podMetricsEndpoints"]
    assert "port" not in endpoint
    assert endpoint["relabelings"] == [
        {"action": "keep", "sourceLabels": ["__meta_kubernetes_pod_container_name"], "regex": "node"},
        {
            "action": "replace",
            "sourceLabels": ["__meta_kubernetes_pod_ip"],
            "targetLabel": "__address__",
            "regex": "(.+)",
            "replacement": "$1:9090",
        },
    ]


def test_ray_pods_are_scraped_on_kuberays_metrics_port(tmp_path: Path) -> None:
    output = _build(tmp_path, RAYJOB)
    [monitor] = _objects(output, "PodMonitor")
    assert monitor["spec"]["podMetricsEndpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
    [ray_job] = _objects(output, "RayJob")
    head = ray_job["spec"]["rayClusterSpec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    assert "ports" not in head  # KubeRay adds `metrics` (8080) itself


def test_a_ray_metrics_port_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UserError) as raised:
        _build(tmp_path, RAYJOB.replace("metrics: {}", "metrics: {port: 9000}"))
    assert "ray-job pods are scraped on the port the operator declares as `metrics` (8080)" in raised.value.one_line()
    assert "dev.yaml:26:21: workloads[etl].metrics.port:" in raised.value.one_line()


def test_batch_gets_a_pod_monitor(tmp_path: Path) -> None:
    output = _build(tmp_path, BATCH)
    [cron] = _objects(output, "CronJob")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert _container(pod, "nightly")["ports"] == [{"name": "metrics", "containerPort": 9090, "protocol": "TCP"}]
    [monitor] = _objects(output, "PodMonitor")
    assert monitor["spec"]["podMetricsEndpoints"][0]["path"] == "/stats"


def test_serving_and_runs_share_one_monitor_builder(tmp_path: Path) -> None:
    serving = """\
  - name: api
    kind: serving
    image: registry.example/api:1
    ports: [{name: http, port: 8080}]
    resources: {cpu: "1", memory: 1Gi}
    metrics: {port: http}
"""
    output = _build(tmp_path, serving + TRAINING)
    [service_monitor] = _objects(output, "ServiceMonitor")
    [pod_monitor] = _objects(output, "PodMonitor")
    # The environment's labels on both; endpoints under each kind's own key.
    assert service_monitor["metadata"]["labels"]["release"] == pod_monitor["metadata"]["labels"]["release"] == "prometheus"
    assert service_monitor["spec"]["endpoints"] == [{"port": "http", "path": "/metrics", "interval": "30s"}]


def test_no_pod_monitor_without_metrics(tmp_path: Path) -> None:
    output = _build(tmp_path, TRAINING.replace("    metrics: {port: 8000, interval: 15s, labels: {team: vision}}\n", ""))
    assert _objects(output, "PodMonitor") == []
    [job] = _objects(output, "Job")
    assert "ports" not in job["spec"]["template"]["spec"]["containers"][0]


@pytest.mark.parametrize(
    ("rendered_file", "crd"),
    [
        ("*/podmonitor-*.yaml", "monitoring.coreos.com_podmonitors.yaml"),
        ("*/prometheusrule-*.yaml", "monitoring.coreos.com_prometheusrules.yaml"),
        ("*/experiment-*.yaml", "kubeflow.org_experiments.yaml"),
    ],
)
def test_the_example_fleets_monitors_rules_and_experiments_pass_the_upstream_crds(
    tmp_path: Path, rendered_file: str, crd: str
) -> None:
    files = sorted((REPO / "rendered").glob(rendered_file))
    assert len(files) == 3  # dev, staging and prod
    for index, path in enumerate(files):
        shutil.copy(path, tmp_path / f"{index}.yaml")
    result = run_cli("lint", ".", "--crd", str(upstream_crd(crd)), "--format", "json", cwd=tmp_path)
    assert [f for f in lint_findings(result.stdout) if f["rule"] == "schema"] == []
    if crd != "kubeflow.org_experiments.yaml":  # Katib's CRD keeps any field (schema-less upstream)
        broken = (tmp_path / "0.yaml").read_text().replace("\nspec:\n", "\nspec:\n  notAField: 1\n", 1)
        (tmp_path / "0.yaml").write_text(broken)
        result = run_cli("lint", "0.yaml", "--crd", str(upstream_crd(crd)), "--format", "json", cwd=tmp_path)
        assert [f["rule"] for f in lint_findings(result.stdout) if f["rule"] == "schema"] == ["schema"]
