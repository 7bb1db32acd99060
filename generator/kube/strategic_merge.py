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
import json
from dataclasses import dataclass
from functools import cache
from typing import Any

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
    """The patched object and the field paths (within the object) the patch set."""

    obj: dict[str, Any]
    changed: tuple[tuple[FieldPath, FieldPath], ...]
    """(path in the object, path in the patch) of every leaf the patch wrote."""


@cache
def _definitions(version: str) -> dict[str, Any]:
    from mlgitops.kube.schema import _schema_root

    folder = _schema_root() / f"v{version}.0-local-strict"
    loaded: dict[str, Any] = json.loads((folder / "_definitions.json").read_text(encoding="utf-8"))["$defs"]
    return loaded


def root_schema(obj: dict[str, Any], version: str) -> dict[str, Any] | None:
    """The schema of ``obj``'s kind: a built-in kind's, a custom resource's the project knows, or None."""
    from mlgitops.kube.custom_resources import project_schemas
    from mlgitops.kube.schema import _schema_file, _schema_root

    path = _schema_root() / f"v{version}.0-local-strict" / _schema_file(str(obj.get("apiVersion")), str(obj.get("kind")))
    if path.is_file() and ("/" in str(obj.get("apiVersion")) or obj.get("apiVersion") == "v1"):
        loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return loaded
    return project_schemas().schemas.get((str(obj.get("apiVersion")), str(obj.get("kind"))))


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


def apply_strategic_merge(obj: dict[str, Any], patch: dict[str, Any], version: str) -> PatchResult:
    """``obj`` with ``patch`` merged in (``obj`` is not modified)."""
    schema = root_schema(obj, version) or {}
    changed: list[tuple[FieldPath, FieldPath]] = []
    merged = _merge_map(copy.deepcopy(obj), patch, _resolve(schema, version), version, (), (), changed)
    return PatchResult(merged, tuple(changed))


def _merge_map(
    target: dict[str, Any],
    patch: dict[str, Any],
    schema: dict[str, Any],
    version: str,
    at: FieldPath,
    patch_at: FieldPath,
    changed: list[tuple[FieldPath, FieldPath]],
) -> dict[str, Any]:
    directive = patch.get(DIRECTIVE)
    if directive == "replace":
        replacement: dict[str, Any] = _without_directives(patch)
        changed.append((at, patch_at))
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
                changed.append((here, patch_here))
            continue
        if isinstance(value, dict) and value.get(DIRECTIVE) == "delete":
            if key not in target:
                raise PatchConflict(patch_here, f"'$patch: delete' of {key!r}, which the object does not have")
            del target[key]
            changed.append((here, patch_here))
            continue
        current = target.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            target[key] = _merge_map(current, value, child_schema, version, here, patch_here, changed)
        elif isinstance(value, list) and isinstance(current, list):
            target[key] = _merge_list(current, value, child_schema, version, here, patch_here, changed)
        else:
            target[key] = _without_directives(value)
            changed.append((here, patch_here))
    return target


def _merge_list(
    target: list[Any],
    patch: list[Any],
    schema: dict[str, Any],
    version: str,
    at: FieldPath,
    patch_at: FieldPath,
    changed: list[tuple[FieldPath, FieldPath]],
) -> list[Any]:
    strategy = str(schema.get("x-kubernetes-patch-strategy", ""))
    key = schema.get("x-kubernetes-patch-merge-key")
    if "merge" not in strategy.split(",") or not isinstance(key, str):
        if any(isinstance(item, dict) and DIRECTIVE in item for item in patch):
            raise PatchConflict(patch_at, f"{at[-1]!r} is replaced as a whole by a patch; '$patch' works in lists merged by key")
        changed.append((at, patch_at))
        return _without_directives(patch)  # type: ignore[no-any-return]
    item_schema = _resolve(schema.get("items", {}), version)
    result = list(target)
    for index, item in enumerate(patch):
        if not isinstance(item, dict) or key not in item:
            raise PatchConflict((*patch_at, index), f"items of {at[-1]!r} merge by {key!r}: give each item its {key!r}")
        position = next(
            (i for i, existing in enumerate(result) if isinstance(existing, dict) and existing.get(key) == item[key]), None
        )
        here = (*at, position if position is not None else len(result))
        if item.get(DIRECTIVE) == "delete":
            if position is None:
                raise PatchConflict(
                    (*patch_at, index), f"'$patch: delete' of {key} {item[key]!r}, which {at[-1]!r} does not hold"
                )
            del result[position]
            changed.append((here, (*patch_at, index)))
        elif position is None:
            result.append(_without_directives(item))
            changed.append((here, (*patch_at, index)))
        else:
            result[position] = _merge_map(result[position], item, item_schema, version, here, (*patch_at, index), changed)
    return result


def _without_directives(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_directives(v) for k, v in sorted(value.items()) if k != DIRECTIVE}
    if isinstance(value, list):
        return [_without_directives(v) for v in value]
    return copy.deepcopy(value)
