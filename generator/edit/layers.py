"""Which file of an `extends:` chain to edit so that one environment gets a new value, and what to write there.

An environment is its own file over the bases it extends (nearest first: `prod.yaml`,
`base.yaml`). A value is *defined* by the nearest layer that mentions it. By default the edit
goes into the environment's own file: the value is replaced where that file sets it, or an
override is added there, so the base that other environments share is left alone. With
``in_base`` it goes where the value is defined below the environment (or, for a value nobody
sets yet, where the workload itself is defined), changing every environment that inherits it;
when the environment's own file overrides the value, that would not change the environment,
and the edit is refused.

A value to drop is removed from the layer; if a deeper layer would still provide it, a
`$patch: delete` marker takes its place (the merge rules of `load/merge.py`). The planning
works on plain trees, and the same steps applied to a plain copy of each file give the tree the
edited file must load to (``session.py`` checks that it does).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlgitops.errors import UserError
from mlgitops.load.merge import DELETE_KEY, DELETE_VALUE
from mlgitops.spec.paths import MISSING, FieldPath, Item, get, indices, named_items, show, step
from mlgitops.yaml.source import SourceNode, locate

DELETE_MARKER = {DELETE_KEY: DELETE_VALUE}


@dataclass(frozen=True)
class Change:
    """What an environment's effective spec should hold at ``path`` (MISSING: nothing at all)."""

    path: FieldPath
    value: Any


@dataclass(frozen=True)
class FileEdit:
    """One step on one file: set ``path`` to ``value``, or remove it (MISSING)."""

    file: Path
    path: FieldPath
    value: Any


@dataclass
class Layer:
    """One file of an environment's chain: its parsed tree, and a plain copy the planned edits are applied to."""

    file: Path
    source: SourceNode
    tree: Any

    @classmethod
    def of(cls, file: Path, source: SourceNode) -> Layer:
        return cls(file, source, source.plain())


def _is_marker(value: Any) -> bool:
    return isinstance(value, dict) and value.get(DELETE_KEY) == DELETE_VALUE


def opinion(tree: Any, path: FieldPath) -> str | None:
    """What one layer says about ``path``: "value", "deleted" (a `$patch: delete` on it or above it) or None."""
    node = tree
    for segment in path:
        if _is_marker(node):
            return "deleted"
        node = step(node, segment)
        if node is MISSING:
            return None
    return "deleted" if _is_marker(node) else "value"


def plain_set(tree: dict[str, Any], path: FieldPath, value: Any) -> None:
    """Set ``path`` in a plain tree, creating mappings and named items (appended) on the way."""
    node: Any = tree
    for depth, segment in enumerate(path[:-1]):
        following = path[depth + 1]
        if isinstance(segment, Item):
            items = named_items(node) or {}
            if segment.name not in items:
                node.append({"name": segment.name})
                items = named_items(node) or {}
            node = items[segment.name]
        else:
            if not isinstance(node.get(segment), (dict, list)):
                node[segment] = [] if isinstance(following, Item) else {}
            node = node[segment]
    node[path[-1]] = value


def plain_remove(tree: dict[str, Any], path: FieldPath) -> None:
    """Remove ``path`` from a plain tree, and the mappings and named items that leaves empty (as ``Document.remove``)."""
    if get(tree, path) is MISSING:
        return
    parent = get(tree, path[:-1])
    last = path[-1]
    if isinstance(last, Item):
        parent[:] = [item for item in parent if not (isinstance(item, dict) and str(item.get("name")) == last.name)]
    else:
        del parent[last]
    emptied = not parent or (isinstance(path[-2] if len(path) > 1 else None, Item) and list(parent) == ["name"])
    if len(path) > 1 and emptied:
        plain_remove(tree, path[:-1])


def plan(changes: list[Change], layers: list[Layer], *, in_base: bool) -> list[FileEdit]:
    """The file edits that give the environment of ``layers`` (its own file first) every change in turn.

    The layers' plain trees are updated as they would be read after the edits.
    """
    edits: list[FileEdit] = []
    for change in changes:
        target = _target(change.path, layers, in_base)
        layer = layers[target]
        if change.value is MISSING:
            deeper = _merged_value(layers[target + 1 :], change.path)
            if deeper is not MISSING:
                steps = [(change.path, dict(DELETE_MARKER))]
            elif opinion(layer.tree, change.path) is not None:
                steps = [(change.path, MISSING)]
            else:
                steps = []
        else:
            steps = [(change.path, change.value)]
        for path, value in steps:
            if value is MISSING:
                plain_remove(layer.tree, path)
            else:
                plain_set(layer.tree, path, value)
            edits.append(FileEdit(layer.file, path, value))
    return edits


def _target(path: FieldPath, layers: list[Layer], in_base: bool) -> int:
    if not in_base or len(layers) == 1:
        return 0
    opinions = [opinion(layer.tree, path) for layer in layers]
    nearest = next((index for index, said in enumerate(opinions) if said is not None), None)
    if nearest == 0:
        own = layers[0]
        where, _ = locate(own.source, indices(own.tree, path))
        raise UserError(
            f"{show(path)} is set in {where.file} itself, so changing the base would not change this environment: "
            "drop --in-base to change it there, or remove the override first",
            where,
        )
    if nearest is not None:
        return nearest
    # Nobody sets it yet: where the workload (or the enclosing section) is defined at the bottom of the chain.
    prefix = path[: next((i + 1 for i, segment in enumerate(path) if isinstance(segment, Item)), 1)]
    homes = [index for index, layer in enumerate(layers) if opinion(layer.tree, prefix) == "value"]
    return homes[-1] if homes else len(layers) - 1


def _merged_value(layers: list[Layer], path: FieldPath) -> Any:
    """The value the layers below a target give ``path`` once merged (MISSING when they give none)."""
    from mlgitops.load.environments import merge_layers

    if not layers:
        return MISSING
    return get(merge_layers([SourceNode.from_plain(layer.tree, layer.source.location) for layer in layers]).plain(), path)


__all__ = ["DELETE_MARKER", "Change", "FileEdit", "Layer", "opinion", "plain_remove", "plain_set", "plan"]
