"""Model weights loaded once, not per pod: an OCI image volume (KEP-4639, Kubernetes 1.35+), one download Job into a
ReadWriteMany claim for a Deployment's replicas, the LeaderWorkerSet's leader for a group; KServe's modelcar."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.load.environments import load_environments
from tests.support import REPO, run_here, write


def _obj(output: EnvironmentOutput, kind: str, name: str) -> dict[str, Any]:
    [obj] = [item.obj for item in output.objects if item.kind == kind and item.name == name]
    return obj


def _render(tmp_path: Path, text: str) -> EnvironmentOutput:
    write(tmp_path / "environments" / "dev.yaml", text)
    [loaded] = load_environments(tmp_path / "environments")
    return build(loaded)


def test_prod_mounts_the_405b_weights_from_an_image_and_downloads_nothing() -> None:
    [loaded] = [loaded for loaded in load_environments(REPO / "environments") if loaded.name == "prod"]
    output = build(loaded)
    for name in ("chat-llm", "chat-llm-canary"):
        group = _obj(output, "LeaderWorkerSet", name)["spec"]["leaderWorkerTemplate"]
        for role in ("leaderTemplate", "workerTemplate"):
            pod = group[role]["spec"]
            assert "initContainers" not in pod  # no pod downloads
            [weights] = [volume for volume in pod["volumes"] if volume["name"] == "llama-405b-weights"]
            assert weights["image"]["reference"].startswith("ghcr.io/acme/models/llama-3.1-405b-instruct-fp8:2026-11@sha256:")
            assert weights["image"]["pullPolicy"] == "IfNotPresent"
            mount = next(m for m in pod["containers"][0]["volumeMounts"] if m["name"] == "llama-405b-weights")
            assert mount == {"name": "llama-405b-weights", "mountPath": "/models", "readOnly": True}
    assert not [item for item in output.objects if item.kind == "Job" and "download" in item.name]


IMAGE = """\
namespace: ml
kubernetesVersion: "VERSION"
cluster:
  nodePools:
    - name: h100
      labels: {node-pool: h100}
      allocatable: {cpu: "190", memory: 1900Gi, gpus: 8}
volumes:
  - name: weights
    image: registry.example/models/llama:1
workloads:
  - name: chat
    kind: llm-serving
    image: registry.example/vllm:1
    model: {name: llama, volume: weights}
    resources: {cpu: "8", memory: 64Gi}
"""


@pytest.mark.parametrize("version", ["1.32", "1.34"])
def test_an_image_volume_below_kubernetes_1_35_is_refused_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str
) -> None:
    text = IMAGE.replace("VERSION", version)
    write(tmp_path / "environments" / "dev.yaml", text)
    result = run_here(monkeypatch, tmp_path, "render")
    assert result.exit_code == 2
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "image: registry.example/models" in row)
    assert result.stderr == (
        f"error: environments/dev.yaml:{line}:12: volumes[weights].image: image volumes (KEP-4639) are on by default "
        f"from Kubernetes 1.35; this environment runs {version}, where the API server drops the volume's source: raise "
        "kubernetesVersion once the cluster runs 1.35, or keep the weights on a claim (a ReadWriteMany claim filled "
        "once by model.download)\n"
    )


def test_an_image_volume_renders_read_only_from_1_35(tmp_path: Path) -> None:
    text = IMAGE.replace("VERSION", "1.35").replace("llama:1\n", "llama:1\n    imagePullPolicy: Always\n")
    output = _render(tmp_path, text)
    pod = _obj(output, "Deployment", "chat")["spec"]["template"]["spec"]
    source = {"reference": "registry.example/models/llama:1", "pullPolicy": "Always"}
    assert {"name": "weights", "image": source} in pod["volumes"]
    assert {"name": "weights", "mountPath": "/models", "readOnly": True} in pod["containers"][0]["volumeMounts"]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (
            (
                "    model: {name: llama, volume: weights}\n",
                "    model: {name: llama, download: {uri: hf://a/b, image: r/f:1, volume: weights}}\n",
            ),
            "workloads[chat].model.download.volume",
            "the download writes the weights, but volume 'weights' is an image (read-only)",
        ),
        (
            ("    resources:", "    mounts: [{volume: weights, path: /extra, role: model}]\n    resources:"),
            "workloads[chat].mounts[0]",
            "volume 'weights' is an image, which the container runtime mounts read-only: set readOnly: true",
        ),
        (
            ("    resources:", "    home: {volume: weights}\n    resources:"),
            "workloads[chat].home.volume",
            "the server writes its caches under HOME, but volume 'weights' is read-only",
        ),
    ],
)
def test_nothing_writes_into_an_image_volume(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, change: tuple[str, str], field: str, message: str
) -> None:
    text = IMAGE.replace("VERSION", "1.35").replace(*change)
    write(tmp_path / "environments" / "dev.yaml", text)
    result = run_here(monkeypatch, tmp_path, "render")
    assert result.exit_code == 2, result.stderr
    assert f": {field}: {message}\n" in result.stderr


DOWNLOAD = """\
namespace: ml
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: cpu
      labels: {node-pool: cpu}
      allocatable: {cpu: "16", memory: 64Gi}
    - name: h100
      labels: {node-pool: h100}
      taints: [{key: nvidia.com/gpu, value: present}]
      allocatable: {cpu: "190", memory: 1900Gi, gpus: 8}
volumes:
  - name: weights
    claim: {size: 500Gi, accessModes: [ACCESS]}
workloads:
  - name: chat
    kind: llm-serving
    image: registry.example/vllm:1
    model:
      name: llama
      download: {uri: "hf://meta-llama/Llama-3.1-8B@main", image: registry.example/hf:1, volume: weights}
    replicas: 3
    resources: {cpu: "8", memory: 64Gi}
    nodePool: h100
"""


def test_a_deployments_replicas_share_one_download_job_on_a_read_write_many_claim(tmp_path: Path) -> None:
    output = _render(tmp_path, DOWNLOAD.replace("ACCESS", "ReadWriteMany"))
    [job] = [item.obj for item in output.objects if item.kind == "Job"]
    assert job["metadata"]["name"].startswith("chat-download-")
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["name"] == "download-model"
    line = container["args"][-1]
    assert "hf download meta-llama/Llama-3.1-8B --local-dir /models/llama --revision main" in line
    assert {"name": "weights", "mountPath": "/models"} in container["volumeMounts"]  # writable here only
    assert pod["restartPolicy"] == "OnFailure"
    assert "tolerations" not in pod  # no GPU for a download, so not on the tainted GPU nodes
    assert "nvidia.com/gpu" not in container["resources"]["limits"]
    assert "ttlSecondsAfterFinished" not in job["spec"]
    server = _obj(output, "Deployment", "chat")["spec"]["template"]["spec"]
    [wait] = server["initContainers"]
    assert wait["name"] == "wait-for-model"
    marker = line.split("touch ")[1].rstrip("; }")
    assert marker in wait["command"][-1]
    assert {"name": "weights", "mountPath": "/models", "readOnly": True} in server["containers"][0]["volumeMounts"]
    # A new revision is a new Job (a Job's pod template is immutable).
    again = _render(tmp_path, DOWNLOAD.replace("ACCESS", "ReadWriteMany").replace("@main", "@v2"))
    [other] = [item.obj for item in again.objects if item.kind == "Job"]
    assert other["metadata"]["name"] != job["metadata"]["name"]


def test_a_read_write_once_claim_keeps_the_download_in_the_pod(tmp_path: Path) -> None:
    # A Job's pod elsewhere would hold the claim's one node attachment: the download stays an init container.
    output = _render(tmp_path, DOWNLOAD.replace("ACCESS", "ReadWriteOnce").replace("replicas: 3", "replicas: 1"))
    assert not [item for item in output.objects if item.kind == "Job"]
    [init] = _obj(output, "Deployment", "chat")["spec"]["template"]["spec"]["initContainers"]
    assert init["name"] == "download-model"


def test_a_kserve_predictor_serves_an_oci_model_as_a_modelcar(tmp_path: Path) -> None:
    text = """\
namespace: ml
kubernetesVersion: "1.32"
workloads:
  - name: classifier
    kind: serving
    image: registry.example/server:1
    resources: {cpu: "2", memory: 8Gi}
    kserve:
      modelFormat: sklearn
      storageUri: oci://registry.example/models/classifier:7
"""
    output = _render(tmp_path, text)
    service = _obj(output, "InferenceService", "classifier")
    assert service["spec"]["predictor"]["model"]["storageUri"] == "oci://registry.example/models/classifier:7"
