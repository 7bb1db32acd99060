"""What KServe's webhooks, serving runtimes and presets add to an InferenceService's or LLMInferenceService's pods.

Read in kserve/kserve v0.20.0 (the release ``spec/operators.py`` targets):

- **Built-in serving runtimes.** The InferenceService webhook turns a framework predictor
  (``sklearn:``, ``pytorch:``, …) into ``model:`` with that model format
  (``setPredictorModelDefaults``, pkg/apis/serving/v1beta1/inference_service_defaults.go). Without
  ``runtime:`` (or naming a ``kserve-*`` runtime) the model runs in one of the ClusterServingRuntimes
  KServe installs (config/runtimes/kserve-*.yaml), whose ``kserve-container`` is merged under the
  predictor's (``MergeRuntimeContainers``, pkg/controller/v1beta1/inferenceservice/utils/utils.go: what
  the predictor writes wins). Every one of them requests and limits ``cpu: 1, memory: 2Gi``; all but
  vLLM's (kserve-vllmserver.yaml) and the multi-node Hugging Face one set ``runAsNonRoot: true``,
  ``allowPrivilegeEscalation: false``, ``privileged: false`` and drop ALL capabilities; TensorFlow
  Serving, TorchServe and Triton also ``runAsUser: 1000``.
- **Custom containers.** ``setResourceRequirementDefaults`` (same file) fills the first container of a
  custom predictor, transformer or explainer (``predictor_custom.go``, ``transformer_custom.go``,
  ``explainer_custom.go``) with the ``inferenceService.resource`` defaults of the inferenceservice-config
  ConfigMap: ``cpu: 1, memory: 2Gi`` requested and limited (config/configmap/inferenceservice.yaml).
  A cluster may configure other figures; these are the shipped ones. ModelMesh predictors are not defaulted.
- **GKE accelerators.** The pod webhook adds ``nodeSelector: {cloud.google.com/gke-accelerator: <value>}``
  to a pod with an ``nvidia.com/gpu`` limit whose annotations (the InferenceService's, propagated to its
  pods) carry ``serving.kserve.io/gke-accelerator`` (``InjectGKEAcceleratorSelector``,
  pkg/webhook/admission/pod/accelerator_injector.go).
- **PVC storage.** A ``storageUri: pvc://NAME/PATH`` is mounted, not downloaded: the pod webhook adds the
  volume ``kserve-pvc-source`` (``persistentVolumeClaim: {claimName: NAME}``, read-only unless
  ``storage.kserve.io/readonly: "false"``) and mounts it at ``/mnt/models`` in ``kserve-container``
  (``InjectStorageInitializer``, pkg/webhook/admission/pod/storage_initializer_injector.go;
  ``ParsePvcURI``, pkg/utils/storage.go).
- **LLMInferenceService presets.** Each template and worker is merged over a well-known
  LLMInferenceServiceConfig (``combineBaseRefsConfig``, pkg/controller/v1alpha2/llmisvc/config_merge.go;
  config/llmisvcconfig/config-llm-*.yaml): container ``main`` gets ``runAsNonRoot: true``, liveness,
  readiness and startup probes, and ``/dev/shm`` from the memory-backed emptyDir ``dshm`` (1Gi for a
  single node, 8Gi for a template with workers).

Each function changes ``obj`` (a private copy) in place and returns the origins of what it added: the
synthesised path → the written field that caused it (findings about it point there).
"""

from __future__ import annotations

from typing import Any

from mlgitops.kube.pod_shapes import KSERVE_CONTAINER_KEYS, FieldPath, mapping, value_at
from mlgitops.kube.quantity import QuantityError, parse_quantity

Origins = dict[FieldPath, FieldPath]

KSERVE_GROUP = "serving.kserve.io"
KSERVE_CONTAINER = "kserve-container"
DEFAULT_RESOURCES = {"cpu": "1", "memory": "2Gi"}
"""The shipped runtimes' and the webhook's requests and limits (both the same)."""
GKE_ACCELERATOR_ANNOTATION = "serving.kserve.io/gke-accelerator"
GKE_ACCELERATOR_LABEL = "cloud.google.com/gke-accelerator"
PVC_VOLUME = "kserve-pvc-source"
MODEL_MOUNT = "/mnt/models"
_NON_ROOT: dict[str, Any] = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
}
# Model format (lower case) → the securityContext of the built-in runtime that serves it; None: a runtime
# without one (vLLM). Legacy framework keys map to their format (``huggingface`` → huggingface, ``art`` none).
RUNTIME_SECURITY: dict[str, dict[str, Any] | None] = {
    **{name: _NON_ROOT for name in ("sklearn", "xgboost", "lightgbm", "pmml", "paddle", "mlflow", "autogluon", "huggingface")},
    **{name: {**_NON_ROOT, "runAsUser": 1000} for name in ("tensorflow", "pytorch", "triton", "tensorrt", "onnx")},
    "vllm": None,
}


def _format_of(predictor: dict[str, Any]) -> tuple[str, str] | None:
    """(key, model format) of a predictor served by a built-in runtime, or None (custom containers, own runtime)."""
    for key in KSERVE_CONTAINER_KEYS["predictor"]:
        spec = predictor.get(key)
        if not isinstance(spec, dict):
            continue
        runtime = spec.get("runtime")
        if isinstance(runtime, str) and runtime and not runtime.startswith("kserve-"):
            return None  # a runtime of the cluster's own: what it sets is not known here
        name = value_at(spec, ("modelFormat", "name")) if key == "model" else key
        if isinstance(name, str) and name.lower() in RUNTIME_SECURITY:
            return key, name.lower()
        return None
    return None


def _fill(target: dict[str, Any], defaults: dict[str, Any], path: FieldPath, origin: FieldPath, origins: Origins) -> None:
    """Set each default ``target`` lacks (recursively into mappings), recording where each came from."""
    for key, value in defaults.items():
        if isinstance(value, dict):
            inner = target.setdefault(key, {})
            if isinstance(inner, dict):
                _fill(inner, value, (*path, key), origin, origins)
        elif key not in target:
            target[key] = list(value) if isinstance(value, list) else value
            origins[tuple([*path, key])] = origin


def _resources(container: dict[str, Any], path: FieldPath, origin: FieldPath, origins: Origins) -> None:
    resources = container.setdefault("resources", {})
    if isinstance(resources, dict):
        for part in ("requests", "limits"):
            if resources.get(part) is None:
                resources[part] = {}
            if isinstance(resources[part], dict):
                _fill(resources[part], DEFAULT_RESOURCES, (*path, "resources", part), origin, origins)


def limits_kept_above_requests(resources: dict[str, Any]) -> dict[str, Any]:
    """Limits to write so that the runtime's default limits (``DEFAULT_RESOURCES``) do not land below a request.

    KServe fills a missing limit with its default whatever the request (kserve/kserve issue #3947: "no
    protection against default values being applied that are smaller than the requests, which leads to
    deployment failures"); a request above the default then makes the pod invalid. Returns the missing
    limits set to their request, for the requests above the default (render writes them; lint reports the
    rest through api-validation).
    """
    requests = mapping(resources.get("requests"))
    limits = mapping(resources.get("limits"))
    needed: dict[str, Any] = {}
    for name, default in DEFAULT_RESOURCES.items():
        if name in requests and name not in limits:
            try:
                above = parse_quantity(str(requests[name])) > parse_quantity(default)
            except QuantityError:
                continue
            if above:
                needed[name] = requests[name]
    return needed


def inference_service(obj: dict[str, Any]) -> Origins:
    """An InferenceService's components as the webhook and the built-in runtimes leave them (see the module)."""
    origins: Origins = {}
    annotations = mapping(value_at(obj, ("metadata", "annotations")))
    if str(annotations.get("serving.kserve.io/deploymentMode", "")).lower() == "modelmesh":
        return origins
    spec = mapping(obj.get("spec"))
    for component in KSERVE_CONTAINER_KEYS:
        part = spec.get(component)
        if not isinstance(part, dict):
            continue
        base: FieldPath = ("spec", component)
        served = _format_of(part) if component == "predictor" else None
        if served is not None:
            key, model_format = served
            container = part[key]
            where: FieldPath = (*base, key)
            _resources(container, where, (*where,), origins)
            security = RUNTIME_SECURITY.get(model_format)
            if security is not None and not isinstance(part.get("workerSpec"), dict):
                own = container.setdefault("securityContext", {})
                if isinstance(own, dict):
                    _fill(own, security, (*where, "securityContext"), (*where,), origins)
        if component == "explainer" and isinstance(part.get("art"), dict):
            _resources(part["art"], (*base, "art"), (*base, "art"), origins)  # explainer_art.go Default
        containers = part.get("containers")
        if isinstance(containers, list) and containers and isinstance(containers[0], dict):
            _resources(containers[0], (*base, "containers", 0), (*base, "containers", 0), origins)
        _gke_accelerator(part, annotations, base, origins)
        _pvc_storage(part, annotations, base, origins)
    return origins


def _gpu_limited(part: dict[str, Any]) -> bool:
    containers = [part[key] for key in KSERVE_CONTAINER_KEYS.get("predictor", ()) if isinstance(part.get(key), dict)]
    containers += [c for c in part.get("containers") or [] if isinstance(c, dict)]
    return any("nvidia.com/gpu" in mapping(value_at(c, ("resources", "limits"))) for c in containers)


def _gke_accelerator(part: dict[str, Any], annotations: dict[str, Any], base: FieldPath, origins: Origins) -> None:
    accelerator = annotations.get(GKE_ACCELERATOR_ANNOTATION)
    if not isinstance(accelerator, str) or not accelerator or not _gpu_limited(part):
        return
    selector = part.get("nodeSelector")
    if selector is None:
        selector = part["nodeSelector"] = {}
    if isinstance(selector, dict) and GKE_ACCELERATOR_LABEL not in selector:
        selector[GKE_ACCELERATOR_LABEL] = accelerator
        origins[tuple([*base, "nodeSelector", GKE_ACCELERATOR_LABEL])] = ("metadata", "annotations", GKE_ACCELERATOR_ANNOTATION)


def pvc_claim(uri: Any) -> str | None:
    """The claim a ``pvc://NAME[/PATH]`` storageUri mounts (``ParsePvcURI``), or None for any other URI."""
    if not isinstance(uri, str) or not uri.startswith("pvc://"):
        return None
    name = uri.removeprefix("pvc://").split("/")[0]
    return name or None


def _pvc_storage(part: dict[str, Any], annotations: dict[str, Any], base: FieldPath, origins: Origins) -> None:
    for key in KSERVE_CONTAINER_KEYS.get("predictor", ()):
        spec = part.get(key)
        claim = pvc_claim(spec.get("storageUri")) if isinstance(spec, dict) else None
        if claim is None or not isinstance(spec, dict):
            continue
        volumes = part.setdefault("volumes", [])
        if not isinstance(volumes, list) or any(mapping(v).get("name") == PVC_VOLUME for v in volumes):
            return
        read_only = str(annotations.get("storage.kserve.io/readonly", "true")).lower() != "false"
        origin: FieldPath = (*base, key, "storageUri")
        origins[tuple([*base, "volumes", len(volumes)])] = origin
        volumes.append({"name": PVC_VOLUME, "persistentVolumeClaim": {"claimName": claim, "readOnly": read_only}})
        mounts = spec.setdefault("volumeMounts", [])
        if isinstance(mounts, list):
            origins[tuple([*base, key, "volumeMounts", len(mounts)])] = origin
            mounts.append({"name": PVC_VOLUME, "mountPath": MODEL_MOUNT, "readOnly": read_only})
        return


_PRESET_PROBE = {"httpGet": {"path": "/health", "port": 8000}}
_PRESET_MAIN: dict[str, Any] = {
    "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True, "capabilities": {"drop": ["ALL"]}},
    "livenessProbe": {**_PRESET_PROBE, "periodSeconds": 10, "failureThreshold": 10},
    "readinessProbe": {**_PRESET_PROBE, "periodSeconds": 1, "failureThreshold": 2},
    "startupProbe": {**_PRESET_PROBE, "periodSeconds": 10, "failureThreshold": 60},
}


def llm_inference_service(obj: dict[str, Any]) -> Origins:
    """An LLMInferenceService's templates and workers merged over KServe's presets (see the module)."""
    origins: Origins = {}
    spec = mapping(obj.get("spec"))
    for prefix in ((), ("prefill",)):
        part = value_at(spec, prefix)
        if not isinstance(part, dict):
            continue
        size = "8Gi" if isinstance(part.get("worker"), dict) else "1Gi"
        for key in ("template", "worker"):
            pod = part.get(key)
            if isinstance(pod, dict):
                _preset(pod, ("spec", *prefix, key), size, origins)
    return origins


def _preset(pod: dict[str, Any], path: FieldPath, size: str, origins: Origins) -> None:
    containers = pod.get("containers")
    main = (
        next(
            (i for i, c in enumerate(containers) if isinstance(c, dict) and c.get("name") == "main"),
            None,
        )
        if isinstance(containers, list)
        else None
    )
    if main is None or not isinstance(containers, list):
        return  # the preset's container is 'main': a template without it gets a second container, not judged here
    container: dict[str, Any] = containers[main]
    where: FieldPath = (*path, "containers", main)
    _fill(container, _PRESET_MAIN, where, where, origins)
    volumes = pod.setdefault("volumes", [])
    if not isinstance(volumes, list):
        return
    if not any(mapping(v).get("name") == "dshm" for v in volumes):
        origins[tuple([*path, "volumes", len(volumes)])] = where
        volumes.append({"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": size}})
    mounts = container.setdefault("volumeMounts", [])
    if isinstance(mounts, list) and not any(mapping(m).get("mountPath") == "/dev/shm" for m in mounts):
        origins[tuple([*where, "volumeMounts", len(mounts)])] = where
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
