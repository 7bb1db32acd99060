"""The example fleet: the committed rendered/ tree, GPU scheduling, GitOps-safe shapes, and the Python API."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput
from mlgitops.kube.cluster import is_gpu_resource
from mlgitops.output.ownership import with_marker
from mlgitops.render import render_environment
from mlgitops.spec import (
    Allocatable,
    ClusterProfile,
    CpuMetric,
    Environment,
    NodePool,
    Port,
    Resources,
    Serving,
    TaintSpec,
    Training,
)
from tests.rendering import _objects
from tests.support import REPO, kubectl


def test_committed_rendered_tree_is_what_the_generator_writes(example_fleet: dict[str, EnvironmentOutput]) -> None:
    for name, output in example_fleet.items():
        folder = REPO / "rendered" / name
        on_disk = {p.relative_to(folder).as_posix(): p.read_text() for p in folder.rglob("*") if p.is_file()}
        # Plus the ownership marker: the files render may replace (see generator/output/ownership.py).
        assert on_disk == with_marker(output.files)


def test_cpu_workloads_get_no_gpu_toleration(example_fleet: dict[str, EnvironmentOutput]) -> None:
    cpu_only = 0
    for output in example_fleet.values():
        for kind in ("Deployment", "CronJob"):
            for obj in _objects(output, kind):
                template = obj["spec"]["template"] if kind == "Deployment" else obj["spec"]["jobTemplate"]["spec"]["template"]
                resources = template["spec"]["containers"][0]["resources"]
                accelerators = [key for key in resources["limits"] if is_gpu_resource(key)] + resources.get("claims", [])
                if not accelerators:
                    cpu_only += 1
                    assert "tolerations" not in template["spec"]
    assert cpu_only >= 6


def test_deployment_under_an_hpa_leaves_replicas_to_it(example_fleet: dict[str, EnvironmentOutput]) -> None:
    [deployment] = [obj for obj in _objects(example_fleet["dev"], "Deployment") if obj["metadata"]["name"] == "resnet-serve"]
    [hpa] = [
        obj for obj in _objects(example_fleet["dev"], "HorizontalPodAutoscaler") if obj["metadata"]["name"] == "resnet-serve"
    ]
    assert "replicas" not in deployment["spec"]
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "resnet-serve"}
    assert hpa["spec"]["metrics"] == [
        {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    ]


def test_every_object_carries_the_standard_labels_and_pvcs_are_prune_protected(
    example_fleet: dict[str, EnvironmentOutput],
) -> None:
    for name, output in example_fleet.items():
        for item in output.objects:
            if item.is_extra:
                continue  # copied as written; kustomize's `labels:` adds the common labels when it builds the root
            labels = item.obj["metadata"]["labels"]
            assert labels["app.kubernetes.io/managed-by"] == "mlgitops"
            assert labels["app.kubernetes.io/part-of"] == "vision-platform"
            assert labels["mlgitops.io/environment"] == name
            assert labels["app.kubernetes.io/name"]
            if item.kind == "PersistentVolumeClaim":
                annotations = item.obj["metadata"]["annotations"]
                assert annotations["argocd.argoproj.io/sync-options"] == "Prune=false,Delete=false"
                assert annotations["kustomize.toolkit.fluxcd.io/prune"] == "disabled"


def test_pods_are_restricted_by_default(example_fleet: dict[str, EnvironmentOutput]) -> None:
    [deployment] = [obj for obj in _objects(example_fleet["dev"], "Deployment") if obj["metadata"]["name"] == "resnet-serve"]
    pod = deployment["spec"]["template"]["spec"]
    # runAsNonRoot with a numeric uid: the kubelet cannot verify an image whose USER is a name.
    assert pod["securityContext"] == {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}}
    assert pod["containers"][0]["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "readOnlyRootFilesystem": False,
        "runAsNonRoot": True,
    }


def test_kustomization_lists_every_file_sorted_with_v5_labels(example_fleet: dict[str, EnvironmentOutput]) -> None:
    for output in example_fleet.values():
        root = yaml.safe_load(output.files["kustomization.yaml"])
        listed = sorted(name for name in output.files if not name.startswith("cluster/") and name != "kustomization.yaml")
        assert root["resources"] == listed
        assert "commonLabels" not in root
        assert root["labels"][0]["includeSelectors"] is False
        assert root["namespace"].startswith("ml-")


def test_files_start_with_a_header_and_apiversion_kind_metadata_order(example_fleet: dict[str, EnvironmentOutput]) -> None:
    text = example_fleet["prod"].files["service-resnet-serve.yaml"]
    assert text.splitlines()[0] == (
        "# Generated by mlgitops from environments/prod.yaml. Do not edit: change the environment file and run `mlgitops render`."
    )
    assert [line.split(":")[0] for line in text.splitlines()[1:] if not line.startswith(" ")] == [
        "apiVersion",
        "kind",
        "metadata",
        "spec",
    ]


def _api_environment(gpu: int = 2, memory: str = "32Gi") -> Environment:
    return Environment(
        namespace="research",
        kubernetes_version="1.31",
        cluster=ClusterProfile(
            node_pools=[
                NodePool(
                    name="h100",
                    labels={"pool": "h100"},
                    taints=[TaintSpec(key="nvidia.com/gpu")],
                    allocatable=Allocatable(cpu="200", memory="2000Gi", gpus=8),
                ),
                NodePool(name="cpu", allocatable=Allocatable(cpu="16", memory="64Gi")),
            ]
        ),
        workloads=[
            Training(
                kind="training",
                name="llm-finetune",
                image="registry.example/ft:2",
                resources=Resources(cpu="16", memory=memory, gpu=gpu),
                shm_size="8Gi",
            ),
            Serving(
                kind="serving",
                name="llm-serve",
                image="registry.example/serve:2",
                ports=[Port(port=8000)],
                resources=Resources(cpu="2", memory="8Gi"),
                autoscaling={"min_replicas": 1, "max_replicas": 3, "metrics": [CpuMetric(type="cpu", utilization=60)]},
            ),
        ],
    )


def test_python_api_builds_and_renders_without_files() -> None:
    rendered = render_environment(_api_environment(), "research")
    kinds = sorted(item.kind for item in rendered)
    assert kinds == ["Deployment", "HorizontalPodAutoscaler", "Job", "Kustomization", "Service"]
    job = next(item.obj for item in rendered if item.kind == "Job")
    # The only pool with GPUs is chosen when the workload names none.
    assert job["spec"]["template"]["spec"]["nodeSelector"] == {"pool": "h100"}
    assert job["metadata"]["name"].startswith("llm-finetune-")


def test_a_changed_pod_template_changes_the_job_name_and_an_unchanged_one_does_not() -> None:
    def job_name(environment: Environment) -> str:
        return next(item.name for item in render_environment(environment, "research") if item.kind == "Job")

    assert job_name(_api_environment()) == job_name(_api_environment())
    assert job_name(_api_environment()) != job_name(_api_environment(gpu=4))


def test_python_api_reports_semantic_problems_with_the_field_path() -> None:

    with pytest.raises(UserError) as raised:
        render_environment(_api_environment(gpu=9), "research")
    assert raised.value.one_line() == (
        "workloads[0].resources.gpu: asks for 9 GPUs (nvidia.com/gpu) but the largest node of pool 'h100' can "
        "allocate 8; these pods would never schedule"
    )


def test_gpu_workload_without_any_cluster_profile_tolerates_the_usual_nvidia_taint() -> None:
    environment = _api_environment().model_copy(update={"cluster": ClusterProfile()})
    job = next(item.obj for item in render_environment(environment, "research") if item.kind == "Job")
    pod = job["spec"]["template"]["spec"]
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert "nodeSelector" not in pod


def test_committed_editor_schema_is_current(repo_root: Path) -> None:
    import json

    from mlgitops.load.editor_schema import environment_file_schema

    committed = json.loads((repo_root / "environments" / "environment.schema.json").read_text())
    assert committed == environment_file_schema()
    for name in ("base", "dev", "staging", "prod"):
        first = (repo_root / "environments" / f"{name}.yaml").read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=environment.schema.json"


# Text PyYAML reads as text but Go's YAML readers (kubectl, kustomize, ArgoCD, Flux) as a number or bool.
AMBIGUOUS_TEXT = ["n", "Y", "1e-4", "3e5", "0o17", ".5", "1_000", "-.inf", ".NaN", "0x1F", "0b101", "10", "yes", "2.0"]


def test_text_that_other_yaml_readers_take_for_numbers_is_quoted(tmp_path: Path) -> None:
    from mlgitops.yaml.writer import dump_object

    for value in AMBIGUOUS_TEXT:
        assert f"note: '{value}'" in dump_object({"note": value}) or f'note: "{value}"' in dump_object({"note": value}), value
    for plain in ["v1", "1Gi", "500m", "hello", "nvidia.com/gpu", "1.2.3", "e5"]:
        assert f"note: {plain}\n" in dump_object({"note": plain})
    # kustomize reads kustomization.yaml into typed Go fields: an unquoted `namespace: n` is a bool to it.
    kubectl_path = kubectl()
    for index, value in enumerate(AMBIGUOUS_TEXT):
        root = tmp_path / f"root-{index}"
        root.mkdir()
        config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "hyperparameters"}, "data": {"value": value}}
        (root / "configmap.yaml").write_text(dump_object(config))
        kustomization = {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization", "namespace": value}
        (root / "kustomization.yaml").write_text(dump_object({**kustomization, "resources": ["configmap.yaml"]}))
        built = subprocess.run([kubectl_path, "kustomize", str(root)], capture_output=True, text=True, check=False)
        assert built.returncode == 0, (value, built.stderr)
        [obj] = yaml.safe_load_all(built.stdout)
        assert (obj["metadata"]["namespace"], obj["data"]["value"]) == (value, value)


def test_cluster_objects_live_in_their_own_root_without_a_namespace(example_fleet: dict[str, EnvironmentOutput]) -> None:
    import yaml

    prod = example_fleet["prod"]
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
