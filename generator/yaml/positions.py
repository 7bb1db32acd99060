"""Where every field of a YAML text stands: each document composed at most once, on first need.

Reading a file keeps no positions (the fast engine has none, and node trees of a whole fleet take
hundreds of MB). A finding needs one, so the first finding in a document composes that document
with libyaml (PyYAML's C parser: every node's mark holds its line and column) and keeps the tree
for every later finding in it. A multi-document text is split at its ``---`` lines
(:mod:`generator.yaml.documents`) and only the documents asked about are composed, each on its
own text, its marks shifted by the lines before it; a text that cannot be split that way
(directives, ``...`` markers) is composed whole, once. The entries of a mapping are indexed by key
on the first lookup, so locating a field costs one dictionary lookup per segment of its path,
whatever the number of fields, findings or documents. ``compositions`` and ``indexed`` count the
work done, for the tests that prove it linear.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, ScalarNode, SequenceNode

from mlgitops.yaml.documents import document_starts

try:
    _Composer: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - libyaml missing from this PyYAML build
    _Composer = yaml.SafeLoader

Entry = tuple[yaml.Node, yaml.Node]
"""A mapping entry: its key node and its value node."""

# A mapping of fewer entries is scanned: a dictionary of it would cost more than the scan saves.
INDEX_FROM = 8


class _PositionLoader(_Composer):  # type: ignore[misc]
    """libyaml's composer with tag resolution skipped: positions need the nodes' marks, keys and styles, not their tags.

    Resolving each plain scalar's tag (PyYAML's regular expressions) is about a quarter of a composition.
    """

    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        return "?"

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:
        pass

    def ascend_resolver(self) -> None:
        pass


def compose_positions(text: str) -> list[yaml.Node]:
    """Every document's node tree of ``text``, tags left unresolved (``"?"``): for positions and spellings only."""
    return list(yaml.compose_all(text, Loader=_PositionLoader))


class TextPositions:
    """The composed documents of one YAML text, shared by every object read from it.

    ``document(index)`` gives a document's root node and how many lines precede its text (add it
    to a mark's ``line``); ``entry(mapping, key)`` a mapping's entry by key as written (the first of
    equal keys, as a scan in order would find). Pickles without its trees (they are composed again).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.compositions = 0
        """Documents (or whole texts) composed so far."""
        self.indexed = 0
        """Mapping entries put in an index so far."""
        self._starts: list[int] | None = None
        self._split = True
        self._lines: list[int] = []
        self._roots: dict[int, tuple[yaml.Node | None, int]] = {}
        self._whole: list[yaml.Node] | None = None
        self._indexes: dict[int, dict[str, Entry]] = {}

    def __getstate__(self) -> dict[str, Any]:
        return {"text": self.text}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["text"])  # type: ignore[misc]

    def document(self, index: int) -> tuple[yaml.Node | None, int]:
        """The root node of document ``index`` (None past the last one) and the lines before its text.

        Raises ``yaml.YAMLError`` for a text libyaml cannot compose.
        """
        found = self._roots.get(index)
        if found is None:
            found = self._compose(index)
            self._roots[index] = found
        return found

    def _compose(self, index: int) -> tuple[yaml.Node | None, int]:
        if self._split and self._starts is None:
            # One document at most without a `---` line: no need to look for where documents start.
            single = "\n---" not in self.text and not self.text.startswith("---")
            self._starts = None if single else document_starts(self.text)
            self._split = self._starts is not None
            if self._starts is not None:
                self._lines = _lines_before(self.text, self._starts)
        if self._starts is None:
            if self._whole is None:
                self.compositions += 1
                self._whole = compose_positions(self.text)
            return (self._whole[index] if 0 <= index < len(self._whole) else None), 0
        if not 0 <= index < len(self._starts):
            return None, 0
        end = self._starts[index + 1] if index + 1 < len(self._starts) else len(self.text)
        self.compositions += 1
        nodes = compose_positions(self.text[self._starts[index] : end])
        return (nodes[0] if nodes else None), self._lines[index]

    def entry(self, node: yaml.Node, key: str) -> Entry | None:
        """The entry of mapping ``node`` whose scalar key is written ``key``, or None."""
        entries: list[Entry] = node.value
        if len(entries) < INDEX_FROM:
            for entry in entries:
                if type(entry[0]) is ScalarNode and entry[0].value == key:
                    return entry
            return None
        index = self._indexes.get(id(node))
        if index is None:
            index = {}
            for entry in entries:
                if type(entry[0]) is ScalarNode:
                    index.setdefault(entry[0].value, entry)
            self._indexes[id(node)] = index
            self.indexed += len(entries)
        return index.get(key)

    def child(self, node: yaml.Node | None, segment: str | int) -> tuple[yaml.Node | None, yaml.Node | None]:
        """The node at ``segment`` below ``node`` and, in a mapping, the key node naming it (None, None: not there)."""
        if isinstance(node, MappingNode):
            entry = self.entry(node, str(segment))
            return (entry[1], entry[0]) if entry is not None else (None, None)
        if isinstance(node, SequenceNode) and isinstance(segment, int) and 0 <= segment < len(node.value):
            item: yaml.Node = node.value[segment]
            return item, None
        return None, None


def _lines_before(text: str, starts: list[int]) -> list[int]:
    lines = []
    counted, at = 0, 0
    for start in starts:
        counted += text.count("\n", at, start)
        at = start
        lines.append(counted)
    return lines


__all__ = ["INDEX_FROM", "Entry", "TextPositions", "compose_positions"]
