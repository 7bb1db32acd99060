"""`extends:` merging of environment layers, keeping each value's source position.

Rules (documented in docs/rendering.md):
- mappings merge key by key;
- lists whose items are all mappings with a `name` merge item by item on `name`
  (new names are appended in the order the child lists them);
- any other value (scalars, plain lists) in the child replaces the base's;
- `$patch: delete` in a child mapping or named list item removes the inherited one.
"""

from __future__ import annotations

from mlgitops.errors import UserError
from mlgitops.yaml.source import SourceNode

DELETE_KEY = "$patch"
DELETE_VALUE = "delete"


def is_named_list(node: SourceNode) -> bool:
    """A list of mappings that all carry a scalar `name` (workloads, volumes, node pools, env)."""
    if not node.is_sequence:
        return False
    items = node.sequence()
    return bool(items) and all(
        item.is_mapping
        and "name" in item.mapping()
        and not item.mapping()["name"].is_mapping
        and not item.mapping()["name"].is_sequence
        for item in items
    )


def _is_delete(node: SourceNode) -> bool:
    if not node.is_mapping:
        return False
    marker = node.mapping().get(DELETE_KEY)
    if marker is None:
        return False
    if marker.value != DELETE_VALUE:
        raise UserError(f"'{DELETE_KEY}' only takes the value '{DELETE_VALUE}'", marker.location)
    return True


def check_unique_names(node: SourceNode, path: str = "") -> None:
    """Within one file, a named list may not name the same item twice (it would silently merge)."""
    if node.is_mapping:
        for key, child in node.mapping().items():
            check_unique_names(child, f"{path}.{key}" if path else key)
    elif node.is_sequence:
        if is_named_list(node):
            seen: dict[str, SourceNode] = {}
            for item in node.sequence():
                name_node = item.mapping()["name"]
                name = str(name_node.value)
                if name in seen:
                    first = seen[name].location
                    raise UserError(
                        f"{path}[{name}]: duplicate name {name!r} (first defined at line {first.line}); names must be unique",
                        name_node.location,
                    )
                seen[name] = name_node
        named = is_named_list(node)
        for index, child in enumerate(node.sequence()):
            # Name the item as located messages do (workloads[serve].env), not just the list.
            label = str(child.mapping()["name"].value) if named else str(index)
            check_unique_names(child, f"{path}[{label}]")


def merge(base: SourceNode, child: SourceNode) -> SourceNode:
    """The child layer applied over the base layer (neither input is modified)."""
    if base.is_mapping and child.is_mapping:
        merged = dict(base.mapping())
        for key, value in child.mapping().items():
            if key == DELETE_KEY:
                continue
            if _is_delete(value):
                if key not in merged:
                    raise UserError(
                        f"'$patch: delete' of {key!r}, but no {key!r} is inherited",
                        value.key_location or value.location,
                    )
                del merged[key]
            elif key in merged:
                merged[key] = merge(merged[key], value)
            else:
                merged[key] = strip_deletes(value)
        return SourceNode(merged, child.location, child.key_location)
    if is_named_list(base) and child.is_sequence and (is_named_list(child) or not child.sequence()):
        return _merge_named(base, child)
    return strip_deletes(child)


def _merge_named(base: SourceNode, child: SourceNode) -> SourceNode:
    # A dict keeps insertion order and deletes in O(1): deleting thousands of inherited items stays linear.
    items = {str(item.mapping()["name"].value): item for item in base.sequence()}
    for item in child.sequence():
        name = str(item.mapping()["name"].value)
        if _is_delete(item):
            if name not in items:
                raise UserError(
                    f"'$patch: delete' of {name!r}, but nothing named {name!r} is inherited",
                    item.location,
                )
            del items[name]
        elif name in items:
            items[name] = merge(items[name], item)
        else:
            items[name] = strip_deletes(item)
    return SourceNode(list(items.values()), child.location, child.key_location)


def strip_deletes(node: SourceNode) -> SourceNode:
    """A layer's own value with `$patch: delete` markers (which delete nothing there) rejected.

    The node itself is returned: nodes are never modified, so a merged tree may share a layer's.
    """
    _refuse_deletes(node)
    return node


PATCH_BODIES = ("strategicMerge", "jsonPatch")
"""The fields of a render-time patch (one with a ``target``) whose ``$patch`` keys are Kubernetes' strategic merge
directives for the rendered object (``render/patches.py``), not this loader's: they are left to the patch."""


def _refuse_deletes(node: SourceNode) -> None:
    if node.is_mapping:
        if DELETE_KEY in node.mapping():
            raise UserError(
                f"'{DELETE_KEY}: {DELETE_VALUE}' removes an inherited value, but nothing is inherited here",
                node.mapping()[DELETE_KEY].key_location or node.location,
            )
        is_patch = "target" in node.mapping()
        for key, value in node.mapping().items():
            if not (is_patch and key in PATCH_BODIES):
                _refuse_deletes(value)
    elif node.is_sequence:
        for item in node.sequence():
            _refuse_deletes(item)
