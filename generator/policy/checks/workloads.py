"""Rules on workload objects themselves: the API server's own validation, Job restart policies, serving probes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlgitops.kube.api_rules import job_template_problems, object_problems
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import PodTemplate, value_at
from mlgitops.policy.checks import check
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.model import Policy, PolicyContext, Violation
from mlgitops.policy.targets import templates

Found = Iterator[tuple[Manifest, Violation]]


@check("api-validation")
def api_validation(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Names, namespaces, labels, annotations, quantities, limits below requests, cron schedules, time zones
    and port names the API server refuses."""
    for manifest in manifests:
        for problem in object_problems(manifest.obj, manifest.pod_templates):
            yield manifest, Violation(problem.message, problem.path, at_key=problem.at_key)


@check("job-restart-policy")
def job_restart_policy(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Pod templates of batch/v1 Jobs (also inside CronJobs, JobSets and training runtimes) restart Never or OnFailure."""
    for manifest in manifests:
        for problem in job_template_problems(manifest.obj, manifest.pod_templates):
            yield manifest, Violation(problem.message, problem.path)


class _ServiceIndex:
    """Each namespace's Services with a selector (Services without one pick no pods), in order, found by label.

    A Service is filed under one pair of its selector, the one fewest Services of its namespace share, so a pod
    template's labels reach the Services that may select it in one look-up per label instead of a scan of every
    Service (filed under a pair all of them share, such as a team label, every template looked at every Service).
    """

    def __init__(self, everything: list[Manifest]) -> None:
        self.by_pair: dict[tuple[str, Any, Any], list[tuple[int, str, dict[str, Any]]]] = {}
        self.unfiled: dict[str, list[tuple[int, str, dict[str, Any]]]] = {}
        self.count = 0
        found: list[tuple[str, tuple[int, str, dict[str, Any]]]] = []
        shared: dict[tuple[str, Any, Any], int] = {}
        for manifest in everything:
            if manifest.ref.kind == "Service" and manifest.ref.api_version == "v1":
                selector = value_at(manifest.obj, ("spec", "selector"))
                if isinstance(selector, dict) and selector:
                    found.append((manifest.namespace, (self.count, manifest.ref.name, selector)))
                    self.count += 1
                    for pair in _pairs(manifest.namespace, selector):
                        shared[pair] = shared.get(pair, 0) + 1
        for namespace, entry in found:
            self._file(namespace, entry, shared)

    def _file(self, namespace: str, entry: tuple[int, str, dict[str, Any]], shared: dict[tuple[str, Any, Any], int]) -> None:
        pairs = _pairs(namespace, entry[2])
        if pairs:
            self.by_pair.setdefault(min(pairs, key=lambda pair: shared[pair]), []).append(entry)
        else:
            self.unfiled.setdefault(namespace, []).append(entry)

    def first_selecting(self, namespace: str, labels: dict[Any, Any]) -> str | None:
        """The name of the first Service in ``namespace`` whose selector ``labels`` satisfy (None: none)."""
        candidates = list(self.unfiled.get(namespace, ()))
        for key, value in labels.items():
            try:
                candidates += self.by_pair.get((namespace, key, value), ())
            except TypeError:  # an unhashable label value equals no hashable selector value
                continue
        for _, name, selector in sorted(candidates, key=lambda entry: entry[0]):
            if all(labels.get(key) == value for key, value in selector.items()):
                return name
        return None


def _pairs(namespace: str, selector: dict[Any, Any]) -> list[tuple[str, Any, Any]]:
    """The (namespace, key, value) a Service may be filed under, in the selector's order. A pair with a null value also
    matches labels without its key (`labels.get(key) == None`), and an unhashable value (a malformed selector) cannot be
    looked up: a Service with no other pair is tried for every template."""
    pairs = []
    for key, value in selector.items():
        if value is not None:
            try:
                hash((key, value))
            except TypeError:
                continue
            pairs.append((namespace, key, value))
    return pairs


def _service_of(manifest: Manifest, template: PodTemplate, services: _ServiceIndex) -> str | None:
    labels = value_at(manifest.obj, (*template.metadata_path, "labels")) if template.metadata_path else None
    if not isinstance(labels, dict):
        return None
    return services.first_selecting(manifest.namespace, labels)


@check("serving-probes")
def serving_probes(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    """Containers that serve (declare a port, or run in pods a Service selects) have a readiness probe."""
    services = _ServiceIndex(context_all(manifests, context))
    for manifest in manifests:
        for template in templates(manifest):
            service = _service_of(manifest, template, services)
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
