"""Kubernetes objects together with where they stand in a YAML file.

Manifests are parsed with libyaml (PyYAML's C loader): one composition gives both the
node tree, whose marks hold every line and column, and the plain object built from it.
This is roughly 15x faster than a round-trip parse and keeps exact positions for findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import yaml

from generator.errors import Location, UserError
from generator.yaml.reader import AmbiguousText, compose_all, load_documents

PathSegment = str | int
FieldPath = tuple[PathSegment, ...]


@dataclass(frozen=True, order=True)
class ObjectRef:
    """Identifies one Kubernetes object as `kubectl get` would."""

    api_version: str
    kind: str
    namespace: str
    name: str

    def __str__(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"


@dataclass
class Manifest:
    """One Kubernetes object, the file it lives in, and how to find any field's position.

    ``node`` is the composed YAML node of the object. Rendered objects carry ``text``
    instead, composed only when a position is asked for, so a clean run pays nothing.
    ``source`` is the environment-file line that produced a rendered object.
    """

    obj: dict[str, Any]
    file: str
    document: int = 0
    node: yaml.Node | None = None
    text: str | None = None
    source: Location | None = None
    environment: str | None = None
    base_path: FieldPath = ()
    """Where the object sits inside its document (a `kind: List` item), for locating from ``text``."""
    ambiguous: tuple[AmbiguousText, ...] = ()
    """Plain values written so that kubectl reads a number or boolean where we read text (paths within the object)."""
    _composed: bool = field(default=False, repr=False)

    @cached_property
    def ref(self) -> ObjectRef:
        metadata = self.obj.get("metadata")
        metadata = metadata if isinstance(metadata, dict) else {}
        return ObjectRef(
            api_version=str(self.obj.get("apiVersion", "")),
            kind=str(self.obj.get("kind", "")),
            namespace=str(metadata.get("namespace") or ""),
            name=str(metadata.get("name") or ""),
        )

    def _root(self) -> yaml.Node | None:
        if self.node is None and self.text is not None and not self._composed:
            self._composed = True
            documents = compose_all(self.text)
            node: yaml.Node | None = documents[self.document] if self.document < len(documents) else None
            for segment in self.base_path:
                if isinstance(node, yaml.MappingNode):
                    node = _mapping_value(node, str(segment))
                elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and segment < len(node.value):
                    node = node.value[segment]
            self.node = node
        return self.node

    def locate(self, path: Sequence[PathSegment], *, key: bool = False) -> Location:
        """The position of the field at ``path``, or of its nearest existing parent.

        With ``key=True`` the position of a mapping key is returned rather than its value
        (the place to point at for a field that must not be there).
        """
        node = self._root()
        if node is None:
            return Location(self.file, 1, 1)
        mark = node.start_mark
        for index, segment in enumerate(path):
            last = index == len(path) - 1
            found: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(segment):
                        found = value_node
                        if last and key:
                            mark = key_node.start_mark
                            return Location(self.file, mark.line + 1, mark.column + 1)
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and 0 <= segment < len(node.value):
                found = node.value[segment]
            if found is None:
                break
            node = found
            mark = node.start_mark
        return Location(self.file, mark.line + 1, mark.column + 1)


def load_manifests(text: str, file: str) -> list[Manifest]:
    """Parse a (multi-document) YAML file of Kubernetes objects, skipping empty documents.

    A document that is not a mapping with ``apiVersion`` and ``kind`` is a located error.
    A ``kind: List`` is unpacked into its items. Objects come from the fast reader; a position
    is found (by composing the text again) only for an error or a finding.
    """
    manifests: list[Manifest] = []
    ambiguous: list[AmbiguousText] = []
    for index, obj in enumerate(load_documents(text, file, ambiguous)):
        if obj is None:
            continue
        if not isinstance(obj, dict):
            shape = "list" if isinstance(obj, list) else "text value" if isinstance(obj, str) else "plain value"
            raise UserError(f"document {index + 1} is a {shape}, not a Kubernetes object mapping", _start(text, file, index, ()))
        if obj.get("kind") == "List" and isinstance(obj.get("items"), list):
            for item_index, item in enumerate(obj["items"]):
                manifests.append(_checked(item, file, index, text, ("items", item_index)))
            continue
        manifests.append(_checked(obj, file, index, text, ()))
    for found in ambiguous:
        _attach(found, manifests)
    return manifests


def _start(text: str, file: str, document: int, base_path: FieldPath) -> Location:
    """Where the object at ``base_path`` of document ``document`` starts (composes the text: error paths only)."""
    return Manifest(obj={}, file=file, document=document, text=text, base_path=base_path).locate(())


def _attach(found: AmbiguousText, manifests: list[Manifest]) -> None:
    for manifest in manifests:
        prefix = manifest.base_path
        if manifest.document == found.document and found.path[: len(prefix)] == prefix and len(found.path) > len(prefix):
            relative = replace(found, path=found.path[len(prefix) :])
            manifest.ambiguous = (*manifest.ambiguous, relative)
            return


def _mapping_value(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                found: yaml.Node = value_node
                return found
    return None


def _checked(obj: Any, file: str, index: int, text: str, base_path: FieldPath) -> Manifest:
    # Node trees of a whole fleet take hundreds of MB: a manifest keeps its file's text and composes
    # it again only when a position is asked for.
    if not isinstance(obj, dict):
        raise UserError("expected a Kubernetes object (a mapping)", _start(text, file, index, base_path))
    for required in ("apiVersion", "kind"):
        if not isinstance(obj.get(required), str) or not obj[required]:
            raise UserError(
                f"document {index + 1} has no '{required}': every Kubernetes object needs apiVersion and kind",
                _start(text, file, index, base_path),
            )
    return Manifest(obj=obj, file=file, document=index, text=text, base_path=base_path)
