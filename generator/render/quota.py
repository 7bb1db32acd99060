"""Namespace guard rails: a ResourceQuota from the environment's budget and a LimitRange with container defaults.

The quota makes the cluster enforce the budget kept in git: the API server refuses pods whose requests would exceed
it. Its keys are those the quota evaluator charges (kube/quota_usage.py): ``requests.cpu``, ``requests.memory``, one
``requests.<name>`` per accelerator resource with that resource's share of ``budget.gpus`` (render/budget_split.py;
a key per name, since a quota never sums names), and ``<class>.deviceclass.resource.k8s.io/devices`` per DRA
DeviceClass. A quota on cpu or memory makes the API server refuse every container that does not set that request
(kubernetes/kubernetes pkg/quota/v1/evaluator/core/pods.go ``Constraints``), so a LimitRange gives such containers a
default whenever the quota tracks them. Source: https://kubernetes.io/docs/concepts/policy/resource-quotas/
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mlgitops.kube.quota_usage import quota_key
from mlgitops.render.metadata import object_meta
from mlgitops.spec.environment import Environment

QUOTA_NAME = "budget"
LIMIT_RANGE_NAME = "container-defaults"


DEFAULT_REQUESTS = {"cpu": "100m", "memory": "256Mi"}
"""Requests the LimitRange gives containers that set none, when the environment declares no limitRange."""


def render_resource_quota(
    environment: Environment, environment_name: str, accelerators: Mapping[str, Decimal]
) -> dict[str, Any] | None:
    """The ResourceQuota of the budget, ``accelerators`` the share of budget.gpus of each accelerator resource."""
    budget = environment.budget
    if budget is None or not budget.enforce:
        return None
    hard: dict[str, Any] = {}
    if budget.cpu is not None:
        hard["requests.cpu"] = budget.cpu
    if budget.memory is not None:
        hard["requests.memory"] = budget.memory
    for resource, share in sorted(accelerators.items()):
        # Extended resources are quota'd by request only (their limit always equals it); DRA devices per DeviceClass.
        hard[quota_key(resource)] = str(int(share))
    if not hard:
        return None
    meta = object_meta(environment, environment_name, name=QUOTA_NAME, app=QUOTA_NAME, component="guard-rails")
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta.render(environment.namespace), "spec": {"hard": hard}}


def tracked_requests(environment: Environment) -> list[str]:
    """cpu and/or memory when the rendered ResourceQuota limits their requests."""
    budget = environment.budget
    if budget is None or not budget.enforce:
        return []
    return [name for name, amount in (("cpu", budget.cpu), ("memory", budget.memory)) if amount is not None]


def render_limit_range(environment: Environment, environment_name: str) -> dict[str, Any] | None:
    """The environment's limitRange, or when it has none and the quota tracks cpu or memory, defaults for them."""
    spec = environment.limit_range
    meta = object_meta(environment, environment_name, name=LIMIT_RANGE_NAME, app=LIMIT_RANGE_NAME, component="guard-rails")
    if spec is None:
        tracked = tracked_requests(environment)
        if not tracked:
            return None
        defaults = {"type": "Container", "defaultRequest": {name: DEFAULT_REQUESTS[name] for name in tracked}}
        spec_limits: dict[str, Any] = {"limits": [defaults]}
        return {"apiVersion": "v1", "kind": "LimitRange", "metadata": meta.render(environment.namespace), "spec": spec_limits}
    limit: dict[str, Any] = {"type": "Container"}
    for key, amounts in (
        ("default", spec.default),
        ("defaultRequest", spec.default_request),
        ("max", spec.max),
        ("min", spec.min),
    ):
        if amounts is not None and amounts.as_resources():
            limit[key] = amounts.as_resources()
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": meta.render(environment.namespace), "spec": {"limits": [limit]}}
