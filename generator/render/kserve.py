"""A serving workload as a KServe InferenceService (serving.kserve.io/v1beta1)."""

from __future__ import annotations

from typing import Any

from mlgitops.kube.kserve_defaults import limits_kept_above_requests
from mlgitops.render.metadata import ObjectMeta, selector_labels
from mlgitops.render.pod import pod_template
from mlgitops.spec.environment import Environment
from mlgitops.spec.kserve import (
    AUTOSCALER_CLASS_ANNOTATION,
    DEPLOYMENT_MODE_ANNOTATION,
    autoscaler_class,
    mode_annotation,
    storage_uri,
)
from mlgitops.spec.placement import Placement
from mlgitops.spec.serving import Serving


def render_inference_service(
    environment: Environment, workload: Serving, meta: ObjectMeta, placement: Placement
) -> dict[str, Any]:
    """The predictor gets the same pod treatment as a Deployment: placement, security, GPUs, mounts; the deployment
    mode and autoscaler class follow the environment's KServe release."""
    kserve = workload.kserve
    assert kserve is not None
    readiness = workload.ports[0].name if workload.ports else None
    # Standard mode runs the predictor as a Deployment, Knative as a Knative revision's Deployment.
    template = pod_template(
        environment, workload, placement, meta, restart_policy=None, readiness_port=readiness, controller="Deployment"
    )
    pod = template["spec"]
    [container] = pod.pop("containers")
    predictor: dict[str, Any] = {}
    autoscaling = workload.autoscaling
    if autoscaling is not None:
        predictor["minReplicas"] = autoscaling.min_replicas
        predictor["maxReplicas"] = autoscaling.max_replicas
        metric: str | None = kserve.scale_metric
        target = kserve.scale_target
        if metric is None:
            # Checks allow only a cpu or memory utilization metric here.
            first = autoscaling.metrics[0]
            metric = first.type
            target = getattr(first, "utilization", None)
        predictor["scaleMetric"] = metric
        if target is not None:
            predictor["scaleTarget"] = target
    else:
        replicas = 1 if workload.replicas is None else workload.replicas
        predictor["minReplicas"] = replicas
        predictor["maxReplicas"] = max(replicas, 1)
    predictor["labels"] = dict(sorted({**selector_labels(workload.name), **meta.labels}.items()))
    pod_annotations = {
        key: value for key, value in template["metadata"].get("annotations", {}).items() if key != DEPLOYMENT_MODE_ANNOTATION
    }
    if pod_annotations:
        predictor["annotations"] = pod_annotations
    for key in (
        "serviceAccountName",
        "automountServiceAccountToken",
        "priorityClassName",
        "securityContext",
        "hostIPC",
        "imagePullSecrets",
        "nodeSelector",
        "affinity",
        "tolerations",
        "topologySpreadConstraints",
        "initContainers",
        "volumes",
    ):
        if key in pod:
            predictor[key] = pod[key]
    model: dict[str, Any] = {"modelFormat": {"name": kserve.model_format}}
    if kserve.runtime is not None:
        model["runtime"] = kserve.runtime
    model["storageUri"] = storage_uri(workload)
    for key in (
        "image",
        "command",
        "args",
        "env",
        "envFrom",
        "resources",
        "readinessProbe",
        "livenessProbe",
        "startupProbe",
        "securityContext",
        "volumeMounts",
    ):
        if key in container and not (key == "image" and workload.image is None):
            model[key] = container[key]
    if workload.image is None:
        model.pop("image", None)
    resources = model.get("resources")
    if isinstance(resources, dict) and (kserve.runtime is None or kserve.runtime.startswith("kserve-")):
        # The built-in runtime's 1 CPU / 2Gi limits would land below a larger request (kube/kserve_defaults.py).
        raised = limits_kept_above_requests(resources)
        if raised:
            limits = {**resources.get("limits", {}), **raised}
            model["resources"] = {**resources, "limits": {name: limits[name] for name in sorted(limits)}}
    predictor["model"] = model
    # Always the mode (the Helm chart's default is Knative), in the name the release accepts (spec/kserve.py).
    annotations = {**meta.annotations, DEPLOYMENT_MODE_ANNOTATION: mode_annotation(workload, environment.operators)}
    scaler = autoscaler_class(workload, environment.operators)
    if scaler is not None:
        annotations[AUTOSCALER_CLASS_ANNOTATION] = scaler
    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": ObjectMeta(meta.name, meta.labels, annotations).render(environment.namespace),
        "spec": {"predictor": predictor},
    }
