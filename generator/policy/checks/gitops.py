"""What Argo CD and Flux do to the objects they deploy: rules queued-suspend, flux-health-timeout, flux-wait-queued
and progress-deadline.

- queued-suspend: Kueue's webhook suspends a job with the queue-name label on create and resumes it on admission
  (kubernetes-sigs/kueue v0.19.2 ``ApplyDefaultForSuspend``). A `suspend: true` kept in git is applied again by every
  sync: Argo CD applies the desired state as-is unless the Application sets RespectIgnoreDifferences=true, which
  makes it keep the live value of fields it ignores (argoproj/argo-cd docs/user-guide/sync-options.md, v2.3.0+);
  Flux re-applies it on every reconcile unless the object is created only (kustomize.toolkit.fluxcd.io/ssa:
  IfNotPresent). Suspending a running job deletes its pods.
- flux-health-timeout: a Kustomization's health checks fail after ``spec.timeout`` (default: its interval minus 30 s,
  at least 30 s; fluxcd/kustomize-controller v1.9.4 ``GetTimeout``), however long its servers take to load.
- flux-wait-queued: kstatus reports a Job InProgress until it starts (fluxcd/cli-utils ``jobConditions``): a queued
  job in a ``wait: true`` Kustomization (or named in its healthChecks) fails it after the timeout.
- progress-deadline: a Deployment reports ProgressDeadlineExceeded after ``progressDeadlineSeconds`` (default 600),
  which kstatus and Argo CD read as failed, even while its pods are still loading (kube/readiness.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from mlgitops.kube.kueue_queues import queue_name
from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import mapping, value_at
from mlgitops.kube.readiness import PROGRESS_DEADLINE_DEFAULT, duration_seconds, minutes, startup_window, wait_for
from mlgitops.policy.checks import check
from mlgitops.policy.checks.storage import context_all
from mlgitops.policy.checks.syncers import Syncer, Syncers
from mlgitops.policy.model import Policy, PolicyContext, Violation
from mlgitops.policy.severity import Severity

Found = Iterator[tuple[Manifest, Violation]]
RESPECT = "RespectIgnoreDifferences=true"
CREATE_ONLY = ("IfNotPresent", "Ignore")
FLUX_SSA = "kustomize.toolkit.fluxcd.io/ssa"


def suspend_path(obj: dict[str, Any]) -> tuple[str, ...] | None:
    """Where a job object keeps its suspend field: Training Operator v1 jobs in runPolicy, the others in spec."""
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    if group == "kubeflow.org":
        return ("spec", "runPolicy", "suspend")
    if (group, obj.get("kind")) in (
        ("batch", "Job"),
        ("trainer.kubeflow.org", "TrainJob"),
        ("ray.io", "RayJob"),
        ("jobset.x-k8s.io", "JobSet"),
    ):
        return ("spec", "suspend")
    return None


def _ignores(syncer: Syncer, obj: dict[str, Any], path: tuple[str, ...]) -> bool:
    """Whether the Application syncs with RespectIgnoreDifferences=true and ignores the field at ``path``."""
    spec = syncer.spec
    options = value_at(spec, ("syncPolicy", "syncOptions")) or []
    if RESPECT not in options:
        return False
    group = str(obj.get("apiVersion", "")).rpartition("/")[0]
    pointer, expression = "/" + "/".join(path), "." + ".".join(path)
    for entry in spec.get("ignoreDifferences") or []:
        entry = mapping(entry)
        if entry.get("kind") != obj.get("kind") or entry.get("group", "") != group:
            continue
        if pointer in (entry.get("jsonPointers") or []) or expression in (entry.get("jqPathExpressions") or []):
            return True
    return False


@check("queued-suspend")
def queued_suspend(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    syncers = Syncers(context_all(manifests, context))
    for manifest in manifests:
        path = suspend_path(manifest.obj)
        queue = queue_name(manifest.obj)
        if path is None or queue is None or value_at(manifest.obj, path) is not True:
            continue
        why = f"{manifest.ref} is queued in Kueue ({queue!r}) and keeps suspend: true in git"
        fix = "; leave suspend out: Kueue's webhook suspends a queued job when it is created"
        argo = [s for s in syncers.argo_of(manifest) if not _ignores(s, manifest.obj, path)]
        create_only = mapping(value_at(manifest.obj, ("metadata", "annotations"))).get(FLUX_SSA) in CREATE_ONLY
        flux = [s for s in syncers.flux_of(manifest) if not create_only]
        if argo:
            name = argo[0].manifest.ref.name
            yield (
                manifest,
                Violation(
                    f"{why}: Argo CD {argo[0].manifest.ref.kind} {name!r} syncs it without {RESPECT} and an ignore of "
                    f"/{'/'.join(path)}, so every sync suspends the running job again and its pods are deleted{fix}",
                    path,
                ),
            )
        elif flux:
            yield (
                manifest,
                Violation(
                    f"{why}: Flux Kustomization {flux[0].manifest.ref.name!r} applies it again on every reconcile, which "
                    f"suspends the running job and deletes its pods{fix} (or create it only: {FLUX_SSA}: IfNotPresent)",
                    path,
                ),
            )
        elif not syncers.argo_of(manifest) and not syncers.flux_of(manifest):
            yield (
                manifest,
                Violation(
                    f"{why}: any re-apply (a GitOps sync, kubectl apply) suspends the running job again{fix}",
                    path,
                    severity=Severity.WARNING,
                ),
            )


def _timeout(kustomization: Manifest) -> tuple[float, str, tuple[str, ...]]:
    """The Kustomization's health-check timeout in seconds, as shown, and the field that sets it."""
    spec = mapping(kustomization.obj.get("spec"))
    written = spec.get("timeout")
    if isinstance(written, str) and duration_seconds(written) is not None:
        return duration_seconds(written) or 0.0, written, ("spec", "timeout")
    interval = spec.get("interval")
    seconds = duration_seconds(interval) if isinstance(interval, str) else None
    default = max((seconds or 0) - 30, 30)
    return default, f"{interval} - 30s (no timeout set)", ("spec", "interval")


class _Waited:
    """What each Kustomization's health checks wait for, found through one index of the manifests."""

    def __init__(self, everything: list[Manifest], syncers: Syncers) -> None:
        self.syncers = syncers
        self.by_ref: dict[tuple[str, str, str], list[Manifest]] = {}
        for manifest in everything:
            self.by_ref.setdefault((manifest.ref.kind, manifest.ref.name, manifest.namespace), []).append(manifest)
        self.everything = everything
        self._deployed: dict[int, list[Manifest]] | None = None

    def _deployed_by(self, syncer: Syncer) -> list[Manifest]:
        if self._deployed is None:
            self._deployed = {}
            for manifest in self.everything:
                for owner in self.syncers.flux_of(manifest):
                    self._deployed.setdefault(id(owner.manifest), []).append(manifest)
        return self._deployed.get(id(syncer.manifest), [])

    def of(self, syncer: Syncer) -> list[tuple[Manifest, tuple[Any, ...]]]:
        """The objects the Kustomization's health checks wait for, each with the field that makes it wait."""
        spec = syncer.spec
        if spec.get("wait") is True:
            return [(m, ("spec", "wait")) for m in self._deployed_by(syncer)]
        found = []
        for index, entry in enumerate(spec.get("healthChecks") or []):
            entry = mapping(entry)
            namespace = entry.get("namespace") or spec.get("targetNamespace") or syncer.manifest.namespace
            for other in self.by_ref.get((str(entry.get("kind")), str(entry.get("name")), str(namespace)), []):
                found.append((other, ("spec", "healthChecks", index)))
        return found


@check("flux-health-timeout")
def flux_health_timeout(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    syncers = Syncers(everything)
    waited = _Waited(everything, syncers)
    selected = {id(manifest) for manifest in manifests}
    for syncer in syncers.flux:
        if id(syncer.manifest) not in selected:
            continue
        seconds, shown, at = _timeout(syncer.manifest)
        slowest = max(
            (
                (startup_window(mapping(value_at(m.obj, ("spec", "template", "spec")))), m.ref.name)
                for m, _ in waited.of(syncer)
                if m.ref.kind == "Deployment"
            ),
            default=(0, ""),
        )
        if slowest[0] > seconds:
            yield (
                syncer.manifest,
                Violation(
                    f"Flux waits {shown} for the health checks of Kustomization {syncer.manifest.ref.name!r}, but Deployment "
                    f"{slowest[1]!r} may take {minutes(slowest[0])} to become ready (its startup probe): the Kustomization "
                    f"fails (HealthCheckFailed) while it loads; set spec.timeout to at least {minutes(wait_for(slowest[0]))}",
                    at,
                ),
            )


@check("flux-wait-queued")
def flux_wait_queued(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    everything = context_all(manifests, context)
    syncers = Syncers(everything)
    index = _Waited(everything, syncers)
    selected = {id(manifest) for manifest in manifests}
    for syncer in syncers.flux:
        if id(syncer.manifest) not in selected:
            continue
        for waited, at in index.of(syncer):
            queue = queue_name(waited.obj)
            if queue is None or suspend_path(waited.obj) is None:
                continue
            how = "waits for every object it applies (wait: true)" if at == ("spec", "wait") else "health-checks it"
            yield (
                syncer.manifest,
                Violation(
                    f"Kustomization {syncer.manifest.ref.name!r} {how}, including {waited.ref.kind} {waited.ref.name!r}, "
                    f"which Kueue keeps suspended until queue {queue!r} admits it: kstatus reports it InProgress and the "
                    "Kustomization fails after its timeout; health-check the servers (spec.healthChecks) instead",
                    at,
                ),
            )
            break


@check("progress-deadline")
def progress_deadline(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest in manifests:
        if manifest.ref.kind != "Deployment":
            continue
        spec = mapping(manifest.obj.get("spec"))
        window = startup_window(mapping(value_at(spec, ("template", "spec"))))
        written = spec.get("progressDeadlineSeconds")
        deadline = written if isinstance(written, int) and not isinstance(written, bool) else PROGRESS_DEADLINE_DEFAULT
        if window > deadline:
            yield (
                manifest,
                Violation(
                    f"its pods may take {minutes(window)} to become ready (startup probe), but the Deployment reports "
                    f"ProgressDeadlineExceeded after {deadline}s, which Argo CD and Flux read as failed while they load; "
                    f"set progressDeadlineSeconds to at least {wait_for(window)}",
                    ("spec", "progressDeadlineSeconds") if written is not None else ("spec",),
                ),
            )
