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
