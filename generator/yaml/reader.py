"""YAML text to plain Python objects with positions, refusing what Kubernetes tooling reads differently.

libyaml (PyYAML's C parser) composes each document into nodes whose marks keep every line
and column. Turning nodes into objects is where PyYAML spends most of its time: its
constructor is generic (any tag, recursive structures, merge keys) and resolves each plain
scalar's tag with regular expressions. Rendered manifests and environment files use a
handful of tags, so those are built here in one recursive pass that also refuses duplicate
keys and absurd nesting, and anything unusual is handed to PyYAML's own safe constructor,
which keeps its exact semantics. Together this is about twice as fast as ``yaml.safe_load``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from mlgitops.errors import Location, UserError
from mlgitops.yaml.aliases import expanded_size, holding_itself
from mlgitops.yaml.ambiguity import disagree, kubectl_kind, pyyaml_reading
from mlgitops.yaml.engine import fast_path_enabled
from mlgitops.yaml.text import position

try:
    _ParserBase: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing from this PyYAML build
    _ParserBase = yaml.SafeLoader

MAX_DEPTH = 100
MAX_EXPANDED_NODES = 1_000_000
# Documents in one stream: fleets put thousands in a file; millions of empty ones only cost time.
MAX_DOCUMENTS = 100_000

_STR = "tag:yaml.org,2002:str"
_INT = "tag:yaml.org,2002:int"
_BOOL = "tag:yaml.org,2002:bool"
_NULL = "tag:yaml.org,2002:null"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
# Keys PyYAML rewrites while constructing a mapping (`<<` merges, `=` values).
_REWRITTEN_KEY_TAGS = frozenset(("tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"))

# The tag of a plain scalar depends on its text alone (the safe loader has no path resolvers),
# and manifests repeat the same short values (keys, "true", "1", "IfNotPresent") thousands of times.
_PLAIN_TAGS: dict[str, str] = {}
_PLAIN_TAGS_CACHED_LENGTH = 64
_PLAIN_TAGS_LIMIT = 100_000


class _Loader(_ParserBase):  # type: ignore[misc]
    """The safe loader, with plain-scalar tags remembered and the (unused) path resolvers skipped."""

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is ScalarNode and implicit[0]:
            tag = _PLAIN_TAGS.get(value)
            if tag is None:
                tag = super().resolve(kind, value, implicit)
                if len(value) <= _PLAIN_TAGS_CACHED_LENGTH and len(_PLAIN_TAGS) < _PLAIN_TAGS_LIMIT:
                    _PLAIN_TAGS[value] = tag
            return tag
        if kind is ScalarNode:
            return _STR
        return super().resolve(kind, value, implicit)

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def compose_all(text: str) -> list[yaml.Node]:
    """Every document's node tree (positions only; used to locate a field after the fact)."""
    return list(yaml.compose_all(text, Loader=_Loader))


def _location(file: str, mark: Any) -> Location:
    return Location(file, mark.line + 1, mark.column + 1)


def yaml_error(error: yaml.YAMLError, file: str, text: str | None = None) -> UserError:
    """Turn a PyYAML error into a located one-line user error (``text``: what was read, to locate a refused character)."""
    if isinstance(error, yaml.reader.ReaderError) and text is not None:
        # libyaml counts a refused character's position in bytes of the UTF-8 text, PyYAML's Python reader in characters.
        raw = text.encode("utf-8", "surrogatepass")
        offset = error.position
        if _ParserBase is yaml.SafeLoader:  # pragma: no cover - libyaml missing from this PyYAML build
            offset = len(text[:offset].encode("utf-8", "surrogatepass"))
        code = error.character if isinstance(error.character, int) else ord(error.character)
        return UserError(
            f"invalid YAML: character #x{code:04x} is not allowed in YAML; remove it, "
            "or write it as an escape in a double-quoted string",
            Location(file, *position(raw, min(max(offset, 0), len(raw)))),
        )
    if isinstance(error, yaml.MarkedYAMLError):
        problem = error.problem or error.context or "invalid YAML"
        if "could not determine a constructor" in problem:
            problem = f"unsupported YAML tag ({problem.split('tag ')[-1]}); only plain YAML is accepted"
        mark = error.problem_mark or error.context_mark
        return UserError(f"invalid YAML: {problem}", _location(file, mark) if mark is not None else Location(file, 1, 1))
    return UserError(f"invalid YAML: {error}", Location(file, 1, 1))


@dataclass(frozen=True)
class AmbiguousText:
    """A plain scalar that YAML readers read differently (``generator.yaml.ambiguity.readings`` says how)."""

    document: int
    path: tuple[str | int, ...]
    """Field path within the document; for a key, the path of the entry it names."""
    text: str
    """The scalar as written."""
    reading: str
    """What kubectl (Go's YAML 1.1 reader) makes of it: "text", "a number", "a boolean" or "null"."""
    key: bool = False


def iter_documents(text: str, file: str, ambiguous: list[AmbiguousText] | None = None) -> Iterator[tuple[int, yaml.Node, Any]]:
    """Yield (document index, node, constructed object) for each document of ``text``.

    Only YAML's safe tags are constructed; anything else is a located error. With
    ``ambiguous``, plain scalars that PyYAML, Go's YAML 1.1 reader and a YAML 1.2 reader read
    differently are added to it.
    """
    loader = _Loader(text)
    found: list[yaml.Node] | None = [] if ambiguous is not None else None
    # Without anchors no node is shared, so the fast builder needs no alias bookkeeping;
    # documents with anchors (rare in manifests) take PyYAML's constructor after the checks.
    anchors = "&" in text
    try:
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - libyaml yields None only at stream end
                break
            if index >= MAX_DOCUMENTS:
                raise UserError(
                    f"more than {MAX_DOCUMENTS:,} YAML documents in one file; split it", _location(file, node.start_mark)
                )
            try:
                if anchors:
                    check_node(node, file, anchors=True, ambiguous=found)
                    value = loader.construct_document(node)
                else:
                    value = _ObjectBuilder(loader, file, found).build(node, 0)
            except ValueError:  # a plain scalar that looks like a number or date but is none (`0x_`, `2024-02-30`)
                raise _refused_scalar(node, file) from None
            if found:
                assert ambiguous is not None
                ambiguous.extend(_ambiguous_texts(node, found, index))
                found.clear()
            yield index, node, value
            index += 1
    except yaml.YAMLError as error:
        raise yaml_error(error, file, text) from None
    except RecursionError:
        raise UserError(f"YAML nested more than {MAX_DEPTH} levels deep", Location(file, 1, 1)) from None
    finally:
        loader.dispose()


def load_documents(text: str, file: str, ambiguous: list[AmbiguousText] | None = None) -> list[Any]:
    """Every document of ``text`` as plain objects (None for an empty document), without positions.

    The same objects, refusals and ``ambiguous`` notes as :func:`iter_documents`, faster: texts
    the fast engine is certain to read as PyYAML does (see :mod:`generator.yaml.fast_reader`;
    they hold no plain scalar the ambiguity rule could judge) are read by it. A stream of many
    documents that the screen refuses as a whole is judged document by document
    (:func:`generator.yaml.documents.document_starts` says where each starts), so one document
    that needs PyYAML (a `yes`, an anchor) does not send a whole `kustomize build` to it; any
    error there reads the whole text again with PyYAML, for the located message. Positions are
    found later, only for a finding (:mod:`generator.yaml.positions`).
    """
    if fast_path_enabled():
        from mlgitops.yaml.fast_reader import read

        documents = read(text)
        if documents is not None and len(documents) <= MAX_DOCUMENTS:
            return documents
        documents = _each_document(text, file, ambiguous)
        if documents is not None:
            return documents
    return [value for _, _, value in iter_documents(text, file, ambiguous)]


def _each_document(text: str, file: str, ambiguous: list[AmbiguousText] | None) -> list[Any] | None:
    """The documents of a multi-document ``text`` read one by one, each by the fast engine where it may (None: read whole)."""
    from mlgitops.yaml.documents import document_starts
    from mlgitops.yaml.fast_reader import read

    starts = document_starts(text)
    if starts is None or not 1 < len(starts) <= MAX_DOCUMENTS:
        return None
    documents: list[Any] = []
    found: list[AmbiguousText] = []
    for index, (start, end) in enumerate(zip(starts, [*starts[1:], len(text)], strict=True)):
        chunk = text[start:end]
        fast = read(chunk)
        if fast is not None and len(fast) == 1:
            documents += fast
            continue
        notes: list[AmbiguousText] | None = [] if ambiguous is not None else None
        try:
            values = [value for _, _, value in iter_documents(chunk, file, notes)]
        except UserError:
            return None  # located within the chunk: the whole text is read again for the message's line
        if len(values) != 1:
            return None
        documents += values
        found += [replace(note, document=index) for note in notes or ()]
    if ambiguous is not None:
        ambiguous += found
    return documents


class _ObjectBuilder:
    """Builds plain objects from an alias-free node tree, checking keys and depth on the way."""

    def __init__(self, loader: Any, file: str, ambiguous: list[yaml.Node] | None = None) -> None:
        self.loader = loader
        self.file = file
        self.ambiguous = ambiguous

    def build(self, node: yaml.Node, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise UserError(f"YAML nested more than {MAX_DEPTH} levels deep", _location(self.file, node.start_mark))
        kind = type(node)
        tag = node.tag
        if isinstance(node, ScalarNode):
            value: str = node.value
            if self.ambiguous is not None and not node.style and disagree(value):
                self.ambiguous.append(node)
            if tag == _STR:
                return value
            if tag == _NULL:
                return None
            if tag == _BOOL:
                return self.loader.bool_values[value.lower()]
            if tag == _INT and value.isdigit() and value.isascii() and (value[0] != "0" or value == "0"):
                return int(value)
            return self.delegate(node)
        if kind is MappingNode and tag == _MAP:
            mapping: dict[Any, Any] = {}
            seen: dict[tuple[str, str], yaml.Node] = {}
            for key_node, value_node in node.value:
                if type(key_node) is not ScalarNode or key_node.tag in _REWRITTEN_KEY_TAGS:
                    return self.delegate(node)
                identity = (key_node.tag, key_node.value)
                if identity in seen:
                    raise self.duplicate(key_node, seen[identity])
                seen[identity] = key_node
                mapping[self.build(key_node, depth + 1)] = self.build(value_node, depth + 1)
            return mapping
        if kind is SequenceNode and tag == _SEQ:
            return [self.build(item, depth + 1) for item in node.value]
        return self.delegate(node)

    def delegate(self, node: yaml.Node) -> Any:
        """PyYAML's safe constructor for the rare node this builder does not handle itself."""
        check_node(node, self.file, anchors=False, ambiguous=self.ambiguous)
        value = self.loader.construct_object(node, deep=True)
        self.loader.constructed_objects = {}
        return value

    def duplicate(self, key_node: yaml.Node, first: yaml.Node) -> UserError:
        return _duplicate_key(key_node, first, self.file)


def _duplicate_key(key_node: yaml.Node, first: yaml.Node, file: str) -> UserError:
    # PyYAML keeps the last of two equal keys silently; Kubernetes tooling disagrees on which wins.
    return UserError(
        f"duplicate key {key_node.value!r} (first at line {first.start_mark.line + 1}): each key may appear once",
        _location(file, key_node.start_mark),
    )


def check_node(root: yaml.Node, file: str, anchors: bool, ambiguous: list[yaml.Node] | None = None) -> None:
    """Refuse duplicate keys, documents nested absurdly deep, and aliases that expand without bound.

    The walk is iterative: a hostile document cannot exhaust the Python stack. Plain text
    scalars that Go's readers take for numbers or booleans are added to ``ambiguous``.
    """
    stack: list[tuple[yaml.Node, int]] = [(root, 0)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise UserError(f"YAML nested more than {MAX_DEPTH} levels deep", _location(file, node.start_mark))
        if anchors:
            if id(node) in seen:
                continue  # an alias: its target is checked once; its expansion is measured below
            seen.add(id(node))
        if ambiguous is not None and _is_ambiguous(node):
            ambiguous.append(node)
        if isinstance(node, MappingNode):
            keys: dict[str, yaml.Node] = {}
            for key_node, value_node in node.value:
                if isinstance(key_node, ScalarNode):
                    if key_node.value in keys and key_node.tag == keys[key_node.value].tag:
                        raise _duplicate_key(key_node, keys[key_node.value], file)
                    keys[key_node.value] = key_node
                    if ambiguous is not None and _is_ambiguous(key_node):
                        ambiguous.append(key_node)
                stack.append((value_node, depth + 1))
        elif isinstance(node, SequenceNode):
            stack.extend((item, depth + 1) for item in node.value)
    recursive = holding_itself(root) if anchors else None
    if recursive is not None:
        raise UserError(
            "this value holds a YAML alias to a node that contains it (a value that contains itself, which no "
            "Kubernetes object can be); write the values out instead of the alias",
            _location(file, recursive.start_mark),
        )
    if anchors and expanded_size(root, MAX_EXPANDED_NODES) > MAX_EXPANDED_NODES:
        raise UserError(
            f"aliases expand this document to more than {MAX_EXPANDED_NODES:,} values (an alias bomb?); "
            "write the values out instead",
            _location(file, root.start_mark),
        )


def _refused_scalar(root: yaml.Node, file: str) -> UserError:
    """The located error for the first plain scalar PyYAML resolves to a number or date and then cannot build."""
    stack: list[yaml.Node] = [root]
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if isinstance(node, ScalarNode):
            if not node.style and pyyaml_reading(node.value).kind == "refused":
                return UserError(
                    f"{node.value} looks like a number or a date but is neither; quote it ('{node.value}') if it is text",
                    _location(file, node.start_mark),
                )
        elif isinstance(node, MappingNode):
            stack.extend(child for pair in reversed(node.value) for child in reversed(pair))
        elif isinstance(node, SequenceNode):
            stack.extend(reversed(node.value))
    return UserError("a value PyYAML cannot build (a number or date out of range?)", _location(file, root.start_mark))


def _is_ambiguous(node: yaml.Node) -> bool:
    return isinstance(node, ScalarNode) and not node.style and disagree(node.value)


def _ambiguous_texts(root: yaml.Node, nodes: list[yaml.Node], document: int) -> list[AmbiguousText]:
    """Where in the document each of ``nodes`` stands (a walk done only for documents that have some)."""
    wanted = {id(node) for node in nodes}
    texts: dict[tuple[tuple[str | int, ...], bool], AmbiguousText] = {}

    def note(node: yaml.Node, path: tuple[str | int, ...], key: bool) -> None:
        if id(node) in wanted:
            reading = kubectl_kind(node.value)
            texts.setdefault((path, key), AmbiguousText(document, path, node.value, reading, key))

    stack: list[tuple[yaml.Node, tuple[str | int, ...]]] = [(root, ())]
    visited: set[int] = set()
    while stack:
        node, path = stack.pop()
        if id(node) in visited:
            continue  # an alias: reported where its anchor stands
        visited.add(id(node))
        note(node, path, False)
        children: list[tuple[yaml.Node, tuple[str | int, ...]]] = []
        if isinstance(node, MappingNode):
            for key_node, value_node in node.value:
                entry = (*path, str(key_node.value) if isinstance(key_node, ScalarNode) else "?")
                note(key_node, entry, True)
                children.append((value_node, entry))
        elif isinstance(node, SequenceNode):
            children = [(item, (*path, index)) for index, item in enumerate(node.value)]
        stack.extend(reversed(children))  # document order: a shared node is reported where its anchor is
    return sorted(texts.values(), key=lambda text: (text.path, text.key))


__all__ = ["MAX_DEPTH", "MAX_DOCUMENTS", "MAX_EXPANDED_NODES", "AmbiguousText", "check_node", "compose_all"]
__all__ += ["iter_documents", "load_documents", "yaml_error"]
