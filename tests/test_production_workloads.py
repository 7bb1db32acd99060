"""Distributed training, Kueue, ServiceMonitor, PDB, NetworkPolicy, PriorityClass and Karpenter NodePools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.kube.custom_resources import load_crds, project_schemas, strict_schema
from mlgitops.load.environments import load_environments
from tests.support import REPO, upstream_crd, write


@pytest.fixture(scope="module")
def outputs() -> dict[str, EnvironmentOutput]:
    return {loaded.name: build(loaded) for loaded in load_environments(REPO / "environments")}


def _one(output: EnvironmentOutput, kind: str, name: str | None = None) -> dict[str, Any]:
    [obj] = [item.obj for item in output.objects if item.kind == kind and name in (None, item.name)]
    return obj


def test_prod_trainjob_is_two_nodes_of_eight_gpus_queued_through_kueue(outputs: dict[str, EnvironmentOutput]) -> None:
    job = _one(outputs["prod"], "TrainJob")
    spec = job["spec"]
    assert spec["runtimeRef"] == {
        "apiGroup": "trainer.kubeflow.org",
        "kind": "ClusterTrainingRuntime",
        "name": "torch-distributed",
    }
    assert (spec["trainer"]["numNodes"], spec["trainer"]["numProcPerNode"]) == (2, 8)
    assert spec["trainer"]["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == 8
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "gpu-training"
    assert job["metadata"]["labels"]["kueue.x-k8s.io/priority-class"] == "training-low"
    # Kueue's webhook suspends it on create: git carries no suspend for a sync to write back.
    assert "suspend" not in spec
    [patch] = spec["runtimePatches"]
    [node] = patch["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"]
    assert node["name"] == "node"
    pod = node["template"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"]["nvidia.com/gpu.product"] == "NVIDIA-A100-SXM4-80GB"
    # The pool's taint first, then the workload's own toleration (runtime patches carry both).
    assert pod["tolerations"] == [
        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},
        {"key": "acme.io/reserved-for", "operator": "Equal", "value": "ml-training", "effect": "NoSchedule"},
    ]
    assert any(v.get("emptyDir", {}).get("medium") == "Memory" for v in pod["volumes"])
    [container] = pod["containers"]
    assert container["name"] == "node"
    assert {m["mountPath"] for m in container["volumeMounts"]} == {"/data/imagenet", "/checkpoints", "/dev/shm"}


def test_dev_trainjob_is_one_node_of_one_gpu(outputs: dict[str, EnvironmentOutput]) -> None:
    trainer = _one(outputs["dev"], "TrainJob")["spec"]["trainer"]
    assert trainer["numNodes"] == 1
    assert trainer["resourcesPerNode"]["limits"]["nvidia.com/gpu"] == 1


def test_queued_training_jobs_leave_suspend_to_kueue_and_consolidation_alone(outputs: dict[str, EnvironmentOutput]) -> None:
    job = _one(outputs["dev"], "Job")
    # Kueue's webhook suspends a queued Job on create; a suspend: true in git would suspend it again on every sync.
    assert "suspend" not in job["spec"]
    assert job["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "gpu-training"
    assert job["spec"]["template"]["metadata"]["annotations"]["karpenter.sh/do-not-disrupt"] == "true"


def test_flux_creates_queued_jobs_and_then_leaves_suspend_to_kueue(tmp_path: Path) -> None:
    # Flux has no per-field ignore: only a create-only apply keeps it from suspending an admitted job again.
    create_only = {"kustomize.toolkit.fluxcd.io/ssa": "IfNotPresent"}
    # A TrainJob also says its runtime exists outside the set (rule trainingruntime-reference).
    runtime = {"mlgitops.io/external-trainingruntimes": "torch-distributed"}
    for kind in ("Job", "PyTorchJob", "TrainJob", "RayJob"):
        extra = runtime if kind == "TrainJob" else {}
        assert _one(build_one(tmp_path, queued=True), kind)["metadata"]["annotations"] == {**create_only, **extra}
    for kind in ("Job", "PyTorchJob", "RayJob"):
        assert "annotations" not in _one(build_one(tmp_path, queued=False), kind)["metadata"]
    # The Trainer webhook rewrites a TrainJob's runtimePatches on every update: Flux creates it once, queued or not.
    assert _one(build_one(tmp_path, queued=False), "TrainJob")["metadata"]["annotations"] == {**create_only, **runtime}


def build_one(tmp_path: Path, *, queued: bool) -> EnvironmentOutput:
    kueue = "kueue: {defaultQueue: gpu-training, existingQueues: [gpu-training]}\n" if queued else ""
    write(
        tmp_path / "env" / "dev.yaml",
        f"""\
namespace: ml
kubernetesVersion: "1.32"
{kueue}workloads:
  - {{name: train, kind: training, image: "registry.example/t:1", resources: {{cpu: "1", memory: 1Gi}}}}
  - {{name: ddp, kind: distributed-training, jobKind: PyTorchJob, image: "registry.example/t:1", workers: 1,
      resources: {{cpu: "1", memory: 1Gi}}}}
  - {{name: tj, kind: distributed-training, image: "registry.example/t:1", numNodes: 2, resources: {{cpu: "1", memory: 1Gi}}}}
  - {{name: ray, kind: ray-job, image: "registry.example/r:1", entrypoint: python x.py, resources: {{cpu: "1", memory: 1Gi}}}}
""",
    )
    [loaded] = load_environments(tmp_path / "env")
    return build(loaded)


def test_serving_gets_pdb_servicemonitor_and_network_policy(outputs: dict[str, EnvironmentOutput]) -> None:
    prod = outputs["prod"]
    pdb = _one(prod, "PodDisruptionBudget")
    assert pdb["spec"] == {"maxUnavailable": 1, "selector": {"matchLabels": {"app.kubernetes.io/name": "resnet-serve"}}}
    # dev runs a single replica at minimum: a PDB there would block node drains.
    assert not [item for item in outputs["dev"].objects if item.kind == "PodDisruptionBudget"]
    monitor = _one(prod, "ServiceMonitor", "resnet-serve")
    assert monitor["spec"]["endpoints"] == [{"port": "metrics", "path": "/metrics", "interval": "30s"}]
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    policies = {item.name: item.obj for item in prod.objects if item.kind == "NetworkPolicy"}
    assert policies["default-deny-ingress"]["spec"] == {"podSelector": {}, "policyTypes": ["Ingress"]}
    allow = policies["allow-resnet-serve"]["spec"]["ingress"][0]
    assert [p["port"] for p in allow["ports"]] == [8080, 9090]
    hpa = _one(prod, "HorizontalPodAutoscaler")
    assert hpa["spec"]["metrics"][1] == {
        "type": "Pods",
        "pods": {
            "metric": {"name": "inference_requests_per_second"},
            "target": {"type": "AverageValue", "averageValue": "50"},
        },
    }


def test_cluster_objects_live_in_their_own_root_without_a_namespace(outputs: dict[str, EnvironmentOutput]) -> None:
    import yaml

    prod = outputs["prod"]
    cluster = {item.path: item.obj for item in prod.rendered if item.path.startswith("cluster/")}
    assert sorted(cluster) == [
        "cluster/clusterqueue-ml-prod.yaml",
        "cluster/kustomization.yaml",
        "cluster/nodepool-cpu-general.yaml",
        "cluster/nodepool-gaudi.yaml",
        "cluster/nodepool-gpu-a100.yaml",
        "cluster/nodepool-gpu-h100.yaml",
        "cluster/priorityclass-serving-high.yaml",
        "cluster/priorityclass-training-low.yaml",
        "cluster/resourceflavor-cpu-general.yaml",
        "cluster/resourceflavor-gaudi.yaml",
        "cluster/resourceflavor-gpu-a100.yaml",
        "cluster/resourceflavor-gpu-h100.yaml",
        "cluster/topology-gpu-a100.yaml",
        "cluster/topology-gpu-h100.yaml",
        "cluster/workloadpriorityclass-serving-high.yaml",
        "cluster/workloadpriorityclass-training-low.yaml",
    ]
    assert "namespace" not in cluster["cluster/kustomization.yaml"]
    assert all("namespace" not in obj["metadata"] for obj in cluster.values() if "metadata" in obj)
    gpu_pool = cluster["cluster/nodepool-gpu-a100.yaml"]
    # One source of truth: the node taints Karpenter sets are the ones the GPU pods tolerate.
    assert gpu_pool["spec"]["template"]["spec"]["taints"] == [
        {"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}
    ]
    assert gpu_pool["spec"]["limits"]["nvidia.com/gpu"] == "32"
    # Any accelerator: the Gaudi pool's nodes carry its own taint, and Karpenter limits its own resource.
    gaudi = cluster["cluster/nodepool-gaudi.yaml"]["spec"]
    assert gaudi["template"]["spec"]["taints"] == [{"key": "habana.ai/gaudi", "effect": "NoSchedule"}]
    assert gaudi["limits"]["habana.ai/gaudi"] == "16"
    root = yaml.safe_load(prod.files["kustomization.yaml"])
    assert not [name for name in root["resources"] if name.startswith("cluster")]


UPSTREAM_CRDS = {
    "TrainJob": "trainer.kubeflow.org_trainjobs.yaml",
    "RayJob": "ray.io_rayjobs.yaml",
    "RayService": "ray.io_rayservices.yaml",
    "ClusterQueue": "kueue.x-k8s.io_clusterqueues.yaml",
    "LocalQueue": "kueue.x-k8s.io_localqueues.yaml",
    "ResourceFlavor": "kueue.x-k8s.io_resourceflavors.yaml",
    "WorkloadPriorityClass": "kueue.x-k8s.io_workloadpriorityclasses.yaml",
    "Topology": "kueue.x-k8s.io_topologies.yaml",
    "HTTPRoute": "gateway.networking.k8s.io_httproutes.yaml",
    "ServiceMonitor": "monitoring.coreos.com_servicemonitors.yaml",
    "NodePool": "karpenter.sh_nodepools.yaml",
    "PodMonitor": "monitoring.coreos.com_podmonitors.yaml",
    "PrometheusRule": "monitoring.coreos.com_prometheusrules.yaml",
    "Experiment": "kubeflow.org_experiments.yaml",
}


@pytest.mark.parametrize("kind", sorted(UPSTREAM_CRDS))
def test_rendered_custom_resources_validate_against_the_upstream_crds(outputs: dict[str, EnvironmentOutput], kind: str) -> None:
    crds = load_crds([upstream_crd(UPSTREAM_CRDS[kind])])
    checked = 0
    for output in outputs.values():
        for item in output.objects:
            if item.kind == kind:
                assert crds.knows(item.obj)
                assert crds.validate(item.obj, output.kubernetes_version) == [], item.path
                checked += 1
    assert checked >= 1


def test_every_custom_resource_the_fleet_renders_is_checked_against_its_upstream_crd(
    outputs: dict[str, EnvironmentOutput],
) -> None:
    from mlgitops.kube.schema import has_schema

    custom = {
        item.kind for output in outputs.values() for item in output.objects if not has_schema(item.obj, output.kubernetes_version)
    }
    # InferenceService and ExternalSecret: test_integrations.py; LeaderWorkerSet and ScaledObject: test_llm_serving.py.
    others = {"InferenceService", "ExternalSecret", "LeaderWorkerSet", "ScaledObject"}
    assert custom - others == set(UPSTREAM_CRDS)


def test_upstream_crd_validation_is_strict_about_unknown_fields(outputs: dict[str, EnvironmentOutput]) -> None:
    crds = load_crds([upstream_crd(UPSTREAM_CRDS["TrainJob"])])
    job = _one(outputs["prod"], "TrainJob")
    broken = {**job, "spec": {**job["spec"], "trainer": {**job["spec"]["trainer"], "numProcsPerNode": 8}}}
    problems = crds.validate(broken, "1.32")
    assert [(p.path, p.message) for p in problems] == [
        (("spec", "trainer", "numProcsPerNode"), "unknown field 'numProcsPerNode'")
    ]


@pytest.mark.parametrize("kind", sorted(set(UPSTREAM_CRDS) - {"ServiceMonitor", "NodePool"}))
def test_project_schemas_of_the_new_kinds_are_strict(outputs: dict[str, EnvironmentOutput], kind: str) -> None:
    # What render and lint validate without --crd: an unknown field anywhere in the object is refused.
    schemas = project_schemas()
    obj = next(item.obj for item in outputs["prod"].objects if item.kind == kind)
    assert schemas.knows(obj)
    assert schemas.validate(obj, "1.32") == []
    at: tuple[str, ...] = ("spec", "notAField") if "spec" in obj else ("notAField",)
    broken = {**obj, "spec": {**obj["spec"], "notAField": 1}} if "spec" in obj else {**obj, "notAField": 1}
    assert [(p.path, p.message) for p in schemas.validate(broken, "1.32")] == [(at, "unknown field 'notAField'")]


def test_project_schemas_catch_what_the_upstream_crd_would() -> None:
    schemas = project_schemas()
    assert sorted(kind for _, kind in schemas.schemas) == [
        "Application",
        "ApplicationSet",
        "ClusterQueue",
        "Experiment",
        "ExternalSecret",
        "GitRepository",
        "HTTPRoute",
        "InferenceService",
        "Kustomization",
        "LeaderWorkerSet",
        "LocalQueue",
        "NodePool",
        "PodMonitor",
        "PrometheusRule",
        "PyTorchJob",
        "RayJob",
        "RayService",
        "ResourceFlavor",
        "ScaledObject",
        "ServiceMonitor",
        "Topology",
        "TrainJob",
        "WorkloadPriorityClass",
    ]
    bad = {
        "apiVersion": "kubeflow.org/v1",
        "kind": "PyTorchJob",
        "metadata": {"name": "x"},
        "spec": {"pytorchReplicaSpecs": {"Master": {"replicas": 1, "template": {"spec": {"containers": "x"}}}}},
    }
    problems = schemas.validate(bad, "1.32")
    assert [p.path for p in problems] == [("spec", "pytorchReplicaSpecs", "Master", "template", "spec", "containers")]


def test_int_or_string_and_preserved_fields_convert_to_json_schema() -> None:
    converted = strict_schema(
        {
            "type": "object",
            "properties": {
                "port": {"x-kubernetes-int-or-string": True},
                "free": {
                    "type": "object",
                    "properties": {"a": {"type": "string"}},
                    "x-kubernetes-preserve-unknown-fields": True,
                },
                "maybe": {"type": "string", "nullable": True},
            },
        }
    )
    assert converted["additionalProperties"] is False
    assert converted["properties"]["port"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    assert "additionalProperties" not in converted["properties"]["free"]
    assert converted["properties"]["maybe"]["type"] == ["string", "null"]


BASE = """\
namespace: ml
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: gpu
      labels: {nvidia.com/gpu.product: NVIDIA-H100-80GB-HBM3}
      taints: [{key: nvidia.com/gpu}]
      allocatable: {cpu: "96", memory: 1000Gi, gpus: 8}
    - name: cpu
      allocatable: {cpu: "16", memory: 64Gi}
volumes:
  - name: ckpt
    claim: {size: 1Ti, accessModes: [ReadWriteMany]}
workloads:
  - name: llm
    kind: distributed-training
    image: registry.example/llm:1
    workers: 3
    resources: {cpu: "32", memory: 500Gi, gpu: 8}
    mounts:
      - {volume: ckpt, path: /ckpt, role: checkpoint}
  - name: serve
    kind: serving
    image: registry.example/serve:1
    ports: [{name: http, port: 8080}]
    resources: {cpu: "1", memory: 1Gi}
"""


def test_the_production_base_renders(tmp_path: Path) -> None:
    write(tmp_path / "dev.yaml", BASE)
    [loaded] = load_environments(tmp_path)
    assert sorted(item.kind for item in build(loaded).objects) == [
        "Deployment",
        "PersistentVolumeClaim",
        "Service",
        "TrainJob",
    ]


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        (
            "accessModes: [ReadWriteMany]",
            "accessModes: [ReadWriteOnce]",
            "21:18: workloads[llm].mounts[0].volume: 4 pods write to volume 'ckpt', but its claim is ReadWriteOnce: "
            "pods on different nodes need ReadWriteMany",
        ),
        (
            "ports: [{name: http, port: 8080}]",
            "ports: [{name: http, port: 8080}]\n    metrics: {port: prom}",
            "26:21: workloads[serve].metrics.port: metrics port 'prom' is not one of the ports (http)",
        ),
        (
            "gpu: 8}\n    mounts",
            "gpu: 8, gpuProduct: NVIDIA-A100-SXM4-80GB}\n    mounts",
            "19:16: workloads[llm].resources: no node pool offers NVIDIA-A100-SXM4-80GB; add one under cluster.nodePools",
        ),
    ],
    ids=["rwo-checkpoints-shared-by-pods", "metrics-port-unknown", "gpu-product-unavailable"],
)
def test_production_mistakes_are_located(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    write(tmp_path / "dev.yaml", BASE.replace(replace, by))
    [loaded] = load_environments(tmp_path)
    with pytest.raises(UserError) as raised:
        build(loaded)
    assert raised.value.one_line() == f"{tmp_path}/dev.yaml:{expected}"


def test_a_server_on_a_read_write_once_claim_is_recreated_not_rolled(tmp_path: Path) -> None:
    # A RollingUpdate starts the new pod before the old one stops: on another node it would hang on
    # Multi-Attach. Recreate stops the old pod first; lint (pvc-rwo-shared) agrees with what render emits.
    models = "  - name: models\n    claim: {size: 100Gi, accessModes: [ReadWriteOnce]}\n"
    mount = "    mounts: [{volume: models, path: /models, role: model, readOnly: true}]\n"
    write(tmp_path / "dev.yaml", BASE.replace("workloads:\n", models + "workloads:\n") + mount)
    [loaded] = load_environments(tmp_path)
    output = build(loaded)
    assert _one(output, "Deployment")["spec"]["strategy"] == {"type": "Recreate"}
    from mlgitops.fleet.run import environment_findings
    from mlgitops.policy import load_catalog

    findings = environment_findings(loaded, output, tmp_path / "rendered", load_catalog())
    assert [f for f in findings if f.rule == "pvc-rwo-shared"] == []
    # On a ReadWriteMany claim the default RollingUpdate stays.
    write(
        tmp_path / "dev.yaml",
        BASE.replace("workloads:\n", models.replace("ReadWriteOnce", "ReadWriteMany") + "workloads:\n") + mount,
    )
    [loaded] = load_environments(tmp_path)
    assert "strategy" not in _one(build(loaded), "Deployment")["spec"]
