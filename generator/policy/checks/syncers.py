"""Which Argo CD Application or Flux Kustomization among the manifests deploys a given manifest.

Both name a folder of their source repository (an Application's ``spec.source.path`` or each ``spec.sources[].path``,
an ApplicationSet's git ``directories``, a Kustomization's ``spec.path``); lint does not know where the repository's
root is, so a manifest is deployed by the object whose folder its own folder ends with (the longest such folder
wins: rendered/prod/cluster is not rendered/prod's). A root folder ('.', './') means the folder the GitOps object's
own file is in.
"""

from __future__ import annotations

import posixpath
import re
from collections import Counter
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
    excluded: tuple[tuple[str, ...], ...] = ()
    """For each of ``patterns``, the folders its ApplicationSet git generator excludes (``exclude: true``; empty: none).
    Argo CD: "exclude rules take precedence over include rules" (argo-cd docs/operator-manual/applicationset/
    Generators-Git.md, Exclude directories): a folder one of them matches is not deployed through that generator. Both
    are matched against the folder's path in the repository with Go's path.Match, whose ``*`` takes no '/': an exclude
    applies to the path the include matched when it has as many segments and matches it."""

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
        for index, pattern in enumerate(self.patterns):
            depth = _matched(pattern, place, segments, self.manifest.file)
            if depth > best and not any(_matched(other, place, segments, "") == depth > 0 for other in self._excludes(index)):
                best = depth
        return best

    def _excludes(self, index: int) -> tuple[str, ...]:
        return self.excluded[index] if index < len(self.excluded) else ()


def _matched(pattern: str, place: str, segments: list[str], own_file: str) -> int:
    """How many of folder ``place``'s last segments (``segments``) ``pattern`` matches (-1: none; 0: the root pattern
    '' and ``place`` is the folder of ``own_file``)."""
    if not pattern:
        return 0 if own_file and place == folder(own_file) else -1
    wanted = pattern.count("/") + 1
    return wanted if len(segments) >= wanted and fnmatchcase("/".join(segments[-wanted:]), pattern) else -1


def _syncer(manifest: Manifest) -> Syncer:
    """The syncer of a Kustomization (its path), an Application (each source's path) or an ApplicationSet (its git
    generators' directories, each with the ones its generator excludes)."""
    kind, spec = manifest.ref.kind, mapping(manifest.obj.get("spec"))
    if kind == "Kustomization":
        path = spec.get("path")
        return Syncer(manifest, (_normal(path) if isinstance(path, str) else "",))
    if kind == "Application":
        sources = [mapping(spec.get("source")), *[mapping(s) for s in spec.get("sources") or [] if isinstance(s, dict)]]
        return Syncer(manifest, tuple(_normal(str(s["path"])) for s in sources if isinstance(s.get("path"), str)))
    found: list[str] = []
    excluded: list[tuple[str, ...]] = []
    for generator in spec.get("generators") or []:
        directories = [d for d in value_at(generator, ("git", "directories")) or [] if isinstance(d, dict)]
        paths = [(_normal(d["path"]), bool(d.get("exclude"))) for d in directories if isinstance(d.get("path"), str)]
        excludes = tuple(path for path, exclude in paths if exclude)
        for path, exclude in paths:
            if not exclude:
                found.append(path)
                excluded.append(excludes)
    return Syncer(manifest, tuple(found), tuple(excluded) if any(excluded) else ())


class Syncers:
    """The Argo CD Applications and ApplicationSets and the Flux Kustomizations among the manifests.

    Which of them deploy a folder is worked out once per folder, through an index of their folder patterns (literal
    ones by their text, wildcard ones by a literal part a matching folder must have): a fleet of many shards has
    about as many Kustomizations or ApplicationSets as folders, and trying every one for every folder grew with
    their product.
    """

    def __init__(self, manifests: list[Manifest]) -> None:
        self.argo: list[Syncer] = []
        self.flux: list[Syncer] = []
        for manifest in manifests:
            group = str(manifest.obj.get("apiVersion", "")).rpartition("/")[0]
            if group == ARGO_GROUP and manifest.ref.kind in ("Application", "ApplicationSet"):
                self.argo.append(_syncer(manifest))
            elif group == FLUX_GROUP and manifest.ref.kind == "Kustomization":
                self.flux.append(_syncer(manifest))
        self._argo = _FolderIndex(self.argo)
        self._flux = _FolderIndex(self.flux)

    def argo_of(self, manifest: Manifest) -> list[Syncer]:
        """The Applications (and ApplicationSets) that deploy ``manifest``."""
        return self._argo.closest(folder(manifest.file))

    def flux_of(self, manifest: Manifest) -> list[Syncer]:
        """The Kustomizations that deploy ``manifest``."""
        return self._flux.closest(folder(manifest.file))


Key = tuple[int, int, str, str]
"""(segments of a wildcard pattern, place from the end, 'segment' | 'prefix' | 'suffix', text) of a literal part of
one of its segments, which a folder it matches has in the same place."""


class _FolderIndex:
    """The syncers that deploy a folder (those of the greatest ``Syncer.depth``), looked up by the folder's suffixes.

    A wildcard pattern is filed under the rarest of its keys (``_keys``: fewest patterns sharing it, as
    ``kube.label_selection.rarest`` judges a selector by its rarest label), so a folder tries only the patterns filed
    under one of its own keys: ApplicationSets of ``team-N-*/prod`` all share the segment prod but not the prefix
    team-N-. The patterns with no key (``*``, ``*/?``) or a slash that may be in a ``[...]`` set are tried for every
    folder.
    """

    def __init__(self, syncers: list[Syncer]) -> None:
        self.syncers = syncers
        self.literal: dict[str, list[tuple[int, int]]] = {}
        """A literal pattern (no fnmatch wildcard) -> (syncer position, depth) of each syncer naming it."""
        self.own: dict[str, list[int]] = {}
        """A folder -> the syncers with a root pattern ('' : their own file's folder)."""
        self.wildcard: list[int] = []
        """The syncers with a wildcard pattern that has no key (or cannot be split at its slashes), tried for every folder."""
        self.by_key: dict[Key, list[int]] = {}
        """The rarest key of a wildcard pattern -> the syncers with such a pattern."""
        self.found: dict[str, list[Syncer]] = {}
        keyed: list[tuple[int, list[Key]]] = []
        for position, syncer in enumerate(syncers):
            for pattern in syncer.patterns:
                if not pattern:
                    self.own.setdefault(folder(syncer.manifest.file), []).append(position)
                elif any(character in pattern for character in "*?["):
                    keys = _keys(pattern)
                    if keys:
                        keyed.append((position, keys))
                    else:
                        self.wildcard.append(position)
                else:
                    self.literal.setdefault(pattern, []).append((position, pattern.count("/") + 1))
        sharing = Counter(key for _, keys in keyed for key in set(keys))
        for position, keys in keyed:
            self.by_key.setdefault(min(keys, key=sharing.__getitem__), []).append(position)
        self.places: dict[tuple[int, int], tuple[list[int], list[int]]] = {}
        """(segments, place from the end) -> the lengths of the prefixes and of the suffixes filed at that place."""
        for wanted, back, kind, text in self.by_key:
            prefixes, suffixes = self.places.setdefault((wanted, back), ([], []))
            lengths = prefixes if kind == "prefix" else suffixes if kind == "suffix" else None
            if lengths is not None and len(text) not in lengths:
                lengths.append(len(text))

    def closest(self, place: str) -> list[Syncer]:
        found = self.found.get(place)
        if found is None:
            found = self.found[place] = self._closest(place)
        return list(found)

    def _closest(self, place: str) -> list[Syncer]:
        segments = place.split("/") if place else []
        # A syncer that excludes folders is judged whole by ``depth``, which minds them.
        candidates = list(self.wildcard)
        depths: dict[int, int] = {}
        for position in self.own.get(place, []):
            if self.syncers[position].excluded:
                candidates.append(position)
            else:
                depths[position] = 0
        for length in range(1, len(segments) + 1):
            for position, depth in self.literal.get("/".join(segments[-length:]), []):
                if self.syncers[position].excluded:
                    candidates.append(position)
                else:
                    depths[position] = max(depths.get(position, -1), depth)
        # A wildcard pattern can match only a folder that has its rarest key: try the folder's own keys.
        for (wanted, back), (prefixes, suffixes) in self.places.items():
            if len(segments) < wanted:
                continue
            segment = segments[-back]
            candidates += self.by_key.get((wanted, back, "segment", segment), [])
            for length in prefixes:
                if length <= len(segment):
                    candidates += self.by_key.get((wanted, back, "prefix", segment[:length]), [])
            for length in suffixes:
                if length <= len(segment):
                    candidates += self.by_key.get((wanted, back, "suffix", segment[len(segment) - length :]), [])
        for position in dict.fromkeys(candidates):
            depth = self.syncers[position].depth(place)
            if depth >= 0:
                depths[position] = max(depths.get(position, -1), depth)
        best = max(depths.values(), default=-1)
        return [self.syncers[position] for position in sorted(depths) if depths[position] == best >= 0]


_PREFIX = re.compile(r"[^*?\[]*")
_SUFFIX = re.compile(r"[^*?\[\]]*\Z")


def _keys(pattern: str) -> list[Key]:
    """The literal parts a folder must have for wildcard ``pattern`` to match it (none: it may match any folder).

    For each segment (split at '/'): the segment itself when it has none of ``*?[``, else its text before the first
    ``*``, ``?`` or ``[`` and after the last ``*``, ``?``, ``[`` or ``]`` (when not empty). Each is necessary:
    ``Syncer.depth`` matches the pattern against the folder's last ``pattern.count('/') + 1`` segments joined by '/',
    which hold exactly as many slashes as the pattern. When every slash of the pattern is a literal one, each takes
    one of them, so no ``*``, ``?`` or set takes a slash and the segments match one to one; a segment's characters
    before its first wildcard and after its last (a set ends at a ']') are literal, matched at its two ends. A slash
    in a ``[...]`` set (fnmatch: after '[', an optional '!', an optional ']', up to the next ']') is no literal one:
    such a pattern, or one with an unclosed '[' before a slash, gets no keys (tried for every folder).
    """
    for start, character in enumerate(pattern):
        if character == "[":
            end = start + 1 + pattern.startswith("!", start + 1)
            end += pattern.startswith("]", end)
            close = pattern.find("]", end)
            if "/" in pattern[start + 1 : close if close >= 0 else len(pattern)]:
                return []
    segments = pattern.split("/")
    keys: list[Key] = []
    for back in range(1, len(segments) + 1):
        segment = segments[-back]
        if not any(character in segment for character in "*?["):
            keys.append((len(segments), back, "segment", segment))
            continue
        prefix, suffix = _PREFIX.match(segment), _SUFFIX.search(segment)
        if prefix and prefix.group():
            keys.append((len(segments), back, "prefix", prefix.group()))
        if suffix and suffix.group():
            keys.append((len(segments), back, "suffix", suffix.group()))
    return keys
