"""Kubernetes objects together with where they stand in a YAML file.

Manifests are parsed with libyaml (PyYAML's C loader): one composition gives both the
node tree, whose marks hold every line and column, and the plain object built from it.
This is roughly 15x faster than a round-trip parse and keeps exact positions for findings.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import yaml

from generator.errors import Location, UserError

try:
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing from this PyYAML build
    _Loader = yaml.SafeLoader

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
            documents = list(yaml.compose_all(self.text, Loader=_Loader))
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


def _problem_location(error: yaml.MarkedYAMLError, file: str) -> Location:
    mark = error.problem_mark or error.context_mark
    if mark is None:
        return Location(file, 1, 1)
    return Location(file, mark.line + 1, mark.column + 1)


def yaml_error(error: yaml.YAMLError, file: str) -> UserError:
    """Turn a PyYAML error into a located one-line user error."""
    if isinstance(error, yaml.MarkedYAMLError):
        problem = error.problem or error.context or "invalid YAML"
        if "could not determine a constructor" in problem:
            problem = f"unsupported YAML tag ({problem.split('tag ')[-1]}); only plain YAML is accepted"
        return UserError(f"invalid YAML: {problem}", _problem_location(error, file))
    return UserError(f"invalid YAML: {error}", Location(file, 1, 1))


def iter_documents(text: str, file: str) -> Iterator[tuple[int, yaml.Node, Any]]:
    """Yield (document index, node, constructed object) for each document of ``text``.

    Only YAML's safe tags are constructed; anything else is a located error.
    """
    loader = _Loader(text)
    anchors = "&" in text
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - libyaml yields None only at stream end
                break
            check_node(node, file, anchors)
            yield index, node, loader.construct_document(node)
            index += 1
    except yaml.YAMLError as error:
        raise yaml_error(error, file) from None
    except RecursionError:
        raise UserError(f"YAML nested more than {MAX_DEPTH} levels deep", Location(file, 1, 1)) from None
    finally:
        loader.dispose()


MAX_DEPTH = 100
MAX_EXPANDED_NODES = 1_000_000


def check_node(root: yaml.Node, file: str, anchors: bool) -> None:
    """Refuse duplicate keys, documents nested absurdly deep, and aliases that expand without bound.

    PyYAML keeps the last of two equal keys silently; Kubernetes tooling disagrees on which
    wins, so a duplicate is an error here. The walk is iterative: a hostile document cannot
    exhaust the Python stack.
    """
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            mark = node.start_mark
            raise UserError(f"YAML nested more than {MAX_DEPTH} levels deep", Location(file, mark.line + 1, mark.column + 1))
        if anchors:
            if id(node) in seen:
                continue  # an alias: its target is checked once; its expansion is measured below
            seen.add(id(node))
        if isinstance(node, yaml.MappingNode):
            keys: dict[str, yaml.Node] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode):
                    if key_node.value in keys and key_node.tag == keys[key_node.value].tag:
                        mark = key_node.start_mark
                        first = keys[key_node.value].start_mark.line + 1
                        raise UserError(
                            f"duplicate key {key_node.value!r} (first at line {first}): each key may appear once",
                            Location(file, mark.line + 1, mark.column + 1),
                        )
                    keys[key_node.value] = key_node
                stack.append((value_node, depth + 1))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)
    if anchors and _expanded_size(root) > MAX_EXPANDED_NODES:
        mark = root.start_mark
        raise UserError(
            f"aliases expand this document to more than {MAX_EXPANDED_NODES:,} values (an alias bomb?); "
            "write the values out instead",
            Location(file, mark.line + 1, mark.column + 1),
        )


def _expanded_size(root: yaml.Node) -> int:
    """How many nodes the document would have with every alias written out (memoised per node)."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in sizes:
            continue
        sizes[id(node)] = -1
        order.append(node)
        if isinstance(node, yaml.MappingNode):
            stack.extend(child for pair in node.value for child in pair)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    for node in reversed(order):
        children: list[yaml.Node] = []
        if isinstance(node, yaml.MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, yaml.SequenceNode):
            children = list(node.value)
        sizes[id(node)] = min(MAX_EXPANDED_NODES + 1, 1 + sum(max(sizes[id(c)], 1) for c in children))
    return sizes[id(root)]


def load_manifests(text: str, file: str) -> list[Manifest]:
    """Parse a (multi-document) YAML file of Kubernetes objects, skipping empty documents.

    A document that is not a mapping with ``apiVersion`` and ``kind`` is a located error.
    A ``kind: List`` is unpacked into its items.
    """
    manifests: list[Manifest] = []
    for index, node, obj in iter_documents(text, file):
        if obj is None:
            continue
        where = Location(file, node.start_mark.line + 1, node.start_mark.column + 1)
        if not isinstance(obj, dict):
            shape = "list" if isinstance(obj, list) else "text value" if isinstance(obj, str) else "plain value"
            raise UserError(f"document {index + 1} is a {shape}, not a Kubernetes object mapping", where)
        if obj.get("kind") == "List" and isinstance(obj.get("items"), list):
            item_nodes = _mapping_value(node, "items")
            for item_index, item in enumerate(obj["items"]):
                item_node = item_nodes.value[item_index] if isinstance(item_nodes, yaml.SequenceNode) else None
                manifests.append(_detached(_checked(item, file, index, item_node, where), text, ("items", item_index)))
            continue
        manifests.append(_detached(_checked(obj, file, index, node, where), text, ()))
    return manifests


def _detached(manifest: Manifest, text: str, base_path: FieldPath) -> Manifest:
    # Node trees of a whole fleet take hundreds of MB; keep the text and compose again only for
    # the few objects that have a finding to locate.
    manifest.node = None
    manifest.text = text
    manifest.base_path = base_path
    return manifest


def _mapping_value(node: yaml.Node, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
                found: yaml.Node = value_node
                return found
    return None


def _checked(obj: Any, file: str, index: int, node: yaml.Node | None, where: Location) -> Manifest:
    if node is not None:
        where = Location(file, node.start_mark.line + 1, node.start_mark.column + 1)
    if not isinstance(obj, dict):
        raise UserError("expected a Kubernetes object (a mapping)", where)
    for required in ("apiVersion", "kind"):
        if not isinstance(obj.get(required), str) or not obj[required]:
            raise UserError(
                f"document {index + 1} has no '{required}': every Kubernetes object needs apiVersion and kind",
                where,
            )
    return Manifest(obj=obj, file=file, document=index, node=node)
