"""llm-serving: GPUs from tensor parallelism, LeaderWorkerSets (one model download per group), KEDA, DRA, a writable HOME."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.kube import schema
from mlgitops.kube.custom_resources import CustomSchemas, load_crds, project_schemas
from mlgitops.load.environments import load_environments
from tests.rendering import HEAD, _obj, _refused, _render
from tests.support import REPO, CliResult, documentation, run_in_process, upstream_crd, write


@functools.cache
def _upstream(kind: str) -> CustomSchemas:
    return load_crds([upstream_crd(UPSTREAM_CRDS[kind])])


def _cli(*args: str, cwd: Path, monkeypatch: pytest.MonkeyPatch) -> CliResult:
    """`mlgitops ARGS` in this process (the command's own code path, without a fresh interpreter's imports)."""
    monkeypatch.chdir(cwd)
    return run_in_process(*args)


def test_dev_serves_the_llm_with_tensor_parallel_two_on_one_pod(example_fleet: dict[str, EnvironmentOutput]) -> None:
    deployment = _obj(example_fleet["dev"], "Deployment", "chat-llm")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    # GPUs per pod = tensorParallel, in limits with an equal request, from the pool (taint, selector).
    assert container["resources"]["limits"]["nvidia.com/gpu"] == container["resources"]["requests"]["nvidia.com/gpu"] == 2
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["nodeSelector"]["node-pool"] == "gpu-h100"
    assert container["command"] == ["vllm", "serve"]
    args = container["args"]
    assert args[:3] == ["/models/meta-llama/Llama-3.1-8B-Instruct", "--served-model-name", "llama-3.1-8b-instruct"]
    assert args[args.index("--tensor-parallel-size") + 1] == "2"
    assert args[args.index("--pipeline-parallel-size") + 1] == "1"
    assert args[-2:] == ["--max-model-len=32768", "--gpu-memory-utilization=0.90"]  # the user's own flags come last
    # A large /dev/shm: half the memory request, at most 16Gi.
    assert {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "16Gi"}} in pod["volumes"]
    assert {"name": "dshm", "mountPath": "/dev/shm"} in container["volumeMounts"]
    # The weights come from an existing claim, read-only.
    assert {"name": "llm-weights", "persistentVolumeClaim": {"claimName": "llm-weights"}} in pod["volumes"]
    assert {"name": "llm-weights", "mountPath": "/models", "readOnly": True} in container["volumeMounts"]
    startup = container["startupProbe"]
    assert startup["httpGet"] == {"path": "/health", "port": "http"}
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 1800  # model loading takes minutes
    assert container["readinessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert container["ports"] == [{"name": "http", "containerPort": 8000, "protocol": "TCP"}]


def test_dev_scales_the_llm_to_zero_on_the_vllm_queue(example_fleet: dict[str, EnvironmentOutput]) -> None:
    dev = example_fleet["dev"]
    scaled = _obj(dev, "ScaledObject", "chat-llm")
    spec = scaled["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "chat-llm"}
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (0, 2)
    queue, ingress = spec["triggers"]
    assert queue["type"] == "prometheus"
    assert queue["metricType"] == "AverageValue"
    assert queue["metadata"]["query"] == 'sum(vllm:num_requests_waiting{namespace="ml-dev",service="chat-llm"})'
    assert queue["metadata"]["threshold"] == "8"
    # Scale to zero: every trigger has an activation threshold, and traffic from outside wakes the server.
    assert queue["metadata"]["activationThreshold"] == ingress["metadata"]["activationThreshold"] == "0"
    assert ingress["name"] == "ingress-requests"
    note = scaled["metadata"]["annotations"]["mlgitops.io/scale-to-zero"]
    assert "wakes when queue-depth above 0; or ingress-requests above 0" in note
    assert "startup probe allows 1800 s" in note
    # Under KEDA the Deployment leaves replicas to the autoscaler, and Prometheus scrapes the server.
    assert "replicas" not in _obj(dev, "Deployment", "chat-llm")["spec"]
    assert _obj(dev, "ServiceMonitor", "chat-llm")["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "30s"}
    ]
    assert not [item for item in dev.objects if item.kind == "HorizontalPodAutoscaler" and item.name == "chat-llm"]


def test_staging_claims_the_llms_gpus_through_dra(example_fleet: dict[str, EnvironmentOutput]) -> None:
    staging = example_fleet["staging"]
    pod = _obj(staging, "Deployment", "chat-llm")["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert pod["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": "chat-llm-gpu"}]
    assert container["resources"]["claims"] == [{"name": "gpu"}]
    assert not [key for key in container["resources"]["limits"] if "/" in key]  # no extended resource
    assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    template = _obj(staging, "ResourceClaimTemplate", "chat-llm-gpu")
    assert template["apiVersion"] == "resource.k8s.io/v1"
    [request] = template["spec"]["spec"]["devices"]["requests"]
    assert request == {
        "name": "gpu",
        "exactly": {
            "deviceClassName": "gpu.nvidia.com",
            "allocationMode": "ExactCount",
            "count": 2,
            "selectors": [{"cel": {"expression": 'device.attributes["gpu.nvidia.com"].productName == "NVIDIA H100 80GB HBM3"'}}],
        },
    }
    # resource.k8s.io/v1 exists from 1.34: validated by those schemas, unknown to older ones.
    assert schema.validate(template, "1.34") == []
    with pytest.raises(schema.UnknownKind):
        schema.validate(template, "1.33")


def test_prod_serves_the_405b_model_as_a_leader_worker_set(example_fleet: dict[str, EnvironmentOutput]) -> None:
    prod = example_fleet["prod"]
    lws = _obj(prod, "LeaderWorkerSet", "chat-llm")
    assert lws["apiVersion"] == "leaderworkerset.x-k8s.io/v1"
    assert lws["metadata"]["annotations"]["leaderworkerset.sigs.k8s.io/exclusive-topology"] == (
        "topology.k8s.aws/network-node-layer-3"
    )
    spec = lws["spec"]
    assert "replicas" not in spec  # KEDA owns the number of groups
    group = spec["leaderWorkerTemplate"]
    assert (group["size"], group["restartPolicy"]) == (2, "RecreateGroupOnPodRestart")
    leader, worker = group["leaderTemplate"]["spec"], group["workerTemplate"]["spec"]
    for pod in (leader, worker):
        [container] = pod["containers"]
        assert container["resources"]["limits"]["nvidia.com/gpu"] == 8
        assert pod["nodeSelector"]["node-pool"] == "gpu-h100"
        assert pod["tolerations"] == [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    [serving] = leader["containers"]
    [joining] = worker["containers"]
    assert serving["command"] == joining["command"] == ["/bin/sh", "-c"]
    assert "leader --ray_port=6379 --ray_cluster_size=2 && exec vllm serve" in serving["args"][0]
    assert "--tensor-parallel-size 8 --pipeline-parallel-size 2 --distributed-executor-backend ray" in serving["args"][0]
    assert 'worker --ray_port=6379 --ray_address="$LWS_LEADER_ADDRESS"' in joining["args"][0]
    assert "startupProbe" in serving
    assert not {"ports", "startupProbe", "readinessProbe", "livenessProbe"} & set(joining)
    # The Service reaches the leaders only; the group's pods may reach each other (Ray, NCCL).
    service = _obj(prod, "Service", "chat-llm")
    assert service["spec"]["selector"] == {
        "app.kubernetes.io/name": "chat-llm",
        "leaderworkerset.sigs.k8s.io/worker-index": "0",
    }
    rules = _obj(prod, "NetworkPolicy", "allow-chat-llm")["spec"]["ingress"]
    assert {"from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "chat-llm"}}}]} in rules
    scaled = _obj(prod, "ScaledObject", "chat-llm")
    assert scaled["spec"]["scaleTargetRef"] == {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": "LeaderWorkerSet",
        "name": "chat-llm",
    }


UPSTREAM_CRDS = {
    "LeaderWorkerSet": "leaderworkerset.x-k8s.io_leaderworkersets.yaml",
    "ScaledObject": "keda.sh_scaledobjects.yaml",
}


@pytest.mark.parametrize("kind", sorted(UPSTREAM_CRDS))
def test_leader_worker_sets_and_scaled_objects_validate_against_the_upstream_crds(
    example_fleet: dict[str, EnvironmentOutput], kind: str
) -> None:
    crds = _upstream(kind)
    checked = 0
    for output in example_fleet.values():
        for item in output.objects:
            if item.kind == kind:
                assert crds.validate(item.obj, output.kubernetes_version) == [], item.path
                checked += 1
    assert checked >= 1


@pytest.mark.parametrize(
    ("kind", "field", "value"),
    [("LeaderWorkerSet", "sizes", 2), ("LeaderWorkerSet", "startupPolicy", "WhenReady"), ("ScaledObject", "minReplicas", 0)],
)
def test_the_projects_schemas_refuse_what_the_upstream_crds_refuse(
    example_fleet: dict[str, EnvironmentOutput], kind: str, field: str, value: object
) -> None:
    upstream = _upstream(kind)
    obj = next(item.obj for item in example_fleet["prod"].objects if item.kind == kind)
    broken = {**obj, "spec": {**obj["spec"], field: value}}
    assert upstream.validate(broken, "1.32") != []
    assert project_schemas().validate(broken, "1.32") != []


LLM = """\
namespace: ml
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: h100
      labels: {node-pool: h100}
      taints: [{key: nvidia.com/gpu, value: present}]
      allocatable: {cpu: "190", memory: 1900Gi, gpus: 8}
volumes:
  - name: cache
    scratch: {sizeLimit: 900Gi}
existingSecrets: [hf-token]
workloads:
  - name: chat
    kind: llm-serving
    server: SERVER
    image: registry.example/server:1
    model:
      name: qwen-72b
      download:
        uri: URI
        image: registry.example/fetch:1
        volume: cache
        env:
          - name: HF_TOKEN
            secretKeyRef: {name: hf-token, key: token}
    tensorParallel: 8
    pipelineParallel: PP
    args: [--trust-remote-code]
    resources: {cpu: "64", memory: 1000Gi}
"""


def _llm(tmp_path: Path, server: str, pipeline: int, uri: str = "hf://Qwen/Qwen2.5-72B-Instruct@main") -> EnvironmentOutput:
    return _render(tmp_path, LLM.replace("SERVER", server).replace("PP", str(pipeline)).replace("URI", uri))


def test_sglang_across_nodes_gets_its_rank_and_the_leaders_address(tmp_path: Path) -> None:
    output = _llm(tmp_path, "sglang", 3)
    group = _obj(output, "LeaderWorkerSet", "chat")["spec"]["leaderWorkerTemplate"]
    assert group["size"] == 3
    line = group["workerTemplate"]["spec"]["containers"][0]["args"][0]
    assert line.startswith("exec python3 -m sglang.launch_server --model-path /models/qwen-72b --served-model-name qwen-72b")
    assert "--tp-size 8 --pp-size 3 --nnodes 3" in line
    assert line.endswith('--node-rank "$LWS_WORKER_INDEX" --dist-init-addr "$LWS_LEADER_ADDRESS:20000" --trust-remote-code')
    assert group["leaderTemplate"]["spec"]["containers"][0]["args"] == [line]


def test_tgi_shards_over_the_gpus_of_one_pod(tmp_path: Path) -> None:
    container = _obj(_llm(tmp_path, "tgi", 1), "Deployment", "chat")["spec"]["template"]["spec"]["containers"][0]
    assert container["command"] == ["text-generation-launcher"]
    assert container["args"] == [
        "--model-id",
        "/models/qwen-72b",
        "--hostname",
        "0.0.0.0",
        "--port",
        "8000",
        "--num-shard",
        "8",
        "--trust-remote-code",
    ]


@pytest.mark.parametrize(
    ("uri", "command"),
    [
        (
            "hf://Qwen/Qwen2.5-72B-Instruct@main",
            ["hf", "download", "Qwen/Qwen2.5-72B-Instruct", "--local-dir", "/models/qwen-72b", "--revision", "main"],
        ),
        ("s3://models/qwen-72b", ["aws", "s3", "sync", "s3://models/qwen-72b", "/models/qwen-72b"]),
    ],
)
def test_an_init_container_downloads_the_model_before_the_server_starts(tmp_path: Path, uri: str, command: list[str]) -> None:
    template = _obj(_llm(tmp_path, "vllm", 1, uri), "Deployment", "chat")["spec"]["template"]
    pod = template["spec"]
    assert list(pod).index("initContainers") < list(pod).index("containers")
    [init] = pod["initContainers"]
    assert init["command"] == command
    # The weights writable here (read-only in the server), and the server's home for the downloader's own caches.
    assert init["volumeMounts"] == [{"name": "cache", "mountPath": "/models"}, {"name": "server-home", "mountPath": "/home/llm"}]
    assert init["env"] == [
        {"name": "HOME", "value": "/home/llm"},
        {"name": "USER", "value": "vllm"},
        {"name": "XDG_CACHE_HOME", "value": "/home/llm/.cache"},
        {"name": "HF_HOME", "value": "/home/llm/.cache/huggingface"},
        {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "token"}}},
    ]
    assert init["securityContext"] == pod["containers"][0]["securityContext"]
    assert {"name": "cache", "mountPath": "/models", "readOnly": True} in pod["containers"][0]["volumeMounts"]
    assert template["metadata"]["annotations"]["mlgitops.io/external-secrets"] == "hf-token"


def test_an_lws_budget_counts_replicas_times_size_times_gpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = LLM.replace("SERVER", "vllm").replace("PP", "2").replace("URI", "hf://Qwen/Qwen2.5-72B-Instruct")
    write(
        tmp_path / "environments" / "dev.yaml", text.replace("    args:", "    replicas: 3\n    args:") + "budget: {gpus: 40}\n"
    )
    result = _cli("render", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1
    assert (
        "requests up to 48 nvidia.com/gpu with every autoscaler at its maximum, over the quota of 40 nvidia.com/gpu: chat 48"
        in result.stderr
    )


def test_a_shared_gpu_request_above_one_is_a_warning_from_the_spec_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(
        tmp_path / "environments" / "dev.yaml",
        """\
namespace: ml
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: shared
      labels: {node-pool: shared}
      taints: [{key: nvidia.com/gpu, effect: NoSchedule}]
      allocatable: {cpu: "30", memory: 200Gi, gpus: 16}
      gpuResource: nvidia.com/gpu.shared
workloads:
  - name: notebook
    kind: serving
    image: ghcr.io/acme/notebook:1.0
    ports: [{name: http, port: 8888}]
    resources: {cpu: "2", memory: 16Gi, gpu: 2}
    shmSize: 2Gi
""",
    )
    result = _cli("render", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 0, result.stderr  # a warning: rendered, but said
    lines = result.stderr.splitlines()
    [at] = [index for index, line in enumerate(lines) if "warning gpu-shared" in line]
    # At the environment-file field that asked for them (not at rendered/), with the fix in its terms.
    assert lines[at].startswith("environments/dev.yaml:15:46: warning gpu-shared:")
    assert "container 'notebook' asks for 2 time-sliced GPU shares" in lines[at]
    assert lines[at + 1].startswith("  fix: ")


POOL = """\
namespace: ml
kubernetesVersion: "1.32"
cluster:
  nodePools:
    - name: accel
      labels: {node-pool: accel}
      taints: [{key: TAINT, effect: NoSchedule}]
      allocatable: {cpu: "90", memory: 700Gi, gpus: 8}
      gpuResource: RESOURCE
workloads:
  - name: embed
    kind: batch
    image: ghcr.io/acme/embed:1.0
    schedule: "0 3 * * *"
    resources: {cpu: "8", memory: 64Gi, gpu: 2}
    shmSize: 8Gi
"""


@pytest.mark.parametrize(
    ("resource", "taint"),
    [
        ("amd.com/gpu", "amd.com/gpu"),
        ("habana.ai/gaudi", "habana.ai/gaudi"),
        ("aws.amazon.com/neuroncore", "aws.amazon.com/neuron"),
        ("google.com/tpu", "google.com/tpu"),
        ("nvidia.com/mig-3g.40gb", "nvidia.com/gpu"),
    ],
)
def test_any_accelerator_of_a_pool_gets_its_resource_tolerations_and_selector(tmp_path: Path, resource: str, taint: str) -> None:
    output = _render(tmp_path, POOL.replace("RESOURCE", resource).replace("TAINT", taint))
    pod = _obj(output, "CronJob", "embed")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    resources = pod["containers"][0]["resources"]
    assert resources["limits"][resource] == resources["requests"][resource] == 2
    assert pod["tolerations"] == [{"key": taint, "operator": "Exists", "effect": "NoSchedule"}]
    assert pod["nodeSelector"] == {"node-pool": "accel"}


@pytest.mark.parametrize(
    ("resource", "taint"), [("amd.com/gpu", "amd.com/gpu"), ("aws.amazon.com/neuroncore", "aws.amazon.com/neuron")]
)
def test_without_a_cluster_profile_a_pod_tolerates_its_accelerators_usual_taint(
    tmp_path: Path, resource: str, taint: str
) -> None:
    text = POOL.split("cluster:")[0] + POOL.split("gpuResource: RESOURCE\n")[1].replace(
        "gpu: 2}", f"gpu: 2, gpuResource: {resource}}}"
    )
    pod = _obj(_render(tmp_path, text), "CronJob", "embed")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["tolerations"] == [{"key": taint, "operator": "Exists", "effect": "NoSchedule"}]


def test_a_dra_pool_needs_kubernetes_1_34_and_renders_claims_there(tmp_path: Path) -> None:
    text = (
        POOL.replace("RESOURCE", "amd.com/gpu")
        .replace("TAINT", "amd.com/gpu")
        .replace("      gpuResource: amd.com/gpu\n", "      deviceClass: gpu.amd.com\n")
    )
    with pytest.raises(UserError) as refused:
        _render(tmp_path, text)
    assert "kubernetesVersion is 1.32: raise it, or use gpuResource" in refused.value.one_line()
    output = _render(tmp_path, text.replace('"1.32"', '"1.35"'))
    pod = _obj(output, "CronJob", "embed")["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["resourceClaims"] == [{"name": "gpu", "resourceClaimTemplateName": "embed-gpu"}]
    assert pod["tolerations"] == [{"key": "amd.com/gpu", "operator": "Exists", "effect": "NoSchedule"}]
    request = _obj(output, "ResourceClaimTemplate", "embed-gpu")["spec"]["spec"]["devices"]["requests"][0]
    assert request["exactly"]["deviceClassName"] == "gpu.amd.com"
    assert request["exactly"]["count"] == 2


def test_the_readmes_llm_example_renders_as_documented(tmp_path: Path) -> None:
    block = documentation().split("## LLM servers (`llm-serving`)", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    assert block.startswith("- name: chat-llm\n  kind: llm-serving\n")
    environment = (
        'namespace: ml\nkubernetesVersion: "1.32"\ncluster:\n  nodePools:\n    - name: gpu-h100\n'
        '      allocatable: {cpu: "190", memory: 1900Gi, gpus: 8}\nvolumes:\n  - {name: llm-weights, existingClaim: weights}\n'
        "workloads:\n" + "".join(f"  {line}\n" for line in block.splitlines())
    )
    output = _render(tmp_path, environment)
    group = _obj(output, "LeaderWorkerSet", "chat-llm")["spec"]["leaderWorkerTemplate"]
    assert group["size"] == 2
    assert group["leaderTemplate"]["spec"]["containers"][0]["resources"]["limits"]["nvidia.com/gpu"] == 8
    assert _obj(output, "ScaledObject", "chat-llm")["spec"]["maxReplicaCount"] == 2


def test_a_plain_server_scales_on_its_pods_gpu_utilization_through_keda(tmp_path: Path) -> None:
    text = POOL.replace("RESOURCE", "nvidia.com/gpu").replace("TAINT", "nvidia.com/gpu").split("workloads:")[0] + (
        "workloads:\n  - name: reranker\n    kind: serving\n    image: ghcr.io/acme/reranker:2.1.0\n"
        "    ports: [{name: http, port: 8080}]\n    resources: {cpu: '4', memory: 16Gi, gpu: 1}\n    shmSize: 1Gi\n"
        "    keda:\n      minReplicas: 2\n      maxReplicas: 6\n      prometheus: http://prometheus.monitoring:9090\n"
        "      triggers: [{signal: gpu-utilization, target: '70'}]\n"
    )
    output = _render(tmp_path, text)
    assert "replicas" not in _obj(output, "Deployment", "reranker")["spec"]
    [trigger] = _obj(output, "ScaledObject", "reranker")["spec"]["triggers"]
    assert trigger["metricType"] == "Value"
    assert trigger["metadata"]["query"] == 'avg(DCGM_FI_DEV_GPU_UTIL{namespace="ml",pod=~"reranker-[a-z0-9]+-[a-z0-9]+"})'
    assert "mlgitops.io/scale-to-zero" not in _obj(output, "ScaledObject", "reranker")["metadata"].get("annotations", {})
    # Two replicas at least: the default disruption budget comes with them.
    assert _obj(output, "PodDisruptionBudget", "reranker")["spec"]["maxUnavailable"] == 1


def test_an_llm_server_on_a_read_write_once_model_claim_is_recreated_not_rolled(tmp_path: Path) -> None:
    # The weights' claim attaches to one node: a RollingUpdate's new pod elsewhere would hang on Multi-Attach.
    on_claim = LLM.replace(
        "volumes:\n", "volumes:\n  - name: weights\n    claim: {size: 500Gi, accessModes: [ReadWriteOnce]}\n"
    ).replace(
        "      download:\n        uri: URI\n        image: registry.example/fetch:1\n        volume: cache\n"
        "        env:\n          - name: HF_TOKEN\n            secretKeyRef: {name: hf-token, key: token}\n",
        "      volume: weights\n",
    )
    deployment = _obj(_render(tmp_path, on_claim.replace("SERVER", "vllm").replace("PP", "1")), "Deployment", "chat")
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    shared = on_claim.replace("accessModes: [ReadWriteOnce]", "accessModes: [ReadOnlyMany]")
    deployment = _obj(_render(tmp_path, shared.replace("SERVER", "vllm").replace("PP", "1")), "Deployment", "chat")
    assert "strategy" not in deployment["spec"]


def test_findings_on_the_model_downloader_point_at_model_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The download init container is written by `model.download`, not by the workload's `- name:` line.
    text = LLM.replace("SERVER", "vllm").replace("PP", "2").replace("URI", "hf://Qwen/Qwen2.5-72B-Instruct@main")
    text = text.replace(
        "            secretKeyRef: {name: hf-token, key: token}\n", "            value: hf_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3z\n"
    )
    write(tmp_path / "environments" / "prod.yaml", text)
    result = _cli("render", cwd=tmp_path, monkeypatch=monkeypatch)
    assert result.exit_code == 1, result.stderr
    lines = text.splitlines()
    image = next(n for n, line in enumerate(lines, 1) if "registry.example/fetch:1" in line)
    token = next(n for n, line in enumerate(lines, 1) if "value: hf_" in line)
    findings = [line for line in result.stderr.splitlines() if "'download-model'" in line]
    assert any(line.startswith(f"environments/prod.yaml:{image}:16: error image-digest:") for line in findings), findings
    assert any(line.startswith(f"environments/prod.yaml:{token}:20: error plaintext-secret:") for line in findings), findings
    assert not [line for line in findings if line.startswith("environments/prod.yaml:14:")], findings


LLM_HOME = (
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
    pod = _obj(_render(tmp_path, LLM_HOME.replace("SERVER", server)), "Deployment", "chat")["spec"]["template"]["spec"]
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
    text = LLM_HOME.replace("SERVER", "vllm") + (
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
    text = LLM_HOME.replace("SERVER", "vllm").replace(
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


def _lws(tmp_path: Path, volume: str) -> dict[str, Any]:
    text = LLM_HOME.replace("SERVER", "vllm").replace(
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
        LLM_HOME.replace("SERVER", "vllm")
        .replace("  - name: scratch\n", "  - name: rwo\n    claim: {size: 1Ti}\n  - name: scratch\n")
        .replace(
            "    model: {name: qwen, volume: weights}\n",
            "    model:\n      name: qwen\n      download: {uri: 'hf://Qwen/Qwen2.5-72B', image: 'hf:1', volume: rwo}\n",
        )
    )
    line = _refused(tmp_path, text + "    pipelineParallel: 2\n")
    assert "the 2 pods of a group run on different nodes, but claim 'rwo' is ReadWriteOnce" in line


def test_leader_worker_set_pods_have_no_pod_template_hash_to_match(tmp_path: Path) -> None:
    text = LLM_HOME.replace("SERVER", "vllm") + "    pipelineParallel: 2\n    replicas: 2\n"
    lws = _obj(_render(tmp_path, text), "LeaderWorkerSet", "chat")
    for role in ("leaderTemplate", "workerTemplate"):
        spread = lws["spec"]["leaderWorkerTemplate"][role]["spec"]["topologySpreadConstraints"]
        assert all("matchLabelKeys" not in entry for entry in spread)
