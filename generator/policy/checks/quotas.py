"""ResourceQuotas that do not enforce what they seem to (quota-accelerators, quota-limitrange), and training pods
Karpenter may consolidate away (training-disruption).

- quota-accelerators: the quota evaluator charges an extended resource only under ``requests.<name>``; a bare or
  ``limits.``-prefixed key is accepted and never charged (kubernetes/kubernetes pkg/quota/v1/evaluator/core/pods.go
  ``isExtendedResourceNameForQuota``). DRA devices are charged under ``<class>.deviceclass.resource.k8s.io/devices``
  (Kubernetes 1.31+): a quota that limits accelerators but not the DeviceClass the pods claim from leaves them out.
- quota-limitrange: a quota on cpu or memory (requests or limits) makes the API server refuse every container that
  does not set that value (``podEvaluator.Constraints``); a LimitRange's defaults give them one.
- training-disruption: Karpenter v1 NodePools default to consolidationPolicy WhenEmptyOrUnderutilized, which evicts
  running pods to pack nodes; a pod opts out with the annotation karpenter.sh/do-not-disrupt: "true"
  (kubernetes-sigs/karpenter v1.14.1 pkg/apis/v1/nodepool.go, pkg/utils/pod/scheduling.go).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from mlgitops.kube.cluster import (
    PlacementIndex,
    Taint,
    is_accelerator_device_class,
    is_gpu_resource,
    selector_matches,
    tolerates_all,
)
from mlgitops.kube.footprint import claim_templates
from mlgitops.kube.kueue_queues import pod_requests
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import mapping, value_at
from mlgitops.kube.quota_usage import charged_resource, quota_key, uncharged_key
from mlgitops.policy.checks import check
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]
DO_NOT_DISRUPT = "karpenter.sh/do-not-disrupt"
RUN_TO_COMPLETION = {
    ("batch", "Job"),
    ("batch", "CronJob"),
    ("jobset.x-k8s.io", "JobSet"),
    ("trainer.kubeflow.org", "TrainJob"),
    ("ray.io", "RayJob"),
}


def _accelerator(resource: str) -> bool:
    """An accelerator's extended resource, or a DRA DeviceClass that hands out accelerators."""
    return is_gpu_resource(resource) or is_accelerator_device_class(resource)


def _group(manifest: Manifest) -> str:
    return str(manifest.obj.get("apiVersion", "")).rpartition("/")[0]


@check("quota-accelerators")
def quota_accelerators(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    templates = claim_templates(m.obj for m in everything)
    by_namespace: dict[str, list[Manifest]] | None = None  # grouped the first time a quota charges accelerators
    uses: dict[str, dict[str, str]] = {}  # namespace -> accelerator -> the first object asking for it
    for manifest in manifests:
        if manifest.ref.kind != "ResourceQuota" or _group(manifest):
            continue
        hard = mapping(value_at(manifest.obj, ("spec", "hard")))
        for key in sorted(hard):
            if uncharged_key(str(key)):
                name = str(key).removeprefix("limits.")
                yield (
                    manifest,
                    Violation(
                        f"{key!r} enforces nothing: the quota charges an extended resource only as requests.{name}",
                        ("spec", "hard", str(key)),
                        at_key=True,
                    ),
                )
        charged = {resource for key in hard if (resource := charged_resource(str(key))) is not None}
        if not any(_accelerator(resource) for resource in charged):
            continue  # the quota leaves accelerators alone: a choice, not an oversight
        if manifest.namespace not in uses:
            if by_namespace is None:
                by_namespace = {}
                for other in everything:
                    by_namespace.setdefault(other.namespace, []).append(other)
            uses[manifest.namespace] = _accelerator_uses(by_namespace.get(manifest.namespace, []), templates)
        used = {resource: user for resource, user in uses[manifest.namespace].items() if resource not in charged}
        for resource, user in sorted(used.items()):
            yield (
                manifest,
                Violation(
                    f"{user} asks for {resource}, which the quota does not limit (no {quota_key(resource)}): its "
                    "accelerators escape the namespace's budget",
                    ("spec", "hard"),
                ),
            )


def _accelerator_uses(namespace: list[Manifest], templates: dict[str, dict[str, int]]) -> dict[str, str]:
    """Each accelerator the pods of one namespace's objects request, and the first object (in order) requesting it:
    found once per namespace (each ResourceQuota looked at every object, and worked out the requests of its
    namespace's pods again)."""
    uses: dict[str, str] = {}
    for other in namespace:
        for template in other.pod_templates:
            for resource, amount in pod_requests(template.spec, templates).items():
                if _accelerator(resource) and amount > Decimal(0):
                    uses.setdefault(resource, f"{other.ref.kind} {other.ref.name!r}")
    return uses


_TRACKED = {"cpu": "cpu", "memory": "memory", "requests.cpu": "cpu", "requests.memory": "memory"}
_TRACKED_LIMITS = {"limits.cpu": "cpu", "limits.memory": "memory"}


def _container_defaults(limit_ranges: list[Manifest]) -> dict[str, set[str]]:
    """The resources ``limit_ranges`` give containers a defaultRequest and a default (limit) for."""
    defaults: dict[str, set[str]] = {"defaultRequest": set(), "default": set()}
    for other in limit_ranges:
        for limit in value_at(other.obj, ("spec", "limits")) or []:
            if mapping(limit).get("type", "Container") == "Container":
                for field in defaults:
                    defaults[field] |= set(mapping(mapping(limit).get(field)))
    return defaults


@check("quota-limitrange")
def quota_limitrange(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    # Each namespace's LimitRanges, listed once; what they default for containers is read for a namespace with a
    # quota (a malformed LimitRange elsewhere is the schema rule's), once (not once per quota over every object).
    limit_ranges: dict[str, list[Manifest]] = {}
    for other in context_all(manifests, context):
        if other.ref.kind == "LimitRange":
            limit_ranges.setdefault(other.namespace, []).append(other)
    by_namespace: dict[str, dict[str, set[str]]] = {}
    for manifest in manifests:
        if manifest.ref.kind != "ResourceQuota" or _group(manifest):
            continue
        if manifest.namespace not in by_namespace:
            by_namespace[manifest.namespace] = _container_defaults(limit_ranges.get(manifest.namespace, []))
        defaults = by_namespace[manifest.namespace]
        hard = mapping(value_at(manifest.obj, ("spec", "hard")))
        for key in sorted(hard):
            if key in _TRACKED and not (defaults["defaultRequest"] | defaults["default"]) & {_TRACKED[key]}:
                wanted = f"defaultRequest.{_TRACKED[key]}"
            elif key in _TRACKED_LIMITS and _TRACKED_LIMITS[key] not in defaults["default"]:
                wanted = f"default.{_TRACKED_LIMITS[key]}"
            else:
                continue
            yield (
                manifest,
                Violation(
                    f"the quota tracks {key}, so the API server refuses every container of namespace "
                    f"{manifest.namespace!r} that does not set it, and no LimitRange there gives a {wanted}",
                    ("spec", "hard", str(key)),
                    at_key=True,
                ),
            )


def _consolidating(pool: Manifest) -> bool:
    """A Karpenter NodePool (with a nodeClassRef) that moves running pods to pack nodes."""
    if _group(pool) != "karpenter.sh" or not isinstance(value_at(pool.obj, ("spec", "template", "spec", "nodeClassRef")), dict):
        return False
    policy = value_at(pool.obj, ("spec", "disruption", "consolidationPolicy"))
    after = value_at(pool.obj, ("spec", "disruption", "consolidateAfter"))
    return policy in (None, "WhenEmptyOrUnderutilized", "Balanced") and after != "Never"


class _Pools:
    """Consolidating NodePools in order, with the labels and blocking taints their nodes get, found once, and indexed
    (``kube.cluster.PlacementIndex``): a pod is judged against the pools carrying its nodeSelector's rarest pair or its
    tolerated taints, instead of every pod template trying every pool (N pools, each for one team, under N Jobs pinned
    to theirs, or tolerating theirs, was quadratic)."""

    def __init__(self, pools: list[Manifest]) -> None:
        self.pools: list[tuple[Manifest, dict[str, str], tuple[Taint, ...]]] = []
        self.unreadable: list[tuple[Manifest, Exception]] = []
        """Pools whose taints cannot be read (``taints: 5``), and why: judging a pod against them fails."""
        for pool in pools:
            labels = {str(k): str(v) for k, v in mapping(value_at(pool.obj, ("spec", "template", "metadata", "labels"))).items()}
            try:
                taints = tuple(
                    Taint(str(t.get("key")), str(t.get("effect", "NoSchedule")), t.get("value"))
                    for t in value_at(pool.obj, ("spec", "template", "spec", "taints")) or []
                    if isinstance(t, dict) and t.get("effect") in ("NoSchedule", "NoExecute")
                )
            except (TypeError, AttributeError) as error:
                self.unreadable.append((pool, error))
                continue
            self.pools.append((pool, labels, taints))
        self.index = PlacementIndex([(labels, taints) for _, labels, taints in self.pools])

    def first_hosting(self, pod: dict[str, Any], environment: str | None) -> Manifest | None:
        """The first pool of ``environment`` (or of none) whose nodes admit ``pod``: its nodeSelector matches their
        labels, and it tolerates their blocking taints. Raises why a pool of the environment cannot be read, as judging
        the pod against it would (the rule then names the objects it cannot judge)."""
        for pool, error in self.unreadable:
            if pool.environment in (None, environment):
                raise error.with_traceback(None)
        selector = mapping(pod.get("nodeSelector"))
        tolerations = [t for t in pod.get("tolerations") or [] if isinstance(t, dict)]
        for position in self.index.candidates(selector, tolerations):
            pool, labels, taints = self.pools[position]
            if pool.environment not in (None, environment):
                continue
            if selector_matches(selector, labels) and tolerates_all(tolerations, taints):
                return pool
        return None


@check("training-disruption")
def training_disruption(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    consolidating = [m for m in everything if m.ref.kind == "NodePool" and _consolidating(m)]
    if not consolidating:
        return
    pools = _Pools(consolidating)
    for manifest in manifests:
        if (_group(manifest), manifest.ref.kind) not in RUN_TO_COMPLETION and _group(manifest) != "kubeflow.org":
            continue
        for template in manifest.pod_templates:
            metadata = mapping(value_at(manifest.obj, template.metadata_path)) if template.metadata_path else {}
            if str(mapping(metadata.get("annotations")).get(DO_NOT_DISRUPT, "")).lower() == "true":
                continue
            host = pools.first_hosting(template.spec, manifest.environment)
            if host is not None:
                yield (
                    manifest,
                    Violation(
                        f"its pods run to completion on Karpenter NodePool {host.ref.name!r}, which consolidates "
                        f'underutilised nodes by evicting their pods: annotate the pod template {DO_NOT_DISRUPT}: "true" '
                        "(or set the NodePool's consolidationPolicy to WhenEmpty)",
                        template.metadata_path or template.path,
                    ),
                )
                break
