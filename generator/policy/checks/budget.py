"""Rule env-budget: the most a namespace's workloads may request at once stays within its ResourceQuota.

Autoscaled workloads count at their maximum (HPA maxReplicas, KEDA maxReplicaCount, an
InferenceService's maxReplicas): a quota that fits only the minimum refuses pods exactly when
traffic peaks. Jobs Kueue queues count up to what their ClusterQueue admits at once (Kueue keeps the
rest suspended); DRA devices count under their DeviceClass's devices key (``kube/quota_usage.py``).
`render` checks the quota it derives from the environment's `budget`.
Source: https://kubernetes.io/docs/concepts/policy/resource-quotas/
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from mlgitops.kube.footprint import Footprint
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.quantity import QuantityError, format_bytes, format_cpu, parse_quantity
from mlgitops.kube.quota_usage import NamespaceUsage, charged_resource, namespace_usage
from mlgitops.policy.checks import check
from mlgitops.policy.checks.kueue import ScopedQueues
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]


def _shown(resource: str, value: Decimal) -> str:
    if resource == "cpu":
        return f"{format_cpu(value)} CPU"
    if resource == "memory":
        return f"{format_bytes(value)} memory"
    return f"{int(value)} {resource}"


@check("env-budget")
def env_budget(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    by_namespace: dict[str, list[Manifest]] = {}
    for manifest in everything:
        by_namespace.setdefault(manifest.namespace, []).append(manifest)
    scoped = ScopedQueues(everything)
    usages: dict[str, NamespaceUsage] = {}
    for manifest in manifests:
        if manifest.ref.kind != "ResourceQuota":
            continue
        hard = (manifest.obj.get("spec") or {}).get("hard") or {}
        if not isinstance(hard, dict):
            continue
        namespace = manifest.namespace
        queues = scoped(manifest)
        if namespace not in usages:
            usages[namespace] = namespace_usage((m.obj for m in by_namespace.get(namespace, [])), namespace, queues)
        usage = usages[namespace]
        for key, limit_text in sorted(hard.items()):
            resource = charged_resource(str(key))
            if resource is None:
                continue
            try:
                limit = parse_quantity(str(limit_text))
            except QuantityError:
                continue
            used = usage.most(resource, queues)
            if used <= limit:
                continue
            ranked = sorted(
                ((v.get(resource, Decimal(0)), app) for app, v in usage.by_app.items() if v.get(resource)), reverse=True
            )
            shares = [f"{app} {_shown(resource, value)}" for value, app in ranked[:5]]
            queued = usage.admitted(resource, queues)
            if queued:
                shares.append(f"queued jobs {_shown(resource, queued)}")
            top = ", ".join(shares)
            yield (
                manifest,
                Violation(
                    f"namespace {namespace!r} requests up to {_shown(resource, used)} with every "
                    f"autoscaler at its maximum, over the quota of {_shown(resource, limit)}: {top}",
                    ("spec", "hard", str(key)),
                ),
            )


__all__ = ["Footprint", "env_budget"]
