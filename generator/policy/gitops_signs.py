"""Which GitOps engines sync an object: said by .mlgitops.yaml, or shown by the object and the run.

Rules about what a GitOps sync does to an object (a Job's TTL, replicas under an autoscaler, a claim's
prune protection) judge only objects that show a sign of GitOps; a sample applied with kubectl is not
recreated after its TTL, nor reset by a sync. The signs, strongest first:

1. ``.mlgitops.yaml`` ``gitops: [argocd, flux]`` (or the environment's GitOps target when mlgitops renders):
   those engines, for every object; ``gitops: []`` says none.
2. The object's own annotations or labels of an engine: ``argocd.argoproj.io/…`` (Argo CD), and
   ``kustomize.toolkit.fluxcd.io/…``, ``helm.toolkit.fluxcd.io/…``, ``fluxcd.io/…`` (Flux).
3. Objects of the run that deploy the others: an Argo CD Application or ApplicationSet, a Flux Kustomization
   or HelmRelease.
4. Rendered by mlgitops (label ``app.kubernetes.io/managed-by: mlgitops``): GitOps, engine not said.
"""

from __future__ import annotations

from collections.abc import Sequence

from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import group_of, mapping, value_at
from mlgitops.policy.model import PolicyContext

ARGOCD = "argocd"
FLUX = "flux"
ENGINE_NAMES = {ARGOCD: "Argo CD", FLUX: "Flux"}
_PREFIXES = {
    "argocd.argoproj.io/": ARGOCD,
    "kustomize.toolkit.fluxcd.io/": FLUX,
    "helm.toolkit.fluxcd.io/": FLUX,
    "fluxcd.io/": FLUX,
}
_DEPLOYERS = {
    ("argoproj.io", "Application"): ARGOCD,
    ("argoproj.io", "ApplicationSet"): ARGOCD,
    ("kustomize.toolkit.fluxcd.io", "Kustomization"): FLUX,
    ("helm.toolkit.fluxcd.io", "HelmRelease"): FLUX,
}


def engines(manifest: Manifest, context: PolicyContext) -> frozenset[str] | None:
    """The engines that sync ``manifest``: a set (empty: GitOps, engine unknown), or None for no sign of GitOps."""
    if context.gitops is not None:
        return frozenset(context.gitops) if context.gitops else None
    metadata = mapping(manifest.obj.get("metadata"))
    keys = [*mapping(metadata.get("annotations")), *mapping(metadata.get("labels"))]
    own = frozenset(engine for key in keys for prefix, engine in _PREFIXES.items() if str(key).startswith(prefix))
    deployers = context.deployers if context.deployers is not None else run_engines(context.all_manifests or (manifest,))
    found = own | deployers
    if found:
        return found
    if value_at(metadata, ("labels", "app.kubernetes.io/managed-by")) == "mlgitops":
        return frozenset()
    return None


def run_engines(manifests: Sequence[Manifest]) -> frozenset[str]:
    """Engines whose deploying objects (Applications, Kustomizations, HelmRelease) are among ``manifests``: worked out
    once per run by the engine (``PolicyContext.deployers``). Kept there, not in a module-level cache: a cache here
    held the run's every object until the next run (lint of a 10,000-workload fleet could not let go of it)."""
    return frozenset(
        engine for m in manifests if (engine := _DEPLOYERS.get((group_of(m.obj), str(m.obj.get("kind"))))) is not None
    )


def named(found: frozenset[str]) -> str:
    """``Argo CD``, ``Flux``, ``Argo CD or Flux``; ``GitOps`` when the engine is not known."""
    return " or ".join(ENGINE_NAMES[engine] for engine in sorted(found)) or "GitOps"
