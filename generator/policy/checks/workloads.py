"""Rules on workload objects themselves: the API server's own validation, Job restart policies, serving probes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from generator.kube.api_rules import job_template_problems, object_problems
from generator.kube.manifest import Manifest
from generator.kube.pods import PodTemplate, value_at
from generator.policy.checks.storage import context_all
from generator.policy.model import Policy, PolicyContext, Violation
from generator.policy.targets import templates

Found = Iterator[tuple[Manifest, Violation]]


def api_validation(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Names, namespaces, labels, annotations, quantities, limits below requests, cron schedules, time zones
    and port names the API server refuses."""
    for manifest in manifests:
        for problem in object_problems(manifest.obj):
            yield manifest, Violation(problem.message, problem.path, at_key=problem.at_key)


def job_restart_policy(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Pod templates of batch/v1 Jobs (also inside CronJobs, JobSets and training runtimes) restart Never or OnFailure."""
    for manifest in manifests:
        for problem in job_template_problems(manifest.obj):
            yield manifest, Violation(problem.message, problem.path)


def _selectors(everything: list[Manifest]) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Each namespace's Service selectors (Services without a selector pick no pods)."""
    found: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for manifest in everything:
        if manifest.ref.kind == "Service" and manifest.ref.api_version == "v1":
            selector = value_at(manifest.obj, ("spec", "selector"))
            if isinstance(selector, dict) and selector:
                found.setdefault(manifest.namespace, []).append((manifest.ref.name, selector))
    return found


def _service_of(manifest: Manifest, template: PodTemplate, selectors: dict[str, list[tuple[str, dict[str, Any]]]]) -> str | None:
    labels = value_at(manifest.obj, (*template.metadata_path, "labels")) if template.metadata_path else None
    if not isinstance(labels, dict):
        return None
    for name, selector in selectors.get(manifest.namespace, []):
        if all(labels.get(key) == value for key, value in selector.items()):
            return name
    return None


def serving_probes(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Containers that serve (declare a port, or run in pods a Service selects) have a readiness probe."""
    selectors = _selectors(context_all(manifests, context))
    for manifest in manifests:
        for template in templates(manifest):
            service = _service_of(manifest, template, selectors)
            main = template.main_containers()
            for position, container in enumerate(main):
                ports = container.spec.get("ports")
                if "readinessProbe" in container.spec:
                    continue
                if isinstance(ports, list) and ports:
                    numbers = ", ".join(str(p.get("containerPort")) for p in ports if isinstance(p, dict))
                    reason = f"listens on port {numbers}" if "," not in numbers else f"listens on ports {numbers}"
                elif service is not None and position == 0:
                    reason = f"is selected by Service {service!r}"
                else:
                    continue
                yield (
                    manifest,
                    Violation(
                        f"{container.label} {reason} but has no readinessProbe: it gets traffic before it is ready",
                        container.path,
                    ),
                )
