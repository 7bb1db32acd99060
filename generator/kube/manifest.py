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
from mlgitops.yaml.positions import TextPositions
from mlgitops.yaml.reader import AmbiguousText, load_documents

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
    positions: TextPositions | None = field(default=None, repr=False, compare=False)
    """Shared by the objects of one file: each of its documents composed once, for every finding in it."""
    _composed: bool = field(default=False, repr=False)
    _line_offset: int = field(default=0, repr=False)

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

    @cached_property
    def pod_templates_at(self) -> dict[FieldPath, PodTemplate]:
        """``pod_templates`` by path (the first at each), made once: checks look each template's containers and metadata
        up by its path, and a JobSet or RayCluster of thousands of templates made that quadratic."""
        found: dict[FieldPath, PodTemplate] = {}
        for template in self.pod_templates:
            found.setdefault(template.path, template)
        return found

    @cached_property
    def placeholders(self) -> list[tuple[FieldPath, str]]:
        """The object's unfilled placeholders (``kube.placeholders.placeholders``), found once: rule ``placeholder``
        reports them and every other rule's findings about them are dropped."""
        from mlgitops.kube.placeholders import placeholders

        return list(placeholders(self.obj))

    def _root(self) -> tuple[yaml.Node | None, int]:
        """The object's node and the lines of the file before its document's text (marks count from there)."""
        if self.node is not None:
            return self.node, self._line_offset
        if self.text is None or self._composed:
            return None, 0
        self._composed = True
        if self.positions is None or self.positions.text is not self.text:
            self.positions = TextPositions(self.text)
        node, self._line_offset = self.positions.document(self.document)
        for segment in self.base_path:
            node = self.positions.child(node, segment)[0]
        self.node = node
        return node, self._line_offset

    def _child(self, node: yaml.Node | None, segment: PathSegment) -> tuple[yaml.Node | None, yaml.Node | None]:
        if self.positions is not None:
            return self.positions.child(node, segment)
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if isinstance(key_node, yaml.ScalarNode) and key_node.value == str(segment):
                    return value_node, key_node
            return None, None
        if isinstance(node, yaml.SequenceNode) and isinstance(segment, int) and 0 <= segment < len(node.value):
            return node.value[segment], None
        return None, None

    def written(self, path: Sequence[PathSegment]) -> str | None:
        """The scalar at ``path`` as the file spells it (quotes included when quoted), or None for no scalar there."""
        node = self._root()[0]
        for segment in path:
            node = self._child(node, segment)[0]
            if node is None:
                return None
        if not isinstance(node, yaml.ScalarNode):
            return None
        if node.style in ("'", '"'):
            return f"{node.style}{node.value}{node.style}"
        return str(node.value)

    def locate(self, path: Sequence[PathSegment], *, key: bool = False) -> Location:
        """The position of the field at ``path``, or of its nearest existing parent.

        With ``key=True`` the position of a mapping key is returned rather than its value
        (the place to point at for a field that must not be there). One lookup per segment of
        ``path`` (``yaml.positions``): the cost does not grow with the object or the file.
        """
        node, lines = self._root()
        if node is None:
            return Location(self.file, 1, 1)
        mark = node.start_mark
        key_mark = None
        for index, segment in enumerate(path):
            found, key_node = self._child(node, segment)
            if found is None:
                if key and key_mark is not None:
                    mark = key_mark  # a field missing below one that exists: point at the key that does
                break
            if key_node is not None:
                if key and index == len(path) - 1:
                    mark = key_node.start_mark
                    break
                key_mark = key_node.start_mark
            else:
                key_mark = None
            node = found
            mark = node.start_mark
        return Location(self.file, mark.line + lines + 1, mark.column + 1)


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
    positions = TextPositions(text)
    documents = load_documents(text, file, ambiguous)
    by_document: dict[int, list[AmbiguousText]] = {}
    for found in ambiguous:
        by_document.setdefault(found.document, []).append(found)
    for index, obj in enumerate(documents):
        if obj is None:
            continue
        if not strict and not is_object(obj):
            read.skipped += 1
            continue
        as_kubectl_reads(obj, by_document.get(index, ()))
        if not isinstance(obj, dict):
            shape = "list" if isinstance(obj, list) else "text value" if isinstance(obj, str) else "plain value"
            raise UserError(
                f"document {index + 1} is a {shape}, not a Kubernetes object mapping", _start(positions, file, index, ())
            )
        if obj.get("kind") == "List" and isinstance(obj.get("items"), list):
            for item_index, item in enumerate(obj["items"]):
                manifests.append(_checked(item, file, index, positions, ("items", item_index)))
            continue
        manifests.append(_checked(obj, file, index, positions, ()))
    _attach(by_document, manifests)
    return read


def as_kubectl_reads(document: Any, found: Sequence[AmbiguousText]) -> None:
    """Give the plain scalars YAML readers disagree on the value kubectl sends (``1:30`` stays text, ``y`` is true).

    PyYAML built ``document``; the API server receives what Go's YAML 1.1 reader makes of the
    same text, so that is what schemas and rules must judge. Keys become the strings kubectl
    turns them into.
    """
    text_keys: dict[int, bool] = {}
    renamed: dict[int, dict[Any, str]] = {}
    parents: dict[int, dict[Any, Any]] = {}
    for item in found:
        parent = _container_at(document, item.path[:-1], text_keys)
        if not isinstance(parent, (dict, list)):
            continue
        wanted = pyyaml_reading(item.text).value
        if item.key and isinstance(parent, dict) and wanted in parent:
            # Renamed together, once per mapping, after the walk: one rebuild however many keys kubectl reads otherwise.
            renamed.setdefault(id(parent), {})[wanted] = kubectl_key(item.text)
            parents[id(parent)] = parent
        elif not item.key:
            last = item.path[-1] if item.path else None
            in_mapping = isinstance(parent, dict) and last in parent
            in_list = isinstance(parent, list) and isinstance(last, int) and 0 <= last < len(parent)
            if in_mapping or in_list:
                parent[last] = kubectl_value(item.text)  # type: ignore[index]
    for key, renames in renamed.items():
        _rename(parents[key], renames)


def _rename(parent: dict[Any, Any], renames: dict[Any, str]) -> None:
    """Rename keys of ``parent`` (order kept); a new name that is itself renamed or taken is renamed one by one."""
    if any(new in renames or new in parent for new in renames.values()):
        for wanted, new in renames.items():
            entries = [(new if key == wanted else key, value) for key, value in parent.items()]
            parent.clear()
            parent.update(entries)
        return
    entries = [(renames.get(key, key), value) for key, value in parent.items()]
    parent.clear()
    parent.update(entries)


def _container_at(document: Any, path: FieldPath, text_keys: dict[int, bool]) -> Any:
    """The container at ``path``: in a mapping the first key written as the segment (a dictionary lookup
    when every key of the mapping is text, remembered in ``text_keys``; a scan otherwise)."""
    node = document
    for segment in path:
        if isinstance(node, dict):
            if type(segment) is str and segment in node:
                plain = text_keys.get(id(node))
                if plain is None:
                    plain = text_keys[id(node)] = all(type(key) is str for key in node)
                if plain:
                    node = node[segment]
                    continue
            node = next((value for key, value in node.items() if str(key) == str(segment) or key == segment), None)
        elif isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node):
            node = node[segment]
        else:
            return None
    return node


def _start(positions: TextPositions, file: str, document: int, base_path: FieldPath) -> Location:
    """Where the object at ``base_path`` of document ``document`` starts (composes the document: error paths only)."""
    start = Manifest(obj={}, file=file, document=document, text=positions.text, base_path=base_path, positions=positions)
    return start.locate(())


def _attach(by_document: dict[int, list[AmbiguousText]], manifests: list[Manifest]) -> None:
    """Give each manifest the ambiguous values within it (paths made relative), each found once."""
    of_document: dict[int, list[Manifest]] = {}
    for manifest in manifests:
        of_document.setdefault(manifest.document, []).append(manifest)
    for document, found in by_document.items():
        candidates = of_document.get(document, [])
        # The first manifest (in order) whose base path starts the value's path: looked up per base-path length.
        by_prefix: dict[int, dict[FieldPath, int]] = {}
        for position, manifest in enumerate(candidates):
            by_prefix.setdefault(len(manifest.base_path), {}).setdefault(manifest.base_path, position)
        attached: dict[int, list[AmbiguousText]] = {}
        for item in found:
            matches = [
                at
                for length, prefixes in by_prefix.items()
                if len(item.path) > length and (at := prefixes.get(item.path[:length])) is not None
            ]
            if matches:
                owner = min(matches)
                prefix = candidates[owner].base_path
                attached.setdefault(owner, []).append(replace(item, path=item.path[len(prefix) :]))
        for position, relative in attached.items():
            candidates[position].ambiguous = (*candidates[position].ambiguous, *relative)


def _checked(obj: Any, file: str, index: int, positions: TextPositions, base_path: FieldPath) -> Manifest:
    # Node trees of a whole fleet take hundreds of MB: a manifest keeps its file's text, and the
    # positions shared by the file's objects compose a document only when a position in it is asked for.
    if not isinstance(obj, dict):
        raise UserError("expected a Kubernetes object (a mapping)", _start(positions, file, index, base_path))
    for required in ("apiVersion", "kind"):
        if not isinstance(obj.get(required), str) or not obj[required]:
            raise UserError(
                f"document {index + 1} has no '{required}': every Kubernetes object needs apiVersion and kind",
                _start(positions, file, index, base_path),
            )
    return Manifest(obj=obj, file=file, document=index, text=positions.text, base_path=base_path, positions=positions)
