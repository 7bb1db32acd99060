"""Canaries between model versions: the candidate beside the stable server, the weighted route, `set canary`, and
the traffic split a pull request's summary shows."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.load.environments import load_environments
from mlgitops.review.changes import compare_environment
from mlgitops.review.summary import Review, markdown, text
from tests.support import REPO, run_here, write


@pytest.fixture(scope="module")
def prod() -> EnvironmentOutput:
    [loaded] = [loaded for loaded in load_environments(REPO / "environments") if loaded.name == "prod"]
    return build(loaded)


def _obj(output: EnvironmentOutput, kind: str, name: str) -> dict[str, Any]:
    [obj] = [item.obj for item in output.objects if item.kind == kind and item.name == name]
    return obj


def test_prods_canary_runs_the_candidate_beside_the_stable_server(prod: EnvironmentOutput) -> None:
    stable = _obj(prod, "LeaderWorkerSet", "chat-llm")
    candidate = _obj(prod, "LeaderWorkerSet", "chat-llm-canary")
    image = candidate["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"][0]["image"]
    assert image.startswith("vllm/vllm-openai:v0.11.1@sha256:")
    assert stable["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"][0]["image"].startswith(
        "vllm/vllm-openai:v0.11.0@"
    )
    # A fixed replica count (KEDA scales the stable server only); the same model, group size and queue.
    assert candidate["spec"]["replicas"] == 1
    assert "replicas" not in stable["spec"]
    assert candidate["spec"]["leaderWorkerTemplate"]["size"] == stable["spec"]["leaderWorkerTemplate"]["size"] == 2
    assert candidate["metadata"]["labels"]["kueue.x-k8s.io/queue-name"] == "gpu-serving"
    assert [item.name for item in prod.objects if item.kind == "ScaledObject"] == ["chat-llm"]
    # Its own Service and pool (the stable pool's selector does not pick its pods).
    assert _obj(prod, "Service", "chat-llm-canary")["spec"]["selector"]["app.kubernetes.io/name"] == "chat-llm-canary"
    pool = _obj(prod, "InferencePool", "chat-llm-canary")["spec"]
    assert pool["selector"]["matchLabels"]["app.kubernetes.io/name"] == "chat-llm-canary"
    assert pool["endpointPickerRef"]["name"] == "chat-llm-canary-epp"
    assert [item.name for item in prod.objects if item.kind == "HTTPRoute" and item.name.startswith("chat-llm")] == ["chat-llm"]


CANARY = """\
namespace: ml
kubernetesVersion: "1.35"
cluster:
  nodePools:
    - name: h100
      labels: {node-pool: h100}
      allocatable: {cpu: "190", memory: 1900Gi, gpus: 8}
volumes:
  - name: weights
    existingClaim: weights
workloads:
  - name: chat
    kind: llm-serving
    image: registry.example/vllm:1
    model: {name: llama, volume: weights, path: llama-3.1}
    resources: {cpu: "8", memory: 64Gi}
    replicas: 2
    httpRoute:
      gateway: {name: gw}
    canary:
      weight: 20
      model: {name: llama, volume: weights, path: llama-3.2}
"""


def _render(tmp_path: Path, text: str) -> EnvironmentOutput:
    write(tmp_path / "environments" / "dev.yaml", text)
    [loaded] = load_environments(tmp_path / "environments")
    return build(loaded)


def test_without_a_pool_the_route_splits_between_the_two_services(tmp_path: Path) -> None:
    output = _render(tmp_path, CANARY)
    [rule] = _obj(output, "HTTPRoute", "chat")["spec"]["rules"]
    assert rule["backendRefs"] == [
        {"group": "", "kind": "Service", "name": "chat", "port": 8000, "weight": 80},
        {"group": "", "kind": "Service", "name": "chat-canary", "port": 8000, "weight": 20},
    ]
    args = _obj(output, "Deployment", "chat-canary")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert args[0] == "/models/llama-3.2"
    assert _obj(output, "Deployment", "chat")["spec"]["template"]["spec"]["containers"][0]["args"][0] == "/models/llama-3.1"


@pytest.mark.parametrize(
    ("canary", "field", "column", "message"),
    [
        (
            "    canary:\n      weight: 0\n      stableWeight: 0\n",
            "weight: 0",
            15,
            "workloads[chat].canary.weight: the weights of the stable server and the candidate sum to 0: the route would "
            "answer every request with HTTP 500. Give one of them a weight above 0",
        ),
        (
            "    canary:\n      weight: 150\n",
            "weight: 150",
            15,
            "workloads[chat].canary.weight: weight 150 is a percentage without stableWeight: 0 to 100",
        ),
    ],
)
def test_weights_that_send_nothing_anywhere_are_refused_at_their_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, canary: str, field: str, column: int, message: str
) -> None:
    text = CANARY.replace(CANARY[CANARY.index("    canary:") :], canary)
    write(tmp_path / "environments" / "dev.yaml", text)
    result = run_here(monkeypatch, tmp_path, "render")
    assert result.exit_code == 2
    line = next(n for n, row in enumerate(text.splitlines(), 1) if field in row)
    assert result.stderr == f"error: environments/dev.yaml:{line}:{column}: {message}\n"


def test_a_canary_without_a_route_is_refused_at_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    text = CANARY.replace("    httpRoute:\n      gateway: {name: gw}\n", "")
    write(tmp_path / "environments" / "dev.yaml", text)
    result = run_here(monkeypatch, tmp_path, "render")
    assert result.exit_code == 2
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "canary:" in row)
    assert result.stderr.startswith(
        f"error: environments/dev.yaml:{line}:5: workloads[chat].canary: a canary's traffic is split by the httpRoute's "
        "backend weights, and this server has no httpRoute"
    )


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "environments", tmp_path / "environments")
    shutil.copytree(REPO / "rendered", tmp_path / "rendered")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _prod_llm(fleet: Path) -> dict[str, Any]:
    prod = yaml.safe_load((fleet / "environments" / "prod.yaml").read_text())
    [llm] = [w for w in prod["workloads"] if w["name"] == "chat-llm"]
    return dict(llm)


def test_set_canary_moves_the_weight_and_re_renders_the_route(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_here(monkeypatch, fleet, "set", "canary", "chat-llm", "50", "--env", "prod")
    assert result.exit_code == 0, result.stderr
    assert "prod: workloads[chat-llm].canary.weight: 10 -> 50" in result.stdout
    assert _prod_llm(fleet)["canary"]["weight"] == 50
    route = yaml.safe_load((fleet / "rendered" / "prod" / "httproute-chat-llm.yaml").read_text())
    assert [ref["weight"] for ref in route["spec"]["rules"][0]["backendRefs"]] == [50, 50]
    assert run_here(monkeypatch, fleet, "render", "--check", "-q").exit_code == 0


def test_set_canary_promote_makes_the_candidate_stable(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    candidate = _prod_llm(fleet)["canary"]["image"]
    result = run_here(monkeypatch, fleet, "set", "canary", "chat-llm", "--promote", "--env", "prod")
    assert result.exit_code == 0, result.stderr
    llm = _prod_llm(fleet)
    assert llm["image"] == candidate
    assert "canary" not in llm
    rendered = fleet / "rendered" / "prod"
    assert not list(rendered.glob("*chat-llm-canary*"))
    route = yaml.safe_load((rendered / "httproute-chat-llm.yaml").read_text())
    assert route["spec"]["rules"][0]["backendRefs"] == [
        {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "chat-llm"}
    ]


def test_set_canary_refuses_a_server_without_one_and_both_forms_at_once(fleet: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_here(monkeypatch, fleet, "set", "canary", "resnet-serve", "20", "--env", "prod")
    assert result.exit_code == 2
    assert "workloads[resnet-serve]: runs no canary" in result.stderr
    result = run_here(monkeypatch, fleet, "set", "canary", "chat-llm", "20", "--promote", "--env", "prod")
    assert result.exit_code == 2
    assert "give a WEIGHT (and --stable-weight), or --promote (not both)" in result.stderr


def _route(weights: list[int]) -> dict[str, Any]:
    names = ["chat", "chat-canary"]
    refs = [{"kind": "InferencePool", "name": name, "weight": weight} for name, weight in zip(names, weights, strict=True)]
    return {"kind": "HTTPRoute", "metadata": {"name": "chat"}, "spec": {"rules": [{"backendRefs": refs}]}}


def test_the_pull_request_summary_shows_the_split_before_and_after() -> None:
    changes = compare_environment("prod", [_route([90, 10])], [_route([3, 1])])
    review = Review("0123456789abcdef", [changes])
    assert "- prod: HTTPRoute `chat`: `chat` 90% → 75%, `chat-canary` 10% → 25%" in markdown(review)
    assert "  HTTPRoute chat: chat 90% → 75%, chat-canary 10% → 25%\n" in text(review)
    unchanged = compare_environment("prod", [_route([9, 1]), {"kind": "Service", "metadata": {"name": "x"}}], [_route([9, 1])])
    assert unchanged.objects
    assert "- prod: HTTPRoute `chat`: `chat` 90%, `chat-canary` 10%" in markdown(Review("0" * 12, [unchanged]))
