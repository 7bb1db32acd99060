"""Which releases of the operators the cluster runs: rendering follows them (API fields, annotations, modes).

Each field is an operator's release as `MAJOR.MINOR` or `MAJOR.MINOR.PATCH` (a leading `v` is allowed). The
defaults are the current upstream releases when this version of mlgitops was made; an environment whose cluster
runs an older release says so, and mlgitops renders what that release accepts (or refuses, at the line of the
field, what it cannot do). The documentation (docs/environment-files.md) lists the minimum release each feature needs.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator

from mlgitops.spec.base import SpecModel

_RELEASE = re.compile(r"^v?(0|[1-9][0-9]{0,3})\.(0|[1-9][0-9]{0,3})(\.(0|[1-9][0-9]{0,3}))?$")


def release_tuple(version: str) -> tuple[int, int, int]:
    """``'v0.19.2'`` → ``(0, 19, 2)``; a missing patch counts as 0. Raises ValueError for anything else."""
    match = _RELEASE.match(version)
    if match is None:
        raise ValueError(f"{version!r} is not a release such as '0.19' or 'v0.19.2'")
    return int(match.group(1)), int(match.group(2)), int(match.group(4) or 0)


def _release(value: str) -> str:
    release_tuple(value)
    return value


Release = Annotated[str, AfterValidator(_release)]
"""An operator release: `MAJOR.MINOR` or `MAJOR.MINOR.PATCH`, optionally with a leading `v` (e.g. '0.19', 'v1.14.1')."""


class Operators(SpecModel):
    """The operator releases the cluster runs (defaults: current upstream releases, December 2026)."""

    kueue: Release = "0.19"
    """kubernetes-sigs/kueue (Kueue): ResourceFlavors, ClusterQueues, LocalQueues, topology-aware scheduling."""
    argocd: Release = "3.5"
    """argoproj/argo-cd (Argo CD): Applications and their sync options."""
    flux: Release = "2.9"
    """fluxcd/flux2 (Flux): Kustomizations (kustomize-controller) and GitRepositories."""
    karpenter: Release = "1.14"
    """kubernetes-sigs/karpenter (Karpenter v1): NodePools and their disruption settings."""
    kserve: Release = "0.20"
    """kserve/kserve (KServe): InferenceServices, deployment modes, autoscaler classes."""
    kuberay: Release = "1.7"
    """ray-project/kuberay (KubeRay): RayJobs, RayServices, the in-tree autoscaler, upgrade strategies."""
    trainer: Release = "2.3"
    """kubeflow/trainer (Kubeflow Trainer v2): TrainJobs and (Cluster)TrainingRuntimes."""
    lws: Release = "0.10"
    """kubernetes-sigs/lws (LeaderWorkerSet): multi-node servers."""

    def at_least(self, operator: str, release: str) -> bool:
        """Whether the cluster's release of ``operator`` (a field name) is ``release`` or newer."""
        return release_tuple(str(getattr(self, operator))) >= release_tuple(release)
