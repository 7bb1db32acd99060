"""Queued workloads Kueue can never admit (rule kueue-quota), and queues that admit past the budget (kueue-budget).

Both ask the admission model (``kube/kueue_admission.py``), the one render uses for the quotas it derives:

- kueue-quota: Kueue admits a job only when each of its PodSets gets one flavor per resource group that
  matches it (taints, node labels, topology-aware scheduling) and has quota for all its pods at once. A job
  that asks for a resource the queue does not covers, whose PodSet is bigger than any single flavor's quota
  (plus what it may borrow), or that asks no topology of a queue whose matching flavors all need one, stays
  suspended forever with nothing on the job saying why.
- kueue-budget: Kueue admits up to the *sum* of ``nominalQuota`` over a queue's flavors (plus borrowing in its
  cohort). Together with the pods it does not queue, that must stay inside the namespace's ResourceQuota, or
  admitted jobs' pods are refused by the API server (kube/quota_usage.py counts both).
Source: kubernetes-sigs/kueue v0.19.2, see the model's docstring.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal

from mlgitops.kube.footprint import claim_templates
from mlgitops.kube.kueue_admission import admit, totals
from mlgitops.kube.kueue_queues import ClusterQueue, Queues, pod_sets, queue_name
from mlgitops.kube.kueue_queues import amount as quota_amount
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import mapping, value_at
from mlgitops.kube.quantity import format_resource
from mlgitops.kube.quota_usage import charged_resource, namespace_usage, quota_key
from mlgitops.policy.checks import check
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]
QUEUE_LABEL = "kueue.x-k8s.io/queue-name"
MIN_PARALLELISM = "kueue.x-k8s.io/job-min-parallelism"


class ScopedQueues:
    """The Kueue objects a manifest's cluster has: those of its environment (mlgitops.io/environment, or lint's
    --environment) and those of none. Environments are clusters of their own: two of them may define a flavor of one
    name differently, and neither definition is the other's."""

    def __init__(self, manifests: list[Manifest]) -> None:
        self._by_scope: dict[str | None, list[Manifest]] = {}
        for manifest in manifests:
            self._by_scope.setdefault(manifest.environment, []).append(manifest)
        self._cache: dict[str | None, Queues] = {}

    def __call__(self, manifest: Manifest) -> Queues:
        scope = manifest.environment
        if scope not in self._cache:
            seen = [*self._by_scope.get(scope, []), *(self._by_scope.get(None, []) if scope is not None else [])]
            self._cache[scope] = Queues.of((m.obj, m.namespace) for m in seen)
        return self._cache[scope]


@check("kueue-quota")
def kueue_quota(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    scoped = ScopedQueues(everything)
    templates = claim_templates(m.obj for m in everything)
    for manifest in manifests:
        queue = queue_name(manifest.obj)
        if queue is None:
            continue
        queues = scoped(manifest)
        cluster_queue = queues.cluster_queue_of(manifest.namespace, queue)
        if cluster_queue is None:
            continue  # a queue not among the manifests (or defined twice, differently): nothing to compare with
        sets = pod_sets(manifest.obj, templates)
        # Partial admission: Kueue may admit a Job with as few as job-min-parallelism pods.
        minimum = quota_amount(mapping(value_at(manifest.obj, ("metadata", "annotations"))).get(MIN_PARALLELISM))
        if minimum is not None and manifest.ref.kind == "Job":
            sets = [replace(s, count=min(s.count, int(minimum))) for s in sets]
        refusal = admit(sets, cluster_queue, queues).refusal
        if refusal is None:
            continue
        pods = refusal.pod_set
        counted = "its pod" if pods is not None and pods.count == 1 else f"its {pods.count if pods else ''} pods"
        who = "it" if pods is None else (counted if len(sets) == 1 else f"{counted} of pod set {pods.name!r}")
        yield (
            manifest,
            Violation(
                f"{who} can never be admitted by ClusterQueue {cluster_queue.name!r} (LocalQueue {queue!r}): {refusal.reason}",
                ("metadata", "labels", QUEUE_LABEL),
            ),
        )


def _first_quota_path(queue: ClusterQueue, resource: str) -> tuple[str | int, ...]:
    paths = [quota.path for _, name, quota in queue.quotas() if name == resource]
    return paths[0] if paths else ("spec", "resourceGroups")


def _hard(namespace: list[Manifest]) -> dict[str, Decimal]:
    """The least hard quota of each resource the ResourceQuotas among ``namespace``'s objects set."""
    hard: dict[str, Decimal] = {}
    for other in namespace:
        if other.ref.kind == "ResourceQuota":
            for key, value in mapping(value_at(other.obj, ("spec", "hard"))).items():
                resource = charged_resource(str(key))
                amount = quota_amount(value)
                if resource is not None and amount is not None:
                    hard[resource] = min(hard.get(resource, amount), amount)
    return hard


@check("kueue-budget")
def kueue_budget(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    scoped = ScopedQueues(everything)
    by_namespace: dict[str, list[Manifest]] = {}
    for manifest in everything:
        by_namespace.setdefault(manifest.namespace, []).append(manifest)
    hard_of: dict[str, dict[str, Decimal]] = {}
    # Each namespace's unqueued usage, once per namespace and cluster (not once per ClusterQueue it feeds).
    unqueued_of: dict[tuple[str, int], tuple[Queues, dict[str, Decimal]]] = {}
    for manifest in manifests:
        queues = scoped(manifest)
        queue = queues.cluster_queues.get(manifest.ref.name) if manifest.ref.kind == "ClusterQueue" else None
        if queue is None or str(manifest.obj.get("apiVersion", "")).rpartition("/")[0] != "kueue.x-k8s.io":
            continue
        fed = queues.feeding(queue.name)
        if len(fed) != 1:
            continue  # a queue shared by namespaces (or fed by none here): no single budget to compare with
        [namespace] = fed
        if namespace not in hard_of:
            hard_of[namespace] = _hard(by_namespace.get(namespace, []))
        hard = hard_of[namespace]
        if not hard:
            continue
        known = unqueued_of.get((namespace, id(queues)))
        if known is None or known[0] is not queues:
            usage = namespace_usage((m.obj for m in by_namespace.get(namespace, [])), namespace, queues)
            known = unqueued_of[(namespace, id(queues))] = (queues, usage.unqueued)
        unqueued = known[1]
        for resource, admits in sorted(totals(queue, queues).items()):
            if resource not in hard:
                continue
            path = _first_quota_path(queue, resource)
            if admits is None:
                yield (
                    manifest,
                    Violation(
                        f"ClusterQueue {queue.name!r} may borrow {resource} without limit from cohort {queue.cohort!r}, "
                        f"past the {quota_key(resource)} quota of namespace {namespace!r}; set a borrowingLimit",
                        path,
                    ),
                )
                continue
            others = unqueued.get(resource, Decimal(0))
            if admits + others <= hard[resource]:
                continue
            shown = format_resource(resource, admits)
            serving = f", and the pods it does not queue up to {format_resource(resource, others)} more" if others else ""
            yield (
                manifest,
                Violation(
                    f"ClusterQueue {queue.name!r} admits up to {shown} {resource} at once (its flavors' quotas summed"
                    f"{' with borrowing' if queue.cohort else ''}){serving}: above the {quota_key(resource)} quota of "
                    f"namespace {namespace!r} ({format_resource(resource, hard[resource])})",
                    (*path, "nominalQuota"),
                ),
            )
