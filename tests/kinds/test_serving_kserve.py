"""serving through KServe (an InferenceService): the mode and autoscaler class the declared release accepts, storageUri."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.rendering import HEAD, _obj, _refused, _render

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
