"""Kubernetes strategic merge patches, applied the way `kubectl patch` and kustomize apply them.

Which lists merge by which key comes from the API's own OpenAPI definitions (the
`x-kubernetes-patch-strategy` and `x-kubernetes-patch-merge-key` extensions that kubernetes-validate
ships), so containers merge by `name`, volume mounts by `mountPath`, ports by `containerPort`, and
atomic lists (args, tolerations) are replaced. Custom resources follow the project's schemas, whose
pod templates refer to the same definitions; where no schema says otherwise, maps merge and lists
are replaced, as kustomize does for custom resources.

Directives: `$patch: delete` on a map or list item removes it, `$patch: replace` replaces instead of
merging, and a null value removes a field. Source:
https://github.com/kubernetes/community/blob/master/contributors/devel/sig-api-machinery/strategic-merge-patch.md
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from mlgitops.kube.json_patch import differs

DIRECTIVE = "$patch"
FieldPath = tuple[str | int, ...]


class PatchConflict(ValueError):
    """A patch that cannot apply: ``path`` is where in the patch the problem is."""

    def __init__(self, path: FieldPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass(frozen=True)
class PatchResult:
    """The patched object, the field paths (within the object) the patch set, and whether the object changed."""

    obj: dict[str, Any]
    changed: tuple[tuple[FieldPath, FieldPath], ...]
    """(path in the object, path in the patch) of every leaf the patch wrote."""
    modified: bool
    """Whether ``obj`` differs from the object before the patch (a patch may write only values already there)."""


@dataclass
class _Writes:
    """What a merge wrote so far: the leaves, and whether any write changed a value."""

    changed: list[tuple[FieldPath, FieldPath]] = field(default_factory=list)
    modified: bool = False

    def wrote(self, at: FieldPath, patch_at: FieldPath, modified: bool) -> None:
        self.changed.append((at, patch_at))
        self.modified = self.modified or modified


class MergeKeys:
    """Where each item of a list merged by key is, by its key, kept between the patches applied to one set of objects:
    N patches that each merge one container or env variable into the same list look each up by key, instead of
    scanning the list each time (quadratic). Only merges change the lists it knows (appending updates it, deleting
    forgets the list); whoever changes objects otherwise calls ``clear``. Only strings, numbers and booleans other than
    NaN are indexed, whose dictionary lookup is Python's ``==`` (``8080.0`` finds ``8080``); other keys are looked up
    by scanning."""

    def __init__(self) -> None:
        self._lists: dict[int, tuple[list[Any], str, int, dict[object, int]]] = {}

    def clear(self) -> None:
        self._lists.clear()

    def position(self, items: list[Any], key: str, value: Any) -> int | None:
        """The index of the first item of ``items`` whose ``key`` equals ``value``, or None."""
        if not _indexable(value):
            return next((i for i, item in enumerate(items) if isinstance(item, dict) and item.get(key) == value), None)
        return self._index(items, key).get(value)

    def appended(self, items: list[Any], key: str, value: Any) -> None:
        """``items`` got a new last item, whose ``key`` is ``value``."""
        known = self._lists.get(id(items))
        if known is not None and known[0] is items and known[1] == key and known[2] == len(items) - 1:
            if _indexable(value):
                known[3].setdefault(value, len(items) - 1)
            self._lists[id(items)] = (items, key, len(items), known[3])

    def removed(self, items: list[Any]) -> None:
        """An item of ``items`` was deleted: positions after it moved."""
        self._lists.pop(id(items), None)

    def _index(self, items: list[Any], key: str) -> dict[object, int]:
        known = self._lists.get(id(items))
        if known is not None and known[0] is items and known[1] == key and known[2] == len(items):
            return known[3]
        index: dict[object, int] = {}
        for i, item in enumerate(items):
            if isinstance(item, dict) and _indexable(item.get(key)):
                index.setdefault(item[key], i)
        self._lists[id(items)] = (items, key, len(items), index)
        return index


def _indexable(value: Any) -> bool:
    return isinstance(value, (str, int, float)) and value == value


def _definitions(version: str) -> dict[str, Any]:
    from mlgitops.kube.schema import _definitions as definitions

    found: dict[str, Any] = definitions(version)["$defs"]
    return found


def root_schema(obj: dict[str, Any], version: str) -> dict[str, Any] | None:
    """The schema of ``obj``'s kind: a built-in kind's (``kube.schema.builtin_schema``), a custom resource's the project
    knows, or None (shared: not to be changed)."""
    from mlgitops.kube.custom_resources import project_schemas
    from mlgitops.kube.schema import builtin_schema

    api_version, kind = str(obj.get("apiVersion")), str(obj.get("kind"))
    return builtin_schema(version, api_version, kind) or project_schemas().schemas.get((api_version, kind))


def _resolve(node: Any, version: str) -> dict[str, Any]:
    while isinstance(node, dict) and "$ref" in node:
        name = str(node["$ref"]).rpartition("/")[2]
        extensions = {k: v for k, v in node.items() if k.startswith("x-kubernetes-")}
        node = {**_definitions(version).get(name, {}), **extensions}
    if isinstance(node, dict):
        for combined in ("allOf", "anyOf"):
            for option in node.get(combined) or []:
                resolved = _resolve(option, version)
                if "properties" in resolved or "items" in resolved:
                    return {**resolved, **{k: v for k, v in node.items() if k.startswith("x-kubernetes-")}}
        return node
    return {}


def _child(schema: dict[str, Any], key: str, version: str) -> dict[str, Any]:
    properties = schema.get("properties")
    if isinstance(properties, dict) and key in properties:
        return _resolve(properties[key], version)
    extra = schema.get("additionalProperties")
    return _resolve(extra, version) if isinstance(extra, dict) else {}


def apply_strategic_merge(obj: dict[str, Any], patch: dict[str, Any], version: str, keys: MergeKeys | None = None) -> PatchResult:
    """``obj`` with ``patch`` merged in, **in place**: ``obj`` itself is changed and returned (but for a top-level
    ``$patch: replace``, which returns the replacement); callers copy an object they must keep. Whether the object
    changed is told by each write (a value written over an equal one, a ``null`` for an absent key change nothing;
    ``json_patch.differs``), so no copy of the object is compared, which answers for objects that share no map or list
    between two places (render copies each object apart first); a list patch naming one key twice (a later item may
    undo an earlier one) is judged by comparing that list before and after. ``keys`` carries list positions between
    the patches of one render (``MergeKeys``). Raises ``PatchConflict``."""
    schema = root_schema(obj, version) or {}
    writes = _Writes()
    merged = _merge_map(obj, patch, _resolve(schema, version), version, (), (), writes, keys or MergeKeys())
    return PatchResult(merged, tuple(writes.changed), writes.modified)


def _merge_map(
    target: dict[str, Any],
    patch: dict[str, Any],
    schema: dict[str, Any],
    version: str,
    at: FieldPath,
    patch_at: FieldPath,
    writes: _Writes,
    keys: MergeKeys,
) -> dict[str, Any]:
    directive = patch.get(DIRECTIVE)
    if directive == "replace":
        replacement: dict[str, Any] = _without_directives(patch)
        writes.wrote(at, patch_at, differs(target, replacement))
        return replacement
    if directive is not None and directive != "merge":
        raise PatchConflict(
            (*patch_at, DIRECTIVE), f"'$patch: {directive}' is not a directive here (use delete, replace or merge)"
        )
    # Keys a patch adds come in sorted order: the output must not depend on how the patch was written.
    for key, value in sorted(patch.items()):
        if key == DIRECTIVE:
            continue
        here, patch_here = (*at, key), (*patch_at, key)
        child_schema = _child(schema, key, version)
        if value is None:
            if key in target:
                del target[key]
                writes.wrote(here, patch_here, True)
            continue
        if isinstance(value, dict) and value.get(DIRECTIVE) == "delete":
            if key not in target:
                raise PatchConflict(patch_here, f"'$patch: delete' of {key!r}, which the object does not have")
            del target[key]
            writes.wrote(here, patch_here, True)
            continue
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            target[key] = _merge_map(current, value, child_schema, version, here, patch_here, writes, keys)
        elif isinstance(value, list) and isinstance(current, list):
            target[key] = _merge_list(current, value, child_schema, version, here, patch_here, writes, keys)
        else:
            written = _without_directives(value)
            writes.wrote(here, patch_here, key not in target or differs(current, written))
            target[key] = written
    return target


def _merge_list(
    target: list[Any],
    patch: list[Any],
    schema: dict[str, Any],
    version: str,
    at: FieldPath,
    patch_at: FieldPath,
    writes: _Writes,
    keys: MergeKeys,
) -> list[Any]:
    strategy = str(schema.get("x-kubernetes-patch-strategy", ""))
    key = schema.get("x-kubernetes-patch-merge-key")
    if "merge" not in strategy.split(",") or not isinstance(key, str):
        if any(isinstance(item, dict) and DIRECTIVE in item for item in patch):
            raise PatchConflict(patch_at, f"{at[-1]!r} is replaced as a whole by a patch; '$patch' works in lists merged by key")
        replacement: list[Any] = _without_directives(patch)
        writes.wrote(at, patch_at, differs(target, replacement))
        return replacement
    item_schema = _resolve(schema.get("items", {}), version)
    named = [item.get(key) for item in patch if isinstance(item, dict)]
    # Items naming the same key may undo each other: then the list as a whole tells whether it changed.
    before = copy.deepcopy(target) if len({v for v in named if _indexable(v)}) != len(named) else None
    modified = writes.modified
    for index, item in enumerate(patch):
        if not isinstance(item, dict) or key not in item:
            raise PatchConflict((*patch_at, index), f"items of {at[-1]!r} merge by {key!r}: give each item its {key!r}")
        position = keys.position(target, key, item[key])
        here = (*at, position if position is not None else len(target))
        if item.get(DIRECTIVE) == "delete":
            if position is None:
                raise PatchConflict(
                    (*patch_at, index), f"'$patch: delete' of {key} {item[key]!r}, which {at[-1]!r} does not hold"
                )
            del target[position]
            keys.removed(target)
            writes.wrote(here, (*patch_at, index), True)
        elif position is None:
            target.append(_without_directives(item))
            keys.appended(target, key, item[key])
            writes.wrote(here, (*patch_at, index), True)
        else:
            target[position] = _merge_map(target[position], item, item_schema, version, here, (*patch_at, index), writes, keys)
    if before is not None:
        writes.modified = modified or differs(before, target)
    return target


def _without_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_directives(v) for k, v in sorted(value.items()) if k != DIRECTIVE}
    if isinstance(value, list):
        return [_without_directives(v) for v in value]
    return copy.deepcopy(value)
