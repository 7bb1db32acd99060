"""Autoscaling and disruption rules that relate HPAs, their targets, PDBs and KEDA ScaledObjects."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from mlgitops.kube.autoscalers import (
    HPA,
    KEDA_HPA_PREFIX,
    SCALED_OBJECT,
    ReplicaBounds,
    competing_autoscalers,
    hpa_bounds,
    replicas_fight,
    scaled_object_bounds,
)
from mlgitops.kube.label_selection import picks, rarest
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import scaled
from mlgitops.kube.pods import whole as count
from mlgitops.policy.checks import check
from mlgitops.policy.checks.pods import autoscalers, resources_of
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.gitops_signs import engines
from mlgitops.policy.message import listed
from mlgitops.policy.model import Policy, PolicyContext, Violation
from mlgitops.policy.targets import templates

Found = Iterator[tuple[Manifest, Violation]]
_PERCENT = re.compile(r"[0-9]+%")


def _by_kind_name(manifests: list[Manifest]) -> dict[tuple[str, str, str], Manifest]:
    return {(m.namespace, m.ref.kind, m.ref.name): m for m in manifests}


def _target(hpa: Manifest, index: dict[tuple[str, str, str], Manifest]) -> Manifest | None:
    ref = (hpa.obj.get("spec") or {}).get("scaleTargetRef") or {}
    # A KEDA ScaledObject's target kind defaults to Deployment; an HPA's is required.
    kind = ref.get("kind", "Deployment" if hpa.ref.kind == SCALED_OBJECT else None)
    return index.get((hpa.namespace, str(kind), str(ref.get("name"))))


@check("hpa-target")
def hpa_target(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    index = _by_kind_name(context_all(manifests, context))
    for hpa in manifests:
        spec = hpa.obj.get("spec") or {}
        ref = spec.get("scaleTargetRef") or {}
        target = _target(hpa, index)
        if target is None:
            yield (
                hpa,
                Violation(
                    f"scaleTargetRef names {ref.get('kind')} {ref.get('name')!r}, which is not in this set",
                    ("spec", "scaleTargetRef", "name"),
                ),
            )
            continue
        for metric_index, metric in enumerate(spec.get("metrics") or []):
            resource = (metric or {}).get("resource") or {}
            if (metric or {}).get("type") != "Resource" or (resource.get("target") or {}).get("type") != "Utilization":
                continue
            name = str(resource.get("name"))
            for template in templates(target):
                for container in template.main_containers():
                    requests, _ = resources_of(container.spec)
                    if name not in requests:
                        yield (
                            hpa,
                            Violation(
                                f"{name} utilization is a share of the request, but {container.label} of "
                                f"{target.ref.kind} {target.ref.name!r} requests no {name}: the HPA never acts",
                                ("spec", "metrics", metric_index, "resource", "name"),
                            ),
                        )


@check("hpa-replicas")
def hpa_replicas(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    index = _by_kind_name(context_all(manifests, context))
    for hpa in manifests:
        spec = hpa.obj.get("spec") or {}
        keda = hpa.ref.kind == SCALED_OBJECT
        names = ("minReplicaCount", "maxReplicaCount") if keda else ("minReplicas", "maxReplicas")
        low, high = spec.get(names[0]), spec.get(names[1])
        bounds = _bounds(keda, low, high)
        if bounds is not None and bounds.inverted:
            # KEDA judges an explicit minReplicaCount of 0 as 1: say so rather than "0 is above 0".
            shown = f"{low} (which KEDA takes as {bounds.low})" if low is not None and low != bounds.low else bounds.low
            yield hpa, Violation(f"{names[0]} {shown} is above {names[1]} {bounds.high}", ("spec", names[0]))
        target = _target(hpa, index)
        # Only a sync resets replicas: judged where GitOps shows (policy.gitops_signs), on the workload or the HPA.
        synced = target is not None and (engines(target, context) is not None or engines(hpa, context) is not None)
        if target is not None and synced and replicas_fight("replicas" in (target.obj.get("spec") or {}), autoscalers=1):
            yield (
                target,
                Violation(
                    f"{target.ref.kind} {target.ref.name!r} is scaled by {_autoscaler_kind(hpa)} {hpa.ref.name!r} but sets "
                    "spec.replicas: every sync resets the autoscaler's choice; remove replicas from git",
                    ("spec", "replicas"),
                ),
            )


def _bounds(keda: bool, low: object, high: object) -> ReplicaBounds | None:
    """The autoscaler's bounds as its controller reads them (kube/autoscalers.py), None where a value is not a whole
    number (the schema rule's to report) or an HPA has no maxReplicas."""
    if not all(value is None or (isinstance(value, int) and not isinstance(value, bool)) for value in (low, high)):
        return None
    assert low is None or isinstance(low, int)
    assert high is None or isinstance(high, int)
    if keda:
        return scaled_object_bounds(low, high)
    return hpa_bounds(low, high) if high is not None else None


def _autoscaler_kind(autoscaler: Manifest) -> str:
    return "KEDA ScaledObject" if autoscaler.ref.kind == SCALED_OBJECT else "HPA"


def _workload_pods(manifest: Manifest, hpas: dict[tuple[str, str, str], dict[str, Any]]) -> int | None:
    """The fewest replicas a workload runs with, if it is replicated at all."""
    spec = manifest.obj.get("spec") or {}
    if manifest.ref.kind not in ("Deployment", "StatefulSet"):
        return None
    hpa = hpas.get((manifest.namespace, manifest.ref.kind, manifest.ref.name))
    if hpa is not None:
        return count(hpa.get("minReplicas"))
    return count(spec.get("replicas"))


def _template_labels(workload: Manifest) -> dict[Any, Any] | None:
    """The labels of a workload's pod template, or of a bare Pod itself (a pod a budget may pick too)."""
    if workload.ref.kind == "Pod" and workload.obj.get("apiVersion") == "v1":
        metadata = workload.obj.get("metadata")
        labels = metadata.get("labels") if isinstance(metadata, dict) else None
        return labels if isinstance(labels, dict) else None
    spec = workload.obj.get("spec")
    template = (spec.get("template") or {}) if isinstance(spec, dict) else {}
    labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
    return labels if isinstance(labels, dict) else None


def _by_template_label(everything: list[Manifest]) -> dict[tuple[str, str, str], list[Manifest]]:
    """Workloads by (namespace, label, value) of their pod template, as text, to find what a selector picks."""
    index: dict[tuple[str, str, str], list[Manifest]] = {}
    for workload in everything:
        for key, value in (_template_labels(workload) or {}).items():
            index.setdefault((workload.namespace, str(key), str(value)), []).append(workload)
    return index


def _selected(pdb: Manifest, by_label: dict[tuple[str, str, str], list[Manifest]]) -> list[Manifest] | None:
    """The workloads whose pod template the budget's selector picks (``kube.label_selection.picks``), each once, in
    order; None when the selector has no matchLabels pair to look them up by (a budget of matchExpressions alone is not
    judged) or the API server refuses it. They are found among the templates carrying its rarest matchLabels pair (a
    label every workload carries, such as a team's, made each budget judge every workload)."""
    selector = (pdb.obj.get("spec") or {}).get("selector")
    if not isinstance(selector, dict):
        return None
    match = selector.get("matchLabels")
    if not isinstance(match, dict) or not match:
        return None
    written = [(key, value) for key, value in match.items() if isinstance(key, str) and isinstance(value, str)]
    if len(written) < len(match):
        return None  # a label or value that is not text: the API server refuses the budget
    chosen: dict[tuple[str, str, str], Manifest] = {}
    for workload in {id(workload): workload for workload in rarest(by_label, pdb.namespace, written)}.values():
        picked = picks(selector, _template_labels(workload) or {})
        if picked is None:
            return None
        ref = (workload.ref.kind, workload.namespace, workload.ref.name)
        if picked and (ref not in chosen or _closer(workload, chosen[ref], pdb)):
            chosen[ref] = workload
    return list(chosen.values())


def _closer(workload: Manifest, other: Manifest, pdb: Manifest) -> bool:
    """Whether ``workload`` is a copy of the same object closer to the budget than ``other``: in its file, else in its
    folder, else of its environment. Copies of one object (a kustomize base and its overlay, one per cluster) are one
    workload to the budget, not pods that add up."""

    def closeness(copy: Manifest) -> tuple[bool, bool, bool]:
        folder = copy.file.rpartition("/")[0] == pdb.file.rpartition("/")[0]
        return copy.file == pdb.file, folder, copy.environment == pdb.environment

    return closeness(workload) > closeness(other)


@check("pdb-blocks-drain")
def pdb_blocks_drain(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """A budget that allows no eviction: maxUnavailable 0 (or 0%), or minAvailable that reaches every pod it selects.

    The disruption controller counts the pods of every workload the selector picks together: an integer minAvailable
    against their number, a percentage scaled by the sum of their controllers' replicas and rounded up; evictions are
    allowed while more pods are healthy than that (kubernetes/kubernetes pkg/controller/disruption/disruption.go
    ``getExpectedPodCount``, ``getExpectedScale``, ``updatePdbStatus``). Replicas are a Deployment's or StatefulSet's
    (its HPA's minReplicas when autoscaled); a budget that also picks pods of another kind is not judged.
    """
    everything = context_all(manifests, context)
    hpas = autoscalers(everything)
    by_label = _by_template_label(everything)
    for pdb in manifests:
        spec = pdb.obj.get("spec") or {}
        if "maxUnavailable" in spec:
            value = spec["maxUnavailable"]
            if value in (0, "0") or (isinstance(value, str) and value.strip() in ("0%", "0")):
                yield (
                    pdb,
                    Violation(f"maxUnavailable {value} lets no pod be evicted: node drains hang", ("spec", "maxUnavailable")),
                )
            continue
        minimum = spec.get("minAvailable")
        if minimum is None or isinstance(minimum, bool) or (isinstance(minimum, str) and not _PERCENT.fullmatch(minimum)):
            continue  # a text minAvailable is a percentage: the API server refuses any other (IsValidPercent)
        if isinstance(minimum, str) and minimum.strip() == "100%":
            yield pdb, Violation("minAvailable 100% lets no pod be evicted: node drains hang", ("spec", "minAvailable"))
            continue
        selected = _selected(pdb, by_label) or []
        counts = [_workload_pods(workload, hpas) for workload in selected]
        if not counts or None in counts:
            continue  # nothing picked, or pods of a kind whose number is not known here
        replicas = sum(count for count in counts if count is not None)
        needed = scaled(minimum, replicas, round_up=True)
        if replicas == 0 or needed < replicas:
            continue
        share = f"minAvailable {minimum}" + (f" of {replicas} rounds up to {needed}" if isinstance(minimum, str) else "")
        if len(selected) == 1:
            whose = f"{selected[0].ref.kind} {selected[0].ref.name!r}"
        else:
            whose = f"the {len(selected)} workloads it selects ({listed([repr(w.ref.name) for w in selected])})"
        yield (
            pdb,
            Violation(
                f"{share}, which equals or exceeds the {replicas} replica(s) of {whose}: no pod can be evicted and node "
                "drains hang",
                ("spec", "minAvailable"),
            ),
        )


@check("hpa-keda-conflict")
def hpa_keda_conflict(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    hpas = {}
    for hpa in everything:
        if hpa.ref.kind == HPA and not hpa.ref.name.startswith(KEDA_HPA_PREFIX):
            ref = (hpa.obj.get("spec") or {}).get("scaleTargetRef") or {}
            hpas[(hpa.namespace, str(ref.get("kind")), str(ref.get("name")))] = hpa
    for scaled_object in manifests:
        ref = (scaled_object.obj.get("spec") or {}).get("scaleTargetRef") or {}
        key = (scaled_object.namespace, str(ref.get("kind", "Deployment")), str(ref.get("name")))
        if competing_autoscalers(1 + (key in hpas)):
            yield (
                scaled_object,
                Violation(
                    f"KEDA ScaledObject and HPA {hpas[key].ref.name!r} both scale {key[1]} {key[2]!r}: they fight over "
                    "its replicas; keep one",
                    ("spec", "scaleTargetRef", "name"),
                ),
            )
