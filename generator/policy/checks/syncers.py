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
    """The Argo CD Applications and ApplicationSets and the Flux Kustomizations among the manifests.

    Which of them deploy a folder is worked out once per folder, through an index of their literal
    folder patterns (wildcard patterns are tried one by one): a fleet of many shards has about as
    many Kustomizations as folders, and trying every one for every object grew with their product.
    """

    def __init__(self, manifests: list[Manifest]) -> None:
        self.argo: list[Syncer] = []
        self.flux: list[Syncer] = []
        for manifest in manifests:
            group = str(manifest.obj.get("apiVersion", "")).rpartition("/")[0]
            if group == ARGO_GROUP and manifest.ref.kind in ("Application", "ApplicationSet"):
                self.argo.append(Syncer(manifest, _patterns(manifest)))
            elif group == FLUX_GROUP and manifest.ref.kind == "Kustomization":
                self.flux.append(Syncer(manifest, _patterns(manifest)))
        self._argo = _FolderIndex(self.argo)
        self._flux = _FolderIndex(self.flux)

    def argo_of(self, manifest: Manifest) -> list[Syncer]:
        """The Applications (and ApplicationSets) that deploy ``manifest``."""
        return self._argo.closest(folder(manifest.file))

    def flux_of(self, manifest: Manifest) -> list[Syncer]:
        """The Kustomizations that deploy ``manifest``."""
        return self._flux.closest(folder(manifest.file))


class _FolderIndex:
    """The syncers that deploy a folder (those of the greatest ``Syncer.depth``), looked up by the folder's suffixes."""

    def __init__(self, syncers: list[Syncer]) -> None:
        self.syncers = syncers
        self.literal: dict[str, list[tuple[int, int]]] = {}
        """A literal pattern (no fnmatch wildcard) -> (syncer position, depth) of each syncer naming it."""
        self.own: dict[str, list[int]] = {}
        """A folder -> the syncers with a root pattern ('' : their own file's folder)."""
        self.wildcard: list[int] = []
        """The syncers with a wildcard pattern that has no literal segment, tried for every folder."""
        self.by_segment: dict[tuple[int, int, str], list[int]] = {}
        """(segments, place from the end, literal segment) of a wildcard pattern -> the syncers with such a pattern."""
        self.found: dict[str, list[Syncer]] = {}
        for position, syncer in enumerate(syncers):
            for pattern in syncer.patterns:
                if not pattern:
                    self.own.setdefault(folder(syncer.manifest.file), []).append(position)
                elif any(character in pattern for character in "*?["):
                    key = _literal_segment(pattern)
                    if key is None:
                        self.wildcard.append(position)
                    else:
                        self.by_segment.setdefault(key, []).append(position)
                else:
                    self.literal.setdefault(pattern, []).append((position, pattern.count("/") + 1))
        self.segment_places = sorted({(wanted, back) for wanted, back, _ in self.by_segment})

    def closest(self, place: str) -> list[Syncer]:
        found = self.found.get(place)
        if found is None:
            found = self.found[place] = self._closest(place)
        return list(found)

    def _closest(self, place: str) -> list[Syncer]:
        depths: dict[int, int] = {position: 0 for position in self.own.get(place, [])}
        segments = place.split("/") if place else []
        for length in range(1, len(segments) + 1):
            for position, depth in self.literal.get("/".join(segments[-length:]), []):
                depths[position] = max(depths.get(position, -1), depth)
        # A wildcard pattern can match only a folder that has its literal segment in the same place.
        candidates = list(self.wildcard)
        for wanted, back in self.segment_places:
            if len(segments) >= wanted:
                candidates += self.by_segment.get((wanted, back, segments[-back]), [])
        for position in dict.fromkeys(candidates):
            depth = self.syncers[position].depth(place)
            if depth >= 0:
                depths[position] = max(depths.get(position, -1), depth)
        best = max(depths.values(), default=-1)
        return [self.syncers[position] for position in sorted(depths) if depths[position] == best >= 0]


def _literal_segment(pattern: str) -> tuple[int, int, str] | None:
    """(segments, place from the end, text) of the last segment of a wildcard ``pattern`` without a wildcard, which a
    folder it matches has in the same place (``Syncer.depth`` matches the folder's last segments, as many as the
    pattern's, and ``*`` or ``?`` taking a slash would leave a literal slash unmatched); None when it has none, or a
    ``[...]`` set, which may hold a slash."""
    if "[" in pattern:
        return None
    segments = pattern.split("/")
    for back in range(1, len(segments) + 1):
        if not any(character in segments[-back] for character in "*?"):
            return len(segments), back, segments[-back]
    return None
