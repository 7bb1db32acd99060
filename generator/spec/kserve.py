"""KServe's deployment modes and autoscaler classes, by the release the environment runs (`operators.kserve`).

Facts (kserve/kserve):

- Since v0.16.0 the modes are `Standard` and `Knative` (`pkg/constants/constants.go`, #4608); `RawDeployment` and
  `Serverless` stay as deprecated aliases. The mode is the annotation `serving.kserve.io/deploymentMode`; the Helm
  chart's default is `Knative` (`charts/kserve-resources/values.yaml`), so it is always written.
- The validating webhook decides on the annotation as written (`inference_service_validation.go`,
  `validateAutoScalingCompExtension`): `Standard` (before 0.16: `RawDeployment`) with autoscalerClass `hpa` checks HPA
  metrics (`cpu`, `memory`); every other value, `RawDeployment` on v0.16.x included, falls into the Knative branch,
  which allows only `concurrency` and `rps` ("[cpu] is not a supported metric"). From v0.17.0 the defaulter rewrites
  the legacy names first (#5025), but 0.16 refuses them: mlgitops writes the name the release knows.
- `storageUri` is where the predictor's files come from (`pkg/controller/v1beta1/inferenceservice/utils/utils.go`
  lists the schemes): it is fixed, so it cannot follow an MLflow alias, and it must name the version the
  `mlgitops.io/mlflow-model` annotation names. `{version}` in it is filled in from `model.version`.
- `serving.kserve.io/autoscalerClass` (Standard mode): `hpa` (the default), `external` (since before 0.14), `keda`
  (0.15), `none` (0.16: no HPA, the Deployment keeps minReplicas).
"""

from __future__ import annotations

from typing import Literal

from mlgitops.spec.operators import Operators
from mlgitops.spec.problems import FieldPath, SpecProblem
from mlgitops.spec.serving import Serving

DEPLOYMENT_MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
AUTOSCALER_CLASS_ANNOTATION = "serving.kserve.io/autoscalerClass"
CURRENT_NAMES = "0.16"
"""First KServe release whose modes are Standard and Knative."""
CLASS_SINCE = {"hpa": "0.1", "external": "0.1", "none": "0.16"}
HPA_METRICS = ("cpu", "memory")
KNATIVE_METRICS = ("concurrency", "rps")
Mode = Literal["Standard", "Knative"]
_MODES: dict[str, Mode] = {"Standard": "Standard", "RawDeployment": "Standard", "Knative": "Knative", "Serverless": "Knative"}
_LEGACY_NAMES = {"Standard": "RawDeployment", "Knative": "Serverless"}
VERSION_PLACEHOLDER = "{version}"
"""In `kserve.storageUri`: replaced by the registered model's `version` when rendering."""


def storage_uri(workload: Serving) -> str:
    """The predictor's storageUri, with ``{version}`` filled in from the registered model's version."""
    assert workload.kserve is not None
    uri = workload.kserve.storage_uri
    version = workload.model.version if workload.model is not None else None
    return uri.replace(VERSION_PLACEHOLDER, version) if version is not None else uri


def retargeted_storage_uri(uri: str, old: str | None, new: str) -> str | None:
    """``uri`` pointing at model version ``new`` instead of ``old``: unchanged when it holds ``{version}``, the one path
    segment equal to ``old`` replaced; None when the URI does not say which segment is the version."""
    if VERSION_PLACEHOLDER in uri:
        return uri
    scheme, separator, path = uri.partition("://")
    segments = path.split("/")
    found = [index for index, segment in enumerate(segments) if old is not None and segment == old]
    if len(found) != 1:
        return None
    segments[found[0]] = new
    return scheme + separator + "/".join(segments)


def storage_problems(workload: Serving, at: FieldPath) -> list[SpecProblem]:
    """A storageUri that cannot agree with the registered model it claims to serve."""
    kserve, model = workload.kserve, workload.model
    assert kserve is not None
    here = (*at, "kserve", "storageUri")
    if model is not None and model.alias is not None:
        return [
            SpecProblem(
                (*at, "model", "alias"),
                f"KServe serves the files at storageUri, which cannot follow alias {model.alias!r} as it moves in the "
                "registry: pin model.version (and name it in storageUri, or write {version} there)",
            )
        ]
    if VERSION_PLACEHOLDER in kserve.storage_uri and (model is None or model.version is None):
        return [SpecProblem(here, "{version} in storageUri is filled in from model.version, which this workload does not set")]
    return []


def kserve_mode(workload: Serving) -> Mode:
    """Standard (a Deployment) or Knative (a Knative Service), whichever name the spec uses."""
    assert workload.kserve is not None
    return _MODES[workload.kserve.deployment_mode]


def mode_annotation(workload: Serving, operators: Operators) -> str:
    """The deploymentMode value the declared release accepts: Standard/Knative from 0.16, the legacy names before."""
    mode = kserve_mode(workload)
    return mode if operators.at_least("kserve", CURRENT_NAMES) else _LEGACY_NAMES[mode]


def autoscaler_class(workload: Serving, operators: Operators) -> str | None:
    """The autoscalerClass of a Standard-mode predictor (None in Knative mode): as written, else `hpa` under an
    autoscaler and `none` for a fixed count (before 0.16, which has no `none`: `hpa` with min = max)."""
    kserve = workload.kserve
    assert kserve is not None
    if kserve_mode(workload) == "Knative":
        return None
    if kserve.autoscaler_class is not None:
        return kserve.autoscaler_class
    if workload.autoscaling is None and operators.at_least("kserve", CLASS_SINCE["none"]):
        return "none"
    return "hpa"


def kserve_problems(workload: Serving, operators: Operators, at: FieldPath) -> list[SpecProblem]:
    """What the InferenceService webhook of the declared release would refuse, at the field that asks for it."""
    kserve = workload.kserve
    assert kserve is not None
    here = (*at, "kserve")
    release = operators.kserve
    if kserve_mode(workload) == "Knative":
        if kserve.autoscaler_class is not None:
            return [
                SpecProblem(
                    (*here, "autoscalerClass"),
                    "autoscalerClass is for deploymentMode Standard; in Knative mode Knative's autoscaler scales the "
                    "predictor (scaleMetric concurrency or rps)",
                )
            ]
        return _metric(workload, KNATIVE_METRICS, "Knative", at)
    wanted = kserve.autoscaler_class
    if wanted is not None and not operators.at_least("kserve", CLASS_SINCE[wanted]):
        return [
            SpecProblem(
                (*here, "autoscalerClass"),
                f"autoscalerClass {wanted!r} needs KServe {CLASS_SINCE[wanted]} or later (operators.kserve is {release})",
            )
        ]
    if wanted in ("none", "external") and workload.autoscaling is not None:
        return [
            SpecProblem(
                (*here, "autoscalerClass"),
                f"with autoscalerClass {wanted!r} KServe creates no HorizontalPodAutoscaler: drop autoscaling (give "
                "replicas), or use autoscalerClass hpa",
            )
        ]
    return _metric(workload, HPA_METRICS, "Standard (autoscalerClass hpa)", at)


def _metric(workload: Serving, allowed: tuple[str, ...], mode: str, at: FieldPath) -> list[SpecProblem]:
    kserve = workload.kserve
    assert kserve is not None
    if workload.autoscaling is None:
        return []
    if kserve.scale_metric is not None:
        if kserve.scale_metric in allowed:
            return []
        where: FieldPath = (*at, "kserve", "scaleMetric")
        metric: str = kserve.scale_metric
    else:
        metric = workload.autoscaling.metrics[0].type
        if metric in allowed or metric not in (*HPA_METRICS, *KNATIVE_METRICS):
            return []
        where = (*at, "autoscaling", "metrics", 0)
    other = "deploymentMode: Knative" if mode.startswith("Standard") else "deploymentMode: Standard"
    return [
        SpecProblem(
            where,
            f"KServe's {mode} mode scales on {' or '.join(allowed)}, not {metric} (the webhook refuses: "
            f'"[{metric}] is not a supported metric"): set kserve.scaleMetric to one of them, or use {other}',
        )
    ]
