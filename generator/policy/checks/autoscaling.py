"""Autoscaling and disruption rules that relate HPAs, their targets, PDBs and KEDA ScaledObjects."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.kube.footprint import count
from generator.kube.manifest import Manifest
from generator.policy.checks.pods import autoscalers, resources_of
from generator.policy.checks.storage import context_all
from generator.policy.model import Policy, PolicyContext, Violation
from generator.policy.targets import containers, pod_specs

Found = Iterator[tuple[Manifest, Violation]]


def _by_kind_name(manifests: list[Manifest]) -> dict[tuple[str, str, str], Manifest]:
    return {(m.ref.namespace, m.ref.kind, m.ref.name): m for m in manifests}


def _target(hpa: Manifest, index: dict[tuple[str, str, str], Manifest]) -> Manifest | None:
    ref = (hpa.obj.get("spec") or {}).get("scaleTargetRef") or {}
    # A KEDA ScaledObject's target kind defaults to Deployment; an HPA's is required.
    kind = ref.get("kind", "Deployment" if hpa.ref.kind == "ScaledObject" else None)
    return index.get((hpa.ref.namespace, str(kind), str(ref.get("name"))))


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
            for pod_path, pod in pod_specs(target):
                for _, container in containers(target, pod_path, pod, init=False):
                    requests, _ = resources_of(container)
                    if name not in requests:
                        yield (
                            hpa,
                            Violation(
                                f"{name} utilization is a share of the request, but container "
                                f"{container.get('name')!r} of {target.ref.kind} {target.ref.name!r} requests no {name}: "
                                "the HPA never acts",
                                ("spec", "metrics", metric_index, "resource", "name"),
                            ),
                        )


def hpa_replicas(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    index = _by_kind_name(context_all(manifests, context))
    for hpa in manifests:
        spec = hpa.obj.get("spec") or {}
        # KEDA: minReplicaCount defaults to 0, maxReplicaCount to 100.
        keda = hpa.ref.kind == "ScaledObject"
        names = ("minReplicaCount", "maxReplicaCount") if keda else ("minReplicas", "maxReplicas")
        low, high = spec.get(names[0], 0 if keda else 1), spec.get(names[1], 100 if keda else None)
        if isinstance(low, int) and isinstance(high, int) and low > high:
            yield hpa, Violation(f"{names[0]} {low} is above {names[1]} {high}", ("spec", names[0]))
        target = _target(hpa, index)
        if target is not None and "replicas" in (target.obj.get("spec") or {}):
            yield (
                target,
                Violation(
                    f"{target.ref.kind} {target.ref.name!r} is scaled by {_autoscaler_kind(hpa)} {hpa.ref.name!r} but sets "
                    "spec.replicas: every sync resets the autoscaler's choice; remove replicas from git",
                    ("spec", "replicas"),
                ),
            )


def _autoscaler_kind(autoscaler: Manifest) -> str:
    return "KEDA ScaledObject" if autoscaler.ref.kind == "ScaledObject" else "HPA"


def _workload_pods(manifest: Manifest, hpas: dict[tuple[str, str, str], dict[str, Any]]) -> int | None:
    """The fewest replicas a workload runs with, if it is replicated at all."""
    spec = manifest.obj.get("spec") or {}
    if manifest.ref.kind not in ("Deployment", "StatefulSet"):
        return None
    hpa = hpas.get((manifest.ref.namespace, manifest.ref.kind, manifest.ref.name))
    if hpa is not None:
        return count(hpa.get("minReplicas"))
    return count(spec.get("replicas"))


def _by_template_label(everything: list[Manifest]) -> dict[tuple[str, str, str], list[Manifest]]:
    """Workloads by (namespace, label, value) of their pod template, to find what a selector picks."""
    index: dict[tuple[str, str, str], list[Manifest]] = {}
    for workload in everything:
        template = ((workload.obj.get("spec") or {}).get("template") or {}) if isinstance(workload.obj.get("spec"), dict) else {}
        labels = (template.get("metadata") or {}).get("labels") if isinstance(template, dict) else None
        if isinstance(labels, dict):
            for key, value in labels.items():
                index.setdefault((workload.ref.namespace, str(key), str(value)), []).append(workload)
    return index


def _selects(selector: dict[str, Any], labels: dict[str, Any]) -> bool:
    match = selector.get("matchLabels") or {}
    return bool(match) and all(labels.get(k) == v for k, v in match.items())


def pdb_blocks_drain(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    hpas = autoscalers(everything)
    by_label = _by_template_label(everything)
    for pdb in manifests:
        spec = pdb.obj.get("spec") or {}
        if spec.get("maxUnavailable") in (0, "0", "0%"):
            yield (
                pdb,
                Violation("maxUnavailable 0 lets no pod be evicted: node drains hang", ("spec", "maxUnavailable")),
            )
            continue
        minimum = spec.get("minAvailable")
        if minimum == "100%":
            yield pdb, Violation("minAvailable 100% lets no pod be evicted: node drains hang", ("spec", "minAvailable"))
            continue
        if not isinstance(minimum, int):
            continue
        selector = spec.get("selector") or {}
        match = selector.get("matchLabels") or {}
        if not match:
            continue
        first_key, first_value = next(iter(match.items()))
        for workload in by_label.get((pdb.ref.namespace, str(first_key), str(first_value)), []):
            template = ((workload.obj.get("spec") or {}).get("template") or {}).get("metadata") or {}
            if not _selects(selector, template.get("labels") or {}):
                continue
            replicas = _workload_pods(workload, hpas)
            if replicas is not None and minimum >= replicas:
                yield (
                    pdb,
                    Violation(
                        f"minAvailable {minimum} equals or exceeds the {replicas} replica(s) of {workload.ref.kind} "
                        f"{workload.ref.name!r}: no pod can be evicted and node drains hang",
                        ("spec", "minAvailable"),
                    ),
                )


def hpa_keda_conflict(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    hpas = {}
    for hpa in everything:
        if hpa.ref.kind == "HorizontalPodAutoscaler" and not hpa.ref.name.startswith("keda-hpa-"):
            ref = (hpa.obj.get("spec") or {}).get("scaleTargetRef") or {}
            hpas[(hpa.ref.namespace, str(ref.get("kind")), str(ref.get("name")))] = hpa
    for scaled in manifests:
        ref = (scaled.obj.get("spec") or {}).get("scaleTargetRef") or {}
        key = (scaled.ref.namespace, str(ref.get("kind", "Deployment")), str(ref.get("name")))
        if key in hpas:
            yield (
                scaled,
                Violation(
                    f"KEDA ScaledObject and HPA {hpas[key].ref.name!r} both scale {key[1]} {key[2]!r}: they fight over "
                    "its replicas; keep one",
                    ("spec", "scaleTargetRef", "name"),
                ),
            )
