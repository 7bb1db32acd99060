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
- **JobSet's mutating webhook** (jobset.x-k8s.io ``Default()``): a replicated Job's pod
  template without ``restartPolicy`` gets ``OnFailure``; a failure-policy rule without a
  name gets ``failurePolicyRule<index>``.

Defaults declared in a CRD's own schema (``default:``) are applied by the schema converter
(``custom_resources.strict_schema``), which no longer requires such fields. What a controller
adds to pods (a StatefulSet's claim templates, a JobSet's volume claim policies) is in
``kube.pods.volume_claim_templates``; an autoscaling/v2 HPA without ``metrics`` targets 80 % CPU
(reported, not filled in, by the ``hpa-metrics`` rule).
"""

from __future__ import annotations

import copy
from typing import Any

from mlgitops.kube.pods import FieldPath, PodTemplate, group_of, pod_templates, value_at


def defaulted(obj: dict[str, Any], templates: list[PodTemplate] | None = None) -> dict[str, Any]:
    """``obj`` with the defaults above applied; the same object (not a copy) when none applies.

    ``templates`` are ``obj``'s pod templates when the caller has them already. Nulls are dropped
    here only from objects that get other defaults; ``without_nulls`` serves schema validation.
    """
    found = pod_templates(obj) if templates is None else templates
    if not _needs_defaults(obj, found):
        return obj
    result: dict[str, Any] = copy.deepcopy(without_nulls(obj))
    for template in pod_templates(result):
        for container in template.containers:
            _requests_from_limits(container.spec)
    if group_of(result) == "jobset.x-k8s.io" and result.get("kind") == "JobSet":
        _jobset_defaults(result.get("spec"))
    return result


def _needs_defaults(obj: dict[str, Any], templates: list[PodTemplate]) -> bool:
    for template in templates:
        for container in template.containers:
            requests, limits = _resources(container.spec)
            if any(name not in requests for name in limits):
                return True
    if group_of(obj) == "jobset.x-k8s.io" and obj.get("kind") == "JobSet":
        spec = obj.get("spec")
        rules = _rules(spec)
        if any(isinstance(rule, dict) and not rule.get("name") for rule in rules):
            return True
        if any(isinstance(t.spec, dict) and not t.spec.get("restartPolicy") for t in templates):
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


def written_source(original: dict[str, Any] | None, path: FieldPath) -> FieldPath:
    """Where a value that defaulting filled in was written: a request copied from its limit is at the limit.

    ``original`` is the object before ``defaulted``; paths of values it already had are returned as they are.
    """
    if original is None:
        return path
    for index in range(len(path) - 2):
        if path[index] in ("resources", "resourcesPerNode") and path[index + 1] == "requests":
            name = path[index + 2]
            limit = (*path[: index + 1], "limits", name)
            if value_at(original, path[: index + 3]) is None and value_at(original, limit) is not None:
                return (*limit, *path[index + 3 :])
    return path
