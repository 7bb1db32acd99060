"""Objects as the cluster stores them: what the API server and controllers' webhooks fill in before judging.

Rules judge manifests after defaulting, not before, or they report what never reaches the
cluster. Applied here:

- **null means unset.** The API server decodes ``field: null`` of a built-in type as the
  zero value, and prunes nulls of custom resources' fields that are not ``nullable``
  (CustomResourceDefinition defaulting, "Defaulting and Nullable"): ``without_nulls``, which the
  schema rule uses before it reports a problem (a walk of the whole object costs too much to pay
  for objects that validate).
- **Limits are copied into missing requests** (core/v1 ``SetDefaults_Container`` via
  ``ResourceRequirements``: "If Requests is omitted for a container, it defaults to Limits
  if that is explicitly specified"), resource by resource, in every pod template.
- **JobSet's mutating webhook** (kubernetes-sigs/jobset pkg/webhooks/jobset_webhook.go ``Default()``): a
  replicated Job's pod template without ``restartPolicy`` gets ``OnFailure``; a failure-policy rule without a
  name gets ``failurePolicyRule<index>``. A (Cluster)TrainingRuntime's ``spec.template`` is the JobSet that
  Kubeflow Trainer creates for each TrainJob (kubeflow/trainer pkg/runtime/framework/plugins/jobset), so
  the same webhook defaults it.
- **KServe** (``kube.kserve_defaults``): the built-in serving runtimes' and the webhook's resources and
  securityContext, the GKE accelerator annotation's node selector, ``pvc://`` storage mounted as a claim,
  and the LLMInferenceService presets (``/dev/shm``, probes, non-root).
- **Kueue** (``kube.kueue_injection``): an admitted workload's flavors' node labels and tolerations,
  when the run holds its queue (``as_run(..., queues=...)``).

``as_run`` is the one "as the controllers run it" view: the engine gives every rule the object it
returns, and the origins of what it synthesised (findings about a synthesised field point at the
written field that caused it).

Defaults declared in a CRD's own schema (``default:``) are applied by the schema converter
(``custom_resources.strict_schema``), which no longer requires such fields. What a controller
adds to pods (a StatefulSet's claim templates, a JobSet's volume claim policies) is in
``kube.pods.volume_claim_templates``; an autoscaling/v2 HPA without ``metrics`` targets 80 % CPU
(reported, not filled in, by the ``hpa-metrics`` rule).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mlgitops.kube.kserve_defaults import inference_service, llm_inference_service
from mlgitops.kube.kueue_injection import admitted_pods
from mlgitops.kube.kueue_queues import Queues, queue_name
from mlgitops.kube.pods import FieldPath, PodTemplate, group_of, pod_templates, value_at

Origins = dict[FieldPath, FieldPath]
"""A synthesised field's path → the written field that made a controller add it."""


def _jobset(obj: dict[str, Any]) -> Origins:
    _jobset_defaults(obj.get("spec"))
    return {}


def _training_runtime(obj: dict[str, Any]) -> Origins:
    _jobset_defaults(value_at(obj, ("spec", "template", "spec")))
    return {}


CONTROLLERS: dict[tuple[str, str], Callable[[dict[str, Any]], Origins]] = {
    ("jobset.x-k8s.io", "JobSet"): _jobset,
    ("trainer.kubeflow.org", "TrainingRuntime"): _training_runtime,
    ("trainer.kubeflow.org", "ClusterTrainingRuntime"): _training_runtime,
    ("serving.kserve.io", "InferenceService"): inference_service,
    ("serving.kserve.io", "LLMInferenceService"): llm_inference_service,
    # A config named in baseRefs is merged over the same presets (config_merge.go combineBaseRefsConfig).
    ("serving.kserve.io", "LLMInferenceServiceConfig"): llm_inference_service,
}
"""What each kind's controllers and webhooks add to a private copy of the object, by (API group, kind)."""


def defaulted(obj: dict[str, Any], templates: list[PodTemplate] | None = None) -> dict[str, Any]:
    """``obj`` as ``as_run`` leaves it (without Kueue, which needs the run's queues)."""
    return as_run(obj, templates)[0]


def as_run(
    obj: dict[str, Any], templates: list[PodTemplate] | None = None, queues: Queues | None = None
) -> tuple[dict[str, Any], Origins]:
    """``obj`` with the defaults above applied, and the origins of synthesised fields; the same object (not a
    copy) when none applies.

    ``templates`` are ``obj``'s pod templates when the caller has them already; ``queues`` the Kueue
    objects of the run (a queued workload then gets its flavors' node labels and tolerations). Nulls are
    dropped here only from objects that get other defaults; ``without_nulls`` serves schema validation.
    """
    found = pod_templates(obj) if templates is None else templates
    controller = CONTROLLERS.get((group_of(obj), str(obj.get("kind"))))
    queued = queues is not None and queues.cluster_queues and queue_name(obj) is not None and bool(found)
    if controller is None and not queued and not _needs_defaults(found):
        return obj, {}
    # without_nulls copies every mapping and list (scalars are immutable): the private copy defaults are written to.
    result: dict[str, Any] = without_nulls(obj)
    origins: Origins = controller(result) if controller is not None else {}
    if queued and queues is not None:
        origins.update(admitted_pods(result, queues))
    for template in pod_templates(result):
        for container in template.containers:
            _requests_from_limits(container.spec)
    return result, origins


def _needs_defaults(templates: list[PodTemplate]) -> bool:
    for template in templates:
        for container in template.containers:
            requests, limits = _resources(container.spec)
            if any(name not in requests for name in limits):
                return True
    return False


def has_null(value: Any) -> bool:
    """Whether any mapping inside ``value`` holds a null (the API server takes it as unset)."""
    return _has_null(value)


def _has_null(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            for child in item.values():
                if child is None:
                    return True
                if isinstance(child, (dict, list)):
                    stack.append(child)
        elif isinstance(item, list):
            stack.extend(child for child in item if isinstance(child, (dict, list)))
    return False


def without_nulls(value: Any) -> Any:
    """A copy of ``value`` without mapping entries whose value is null (list items are kept): null is unset."""
    if isinstance(value, dict):
        return {key: without_nulls(child) for key, child in value.items() if child is not None}
    if isinstance(value, list):
        return [without_nulls(child) for child in value]
    return value


def _resources(container: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    resources = container.get("resources")
    if not isinstance(resources, dict):
        return {}, {}
    requests = resources.get("requests")
    limits = resources.get("limits")
    return (requests if isinstance(requests, dict) else {}), (limits if isinstance(limits, dict) else {})


def _requests_from_limits(container: dict[str, Any]) -> None:
    requests, limits = _resources(container)
    missing = {name: value for name, value in limits.items() if name not in requests}
    if missing:
        container["resources"]["requests"] = {**requests, **missing}


def _rules(spec: Any) -> list[Any]:
    policy = spec.get("failurePolicy") if isinstance(spec, dict) else None
    rules = policy.get("rules") if isinstance(policy, dict) else None
    return rules if isinstance(rules, list) else []


def _jobset_defaults(spec: Any) -> None:
    for index, rule in enumerate(_rules(spec)):
        if isinstance(rule, dict) and not rule.get("name"):
            rule["name"] = f"failurePolicyRule{index}"
    jobs = spec.get("replicatedJobs") if isinstance(spec, dict) else None
    for job in jobs if isinstance(jobs, list) else []:
        pod = value_at(job, ("template", "spec", "template", "spec"))
        if isinstance(pod, dict) and not pod.get("restartPolicy"):
            pod["restartPolicy"] = "OnFailure"


def written_source(original: dict[str, Any] | None, path: FieldPath, origins: Origins | None = None) -> FieldPath:
    """Where a value that defaulting filled in was written: a request copied from its limit is at the limit, a
    field a controller added is at the field that made it add it (``origins``, from ``as_run``).

    ``original`` is the object before ``as_run``; paths of values it already had are returned as they are.
    """
    if original is None:
        return path
    for length in range(len(path), 0, -1):
        origin = (origins or {}).get(path[:length])
        if origin is not None and value_at(original, path[:length]) is None:
            return origin
    for index in range(len(path) - 2):
        if path[index] in ("resources", "resourcesPerNode") and path[index + 1] == "requests":
            name = path[index + 2]
            limit = (*path[: index + 1], "limits", name)
            if value_at(original, path[: index + 3]) is None and value_at(original, limit) is not None:
                return (*limit, *path[index + 3 :])
    return path
