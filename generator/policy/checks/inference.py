"""Rule inference-pool-selector: an InferencePool picks the pods of one model server.

The endpoint picker sends each request to a pod of the pool; when the pool's ``selector.matchLabels`` also picks
the pods of another workload (another model's server, a canary's candidate, an unrelated Deployment), requests for
one model reach another. Judged by the one fact of ``kube/label_selection.py`` that render's spec checks use.
"""

from __future__ import annotations

from collections.abc import Iterator

from mlgitops.kube.label_selection import rarest, selects, template_selector
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import mapping, value_at
from mlgitops.policy.checks import check
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.message import listed
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]
SELECTOR_PATH = ("spec", "selector", "matchLabels")


def _template_labels(manifest: Manifest) -> list[dict[str, str]]:
    found = []
    for template in manifest.pod_templates:
        if template.metadata_path is not None:
            labels = mapping(value_at(manifest.obj, (*template.metadata_path, "labels")))
            found.append({str(k): str(v) for k, v in labels.items()})
    return found


Template = tuple[str, dict[str, str]]
"""A pod template's workload ("Kind name") and labels."""


def _templates_by_label(everything: list[Manifest]) -> dict[tuple[str, str, str], list[Template]]:
    """(namespace, label key, value) → the pod templates carrying that label, of every object but bare Pods: a pool's
    candidates are those of one label of its selector, not every template of the namespace once per pool."""
    index: dict[tuple[str, str, str], list[Template]] = {}
    for other in everything:
        if other.obj.get("kind") == "Pod":
            continue
        for labels in _template_labels(other):
            template = (f"{other.ref.kind} {other.ref.name}", labels)
            for key, value in labels.items():
                index.setdefault((other.namespace, key, value), []).append(template)
    return index


@check("inference-pool-selector")
def inference_pool_selector(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    by_label: dict[tuple[str, str, str], list[Template]] | None = None
    answered: dict[tuple[str, frozenset[tuple[str, str]]], list[str]] = {}
    for manifest in manifests:
        if manifest.obj.get("kind") != "InferencePool":
            continue
        selector = template_selector({str(k): str(v) for k, v in mapping(value_at(manifest.obj, SELECTOR_PATH)).items()})
        if not selector:
            continue
        if by_label is None:
            by_label = _templates_by_label(context_all(manifests, context))
        question = (manifest.namespace, frozenset(selector.items()))  # pools of one selector pick the same pods
        if question not in answered:
            # A template the selector picks carries each of its labels: those carrying the rarest one are candidates.
            candidates = rarest(by_label, manifest.namespace, selector.items())
            answered[question] = sorted({workload for workload, labels in candidates if selects(selector, labels)})
        picked = answered[question]
        if len(picked) > 1:
            named = listed(picked)
            yield (
                manifest,
                Violation(
                    f"{manifest.ref} selects the pods of {len(picked):,} workloads ({named}): its endpoint "
                    "picker would send requests for one model to the servers of another",
                    SELECTOR_PATH,
                ),
            )
