"""Rule inference-pool-selector: an InferencePool picks the pods of one model server.

The endpoint picker sends each request to a pod of the pool; when the pool's ``selector.matchLabels`` also picks
the pods of another workload (another model's server, a canary's candidate, an unrelated Deployment), requests for
one model reach another. Judged by the one fact of ``kube/label_selection.py`` that render's spec checks use.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlgitops.kube.label_selection import selects, template_selector
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import mapping, pod_templates, value_at
from mlgitops.policy.checks import check
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]
SELECTOR_PATH = ("spec", "selector", "matchLabels")


def _template_labels(manifest: Manifest) -> list[dict[str, Any]]:
    found = []
    for template in pod_templates(manifest.obj):
        if template.metadata_path is not None:
            found.append(mapping(value_at(manifest.obj, (*template.metadata_path, "labels"))))
    return found


@check("inference-pool-selector")
def inference_pool_selector(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    for manifest in manifests:
        if manifest.obj.get("kind") != "InferencePool":
            continue
        selector = template_selector({str(k): str(v) for k, v in mapping(value_at(manifest.obj, SELECTOR_PATH)).items()})
        if not selector:
            continue
        picked = sorted(
            {
                f"{other.ref.kind} {other.ref.name}"
                for other in everything
                if other.namespace == manifest.namespace and other.obj.get("kind") != "Pod"
                for labels in _template_labels(other)
                if selects(selector, {str(k): str(v) for k, v in labels.items()})
            }
        )
        if len(picked) > 1:
            yield (
                manifest,
                Violation(
                    f"{manifest.ref} selects the pods of {len(picked)} workloads ({', '.join(picked)}): its endpoint "
                    "picker would send requests for one model to the servers of another",
                    SELECTOR_PATH,
                ),
            )
