"""Kubernetes objects together with where they stand in a YAML file.

Manifests are parsed with libyaml (PyYAML's C loader): one composition gives both the
node tree, whose marks hold every line and column, and the plain object built from it.
This is roughly 15x faster than a round-trip parse and keeps exact positions for findings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any

import yaml

from mlgitops.errors import Location, UserError
from mlgitops.yaml.ambiguity import kubectl_key, kubectl_value, pyyaml_reading
from mlgitops.yaml.reader import AmbiguousText, compose_all, load_documents

if TYPE_CHECKING:
    from mlgitops.kube.pods import PodTemplate

PathSegment = str | int
FieldPath = tuple[PathSegment, ...]


@dataclass(frozen=True, order=True)
class ObjectRef:
    """Identifies one Kubernetes object as `kubectl get` would."""

    api_version: str
    kind: str
    namespace: str
    name: str
    generate_name: str = field(default="", compare=False)
    """``metadata.generateName``: the prefix the API server completes when ``name`` is empty."""

    def __str__(self) -> str:
        """``Kind namespace/name`` as kubectl prints it; ``prefix*`` for an object named by ``generateName``."""
        where = f"{self.namespace}/" if self.namespace else ""
        name = self.name or (f"{self.generate_name}*" if self.generate_name else "(no name)")
        return f"{self.kind} {where}{name}"


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
            generate_name=str(metadata.get("generateName") or ""),
        )

    @property
    def namespace(self) -> str:
        """The namespace the object lands in, for matching objects with each other: its own, or ``default``.

        kubectl applies an object without a namespace to its context's namespace, ``default``
        unless configured otherwise, so a pod without one and a Secret in ``default`` meet.
        Messages show ``ref.namespace`` as written.
        """
        return self.ref.namespace or "default"

    @cached_property
    def pod_templates(self) -> list[PodTemplate]:
        """The object's pod templates (``kube.pods.pod_templates``), found once: every rule asks for them."""
        from mlgitops.kube.pods import pod_templates

        return pod_templates(self.obj)

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

    def written(self, path: Sequence[PathSegment]) -> str | None:
        """The scalar at ``path`` as the file spells it (quotes included when quoted), or None for no scalar there."""
        node = self._root()
        for segment in path:
            if isinstance(node, yaml.MappingNode):
                node = _mapping_value(node, str(segment))
            elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and 0 <= segment < len(node.value):
                node = node.value[segment]
            else:
                return None
        if not isinstance(node, yaml.ScalarNode):
            return None
        if node.style in ("'", '"'):
            return f"{node.style}{node.value}{node.style}"
        return str(node.value)

    def locate(self, path: Sequence[PathSegment], *, key: bool = False) -> Location:
        """The position of the field at ``path``, or of its nearest existing parent.

        With ``key=True`` the position of a mapping key is returned rather than its value
        (the place to point at for a field that must not be there).
        """
        node = self._root()
        if node is None:
            return Location(self.file, 1, 1)
        mark = node.start_mark
        key_mark = None
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
                        key_mark = key_node.start_mark
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and 0 <= segment < len(node.value):
                found = node.value[segment]
                key_mark = None
            if found is None:
                if key and key_mark is not None:
                    mark = key_mark  # a field missing below one that exists: point at the key that does
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
    return read_manifests(text, file, strict=True).manifests


@dataclass
class ManifestsRead:
    """The objects of one file, and how many of its documents were not Kubernetes objects (when not strict)."""

    manifests: list[Manifest] = field(default_factory=list)
    skipped: int = 0


def is_object(document: Any) -> bool:
    """Whether a YAML document is a Kubernetes object: a mapping with text ``apiVersion`` and ``kind``."""
    return isinstance(document, dict) and all(isinstance(document.get(k), str) and document[k] for k in ("apiVersion", "kind"))


def read_manifests(text: str, file: str, *, strict: bool) -> ManifestsRead:
    """The Kubernetes objects of a YAML file. ``strict``: any other document is a located error;
    otherwise such documents (a CI workflow, Helm values, package.json) are skipped and counted.
    Invalid YAML is an error either way."""
    read = ManifestsRead()
    manifests = read.manifests
    ambiguous: list[AmbiguousText] = []
    for index, obj in enumerate(load_documents(text, file, ambiguous)):
        if obj is None:
            continue
        if not strict and not is_object(obj):
            read.skipped += 1
            continue
        as_kubectl_reads(obj, [found for found in ambiguous if found.document == index])
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
    return read


def as_kubectl_reads(document: Any, found: Sequence[AmbiguousText]) -> None:
    """Give the plain scalars YAML readers disagree on the value kubectl sends (``1:30`` stays text, ``y`` is true).

    PyYAML built ``document``; the API server receives what Go's YAML 1.1 reader makes of the
    same text, so that is what schemas and rules must judge. Keys become the strings kubectl
    turns them into.
    """
    for item in found:
        parent = _container_at(document, item.path[:-1])
        if not isinstance(parent, (dict, list)):
            continue
        wanted = pyyaml_reading(item.text).value
        if item.key and isinstance(parent, dict) and wanted in parent:
            renamed = kubectl_key(item.text)
            entries = [(renamed if key == wanted else key, value) for key, value in parent.items()]
            parent.clear()
            parent.update(entries)
        elif not item.key:
            last = item.path[-1] if item.path else None
            in_mapping = isinstance(parent, dict) and last in parent
            in_list = isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent)
            if in_mapping or in_list:
                parent[last] = kubectl_value(item.text)  # type: ignore[index]


def _container_at(document: Any, path: FieldPath) -> Any:
    node = document
    for segment in path:
        if isinstance(node, dict):
            node = next((value for key, value in node.items() if str(key) == str(segment) or key == segment), None)
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            node = node[segment]
        else:
            return None
    return node


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
