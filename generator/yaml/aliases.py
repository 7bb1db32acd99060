"""What a document's aliases make of it: how large it expands, and whether a value contains itself.

PyYAML's composer turns an alias into the very node its anchor names, so a document is a graph, not a tree:
``*a`` a thousand times over one anchor expands without being written out (an alias bomb), and ``x: &a [1, *a]``
is a list that contains itself, which every later walk would follow forever. Both are judged here on the node
graph, iteratively (a hostile document cannot exhaust the Python stack), before anything is built from it.
"""

from __future__ import annotations

from collections.abc import Iterator

import yaml
from yaml.nodes import MappingNode, SequenceNode


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, MappingNode):
        return [child for pair in node.value for child in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def holding_itself(root: yaml.Node) -> yaml.Node | None:
    """The first collection (depth first) holding, through an alias, a node it is inside of, or None.

    libyaml composes ``x: &a [1, *a]`` into a list that contains itself, and every walk of it would recurse without
    end; found here with an iterative walk that marks the nodes on the current path.
    """
    on_path: set[int] = set()
    done: set[int] = set()
    stack: list[tuple[yaml.Node, Iterator[yaml.Node]]] = [(root, iter(_children(root)))]
    on_path.add(id(root))
    while stack:
        node, children = stack[-1]
        child = next(children, None)
        if child is None:
            on_path.discard(id(node))
            done.add(id(node))
            stack.pop()
        elif id(child) in on_path:
            return node
        elif id(child) not in done:
            on_path.add(id(child))
            stack.append((child, iter(_children(child))))
    return None


def expanded_size(root: yaml.Node, bound: int) -> int:
    """How many nodes the document would have with every alias written out (memoised per node), counted up to ``bound + 1``."""
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in sizes:
            continue
        sizes[id(node)] = -1
        order.append(node)
        if isinstance(node, MappingNode):
            stack.extend(child for pair in node.value for child in pair)
        elif isinstance(node, SequenceNode):
            stack.extend(node.value)
    for node in reversed(order):
        children: list[yaml.Node] = []
        if isinstance(node, MappingNode):
            children = [child for pair in node.value for child in pair]
        elif isinstance(node, SequenceNode):
            children = list(node.value)
        sizes[id(node)] = min(bound + 1, 1 + sum(max(sizes[id(c)], 1) for c in children))
    return sizes[id(root)]


__all__ = ["expanded_size", "holding_itself"]
