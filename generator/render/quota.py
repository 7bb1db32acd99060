"""Namespace guard rails: a ResourceQuota from the environment's budget and a LimitRange with container defaults.

The quota makes the cluster enforce the budget kept in git: the API server refuses pods whose
requests would exceed it. Source: https://kubernetes.io/docs/concepts/policy/resource-quotas/
"""

from __future__ import annotations

from typing import Any

from mlgitops.render.metadata import object_meta
from mlgitops.spec.environment import Environment

QUOTA_NAME = "budget"
LIMIT_RANGE_NAME = "container-defaults"


def gpu_resources(environment: Environment) -> list[str]:
    """Every accelerator resource the environment's pools offer or its workloads name."""
    found = {pool.gpu_resource for pool in environment.cluster.node_pools if pool.allocatable.gpus}
    found |= {w.resources.gpu_resource for w in environment.workloads if w.resources.gpu_resource is not None}
    if not found and any(w.resources.gpu is not None for w in environment.workloads):
        found.add("nvidia.com/gpu")
    return sorted(found)


def render_resource_quota(environment: Environment, environment_name: str) -> dict[str, Any] | None:
    budget = environment.budget
    if budget is None or not budget.enforce:
        return None
    hard: dict[str, Any] = {}
    if budget.cpu is not None:
        hard["requests.cpu"] = budget.cpu
    if budget.memory is not None:
        hard["requests.memory"] = budget.memory
    if budget.gpus is not None:
        for resource in gpu_resources(environment) or ["nvidia.com/gpu"]:
            # Extended resources are quota'd by request only (their limit always equals it).
            hard[f"requests.{resource}"] = str(budget.gpus)
    if not hard:
        return None
    meta = object_meta(environment, environment_name, name=QUOTA_NAME, app=QUOTA_NAME, component="guard-rails")
    return {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta.render(environment.namespace), "spec": {"hard": hard}}


def render_limit_range(environment: Environment, environment_name: str) -> dict[str, Any] | None:
    spec = environment.limit_range
    if spec is None:
        return None
    limit: dict[str, Any] = {"type": "Container"}
    for key, amounts in (
        ("default", spec.default),
        ("defaultRequest", spec.default_request),
        ("max", spec.max),
        ("min", spec.min),
    ):
        if amounts is not None and amounts.as_resources():
            limit[key] = amounts.as_resources()
    meta = object_meta(environment, environment_name, name=LIMIT_RANGE_NAME, app=LIMIT_RANGE_NAME, component="guard-rails")
    return {"apiVersion": "v1", "kind": "LimitRange", "metadata": meta.render(environment.namespace), "spec": {"limits": [limit]}}
