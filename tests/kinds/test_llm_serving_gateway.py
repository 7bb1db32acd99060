"""LLM servers behind the Gateway API Inference Extension: the InferencePool, its endpoint picker, the HTTPRoute to
it, the network policies between them, and the spec checks of the pool's selector."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.kube.custom_resources import CustomSchemas, load_crds, project_schemas
from mlgitops.load.environments import load_environments
from tests.support import REPO, run_here, upstream_crd, write

UPSTREAM_CRDS = {
    "InferencePool": "inference.networking.k8s.io_inferencepools.yaml",
    "HTTPRoute": "gateway.networking.k8s.io_httproutes.yaml",
    "LeaderWorkerSet": "leaderworkerset.x-k8s.io_leaderworkersets.yaml",
}


@pytest.fixture(scope="module")
def prod() -> EnvironmentOutput:
    [loaded] = [loaded for loaded in load_environments(REPO / "environments") if loaded.name == "prod"]
    return build(loaded)


def _obj(output: EnvironmentOutput, kind: str, name: str) -> dict[str, Any]:
    [obj] = [item.obj for item in output.objects if item.kind == kind and item.name == name]
    return obj


@functools.cache
def _upstream() -> CustomSchemas:
    return load_crds([upstream_crd(name) for name in UPSTREAM_CRDS.values()])


def test_prod_routes_the_llm_through_its_inference_pool(prod: EnvironmentOutput) -> None:
    pool = _obj(prod, "InferencePool", "chat-llm")
    assert pool["apiVersion"] == "inference.networking.k8s.io/v1"
    # The pool picks the server's leaders only (the workers of a LeaderWorkerSet serve no HTTP), on the server's port.
    assert pool["spec"] == {
        "selector": {"matchLabels": {"app.kubernetes.io/name": "chat-llm", "leaderworkerset.sigs.k8s.io/worker-index": "0"}},
        "targetPorts": [{"number": 8000}],
        "endpointPickerRef": {"kind": "Service", "name": "chat-llm-epp", "port": {"number": 9002}, "failureMode": "FailClose"},
    }
    route = _obj(prod, "HTTPRoute", "chat-llm")
    [rule] = route["spec"]["rules"]
    assert rule["backendRefs"] == [
        {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "chat-llm", "weight": 90},
        {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "chat-llm-canary", "weight": 10},
    ]
    assert route["spec"]["parentRefs"][0]["name"] == "ml-gateway"


def test_the_endpoint_picker_runs_as_upstream_deploys_it(prod: EnvironmentOutput) -> None:
    deployment = _obj(prod, "Deployment", "chat-llm-epp")
    pod = deployment["spec"]["template"]["spec"]
    [container] = pod["containers"]
    args = container["args"]
    flags = dict(zip(args[:12:2], args[1:12:2], strict=True))
    assert flags == {
        "--pool-name": "chat-llm",
        "--pool-namespace": "ml-prod",
        "--pool-group": "inference.networking.k8s.io",
        "--grpc-port": "9002",
        "--grpc-health-port": "9003",
        "--metrics-port": "9090",
    }
    assert [(port["name"], port["containerPort"]) for port in container["ports"]] == [
        ("grpc-ext-proc", 9002),
        ("grpc-health", 9003),
        ("http-metrics", 9090),
    ]
    health = {"port": 9003, "service": "inference-extension"}
    assert container["readinessProbe"]["grpc"] == container["livenessProbe"]["grpc"] == health
    # It watches pods and the pool through the API: its own ServiceAccount, with a token.
    assert pod["serviceAccountName"] == "chat-llm-epp"
    assert pod["automountServiceAccountToken"] is True
    assert pod["nodeSelector"] == {"node-pool": "cpu-general"}
    service = _obj(prod, "Service", "chat-llm-epp")
    ext_proc = next(port for port in service["spec"]["ports"] if port["port"] == 9002)
    assert ext_proc["appProtocol"] == "kubernetes.io/h2c"
    role = _obj(prod, "Role", "chat-llm-epp")
    read = {(group, resource) for rule in role["rules"] for group in rule["apiGroups"] for resource in rule["resources"]}
    assert {("", "pods"), ("inference.networking.k8s.io", "inferencepools")} <= read
    assert ("inference.networking.x-k8s.io", "inferenceobjectives") in read
    assert all(rule["verbs"] == ["get", "list", "watch"] for rule in role["rules"])
    binding = _obj(prod, "RoleBinding", "chat-llm-epp")
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "chat-llm-epp", "namespace": "ml-prod"}]
    assert binding["roleRef"]["name"] == "chat-llm-epp"


def test_prods_custom_resources_validate_against_the_upstream_crds(prod: EnvironmentOutput) -> None:
    crds = _upstream()
    seen = set()
    for item in prod.objects:
        if item.kind in UPSTREAM_CRDS:
            assert crds.validate(item.obj, prod.kubernetes_version) == [], item.path
            seen.add(item.kind)
    assert seen == set(UPSTREAM_CRDS)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("targetPorts",), []),
        (("endpointPickerRef", "failureMode"), "Sometimes"),
        (("selector", "matchLabels"), {}),
    ],
)
def test_the_projects_pool_schema_refuses_what_the_upstream_crd_refuses(
    prod: EnvironmentOutput, path: tuple[str, ...], value: object
) -> None:
    obj = _obj(prod, "InferencePool", "chat-llm")
    spec = {**obj["spec"]}
    if len(path) == 1:
        spec[path[0]] = value
    else:
        spec[path[0]] = {**spec[path[0]], path[1]: value}
    broken = {**obj, "spec": spec}
    assert _upstream().validate(broken, "1.35") != []
    assert project_schemas().validate(broken, "1.35") != []


def test_the_picker_and_the_gateway_reach_the_servers_and_nothing_else_opens(prod: EnvironmentOutput) -> None:
    server = _obj(prod, "NetworkPolicy", "allow-chat-llm")["spec"]["ingress"]
    picker_pods = {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "chat-llm-epp"}}}
    picker_rule = {"from": [picker_pods], "ports": [{"protocol": "TCP", "port": 8000}]}
    assert picker_rule in server
    gateway = {"kubernetes.io/metadata.name": "envoy-gateway-system"}
    assert any(rule["from"][0].get("namespaceSelector", {}).get("matchLabels") == gateway for rule in server)
    picker = _obj(prod, "NetworkPolicy", "allow-chat-llm-epp")["spec"]
    assert picker["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "chat-llm-epp"}}
    ext_proc, metrics = picker["ingress"]
    assert ext_proc["ports"] == [{"protocol": "TCP", "port": 9002}]
    assert ext_proc["from"][0]["namespaceSelector"]["matchLabels"] == gateway
    assert metrics["ports"] == [{"protocol": "TCP", "port": 9090}]
    assert {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}} in metrics["from"]
    # The canary's pods are reached the same way (its own policy: the stable one selects only the stable pods).
    canary = _obj(prod, "NetworkPolicy", "allow-chat-llm-canary")["spec"]
    assert canary["podSelector"] == {"matchLabels": {"app.kubernetes.io/name": "chat-llm-canary"}}
    assert any(rule["from"][0].get("namespaceSelector", {}).get("matchLabels") == gateway for rule in canary["ingress"])


POOLED = """\
namespace: ml
kubernetesVersion: "1.35"
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
    existingClaim: weights
workloads:
  - name: chat
    kind: llm-serving
    image: registry.example/vllm:1
    labels: {model-family: llama}
    model: {name: llama-70b, volume: weights}
    nodePool: h100
    tensorParallel: 4
    resources: {cpu: "32", memory: 500Gi}
    httpRoute:
      gateway: {name: gw}
    inferencePool:
      selector: SELECTOR
      endpointPicker: {image: registry.example/epp:1}
  - name: chat-small
    kind: llm-serving
    image: registry.example/vllm:1
    labels: {model-family: llama}
    model: {name: llama-8b, volume: weights}
    nodePool: h100
    resources: {cpu: "8", memory: 64Gi}
"""


@pytest.mark.parametrize(
    ("selector", "message"),
    [
        (
            "{model-family: llama}",
            "the pool's selector also matches the pods of 'chat-small': the endpoint picker would send requests for "
            "'llama-70b' to them. Select by a label only this server's pods carry (default: app.kubernetes.io/name: chat)",
        ),
        (
            "{model-family: mistral}",
            "the pool's selector does not match the pods of 'chat' (they carry app.kubernetes.io/name=chat and its "
            "labels): the pool would be empty",
        ),
    ],
)
def test_a_pool_selector_that_picks_another_models_pods_is_refused_at_its_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, selector: str, message: str
) -> None:
    text = POOLED.replace("SELECTOR", selector)
    write(tmp_path / "environments" / "dev.yaml", text)
    result = run_here(monkeypatch, tmp_path, "render")
    assert result.exit_code == 2
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "selector:" in row)
    assert result.stderr == f"error: environments/dev.yaml:{line}:17: workloads[chat].inferencePool.selector: {message}\n"
    assert not (tmp_path / "rendered").exists()


def test_the_default_selector_picks_the_servers_own_pods(tmp_path: Path) -> None:
    write(tmp_path / "environments" / "dev.yaml", POOLED.replace("      selector: SELECTOR\n", ""))
    [loaded] = load_environments(tmp_path / "environments")
    output = build(loaded)
    pool = _obj(output, "InferencePool", "chat")
    assert pool["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": "chat"}}
    assert pool["spec"]["targetPorts"] == [{"number": 8000}]
    assert [ref["kind"] for ref in _obj(output, "HTTPRoute", "chat")["spec"]["rules"][0]["backendRefs"]] == ["InferencePool"]


def test_a_picker_with_nowhere_to_run_is_refused_at_its_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Only GPU nodes, all tainted: the CPU-only picker would stay Pending, and with it every request (FailClose).
    text = POOLED.replace("      selector: SELECTOR\n", "").replace(
        "    - name: cpu\n      labels: {node-pool: cpu}\n      allocatable: {cpu: \"16\", memory: 64Gi}\n", ""
    )
    write(tmp_path / "environments" / "dev.yaml", text)
    result = run_here(monkeypatch, tmp_path, "render")
    assert result.exit_code == 2
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "endpointPicker:" in row)
    assert result.stderr == (
        f"error: environments/dev.yaml:{line}:7: workloads[chat].inferencePool.endpointPicker: the endpoint picker: "
        "every node pool is tainted, so these pods fit nowhere: choose one with nodePool\n"
    )


def test_lint_finds_a_pool_that_selects_two_workloads_in_anyones_manifests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The same fact as the spec check, on manifests written by hand (or edited after rendering).
    source = REPO / "rendered" / "prod"
    for name in ("inferencepool-chat-llm.yaml", "leaderworkerset-chat-llm.yaml", "leaderworkerset-chat-llm-canary.yaml"):
        write(tmp_path / name, (source / name).read_text())
    clean = run_here(monkeypatch, tmp_path, "lint", ".", "--format", "json")
    assert "inference-pool-selector" not in clean.stdout
    pool = tmp_path / "inferencepool-chat-llm.yaml"
    selector = "    matchLabels:\n      app.kubernetes.io/name: chat-llm\n"
    assert selector in pool.read_text()
    pool.write_text(pool.read_text().replace(selector, "    matchLabels:\n      app.kubernetes.io/part-of: vision-platform\n"))
    result = run_here(monkeypatch, tmp_path, "lint", ".")
    assert result.exit_code == 1
    [finding] = [line for line in result.stderr.splitlines() + result.stdout.splitlines() if "inference-pool-selector" in line]
    assert "selects the pods of 2 workloads (LeaderWorkerSet chat-llm, LeaderWorkerSet chat-llm-canary)" in finding
