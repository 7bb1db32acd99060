"""Pods that start and serve (issue 27): who containers run as, the LLM images' homes, one download per group.

Each test renders a spec and reads the object the kubelet or controller would get, or the located error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.fleet.run import environment_findings
from mlgitops.load.environments import load_environments
from mlgitops.policy import load_catalog
from mlgitops.policy.model import Finding
from tests.support import REPO, write

HEAD = """\
namespace: ml
kubernetesVersion: "1.32"
"""


def _render(tmp_path: Path, text: str) -> EnvironmentOutput:
    write(tmp_path / "environments" / "dev.yaml", text)
    [loaded] = load_environments(tmp_path / "environments")
    return build(loaded)


def _findings(tmp_path: Path, text: str, rule: str) -> list[Finding]:
    """The findings of ``rule`` on the rendered objects, located at the environment file (waived ones included)."""
    write(tmp_path / "environments" / "dev.yaml", text)
    [loaded] = load_environments(tmp_path / "environments")
    found = environment_findings(loaded, build(loaded), tmp_path / "rendered", load_catalog())
    return [finding for finding in found if finding.rule == rule]


def _refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(UserError) as refused:
        _render(tmp_path, text)
    return refused.value.one_line()


def _obj(output: EnvironmentOutput, kind: str, name: str) -> dict[str, Any]:
    [obj] = [item.obj for item in output.objects if item.kind == kind and item.name == name]
    return obj


SERVER = (
    HEAD
    + """\
workloads:
  - name: web
    kind: serving
    image: ghcr.io/acme/web:1
    ports: [{name: http, port: 8080}]
    resources: {cpu: "1", memory: 1Gi}
"""
)


# --- 1. runAsNonRoot never together with uid 0 -------------------------------------------------------------------


def test_a_root_workload_with_a_waiver_renders_a_pod_the_kubelet_starts(tmp_path: Path) -> None:
    text = SERVER + "    security: {runAsUser: 0}\n    annotations: {mlgitops.io/waive.security-non-root: 'binds port 80'}\n"
    output = _render(tmp_path, text)
    pod = _obj(output, "Deployment", "web")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 0
    assert pod["securityContext"]["runAsNonRoot"] is False
    assert pod["containers"][0]["securityContext"]["runAsNonRoot"] is False
    # The finding says it runs as root; the waiver is what lets it.
    [finding] = _findings(tmp_path, text, "security-non-root")
    assert finding.message == "container 'web' runs as root (runAsUser: 0)"
    assert finding.waiver == "binds port 80"


def test_run_as_non_root_with_uid_zero_is_refused_at_its_line(tmp_path: Path) -> None:
    line = _refused(tmp_path, SERVER + "    security:\n      runAsUser: 0\n      runAsNonRoot: true\n")
    assert line.startswith(f"{tmp_path / 'environments' / 'dev.yaml'}:11:21: ")
    assert "runAsNonRoot: true with runAsUser: 0: the kubelet refuses to start the pod" in line


def test_a_root_sidecar_in_a_non_root_pod_is_refused_unless_it_drops_run_as_non_root(tmp_path: Path) -> None:
    sidecar = (
        SERVER + "    sidecars:\n      - name: tool\n        image: busybox:1.36\n        resources: {cpu: 100m, memory: 64Mi}\n"
    )
    line = _refused(tmp_path, sidecar + "        security: {runAsUser: 0, runAsNonRoot: true}\n")
    assert ":13:48: workloads[web].sidecars[tool].security.runAsNonRoot: runAsNonRoot: true with runAsUser: 0" in line
    output = _render(tmp_path, sidecar + "        security: {runAsUser: 0}\n")
    [tool] = _obj(output, "Deployment", "web")["spec"]["template"]["spec"]["initContainers"]
    assert tool["securityContext"]["runAsUser"] == 0
    assert tool["securityContext"]["runAsNonRoot"] is False  # over the pod's true: the kubelet would refuse otherwise


def test_a_non_root_pod_always_gets_a_numeric_uid(tmp_path: Path) -> None:
    # The kubelet cannot verify an image whose USER is a name ("non-numeric user"): give it a number.
    pod = _obj(_render(tmp_path, SERVER), "Deployment", "web")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 1000
    allowed = _obj(_render(tmp_path, SERVER + "    security: {runAsNonRoot: false}\n"), "Deployment", "web")
    assert "runAsUser" not in allowed["spec"]["template"]["spec"]["securityContext"]


# --- 2. LLM servers: a uid, a writable HOME and caches on a volume -------------------------------------------------

LLM = (
    HEAD
    + """\
cluster:
  nodePools:
    - name: h100
      labels: {node-pool: h100}
      taints: [{key: nvidia.com/gpu, value: present}]
      allocatable: {cpu: "190", memory: 1900Gi, gpus: 8}
volumes:
  - name: weights
    existingClaim: llm-weights
  - name: shared
    claim: {size: 1Ti, storageClass: fast-rwx, accessModes: [ReadWriteMany]}
  - name: scratch
    scratch: {sizeLimit: 900Gi}
workloads:
  - name: chat
    kind: llm-serving
    server: SERVER
    image: registry.example/server:1
    model: {name: qwen, volume: weights}
    tensorParallel: 8
    resources: {cpu: "64", memory: 1000Gi}
"""
)


@pytest.mark.parametrize(
    ("server", "uid", "own"),
    [
        ("vllm", 2000, {"VLLM_CACHE_ROOT": "/home/llm/.cache/vllm", "VLLM_CONFIG_ROOT": "/home/llm/.config/vllm"}),
        ("sglang", 1000, {}),
        ("tgi", 1000, {"HF_KERNELS_CACHE": "/home/llm/.cache/kernels"}),
    ],
)
def test_llm_servers_get_a_uid_and_a_writable_home_with_their_caches(
    tmp_path: Path, server: str, uid: int, own: dict[str, str]
) -> None:
    pod = _obj(_render(tmp_path, LLM.replace("SERVER", server)), "Deployment", "chat")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == uid
    [container] = pod["containers"]
    env = {var["name"]: var["value"] for var in container["env"]}
    assert env == {
        "HOME": "/home/llm",
        "USER": server,
        "XDG_CACHE_HOME": "/home/llm/.cache",
        "XDG_CONFIG_HOME": "/home/llm/.config",
        "HF_HOME": "/home/llm/.cache/huggingface",
        "TRITON_CACHE_DIR": "/home/llm/.cache/triton",
        "TORCHINDUCTOR_CACHE_DIR": "/home/llm/.cache/torchinductor",
        **own,
    }
    assert {"name": "server-home", "mountPath": "/home/llm"} in container["volumeMounts"]
    assert {"name": "server-home", "emptyDir": {"sizeLimit": "20Gi"}} in pod["volumes"]


def test_the_llm_home_and_its_defaults_can_be_overridden(tmp_path: Path) -> None:
    text = LLM.replace("SERVER", "vllm") + (
        "    home: {volume: shared, path: /var/cache/llm}\n"
        "    security: {runAsUser: 4242}\n"
        "    env: [{name: HF_HOME, value: /hf}]\n"
    )
    pod = _obj(_render(tmp_path, text), "Deployment", "chat")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsUser"] == 4242
    [container] = pod["containers"]
    env = {var["name"]: var["value"] for var in container["env"]}
    assert env["HOME"] == "/var/cache/llm"
    assert env["VLLM_CACHE_ROOT"] == "/var/cache/llm/.cache/vllm"
    assert env["HF_HOME"] == "/hf"  # the workload's own variable wins, once
    assert [var["name"] for var in container["env"]].count("HF_HOME") == 1
    assert {"name": "shared", "mountPath": "/var/cache/llm"} in container["volumeMounts"]
    assert not [volume for volume in pod["volumes"] if volume["name"] == "server-home"]


def test_a_read_only_home_volume_is_refused_at_its_line(tmp_path: Path) -> None:
    text = LLM.replace("SERVER", "vllm").replace(
        "  - name: scratch\n", "  - name: ro\n    claim: {size: 1Gi, accessModes: [ReadOnlyMany]}\n  - name: scratch\n"
    )
    line = _refused(tmp_path, text + "    home: {volume: ro}\n")
    assert line.endswith(
        ":26:20: workloads[chat].home.volume: the server writes its caches under HOME, but volume 'ro' is read-only"
    )


def test_the_example_fleet_serves_vllm_with_a_home(tmp_path: Path) -> None:
    [dev] = [loaded for loaded in load_environments(REPO / "environments") if loaded.name == "dev"]
    pod = _obj(build(dev), "Deployment", "chat-llm")["spec"]["template"]["spec"]
    env = {var["name"]: var.get("value") for var in pod["containers"][0]["env"]}
    assert env["HOME"] == "/home/llm"
    assert env["VLLM_CACHE_ROOT"] == "/home/llm/.cache/vllm"


# --- 6. LeaderWorkerSet: one download per group where the group shares the weights ---------------------------------


def _lws(tmp_path: Path, volume: str) -> dict[str, Any]:
    text = LLM.replace("SERVER", "vllm").replace(
        "    model: {name: qwen, volume: weights}\n",
        f"    model:\n      name: qwen\n      download: {{uri: 'hf://Qwen/Qwen2.5-72B@main', image: 'hf:1', volume: {volume}}}\n",
    )
    return _obj(_render(tmp_path, text + "    pipelineParallel: 2\n"), "LeaderWorkerSet", "chat")


def test_a_group_sharing_a_claim_downloads_once_in_the_leader(tmp_path: Path) -> None:
    group = _lws(tmp_path, "shared")["spec"]["leaderWorkerTemplate"]
    [download] = group["leaderTemplate"]["spec"]["initContainers"]
    [wait] = group["workerTemplate"]["spec"]["initContainers"]
    assert download["name"] == "download-model"
    assert download["command"][:2] == ["/bin/sh", "-c"]
    marker = download["command"][2].split()[2]
    assert marker.startswith("/models/qwen/.mlgitops-download-")
    assert "hf download Qwen/Qwen2.5-72B --local-dir /models/qwen --revision main" in download["command"][2]
    assert download["command"][2].endswith(f"&& touch {marker}; }}")
    # The workers download nothing: they wait, read-only, for the leader's marker.
    assert wait["name"] == "wait-for-model"
    assert f"until [ -f {marker} ]" in wait["command"][2]
    assert wait["volumeMounts"] == [{"name": "shared", "mountPath": "/models", "readOnly": True}]


def test_a_group_on_per_pod_scratch_downloads_in_every_pod(tmp_path: Path) -> None:
    group = _lws(tmp_path, "scratch")["spec"]["leaderWorkerTemplate"]
    for role in ("leaderTemplate", "workerTemplate"):
        [download] = group[role]["spec"]["initContainers"]
        assert download["name"] == "download-model"
        assert download["command"][:2] == ["hf", "download"]


def test_a_group_cannot_share_a_read_write_once_claim(tmp_path: Path) -> None:
    text = (
        LLM.replace("SERVER", "vllm")
        .replace("  - name: scratch\n", "  - name: rwo\n    claim: {size: 1Ti}\n  - name: scratch\n")
        .replace(
            "    model: {name: qwen, volume: weights}\n",
            "    model:\n      name: qwen\n      download: {uri: 'hf://Qwen/Qwen2.5-72B', image: 'hf:1', volume: rwo}\n",
        )
    )
    line = _refused(tmp_path, text + "    pipelineParallel: 2\n")
    assert "the 2 pods of a group run on different nodes, but claim 'rwo' is ReadWriteOnce" in line


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


# --- 7. Spread per rollout revision; the gateway's proxies where they run ------------------------------------------

SPREAD = SERVER + "    replicas: 3\n"


def test_deployment_pods_spread_per_rollout_revision(tmp_path: Path) -> None:
    spread = _obj(_render(tmp_path, SPREAD), "Deployment", "web")["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert [entry["matchLabelKeys"] for entry in spread] == [["pod-template-hash"], ["pod-template-hash"]]
    assert all("pod-template-hash" not in entry["labelSelector"]["matchLabels"] for entry in spread)
    own = SPREAD + "    spread: [{topologyKey: topology.kubernetes.io/zone, maxSkew: 1, whenUnsatisfiable: DoNotSchedule}]\n"
    [entry] = _obj(_render(tmp_path, own), "Deployment", "web")["spec"]["template"]["spec"]["topologySpreadConstraints"]
    assert entry["matchLabelKeys"] == ["pod-template-hash"]
    # Before 1.27 the field is off by default: not written.
    old = _obj(_render(tmp_path, SPREAD.replace('"1.32"', '"1.26"')), "Deployment", "web")
    assert all("matchLabelKeys" not in entry for entry in old["spec"]["template"]["spec"]["topologySpreadConstraints"])


def test_leader_worker_set_pods_have_no_pod_template_hash_to_match(tmp_path: Path) -> None:
    text = LLM.replace("SERVER", "vllm") + "    pipelineParallel: 2\n    replicas: 2\n"
    lws = _obj(_render(tmp_path, text), "LeaderWorkerSet", "chat")
    for role in ("leaderTemplate", "workerTemplate"):
        spread = lws["spec"]["leaderWorkerTemplate"][role]["spec"]["topologySpreadConstraints"]
        assert all("matchLabelKeys" not in entry for entry in spread)


ROUTED = SERVER + "    httpRoute: {gateway: {name: public, namespace: gateway-system}}\nnetworkPolicy: {}\n"


def _route_sources(tmp_path: Path, text: str) -> list[dict[str, Any]]:
    policy = _obj(_render(tmp_path, text), "NetworkPolicy", "allow-web")
    sources: list[dict[str, Any]] = policy["spec"]["ingress"][1]["from"]
    return sources


def test_the_gateways_proxies_are_admitted_where_they_run(tmp_path: Path) -> None:
    # Default: pods of the Gateway's namespace (GEP-1762 in-cluster deployments, Istio).
    assert _route_sources(tmp_path, ROUTED) == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway-system"}}}
    ]
    # Envoy Gateway runs its proxies in its own namespace.
    assert _route_sources(tmp_path, ROUTED + "gateway: {implementation: envoy-gateway}\n") == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "envoy-gateway-system"}},
            "podSelector": {
                "matchLabels": {
                    "app.kubernetes.io/component": "proxy",
                    "app.kubernetes.io/managed-by": "envoy-gateway",
                    "gateway.envoyproxy.io/owning-gateway-name": "public",
                    "gateway.envoyproxy.io/owning-gateway-namespace": "gateway-system",
                }
            },
        }
    ]
    assert _route_sources(tmp_path, ROUTED + "gateway: {implementation: istio}\n") == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "gateway-system"}},
            "podSelector": {"matchLabels": {"gateway.networking.k8s.io/gateway-name": "public"}},
        }
    ]
    # A managed gateway has no pods: its load balancers' address ranges.
    assert _route_sources(tmp_path, ROUTED + "gateway: {implementation: gke}\n") == [
        {"ipBlock": {"cidr": "35.191.0.0/16"}},
        {"ipBlock": {"cidr": "130.211.0.0/22"}},
    ]
    subnet = ROUTED + "gateway: {implementation: gke, cidrs: [10.129.0.0/23]}\n"
    assert _route_sources(tmp_path, subnet) == [{"ipBlock": {"cidr": "10.129.0.0/23"}}]
    custom = ROUTED + "gateway: {namespace: edge, podLabels: {app: proxy}}\n"
    assert _route_sources(tmp_path, custom) == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "edge"}},
            "podSelector": {"matchLabels": {"app": "proxy"}},
        }
    ]


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
    # lint of the rendered NodePool says the same in manifest terms.
    import json

    from tests.support import run_in_process

    monkeypatch.chdir(tmp_path)
    result = run_in_process("render")
    assert result.exit_code == 0, result.stderr
    report = json.loads(run_in_process("lint", "rendered", "--format", "json").stdout)
    [lint] = [f for f in report if f["rule"] == "gpu-pool-taint"]
    assert lint["fix"].startswith("Taint the pool's nodes (Karpenter: spec.template.spec.taints) with amd.com/gpu:NoSchedule")
