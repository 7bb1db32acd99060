"""How ArgoCD or Flux deploys an environment's rendered folder."""

from __future__ import annotations

from pydantic import Field, model_validator

from mlgitops.spec.base import NamespaceName, SpecModel

DURATION = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"


class ArgoSyncPolicy(SpecModel):
    """ArgoCD's sync policy for the environment's Applications."""

    automated: bool = True
    """Sync on every new commit without a manual click."""
    prune: bool = True
    """Delete objects removed from git (PVCs are protected by their annotations)."""
    self_heal: bool = True
    """Revert changes made in the cluster by hand."""


class ArgoCD(SpecModel):
    """Render an ArgoCD Application (or ApplicationSet) per environment into rendered/argocd/<env>.yaml."""

    project: str = Field(default="default", min_length=1)
    """ArgoCD project the Applications belong to."""
    namespace: NamespaceName = "argocd"
    """Namespace ArgoCD watches for Applications."""
    destination_server: str | None = None
    """API server URL of the target cluster (default: the cluster ArgoCD runs in)."""
    destination_name: str | None = None
    """Name of the target cluster as registered in ArgoCD (instead of destinationServer)."""
    sync_policy: ArgoSyncPolicy = Field(default_factory=ArgoSyncPolicy)
    application_set: bool = False
    """Render an ApplicationSet with a git directory generator instead of plain Applications."""

    @model_validator(mode="after")
    def _one_destination(self) -> ArgoCD:
        if self.destination_server is not None and self.destination_name is not None:
            raise ValueError("give destinationServer or destinationName, not both")
        return self


class Flux(SpecModel):
    """Render a Flux GitRepository and Kustomization(s) per environment into rendered/flux/<env>.yaml."""

    namespace: NamespaceName = "flux-system"
    """Namespace of the Flux objects."""
    interval: str = Field(default="5m", pattern=DURATION)
    """How often Flux reconciles, e.g. '5m'."""
    prune: bool = True
    """Delete objects removed from git (PVCs are protected by their annotations)."""
    timeout: str | None = Field(default=None, pattern=DURATION)
    """How long to wait for health checks."""


class GitOps(SpecModel):
    """Where the rendered folder lives in git and which GitOps controllers deploy it."""

    repo_url: str = Field(min_length=1)
    """Git repository ArgoCD/Flux pull from, e.g. 'https://github.com/acme/ml-fleet.git'."""
    revision: str = Field(default="main", min_length=1)
    """Branch, tag or commit to deploy."""
    rendered_path: str = Field(default="rendered", pattern=r"^[^/.][^\s]*[^/]$|^[^/.]$")
    """Where the rendered folder lives in the repository."""
    argocd: ArgoCD | None = None
    flux: Flux | None = None
    max_objects_per_root: int = Field(default=300, ge=1)
    """Above this many objects the environment is split into one kustomize root per workload group,
    because `kustomize build` (run by ArgoCD on every refresh) grows quadratically with a root's size."""
