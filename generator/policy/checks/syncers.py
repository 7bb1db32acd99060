"""Which Argo CD Application or Flux Kustomization among the manifests deploys a given manifest.

Both name a folder of their source repository (an Application's ``spec.source.path`` or each ``spec.sources[].path``,
an ApplicationSet's git ``directories``, a Kustomization's ``spec.path``); lint does not know where the repository's
root is, so a manifest is deployed by the object whose folder its own folder ends with (the longest such folder
wins: rendered/prod/cluster is not rendered/prod's). A root folder ('.', './') means the folder the GitOps object's
own file is in.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from mlgitops.kube.manifest import Manifest
from mlgitops.kube.pods import mapping, value_at

ARGO_GROUP = "argoproj.io"
FLUX_GROUP = "kustomize.toolkit.fluxcd.io"


def folder(file: str) -> str:
    """The folder of a manifest's file, as a posix path without a trailing slash ('' at the top)."""
    return posixpath.dirname(file.split("#", 1)[0].replace("\\", "/"))


def _normal(path: str) -> str:
    path = path.replace("\\", "/").strip()
    while path.startswith("./"):
        path = path[2:]
    return "" if path in (".", "/") else path.strip("/")


@dataclass(frozen=True)
class Syncer:
    """A GitOps object and the folder patterns it deploys (fnmatch patterns, '' for its own folder)."""

    manifest: Manifest
    patterns: tuple[str, ...]

    @property
    def spec(self) -> dict[str, Any]:
        """The Application's spec (an ApplicationSet's template spec) or the Kustomization's."""
        if self.manifest.ref.kind == "ApplicationSet":
            return mapping(value_at(self.manifest.obj, ("spec", "template", "spec")))
        return mapping(self.manifest.obj.get("spec"))

    def depth(self, place: str) -> int:
        """How closely the syncer's folder matches ``place`` (-1: it does not deploy it)."""
        best = -1
        segments = place.split("/") if place else []
        for pattern in self.patterns:
            if not pattern:
                if place == folder(self.manifest.file):
                    best = max(best, 0)
                continue
            wanted = pattern.count("/") + 1
            if len(segments) >= wanted and fnmatchcase("/".join(segments[-wanted:]), pattern):
                best = max(best, wanted)
        return best


def _patterns(manifest: Manifest) -> tuple[str, ...]:
    kind, spec = manifest.ref.kind, mapping(manifest.obj.get("spec"))
    if kind == "Kustomization":
        path = spec.get("path")
        return (_normal(path) if isinstance(path, str) else "",)
    if kind == "Application":
        sources = [mapping(spec.get("source")), *[mapping(s) for s in spec.get("sources") or [] if isinstance(s, dict)]]
        return tuple(_normal(str(s["path"])) for s in sources if isinstance(s.get("path"), str))
    found: list[str] = []
    for generator in spec.get("generators") or []:
        for directory in value_at(generator, ("git", "directories")) or []:
            if isinstance(directory, dict) and isinstance(directory.get("path"), str) and not directory.get("exclude"):
                found.append(_normal(directory["path"]))
    return tuple(found)


class Syncers:
    """The Argo CD Applications and ApplicationSets and the Flux Kustomizations among the manifests."""

    def __init__(self, manifests: list[Manifest]) -> None:
        self.argo: list[Syncer] = []
        self.flux: list[Syncer] = []
        for manifest in manifests:
            group = str(manifest.obj.get("apiVersion", "")).rpartition("/")[0]
            if group == ARGO_GROUP and manifest.ref.kind in ("Application", "ApplicationSet"):
                self.argo.append(Syncer(manifest, _patterns(manifest)))
            elif group == FLUX_GROUP and manifest.ref.kind == "Kustomization":
                self.flux.append(Syncer(manifest, _patterns(manifest)))

    def argo_of(self, manifest: Manifest) -> list[Syncer]:
        """The Applications (and ApplicationSets) that deploy ``manifest``."""
        return _closest(self.argo, folder(manifest.file))

    def flux_of(self, manifest: Manifest) -> list[Syncer]:
        """The Kustomizations that deploy ``manifest``."""
        return _closest(self.flux, folder(manifest.file))


def _closest(syncers: list[Syncer], place: str) -> list[Syncer]:
    depths = [(syncer.depth(place), syncer) for syncer in syncers]
    best = max((depth for depth, _ in depths), default=-1)
    return [syncer for depth, syncer in depths if depth == best and best >= 0]
