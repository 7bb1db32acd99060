"""Operators as the environment declares them (issue 27): KServe modes and storageUri, Ray, Trainer, quantities.

Each test renders a spec and reads the object the controller would get, or the located error. Helpers and shared
specs come from ``tests/test_pods_that_start.py``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support import write
from tests.test_pods_that_start import HEAD, _findings, _obj, _refused, _render

# --- 3. KServe: the deployment mode and autoscaler class the declared release accepts ------------------------------

KSERVE = (
    HEAD
    + """\
workloads:
  - name: classify
    kind: serving
    image: ghcr.io/acme/classify:1
    resources: {cpu: "1", memory: 2Gi}
    kserve: {modelFormat: sklearn, storageUri: "s3://models/classify/3"}
"""
)
SCALED = "    autoscaling: {minReplicas: 1, maxReplicas: 4, metrics: [{type: cpu, utilization: 70}]}\n"


def _annotations(tmp_path: Path, text: str) -> dict[str, str]:
    service = _obj(_render(tmp_path, text), "InferenceService", "classify")
    annotations: dict[str, str] = service["metadata"]["annotations"]
    return annotations


@pytest.mark.parametrize(
    ("release", "written", "mode"),
    [("0.20", "Standard", "Standard"), ("0.16.1", "RawDeployment", "Standard"), ("0.15", "Standard", "RawDeployment")],
)
def test_the_kserve_mode_is_the_name_the_release_accepts(tmp_path: Path, release: str, written: str, mode: str) -> None:
    # On 0.16 `RawDeployment` with scaleMetric cpu falls into the webhook's Knative branch ("[cpu] is not a
    # supported metric"): the mode is always written, in the release's own name.
    text = KSERVE.replace("storageUri:", f"deploymentMode: {written}, storageUri:") + SCALED
    annotations = _annotations(tmp_path, text + f"operators: {{kserve: '{release}'}}\n")
    assert annotations["serving.kserve.io/deploymentMode"] == mode
    assert annotations["serving.kserve.io/autoscalerClass"] == "hpa"


def test_a_fixed_kserve_predictor_gets_autoscaler_class_none(tmp_path: Path) -> None:
    assert _annotations(tmp_path, KSERVE)["serving.kserve.io/autoscalerClass"] == "none"
    # Before 0.16 there is no 'none': an HPA with minReplicas = maxReplicas.
    old = _annotations(tmp_path, KSERVE + "operators: {kserve: '0.15'}\n")
    assert old["serving.kserve.io/autoscalerClass"] == "hpa"
    line = _refused(
        tmp_path, KSERVE.replace("storageUri:", "autoscalerClass: none, storageUri:") + "operators: {kserve: '0.15'}\n"
    )
    assert line.endswith(
        "workloads[classify].kserve.autoscalerClass: autoscalerClass 'none' needs KServe 0.16 or later (operators.kserve is 0.15)"
    )


def test_kserve_metrics_are_refused_outside_the_mode_that_takes_them(tmp_path: Path) -> None:
    knative = KSERVE.replace("storageUri:", "deploymentMode: Knative, storageUri:")
    line = _refused(tmp_path, knative + SCALED)
    assert "workloads[classify].autoscaling.metrics[0]: KServe's Knative mode scales on concurrency or rps, not cpu" in line
    annotations = _annotations(tmp_path, knative.replace("storageUri:", "scaleMetric: rps, storageUri:") + SCALED)
    assert annotations["serving.kserve.io/deploymentMode"] == "Knative"
    assert "serving.kserve.io/autoscalerClass" not in annotations
    line = _refused(tmp_path, KSERVE.replace("storageUri:", "scaleMetric: concurrency, storageUri:") + SCALED)
    assert "workloads[classify].kserve.scaleMetric: KServe's Standard (autoscalerClass hpa) mode scales on cpu or memory" in line


# --- 4. The model version and the KServe storageUri agree -----------------------------------------------------------

REGISTERED = (
    HEAD
    + """\
mlflow: {trackingUri: "https://mlflow.example"}
workloads:
  - name: classify
    kind: serving
    image: ghcr.io/acme/classify:1
    model: {name: resnet50, version: "12"}
    kserve: {modelFormat: mlflow, storageUri: "s3://models/resnet50/{version}"}
"""
)


def test_storage_uri_takes_the_version_from_the_registered_model(tmp_path: Path) -> None:
    service = _obj(_render(tmp_path, REGISTERED), "InferenceService", "classify")
    assert service["spec"]["predictor"]["model"]["storageUri"] == "s3://models/resnet50/12"
    assert service["metadata"]["annotations"]["mlgitops.io/mlflow-model"] == "models:/resnet50/12"


def test_a_kserve_predictor_cannot_follow_an_alias(tmp_path: Path) -> None:
    line = _refused(tmp_path, REGISTERED.replace('version: "12"', "alias: champion"))
    assert "workloads[classify].model.alias: KServe serves the files at storageUri, which cannot follow alias" in line
    unregistered = REGISTERED.replace('    model: {name: resnet50, version: "12"}\n', '    resources: {cpu: "1", memory: 2Gi}\n')
    line = _refused(tmp_path, unregistered)
    assert "workloads[classify].kserve.storageUri: {version} in storageUri is filled in from model.version" in line


# --- 5. Ray: the autoscaler's token, budgets at the autoscaler's maximum, upgrades that do not double GPUs -----------

RAY = (
    HEAD
    + """\
cluster:
  nodePools:
    - name: cpu
      labels: {node-pool: cpu}
      allocatable: {cpu: "15", memory: 58Gi}
    - name: a100
      labels: {node-pool: a100}
      taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
      allocatable: {cpu: "94", memory: 1800Gi, gpus: 8}
budget: {gpus: 6}
workloads:
  - name: embed
    kind: ray-service
    image: rayproject/ray-ml:2.41.0-py311-gpu
    serveConfig: {applications: [{name: embed, import_path: "embed:app"}]}
    security: {runAsUser: 1000}
    resources: {cpu: "2", memory: 8Gi}
    nodePool: cpu
    autoscaling: {idleTimeoutSeconds: 300}
    workerGroups:
      - {name: gpu, minReplicas: 1, maxReplicas: 4, resources: {cpu: "8", memory: 64Gi, gpu: 1}, nodePool: a100}
"""
)


def test_an_autoscaled_ray_head_keeps_its_service_account_token(tmp_path: Path) -> None:
    cluster = _obj(_render(tmp_path, RAY), "RayService", "embed")["spec"]["rayClusterConfig"]
    assert cluster["headGroupSpec"]["template"]["spec"]["automountServiceAccountToken"] is True
    assert cluster["workerGroupSpecs"][0]["template"]["spec"]["automountServiceAccountToken"] is False
    line = _refused(tmp_path, RAY + "    automountServiceAccountToken: false\n")
    assert line.endswith(
        ":24:35: workloads[embed].automountServiceAccountToken: the Ray autoscaler runs in the head pod and calls the "
        "Kubernetes API with its ServiceAccount token: the head must mount it (drop automountServiceAccountToken: "
        "false, or turn off autoscaling)"
    )


def test_the_budget_counts_autoscaled_ray_workers_at_max_and_the_upgrade_cluster(tmp_path: Path) -> None:
    # No GatewayClass: a NewCluster upgrade runs a second cluster of the full size, 2 x (4 workers) GPUs.
    [finding] = _findings(tmp_path, RAY, "env-budget")
    assert "requests up to 8 nvidia.com/gpu with every autoscaler at its maximum" in finding.message
    service = _obj(_render(tmp_path, RAY), "RayService", "embed")
    assert service["spec"]["upgradeStrategy"] == {"type": "NewCluster"}
    # With the environment's GatewayClass, KubeRay 1.7 upgrades incrementally: 4 + 25% of 4 = 5 GPUs at most.
    gateway = RAY + "gateway: {className: eg, implementation: envoy-gateway}\n"
    assert _findings(tmp_path, gateway, "env-budget") == []
    strategy = _obj(_render(tmp_path, gateway), "RayService", "embed")["spec"]["upgradeStrategy"]
    assert strategy == {
        "type": "NewClusterWithIncrementalUpgrade",
        "clusterUpgradeOptions": {"gatewayClassName": "eg", "maxSurgePercent": 25, "stepSizePercent": 25, "intervalSeconds": 60},
    }
    [finding] = _findings(tmp_path, gateway.replace("budget: {gpus: 6}", "budget: {gpus: 4}"), "env-budget")
    assert "requests up to 5 nvidia.com/gpu" in finding.message


def test_an_incremental_upgrade_the_kuberay_release_cannot_do_is_refused(tmp_path: Path) -> None:
    text = RAY + "    upgrade: {strategy: NewClusterWithIncrementalUpgrade, gatewayClassName: eg}\n"
    line = _refused(tmp_path, text + "operators: {kuberay: '1.6'}\n")
    assert (
        "workloads[embed].upgrade.strategy: NewClusterWithIncrementalUpgrade needs KubeRay 1.7 (operators.kuberay is 1.6)" in line
    )
    assert "with the gate off KubeRay applies no change to the cluster at all" in line
    line = _refused(
        tmp_path,
        text.replace("    autoscaling: {idleTimeoutSeconds: 300}\n", "").replace("minReplicas: 1, maxReplicas: 4", "replicas: 2"),
    )
    assert "workloads[embed].upgrade.strategy: NewClusterWithIncrementalUpgrade needs the Ray autoscaler" in line
    old = _obj(_render(tmp_path, RAY + "operators: {kuberay: '1.2'}\n"), "RayService", "embed")
    assert "upgradeStrategy" not in old["spec"]


# --- 8. Kubeflow Trainer: the release's patch field, and a runtime that exists ---------------------------------------

TRAIN = (
    HEAD
    + """\
cluster:
  nodePools:
    - name: a100
      labels: {node-pool: a100}
      taints: [{key: nvidia.com/gpu, value: present, effect: NoSchedule}]
      allocatable: {cpu: "94", memory: 1800Gi, gpus: 8}
volumes:
  - name: ckpt
    claim: {size: 1Ti, accessModes: [ReadWriteMany]}
workloads:
  - name: ddp
    kind: distributed-training
    image: ghcr.io/acme/train:1
    numNodes: 2
    nprocPerNode: gpu
    resources: {cpu: "8", memory: 64Gi, gpu: 8}
    shmSize: 16Gi
    nodePool: a100
    mounts: [{volume: ckpt, path: /ckpt, role: checkpoint}]
"""
)


def _train_job(tmp_path: Path, text: str) -> dict[str, Any]:
    [job] = [item.obj for item in _render(tmp_path, text).objects if item.kind == "TrainJob"]
    return job


def test_the_trainjob_patches_its_runtime_with_the_field_of_the_trainer_release(tmp_path: Path) -> None:
    from mlgitops.kube.custom_resources import project_schemas

    current = _train_job(tmp_path, TRAIN)["spec"]
    assert [key for key in ("runtimePatches", "podTemplateOverrides", "podSpecOverrides") if key in current] == ["runtimePatches"]
    # 2.1: podTemplateOverrides (targetJobs, metadata, spec without securityContext); runtimePatches would be pruned.
    job = _train_job(tmp_path, TRAIN + "operators: {trainer: '2.1'}\n")
    [override] = job["spec"]["podTemplateOverrides"]
    assert "runtimePatches" not in job["spec"]
    assert override["targetJobs"] == [{"name": "node"}]
    assert override["metadata"]["labels"]["app.kubernetes.io/name"] == "ddp"
    assert override["spec"]["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert override["spec"]["containers"] == [
        {"name": "node", "volumeMounts": [{"name": "ckpt", "mountPath": "/ckpt"}, {"name": "dshm", "mountPath": "/dev/shm"}]}
    ]
    assert "securityContext" not in override["spec"]
    assert project_schemas().validate(job, "1.32") == []
    # 2.0: podSpecOverrides, the pod fields on the entry itself.
    job = _train_job(tmp_path, TRAIN + "operators: {trainer: '2.0'}\n")
    [override] = job["spec"]["podSpecOverrides"]
    assert sorted(override) == ["containers", "nodeSelector", "targetJobs", "tolerations", "volumes"]
    assert project_schemas().validate(job, "1.32") == []


def test_what_an_older_trainer_cannot_carry_is_refused_or_said(tmp_path: Path) -> None:
    old = TRAIN + "operators: {trainer: '2.1'}\n"
    line = _refused(tmp_path, old.replace("    nodePool: a100\n", "    nodePool: a100\n    security: {runAsUser: 1000}\n"))
    why = "Kubeflow Trainer 2.1 patches the runtime through podTemplateOverrides, which carries no securityContext"
    assert f"workloads[ddp].security: {why}" in line
    # Not written: the runtime's template decides, which lint cannot see (info, not an error that blocks the render).
    [finding] = _findings(tmp_path, old, "security-non-root")
    assert finding.severity.value == "info"
    assert "a TrainJob of Kubeflow Trainer before 2.2 cannot set a securityContext" in finding.message
    oldest = TRAIN + "operators: {trainer: '2.0'}\nimagePullSecrets: [ghcr-pull]\nexistingSecrets: [ghcr-pull]\n"
    line = _refused(tmp_path, oldest)
    why = "Kubeflow Trainer 2.0 patches the runtime through podSpecOverrides, which carries no imagePullSecrets"
    assert f"workloads[ddp].imagePullSecrets: {why}" in line


def test_a_trainjob_runtime_must_exist(tmp_path: Path) -> None:
    job = _train_job(tmp_path, TRAIN)
    assert job["metadata"]["annotations"]["mlgitops.io/external-trainingruntimes"] == "torch-distributed"
    # jax-distributed ships from Trainer 2.2: on 2.1 it must be declared or in the set.
    jax = (
        TRAIN.replace("    numNodes: 2\n", "    numNodes: 2\n    runtime: {name: jax-distributed}\n")
        + "operators: {trainer: '2.1'}\n"
    )
    [finding] = _findings(tmp_path, jax, "trainingruntime-reference")
    assert str(finding.location).endswith("dev.yaml:17:21")  # at runtime.name
    assert finding.message.startswith("TrainJob runs on ClusterTrainingRuntime 'jax-distributed', which is neither in the set")
    assert _findings(tmp_path, jax + "existingTrainingRuntimes: [jax-distributed]\n", "trainingruntime-reference") == []
    assert _findings(tmp_path, jax.replace("'2.1'", "'2.2'"), "trainingruntime-reference") == []
    write(
        tmp_path / "environments" / "manifests" / "runtimes.yaml",
        "apiVersion: trainer.kubeflow.org/v1alpha1\nkind: ClusterTrainingRuntime\nmetadata: {name: jax-distributed}\nspec: {}\n",
    )
    assert _findings(tmp_path, jax + "manifests: [manifests/runtimes.yaml]\n", "trainingruntime-reference") == []


# --- 9. Memory no container starts with; fix texts that name the pool's accelerator -----------------------------------

TINY = (
    HEAD
    + """\
workloads:
  - name: tiny
    kind: training
    image: ghcr.io/acme/t:1
    resources: {cpu: "1", memory: MEMORY}
"""
)


@pytest.mark.parametrize(
    ("memory", "message"),
    [
        ("16", "16 means 16 bytes (a number without a unit is bytes): did you mean 16Gi?"),
        ("512m", "512m means 512 thousandths of a byte ('m' is milli): did you mean 512Mi?"),
        (
            "8Mi",
            "a memory limit of 8Mi is below 12Mi, the least a container starts with (CRI-O refuses it; under runc the "
            "container's init is OOM-killed): give at least 12Mi (the limit is this request: no limits.memory)",
        ),
    ],
)
def test_memory_no_container_starts_with_is_a_located_error(tmp_path: Path, memory: str, message: str) -> None:
    line = _refused(tmp_path, TINY.replace("MEMORY", memory))
    assert line.endswith(f"dev.yaml:7:35: workloads[tiny].resources.memory: {message}")
    assert not (tmp_path / "rendered").exists()


def test_a_small_request_under_a_real_limit_is_fine(tmp_path: Path) -> None:
    [job] = [item.obj for item in _render(tmp_path, TINY.replace("MEMORY", "8Mi, limits: {memory: 64Mi}")).objects]
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"]["limits"]["memory"] == "64Mi"
    line = _refused(tmp_path, TINY.replace("MEMORY", "1Gi, limits: {memory: 4}"))
    assert "workloads[tiny].resources.limits.memory: 4 means 4 bytes" in line


AMD_POOL = (
    HEAD
    + """\
cluster:
  karpenter:
    nodeClassRef: {name: ml-nodes}
  nodePools:
    - name: mi300
      labels: {node-pool: mi300}
      allocatable: {cpu: "94", memory: 1800Gi, gpus: 8}
      gpuResource: amd.com/gpu
      instanceTypes: [x.large]
      maxNodes: 2
"""
)


def test_the_untainted_pool_fix_names_the_pools_own_accelerator(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    [finding] = _findings(tmp_path, AMD_POOL, "gpu-pool-taint")
    assert finding.fix.startswith("Add taints: [{key: amd.com/gpu, value: present, effect: NoSchedule}]")
    assert "nvidia" not in finding.fix
    # lint of the rendered NodePool says the same, pointing back at the environment file in its terms.
    import json

    from tests.support import run_in_process

    monkeypatch.chdir(tmp_path)
    result = run_in_process("render")
    assert result.exit_code == 0, result.stderr
    report = json.loads(run_in_process("lint", "rendered", "--format", "json").stdout)
    [lint] = [f for f in report if f["rule"] == "gpu-pool-taint"]
    assert lint["fix"] == finding.fix
    assert lint["source"]["file"].startswith("environments/")
    assert lint["location"]["file"].startswith("rendered/")
