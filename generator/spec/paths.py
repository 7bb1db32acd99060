"""Paths to one value of an environment tree, with named-list items addressed by name.

`extends:` merges `workloads`, `volumes`, `env`, ... item by item on `name`, so a value is
addressed as `workloads[resnet-serve].image`, never by list index: the index differs from one
layer to the next. Keys are the camelCase keys of the YAML files. The trees here are plain
(dicts, lists and scalars, as ``SourceNode.plain()`` gives them).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, order=True)
class Item:
    """The item named ``name`` of a named list (a list of mappings that each carry `name`)."""

    name: str

    def __str__(self) -> str:
        return f"[{self.name}]"


Segment = str | Item
FieldPath = tuple[Segment, ...]
"""e.g. ``("workloads", Item("resnet-serve"), "model", "version")``."""

MISSING: Any = type("Missing", (), {"__repr__": lambda self: "MISSING", "__bool__": lambda self: False})()
"""The value at a path that leads nowhere (distinct from an explicit null)."""


def show(path: FieldPath) -> str:
    """``workloads[resnet-serve].image``: the field path as located messages print it."""
    text = ""
    for segment in path:
        text += str(segment) if isinstance(segment, Item) else (f".{segment}" if text else segment)
    return text


_SEGMENT = re.compile(r"([^.\[\]]+)|\[([^\[\]]+)\]")


def parse(text: str) -> FieldPath:
    """The inverse of ``show``: ``initContainers[setup].image`` → ``("initContainers", Item("setup"), "image")``.

    Raises ValueError for text that is not such a path (empty segments, unbalanced brackets).
    """
    path: list[Segment] = []
    position = 0
    while position < len(text):
        if path and text[position] == ".":
            position += 1
        match = _SEGMENT.match(text, position)
        if match is None or match.end() == position:
            raise ValueError(f"{text!r} is not a field path such as 'resources.cpu' or 'env[MODEL].value'")
        path.append(Item(match.group(2)) if match.group(2) is not None else match.group(1))
        position = match.end()
    if not path:
        raise ValueError("the field path is empty")
    return tuple(path)


def named_items(value: Any) -> dict[str, dict[str, Any]] | None:
    """A named list as name → item, or None when ``value`` is not a list of named mappings."""
    if not isinstance(value, list) or not value:
        return None
    if not all(isinstance(item, dict) and "name" in item and not isinstance(item["name"], (dict, list)) for item in value):
        return None
    return {str(item["name"]): item for item in value}


def step(node: Any, segment: Segment) -> Any:
    """The child ``segment`` names in ``node`` (a key of a mapping or a named item of a list), or MISSING."""
    if isinstance(segment, Item):
        items = named_items(node)
        return items[segment.name] if items is not None and segment.name in items else MISSING
    if isinstance(node, dict) and segment in node:
        return node[segment]
    return MISSING


def get(tree: Any, path: FieldPath) -> Any:
    """The value at ``path`` in a plain tree, or MISSING."""
    node = tree
    for segment in path:
        node = step(node, segment)
        if node is MISSING:
            return MISSING
    return node


def indices(tree: Any, path: FieldPath) -> tuple[str | int, ...]:
    """``path`` with named items turned into list indices of ``tree`` (as far as ``tree`` goes)."""
    found: list[str | int] = []
    node = tree
    for segment in path:
        if isinstance(segment, Item):
            names = [str(item.get("name")) if isinstance(item, dict) else None for item in node] if isinstance(node, list) else []
            if segment.name not in names:
                break
            found.append(names.index(segment.name))
            node = node[names.index(segment.name)]
        else:
            found.append(segment)
            if not isinstance(node, dict) or segment not in node:
                break
            node = node[segment]
    return tuple(found)


def leaves(tree: Any, prefix: FieldPath = ()) -> Iterator[tuple[FieldPath, Any]]:
    """Every leaf of a plain tree: scalars and plain lists; mappings and named lists are walked.

    An empty mapping is a leaf of its own (it says "present, with nothing set").
    """
    if isinstance(tree, dict) and tree:
        for key, child in tree.items():
            yield from leaves(child, (*prefix, str(key)))
        return
    items = named_items(tree)
    if items is not None:
        for name, item in items.items():
            yield from leaves(item, (*prefix, Item(name)))
        return
    yield prefix, tree


def changed_leaves(before: Any, after: Any) -> list[FieldPath]:
    """Paths of the leaves that differ between two plain trees (present in one only, or unequal), in order."""
    old, new = dict(leaves(before)), dict(leaves(after))
    return [path for path in sorted(set(old) | set(new), key=show) if old.get(path, MISSING) != new.get(path, MISSING)]


__all__ = [
    "MISSING",
    "FieldPath",
    "Item",
    "Segment",
    "changed_leaves",
    "get",
    "indices",
    "leaves",
    "named_items",
    "parse",
    "show",
]
