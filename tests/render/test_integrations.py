"""MLflow tracking, registered-model serving, KServe, and secrets that never reach git."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mlgitops.errors import UserError
from mlgitops.fleet.build import EnvironmentOutput, build
from mlgitops.kube.custom_resources import load_crds
from mlgitops.load.environments import load_environments
from tests.support import run_in_process, upstream_crd, write


def _obj(output: EnvironmentOutput, kind: str, app: str) -> dict[str, Any]:
    [found] = [
        item.obj
        for item in output.objects
        if item.kind == kind and item.obj["metadata"]["labels"]["app.kubernetes.io/name"] == app
    ]
    return found


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {var["name"]: var.get("value", var.get("valueFrom")) for var in container.get("env", [])}


def test_training_logs_to_mlflow_with_credentials_from_a_secret(example_fleet: dict[str, EnvironmentOutput]) -> None:
    job = _obj(example_fleet["prod"], "Job", "resnet-train")
    variables = _env(job["spec"]["template"]["spec"]["containers"][0])
    assert variables["MLFLOW_TRACKING_URI"] == "https://mlflow.ml-platform.svc.cluster.local"
    assert variables["MLFLOW_EXPERIMENT_NAME"] == "resnet50-imagenet"
    assert variables["MLFLOW_TRACKING_PASSWORD"] == {"secretKeyRef": {"name": "mlflow-credentials", "key": "password"}}


def test_dev_serves_the_registered_model_with_mlflows_model_server(example_fleet: dict[str, EnvironmentOutput]) -> None:
    deployment = _obj(example_fleet["dev"], "Deployment", "resnet-classifier")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "ghcr.io/acme/mlflow-serving:2.19.0"
    assert container["command"] == ["mlflow", "models", "serve"]
    assert container["args"][:2] == ["-m", "models:/resnet50@champion"]
    assert container["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/ping", "port": "http"}
    assert deployment["metadata"]["annotations"]["mlgitops.io/mlflow-model"] == "models:/resnet50@champion"


def test_prod_serves_the_pinned_version_through_kserve(example_fleet: dict[str, EnvironmentOutput]) -> None:
    prod = example_fleet["prod"]
    service = _obj(prod, "InferenceService", "resnet-classifier")
    predictor = service["spec"]["predictor"]
    assert predictor["model"]["modelFormat"] == {"name": "mlflow"}
    assert predictor["model"]["storageUri"] == "s3://acme-models/resnet50/7"
    assert (predictor["minReplicas"], predictor["maxReplicas"], predictor["scaleMetric"]) == (2, 8, "cpu")
    # KServe 0.16+ names the mode Standard (RawDeployment falls into the Knative branch of 0.16's webhook).
    assert service["metadata"]["annotations"]["serving.kserve.io/deploymentMode"] == "Standard"
    assert service["metadata"]["annotations"]["serving.kserve.io/autoscalerClass"] == "hpa"
    assert service["metadata"]["annotations"]["mlgitops.io/mlflow-model"] == "models:/resnet50/7"
    assert predictor["securityContext"]["runAsNonRoot"] is True
    assert not [item for item in prod.objects if item.kind == "Deployment" and item.name == "resnet-classifier"]


def test_credentials_come_through_external_secrets(example_fleet: dict[str, EnvironmentOutput]) -> None:
    secret = _obj(example_fleet["prod"], "ExternalSecret", "mlflow-credentials")
    assert secret["spec"]["secretStoreRef"] == {"kind": "ClusterSecretStore", "name": "vault-backend"}
    assert secret["spec"]["target"] == {"name": "mlflow-credentials", "creationPolicy": "Owner"}
    assert secret["spec"]["data"][1] == {
        "secretKey": "password",
        "remoteRef": {"key": "ml/mlflow", "property": "password"},
    }
    assert not [item for item in example_fleet["prod"].objects if item.kind == "Secret"]


UPSTREAM = {
    "InferenceService": "serving.kserve.io_inferenceservices.yaml",
    "ExternalSecret": "external-secrets.io_externalsecrets.yaml",
}


def test_inference_service_and_external_secrets_validate_against_upstream_crds(
    example_fleet: dict[str, EnvironmentOutput],
) -> None:
    crds = load_crds([upstream_crd(name) for name in UPSTREAM.values()])
    kinds = set()
    for output in example_fleet.values():
        for item in output.objects:
            if item.kind in UPSTREAM:
                assert crds.validate(item.obj, output.kubernetes_version) == [], item.path
                kinds.add(item.kind)
    assert kinds == set(UPSTREAM)


SENTINEL = "s3cr3t-SENTINEL-7f3a"


def test_a_secret_value_never_reaches_rendered_files_errors_or_diffs(fleet: Path) -> None:
    base = fleet / "environments" / "base.yaml"
    # The secret store holds the value; the spec only names where it lives.
    base.write_text(base.read_text().replace("remoteKey: ml/wandb", "remoteKey: ml/wandb  # value: " + SENTINEL))
    assert run_in_process("render", cwd=fleet).exit_code == 0
    for path in (fleet / "rendered").rglob("*"):
        if path.is_file():
            assert SENTINEL not in path.read_text()
    # A literal in an env var is refused without echoing it back.
    dev = fleet / "environments" / "dev.yaml"
    dev.write_text(
        dev.read_text() + f"  - name: resnet-train\n    env:\n      - name: API_TOKEN\n        value: {{{SENTINEL}: 1}}\n"
    )
    result = run_in_process("render", cwd=fleet)
    assert result.exit_code == 2
    assert SENTINEL not in result.stderr + result.stdout


BASE = """\
namespace: ml
kubernetesVersion: "1.32"
workloads:
  - name: train
    kind: training
    image: registry.example/train:1
    resources: {cpu: "1", memory: 1Gi}
    mlflow: {experiment: x}
  - name: serve
    kind: serving
    model: {name: resnet50, version: "3"}
    resources: {cpu: "1", memory: 1Gi}
"""


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ("", "", "8:13: workloads[train].mlflow: logs to MLflow, but the environment declares no mlflow.trackingUri"),
        (
            'kubernetesVersion: "1.32"\n',
            'kubernetesVersion: "1.32"\nmlflow: {trackingUri: "https://mlflow.example"}\n',
            "10:5: workloads[serve].image: missing required field 'image' (or the environment's mlflow.servingImage)",
        ),
        (
            'kubernetesVersion: "1.32"\n',
            'kubernetesVersion: "1.32"\nexternalSecrets: [{name: s, data: [{key: k, remoteKey: r}]}]\n'
            'mlflow: {trackingUri: "https://mlflow.example", servingImage: "r/mlflow:2"}\n',
            "3:18: externalSecrets: externalSecrets need a secretStore to read from (set secretStore.name)",
        ),
    ],
    ids=["mlflow-without-server", "model-without-image", "external-secrets-without-store"],
)
def test_integration_mistakes_are_located(tmp_path: Path, replace: str, by: str, expected: str) -> None:
    write(tmp_path / "dev.yaml", BASE.replace(replace, by) if replace else BASE)
    [loaded] = load_environments(tmp_path)
    with pytest.raises(UserError) as raised:
        build(loaded)
    assert raised.value.one_line().splitlines()[0] == f"{tmp_path}/dev.yaml:{expected}"


def test_a_registered_model_needs_one_line_of_spec(tmp_path: Path) -> None:
    write(
        tmp_path / "dev.yaml",
        """\
namespace: ml
kubernetesVersion: "1.32"
mlflow: {trackingUri: "https://mlflow.example", servingImage: "registry.example/mlflow:2"}
workloads:
  - {name: clf, kind: serving, model: {name: resnet50, version: "3"}}
""",
    )
    [loaded] = load_environments(tmp_path)
    deployment = next(item.obj for item in build(loaded).objects if item.kind == "Deployment")
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.example/mlflow:2"
    assert container["args"][:2] == ["-m", "models:/resnet50/3"]
    assert container["resources"] == {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "2Gi"}}
    assert container["livenessProbe"]["httpGet"] == {"path": "/ping", "port": "http"}
