"""ArgoCD and Flux objects that deploy an environment, and the sync order of its objects.

Sync waves (ArgoCD applies lower waves first and waits for them to be healthy):
- wave -1: NetworkPolicies, PriorityClasses and Kueue's queues, flavors and priority classes, so no pod
  starts unprotected or unprioritised and no job names a queue that is not there yet, and
  ResourceClaimTemplates, which the pods that claim accelerators through DRA name;
- wave 0: workloads, Services and PersistentVolumeClaims. PVCs are never put earlier: with a
  WaitForFirstConsumer storage class a claim stays Pending until a pod uses it, and a sync
  waiting for it to become healthy would never finish;
- wave 1: HPAs, KEDA ScaledObjects, PodDisruptionBudgets, ServiceMonitors, PodMonitors and the PrometheusRule,
  which refer to running workloads.
"""

from __future__ import annotations

from typing import Any

from mlgitops.kube.readiness import duration_seconds, minutes, wait_for
from mlgitops.render.kueue import QUEUE_LABEL
from mlgitops.render.metadata import common_labels
from mlgitops.render.trainjob import PATCH_MANAGER
from mlgitops.spec.environment import Environment
from mlgitops.spec.gitops import Flux, GitOps

SYNC_WAVE = "argocd.argoproj.io/sync-wave"
CLUSTER_ROOT = "cluster"
"""The kustomize root of cluster-scoped objects (render/cluster.py's CLUSTER_FOLDER)."""
_WAVES = {
    "NetworkPolicy": "-1",
    "PriorityClass": "-1",
    "ResourceClaimTemplate": "-1",
    "HorizontalPodAutoscaler": "1",
    "ScaledObject": "1",
    "PodDisruptionBudget": "1",
    "ServiceMonitor": "1",
    "PodMonitor": "1",
    "PrometheusRule": "1",
}
_QUEUEING_KINDS = ("LocalQueue", "ClusterQueue", "ResourceFlavor", "WorkloadPriorityClass", "Topology")
_WAVES.update({kind: "-1" for kind in _QUEUEING_KINDS})  # queues exist before the jobs that name them
# Fields a controller owns after creation, by kind. Kueue admits a queued job by flipping its suspend field, which
# git leaves out (render/kueue.py); the ignore keeps a job that carries it anyway (a hand-written extra manifest) from
# showing OutOfSync.
RESPECT_IGNORE_DIFFERENCES = "2.3"
"""Argo CD release that added the sync option RespectIgnoreDifferences=true (argoproj/argo-cd commit 6240ef00, v2.3.0).

Without it "ignoreDifferences" only affects the diff, and every sync applies the desired state as-is
(docs/user-guide/sync-options.md; controller/sync.go): each sync of the Application, whatever it was for, would write
back the fields the controllers own (a TrainJob's runtimePatches of Kueue's, the Ray autoscaler's replicas)."""
_SUSPEND = {
    ("batch", "Job"): "/spec/suspend",
    ("kubeflow.org", "PyTorchJob"): "/spec/runPolicy/suspend",
    ("trainer.kubeflow.org", "TrainJob"): "/spec/suspend",
    ("ray.io", "RayJob"): "/spec/suspend",
}
# The Trainer webhook stamps `time` on every runtimePatches entry, and Kueue adds an entry of its own on admission.
_TRAINJOB_PATCHES = (
    f'.spec.runtimePatches[] | select(.manager != "{PATCH_MANAGER}")',
    ".spec.runtimePatches[].time",
)
# The Ray autoscaler owns worker counts: they are left out of git, and the API server's default (0) in the
# live list would otherwise show as a difference (ArgoCD compares custom resources' lists as a whole).
_RAY_WORKER_REPLICAS = {
    "RayJob": ".spec.rayClusterSpec.workerGroupSpecs[].replicas",
    "RayService": ".spec.rayClusterConfig.workerGroupSpecs[].replicas",
    "RayCluster": ".spec.workerGroupSpecs[].replicas",
}


def _ray_cluster(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj.get("spec") or {}
    cluster = spec.get("rayClusterSpec") or spec.get("rayClusterConfig") or spec
    return cluster if isinstance(cluster, dict) else {}


def ignored_differences(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """ArgoCD ignoreDifferences entries for the fields controllers own in ``objects``, one per (group, kind)."""
    pointers: dict[tuple[str, str], set[str]] = {}
    expressions: dict[tuple[str, str], set[str]] = {}
    for obj in objects:
        group = str(obj.get("apiVersion", "")).rpartition("/")[0]
        key = (group, str(obj.get("kind")))
        labels = (obj.get("metadata") or {}).get("labels") or {}
        if QUEUE_LABEL in labels and key in _SUSPEND:
            pointers.setdefault(key, set()).add(_SUSPEND[key])
        if key == ("trainer.kubeflow.org", "TrainJob"):
            expressions.setdefault(key, set()).update(_TRAINJOB_PATCHES)
        if group == "ray.io" and key[1] in _RAY_WORKER_REPLICAS and _ray_cluster(obj).get("enableInTreeAutoscaling"):
            expressions.setdefault(key, set()).add(_RAY_WORKER_REPLICAS[key[1]])
    entries = []
    for group, kind in sorted(set(pointers) | set(expressions)):
        entry: dict[str, Any] = {"group": group, "kind": kind}
        if (group, kind) in pointers:
            entry["jsonPointers"] = sorted(pointers[(group, kind)])
        if (group, kind) in expressions:
            entry["jqPathExpressions"] = sorted(expressions[(group, kind)])
        entries.append(entry)
    return entries


def add_sync_wave(obj: dict[str, Any]) -> None:
    wave = _WAVES.get(str(obj.get("kind")))
    if wave is not None:
        annotations = obj["metadata"].setdefault("annotations", {})
        annotations[SYNC_WAVE] = wave
        obj["metadata"]["annotations"] = dict(sorted(annotations.items()))


def _metadata(name: str, namespace: str, environment: Environment, environment_name: str) -> dict[str, Any]:
    return {"name": name, "namespace": namespace, "labels": common_labels(environment, environment_name)}


def _argocd_spec(gitops: GitOps, environment: Environment, path: str, ignored: list[dict[str, Any]]) -> dict[str, Any]:
    argocd = gitops.argocd
    assert argocd is not None
    destination: dict[str, Any] = {}
    if argocd.destination_name is not None:
        destination["name"] = argocd.destination_name
    else:
        destination["server"] = argocd.destination_server or "https://kubernetes.default.svc"
    destination["namespace"] = environment.namespace
    spec: dict[str, Any] = {
        "project": argocd.project,
        "source": {"repoURL": gitops.repo_url, "targetRevision": gitops.revision, "path": path},
        "destination": destination,
    }
    policy = argocd.sync_policy
    sync: dict[str, Any] = {}
    if policy.automated:
        sync["automated"] = {"prune": policy.prune, "selfHeal": policy.self_heal}
    sync["syncOptions"] = ["CreateNamespace=true"]
    if ignored and environment.operators.at_least("argocd", RESPECT_IGNORE_DIFFERENCES):
        sync["syncOptions"].append("RespectIgnoreDifferences=true")
    spec["syncPolicy"] = sync
    if ignored:
        spec["ignoreDifferences"] = [dict(entry) for entry in ignored]
    return spec


def argocd_objects(
    environment: Environment, environment_name: str, roots: list[str], *, sharded: bool, ignored: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Applications for each kustomize root of the environment, or one ApplicationSet over them.

    ``roots`` are folders relative to rendered/<env> ('' for the environment folder itself).
    """
    gitops = environment.gitops
    assert gitops is not None
    assert gitops.argocd is not None
    base = f"{gitops.rendered_path}/{environment_name}"
    if sharded or gitops.argocd.application_set:
        directories = [{"path": f"{base}/*"}] if sharded else [{"path": f"{base}/{root}".rstrip("/")} for root in roots]
        template_spec = _argocd_spec(gitops, environment, "{{path}}", ignored)
        return [
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "ApplicationSet",
                "metadata": _metadata(environment_name, gitops.argocd.namespace, environment, environment_name),
                "spec": {
                    "generators": [
                        {"git": {"repoURL": gitops.repo_url, "revision": gitops.revision, "directories": directories}}
                    ],
                    "template": {
                        "metadata": {
                            "name": f"{environment_name}-{{{{path.basename}}}}",
                            "labels": common_labels(environment, environment_name),
                        },
                        "spec": template_spec,
                    },
                },
            }
        ]
    objects = []
    for root in roots:
        name = f"{environment_name}-{root}" if root else environment_name
        objects.append(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Application",
                "metadata": _metadata(name, gitops.argocd.namespace, environment, environment_name),
                "spec": _argocd_spec(gitops, environment, f"{base}/{root}".rstrip("/"), ignored),
            }
        )
    return objects


class GitOpsError(ValueError):
    """The GitOps objects cannot do what the spec asks; ``path`` is the spec field to point at."""

    def __init__(self, path: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


def _flux_timeout(flux: Flux, root: str, windows: dict[str, tuple[int, str]]) -> str | None:
    """The root's health-check timeout: the spec's, or one that waits out its servers' startup (kube/readiness.py).

    Raises GitOpsError when the spec's is shorter than a server's startup window: Flux would report the
    Kustomization failed (HealthCheckFailed) while the server still loads its model.
    """
    window, server = windows.get(root, (0, ""))
    if flux.timeout is not None:
        given = duration_seconds(flux.timeout)
        if window and given is not None and given < window:
            raise GitOpsError(
                ("gitops", "flux", "timeout"),
                f"Flux waits {flux.timeout} for the health checks, but {server!r} may take {minutes(window)} to become "
                f"ready (its startup probe): the Kustomization would fail while it loads; raise the timeout to at "
                f"least {minutes(wait_for(window))}, or leave it out (mlgitops derives it)",
            )
        return flux.timeout
    if not window:
        return None
    interval = duration_seconds(flux.interval) or 0
    return minutes(wait_for(window)) if wait_for(window) > interval - 30 else None


def flux_objects(
    environment: Environment,
    environment_name: str,
    roots: list[str],
    health_checks: dict[str, list[dict[str, Any]]],
    windows: dict[str, tuple[int, str]],
) -> list[dict[str, Any]]:
    """A GitRepository and one Kustomization per kustomize root of the environment.

    ``windows`` gives per root the longest startup window of its health-checked servers (seconds) and whose it is.
    Health checks name the servers (Deployments), never ``wait: true`` on a root with queued jobs: kstatus reports a
    suspended Job InProgress until Kueue admits it, so the Kustomization would fail after its timeout
    (fluxcd/cli-utils pkg/kstatus/status/core.go ``jobConditions``). The roots with namespaced objects depend on
    the cluster-scoped root (its queues, flavors, priority classes), which waits for its objects (``wait: true``):
    Flux applies a Kustomization only once its dependencies are ready (kustomize-controller docs/spec/v1/
    kustomizations.md, "Dependencies"; the cluster root lives in the same namespace as the others).
    """
    gitops = environment.gitops
    assert gitops is not None
    assert gitops.flux is not None
    flux = gitops.flux
    source_name = f"ml-{environment_name}"
    objects: list[dict[str, Any]] = [
        {
            "apiVersion": "source.toolkit.fluxcd.io/v1",
            "kind": "GitRepository",
            "metadata": _metadata(source_name, flux.namespace, environment, environment_name),
            "spec": {"interval": flux.interval, "url": gitops.repo_url, "ref": {"branch": gitops.revision}},
        }
    ]
    cluster_root = f"{environment_name}-{CLUSTER_ROOT}" if CLUSTER_ROOT in roots else None
    for root in roots:
        name = f"{environment_name}-{root}" if root else environment_name
        spec: dict[str, Any] = {"interval": flux.interval}
        if cluster_root is not None and root != CLUSTER_ROOT:
            spec["dependsOn"] = [{"name": cluster_root, "namespace": flux.namespace}]
        spec["path"] = f"./{gitops.rendered_path}/{environment_name}/{root}".rstrip("/")
        spec["prune"] = flux.prune
        spec["sourceRef"] = {"kind": "GitRepository", "name": source_name}
        checks = health_checks.get(root, [])
        if checks:
            spec["healthChecks"] = checks
        timeout = _flux_timeout(flux, root, windows)
        if timeout is not None:
            spec["timeout"] = timeout
        if root == CLUSTER_ROOT:
            spec["wait"] = True
        objects.append(
            {
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "kind": "Kustomization",
                "metadata": _metadata(name, flux.namespace, environment, environment_name),
                "spec": spec,
            }
        )
    return objects
