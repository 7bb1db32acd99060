"""Rule env-budget: the most a namespace's workloads may request at once stays within its ResourceQuota.

Autoscaled workloads count at their maximum (HPA maxReplicas, KEDA maxReplicaCount, an
InferenceService's maxReplicas): a quota that fits only the minimum refuses pods exactly when
traffic peaks. `render` checks the quota it derives from the environment's `budget`.
Source: https://kubernetes.io/docs/concepts/policy/resource-quotas/
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from mlgitops.kube.footprint import Footprint, effective_requests, pod_groups
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.quantity import QuantityError, format_bytes, format_cpu, parse_quantity
from mlgitops.policy.checks import check
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]


def _shown(resource: str, value: Decimal) -> str:
    if resource == "cpu":
        return f"{format_cpu(value)} CPU"
    if resource == "memory":
        return f"{format_bytes(value)} memory"
    return f"{int(value)} {resource}"


def _usage(manifests: list[Manifest]) -> tuple[dict[str, Decimal], dict[str, dict[str, Decimal]]]:
    """Total requests at the most, and per workload (app.kubernetes.io/name)."""
    total: dict[str, Decimal] = {}
    by_app: dict[str, dict[str, Decimal]] = {}
    for group in pod_groups([m.obj for m in manifests], most=True):
        for name, amount in effective_requests(group.pod_spec).items():
            scaled = amount * group.pods
            total[name] = total.get(name, Decimal(0)) + scaled
            app = by_app.setdefault(group.app, {})
            app[name] = app.get(name, Decimal(0)) + scaled
    return total, by_app


@check("env-budget")
def env_budget(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    by_namespace: dict[str, list[Manifest]] = {}
    for manifest in everything:
        by_namespace.setdefault(manifest.namespace, []).append(manifest)
    for manifest in manifests:
        if manifest.ref.kind != "ResourceQuota":
            continue
        hard = (manifest.obj.get("spec") or {}).get("hard") or {}
        if not isinstance(hard, dict):
            continue
        total, by_app = _usage(by_namespace.get(manifest.namespace, []))
        for key, limit_text in sorted(hard.items()):
            resource = str(key).removeprefix("requests.")
            if (
                str(key).startswith("limits.")
                or resource.startswith("count/")
                or ("." not in str(key) and resource not in ("cpu", "memory"))
            ):
                continue
            try:
                limit = parse_quantity(str(limit_text))
            except QuantityError:
                continue
            used = total.get(resource, Decimal(0))
            if used <= limit:
                continue
            ranked = sorted(((v.get(resource, Decimal(0)), app) for app, v in by_app.items() if v.get(resource)), reverse=True)
            top = ", ".join(f"{app} {_shown(resource, value)}" for value, app in ranked[:5])
            yield (
                manifest,
                Violation(
                    f"namespace {manifest.namespace!r} requests up to {_shown(resource, used)} with every "
                    f"autoscaler at its maximum, over the quota of {_shown(resource, limit)}: {top}",
                    ("spec", "hard", str(key)),
                ),
            )


__all__ = ["Footprint", "env_budget"]
