"""Pods that start and serve (issue 27): who containers run as, LLM homes, one download per group, spread, gateways.

Each test renders a spec and reads the object the kubelet or controller would get, or the located error.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.fleet.build import build
from mlgitops.load.environments import load_environments
from tests.rendering import HEAD, SERVER, _findings, _obj, _refused, _render
from tests.support import REPO

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
