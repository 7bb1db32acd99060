"""Objects a kustomize root builds, pointed back at the files they were written in.

`lint` builds a root whose kustomization transforms objects (patches, prefixes, generators) with
`kubectl kustomize`: the built objects are what the cluster gets, but their lines are in a stream no
file holds. kustomize itself records where each object came from when a kustomization asks for
``buildMetadata: [originAnnotations]``: the root is built through a one-line wrapper kustomization in
a scratch folder that does so (the user's files are never changed), and each object's
``config.kubernetes.io/origin`` annotation (a resource ``path``, or the kustomization a generator is
``configuredIn``) names its file. Findings then point into that file, at the same field of the object
as written (or its nearest parent, when a patch added the field).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

from mlgitops.errors import UserError
from mlgitops.kube.manifest import Manifest, load_manifests

ORIGIN_ANNOTATION = "config.kubernetes.io/origin"
WRAPPER = "resources:\n- {root}\nbuildMetadata: [originAnnotations]\n"
_GENERATORS = ("configMapGenerator", "secretGenerator")


@contextlib.contextmanager
def wrapper(folder: Path) -> Iterator[str | None]:
    """A scratch folder whose kustomization builds ``folder`` with origin annotations; build it while open.

    Yields None where no wrapper can point at ``folder`` (another drive, on Windows): build the
    root itself then. Origin paths in the output are relative to the yielded folder.
    """
    with tempfile.TemporaryDirectory(prefix="mlgitops-kustomize-") as scratch:
        try:
            relative = os.path.relpath(folder.resolve(), scratch)
        except ValueError:
            yield None
            return
        Path(scratch, "kustomization.yaml").write_text(WRAPPER.format(root=json.dumps(relative)), encoding="utf-8")
        yield scratch


def _origin(manifest: Manifest, keep_annotation: bool) -> dict[str, Any] | None:
    metadata = manifest.obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    if not isinstance(annotations, dict) or not isinstance(annotations.get(ORIGIN_ANNOTATION), str):
        return None
    text = annotations[ORIGIN_ANNOTATION] if keep_annotation else annotations.pop(ORIGIN_ANNOTATION)
    if not annotations and not keep_annotation and isinstance(metadata, dict):
        del metadata["annotations"]
    try:
        origin = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return origin if isinstance(origin, dict) else None


class _Written:
    """The objects of one written file, by kind, to find each built object's origin among (``best_match``)."""

    def __init__(self, written: list[Manifest]) -> None:
        self.by_kind: dict[tuple[str, str], list[Manifest]] = {}
        for candidate in written:
            self.by_kind.setdefault((candidate.ref.kind, candidate.ref.api_version), []).append(candidate)
        self._names: dict[tuple[str, str], tuple[dict[str, int], list[int]]] = {}

    def best_match(self, built: Manifest) -> Manifest | None:
        """The written object the built one came from: same kind, and the longest name within the built one's (which
        kustomize prefixed or suffixed; the first such in the file), else the only one of its kind. With many of one
        kind the names are looked up, each part of the built name of a length some name has, longest first: a file of
        thousands of objects of one kind compared every name with every built one."""
        key = (built.ref.kind, built.ref.api_version)
        same_kind = self.by_kind.get(key, [])
        if len(same_kind) <= SCANNED_UP_TO:
            named = [c for c in same_kind if c.ref.name and c.ref.name in built.ref.name]
            if named:
                return max(named, key=lambda candidate: len(candidate.ref.name))
        else:
            if key not in self._names:
                first: dict[str, int] = {}
                for position, candidate in enumerate(same_kind):
                    if candidate.ref.name:
                        first.setdefault(candidate.ref.name, position)
                self._names[key] = (first, sorted({len(name) for name in first}, reverse=True))
            first, lengths = self._names[key]
            name = built.ref.name
            for length in lengths:
                parts = (name[start : start + length] for start in range(len(name) - length + 1))
                found = [first[part] for part in parts if part in first]
                if found:
                    return same_kind[min(found)]
        return same_kind[0] if len(same_kind) == 1 else None


SCANNED_UP_TO = 64
"""Objects of one kind in a written file up to which their names are compared with a built name one by one."""


def point_at_origins(
    manifests: list[Manifest],
    scratch: str,
    read: Callable[[Path], tuple[str, str] | None],
    keep_annotation: bool = False,
) -> int:
    """Move each built manifest onto the file it came from; returns how many were moved.

    ``read(path)`` gives (shown name, text) of a file the linter may read, or None (outside the
    repository, unreadable). The origin annotation is removed from the objects unless the user's own
    kustomization asked for it (``keep_annotation``): then the cluster gets it too.
    """
    parsed: dict[str, tuple[str, str, list[Manifest], _Written] | None] = {}
    moved = 0
    for manifest in manifests:
        origin = _origin(manifest, keep_annotation)
        if origin is None:
            continue
        relative = origin.get("path") or origin.get("configuredIn")
        if not isinstance(relative, str):
            continue
        absolute = os.path.normpath(os.path.join(scratch, relative))
        if absolute not in parsed:
            found = read(Path(absolute))
            try:
                loaded = load_manifests(found[1], found[0]) if found else []
            except UserError:  # a kustomization.yaml is not a list of objects; generators are found below
                loaded = []
            parsed[absolute] = (found[0], found[1], loaded, _Written(loaded)) if found else None
        entry = parsed[absolute]
        if entry is None:
            continue
        shown, text, written, index = entry
        if "path" in origin:
            match = index.best_match(manifest)
            if match is None:
                continue
            document, base_path = match.document, match.base_path
        else:
            document, base_path = 0, _generator_path(text, manifest.ref.name)
        manifest.file, manifest.text, manifest.node = shown, text, None
        manifest.positions = written[0].positions if written else None
        manifest.document, manifest.base_path, manifest.ambiguous = document, base_path, ()
        manifest._composed = False
        moved += 1
    return moved


def _generator_path(kustomization: str, built_name: str) -> tuple[str | int, ...]:
    """Where in a kustomization the generator of ``built_name`` (name + content hash) is declared."""
    try:
        settings = yaml.safe_load(kustomization)
    except yaml.YAMLError:
        return ()
    if not isinstance(settings, dict):
        return ()
    for key in _GENERATORS:
        entries = settings.get(key)
        if isinstance(entries, list):
            for index, entry in enumerate(entries):
                if isinstance(entry, dict) and isinstance(entry.get("name"), str) and entry["name"] in built_name:
                    return (key, index)
    return ()


__all__ = ["ORIGIN_ANNOTATION", "point_at_origins", "wrapper"]
