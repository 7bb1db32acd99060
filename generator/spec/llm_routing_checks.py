"""Checks of how requests reach an LLM server: its InferencePool's selector, and a canary's traffic split.

- An InferencePool picks its pods by ``selector.matchLabels`` in its namespace (kubernetes-sigs/
  gateway-api-inference-extension ``api/v1/inferencepool_types.go``): a selector that also matches another
  workload's pods (the canary's, another model's) lets the endpoint picker send a request for one model to a server
  of another; one that misses the server's own pods leaves the pool empty.
- A canary splits the HTTPRoute's requests by ``backendRefs[].weight`` (Gateway API ``HTTPBackendRef``: traffic is
  proportional to weight; when every backend's weight is 0 the route answers 500), so it needs an httpRoute and two
  weights that do not sum to 0.
"""

from __future__ import annotations

from mlgitops.kube.label_selection import selects
from mlgitops.spec.checked import Checked
from mlgitops.spec.container import WorkloadBase
from mlgitops.spec.environment import Environment
from mlgitops.spec.inference_pool import PICKER_SUFFIX
from mlgitops.spec.llm import CANARY_SUFFIX, LlmServing
from mlgitops.spec.picker import picker_workload
from mlgitops.spec.placement import PlacementError, place
from mlgitops.spec.problems import FieldPath, SpecProblem
from mlgitops.spec.server_checks import LEADER_WORKER_NAME_LIMIT, model_volume_problems

APP_LABEL = "app.kubernetes.io/name"
COMPONENT_LABEL = "app.kubernetes.io/component"
ENVIRONMENT_LABEL = "mlgitops.io/environment"
_ANY_VALUE = (COMPONENT_LABEL, ENVIRONMENT_LABEL)
"""Labels every pod carries whose value the spec alone does not settle here: taken to match any value."""


def pod_labels(environment: Environment, workload: WorkloadBase) -> dict[str, str]:
    """The labels the workload's pods carry (render/metadata.py object_meta), but the two of ``_ANY_VALUE``."""
    return {
        **workload.labels,
        **environment.labels,
        "app.kubernetes.io/managed-by": "mlgitops",
        "app.kubernetes.io/part-of": environment.part_of,
        APP_LABEL: workload.name,
    }


def routing_problems(checked: Checked[LlmServing]) -> list[SpecProblem]:
    """The pool's selector and the canary's split, as the file writes them."""
    workload, at = checked.written, checked.at
    return _pool_problems(checked.environment, workload, at) + _canary_problems(checked, workload, at)


def _pool_problems(environment: Environment, workload: LlmServing, at: FieldPath) -> list[SpecProblem]:
    pool = workload.inference_pool
    if pool is None:
        return []
    picker = f"{workload.name}{PICKER_SUFFIX}"
    if len(picker) > 63:
        return [SpecProblem((*at, "name"), f"the pool's endpoint picker is named {picker!r}, longer than 63 characters")]
    try:
        place(environment, picker_workload(workload, environment.namespace))
    except PlacementError as error:
        field = "nodePool" if pool.endpoint_picker.node_pool is not None else None
        where = (*at, "inferencePool", "endpointPicker", *((field,) if field else ()))
        return [SpecProblem(where, f"the endpoint picker: {error.message}", at_key=field is None)]
    if pool.selector is None:
        return []
    here = (*at, "inferencePool", "selector")
    selector = pool.selector
    if not selects(selector, pod_labels(environment, workload), _ANY_VALUE):
        return [
            SpecProblem(
                here,
                f"the pool's selector does not match the pods of {workload.name!r} (they carry "
                f"{APP_LABEL}={workload.name} and its labels): the pool would be empty",
            )
        ]
    others = [other for other in environment.workloads if other.name != workload.name]
    candidate = workload.candidate()
    if candidate is not None:
        others.append(candidate)
    matched = sorted(other.name for other in others if selects(selector, pod_labels(environment, other), _ANY_VALUE))
    if not matched:
        return []
    return [
        SpecProblem(
            here,
            f"the pool's selector also matches the pods of {', '.join(repr(name) for name in matched)}: the endpoint "
            f"picker would send requests for {workload.model.name!r} to them. Select by a label only this server's "
            f"pods carry (default: {APP_LABEL}: {workload.name})",
        )
    ]


def _canary_problems(checked: Checked[LlmServing], workload: LlmServing, at: FieldPath) -> list[SpecProblem]:
    canary = workload.canary
    if canary is None:
        return []
    here = (*at, "canary")
    problems = []
    if workload.http_route is None:
        problems.append(
            SpecProblem(
                here,
                "a canary's traffic is split by the httpRoute's backend weights, and this server has no httpRoute: add "
                "one (or serve the candidate as a workload of its own)",
                at_key=True,
            )
        )
    stable, candidate = canary.weights
    if canary.stable_weight is None and canary.weight > 100:
        problems.append(
            SpecProblem((*here, "weight"), f"weight {canary.weight} is a percentage without stableWeight: 0 to 100")
        )
    elif stable + candidate == 0:
        problems.append(
            SpecProblem(
                (*here, "weight"),
                "the weights of the stable server and the candidate sum to 0: the route would answer every request "
                "with HTTP 500. Give one of them a weight above 0",
            )
        )
    name = f"{workload.name}{CANARY_SUFFIX}"
    limit = LEADER_WORKER_NAME_LIMIT if workload.multi_node else 63
    if workload.inference_pool is not None:
        limit = min(limit, 63 - len(PICKER_SUFFIX))
    if len(name) > limit:
        problems.append(
            SpecProblem(
                (*at, "name"),
                f"the canary runs as {name!r} ({len(name)} characters), longer than the {limit} its objects allow: "
                "shorten the server's name",
            )
        )
    if canary.model is not None:
        problems += model_volume_problems(canary_server(workload), checked.volumes, here)
    return problems


def canary_server(workload: LlmServing) -> LlmServing:
    """The candidate (the workload must have a canary)."""
    candidate = workload.candidate()
    assert candidate is not None
    return candidate
