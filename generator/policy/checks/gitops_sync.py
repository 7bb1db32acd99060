"""Rules about what a GitOps sync does to an object, judged only where GitOps syncs it (``policy.gitops_signs``).

- job-gitops-ttl: a Job deleted by its TTL is missing from the cluster; the next sync creates it again (Argo CD
  hooks are exempt: they are meant to be deleted).
- pvc-prune-protection: a claim a prune deletes takes its data along (dynamically provisioned volumes default
  to reclaim policy Delete). One engine's protection is enough, unless .mlgitops.yaml names both engines; a
  claim with no protection at all is reported whether or not GitOps is seen (the data is lost either way).
"""

from __future__ import annotations

from collections.abc import Iterator

from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import mapping, value_at
from mlgitops.policy.checks import check
from mlgitops.policy.gitops_signs import ARGOCD, FLUX, engines, named
from mlgitops.policy.model import Policy, PolicyContext, Violation

Found = Iterator[tuple[Manifest, Violation]]
ARGOCD_SYNC_OPTIONS = "argocd.argoproj.io/sync-options"
FLUX_PRUNE = "kustomize.toolkit.fluxcd.io/prune"
HOOK = "argocd.argoproj.io/hook"


@check("job-gitops-ttl")
def job_gitops_ttl(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest in manifests:
        if value_at(manifest.obj, ("spec", "ttlSecondsAfterFinished")) is None:
            continue
        if HOOK in mapping(value_at(manifest.obj, ("metadata", "annotations"))):
            continue  # a hook is meant to be deleted (rule argocd-hook-ttl judges its TTL)
        found = engines(manifest, context)
        if found is None:
            continue  # applied once by hand or by a pipeline: nothing recreates it
        yield (
            manifest,
            Violation(
                f"Job {manifest.ref.name!r} sets ttlSecondsAfterFinished; {named(found)} will recreate it after "
                "deletion (the run starts again)",
                ("spec", "ttlSecondsAfterFinished"),
            ),
        )


def protected(annotations: dict[str, object]) -> set[str]:
    """The engines whose pruning the claim's annotations turn off."""
    found = set()
    options = str(annotations.get(ARGOCD_SYNC_OPTIONS, ""))
    if "Prune=false" in options and "Delete=false" in options:
        found.add(ARGOCD)
    if annotations.get(FLUX_PRUNE) == "disabled":
        found.add(FLUX)
    return found


_WANTED = {ARGOCD: f"{ARGOCD_SYNC_OPTIONS}: Prune=false,Delete=false", FLUX: f"{FLUX_PRUNE}: disabled"}


@check("pvc-prune-protection")
def pvc_prune_protection(manifests: list[Manifest], policy: Policy, context: PolicyContext) -> Found:
    for manifest in manifests:
        annotations = mapping(value_at(manifest.obj, ("metadata", "annotations")))
        have = protected(annotations)
        said = frozenset(context.gitops or ())
        if said:
            missing = sorted(said - have)  # each engine the configuration names prunes on its own
        elif have:
            continue  # one engine's protection is enough when the configuration names none
        else:
            missing = sorted(engines(manifest, context) or (ARGOCD, FLUX))
        if not missing:
            continue
        wanted = (" and " if said else " or ").join(_WANTED[engine] for engine in missing)
        yield (
            manifest,
            Violation(
                f"PersistentVolumeClaim {manifest.ref.name!r} lacks the annotation that keeps a GitOps prune from "
                f"deleting it and its data ({wanted})",
                ("metadata", "annotations"),
            ),
        )
