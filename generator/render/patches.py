"""Patches from environment files applied to rendered objects at render time (kustomize's `patches:`, done early).

The patched objects are what gets validated, linted and written, so a patch can never slip
something past the checks. A patch whose target matches no object, or that changes nothing,
is an error; so is a JSON 6902 operation on a path the object does not have.
"""

from __future__ import annotations

from bisect import insort
from dataclasses import dataclass
from typing import Any

from mlgitops.kube.json_patch import PatchRun
from mlgitops.kube.schema import schema_version
from mlgitops.kube.strategic_merge import MergeKeys, PatchConflict, apply_strategic_merge
from mlgitops.render.workloads_hash import spec_hash
from mlgitops.spec.overrides import Patch, PatchTarget

FieldPath = tuple[str | int, ...]
APP_LABEL = "app.kubernetes.io/name"


class PatchError(ValueError):
    """A patch that fails; ``path`` is the spec field to point at (e.g. ('patches', 0, 'jsonPatch', 2))."""

    def __init__(self, path: FieldPath, message: str) -> None:
        super().__init__(message)
        self.path = path
        self.message = message


@dataclass
class Patched:
    """A rendered object and, for each field a patch wrote, the spec field of the patch that wrote it."""

    obj: dict[str, Any]
    origins: dict[FieldPath, FieldPath]


def _app(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata")
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    return str(labels.get(APP_LABEL, "")) if isinstance(labels, dict) else ""


def _name(obj: dict[str, Any]) -> str | None:
    """The object's name as text, None when a patch took it (or its metadata) away."""
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    return None if name is None else str(name)


def hash_named(obj: dict[str, Any]) -> bool:
    """Whether the object is named `<workload>-<hash of its spec>` (Jobs, PyTorchJobs: immutable templates)."""
    spec = obj.get("spec")
    return isinstance(spec, dict) and obj["metadata"]["name"] == f"{_app(obj)}-{spec_hash(spec)}"


def _matches(obj: dict[str, Any], target: PatchTarget, workload: str | None, hashed: bool) -> bool:
    if obj.get("kind") != target.kind:
        return False
    owner = workload or target.workload
    if owner is not None and _app(obj) != owner:
        return False
    if target.name is not None:
        return _name(obj) == target.name or (hashed and _app(obj) == target.name)
    return True


Key = tuple[str | None, str | None, str]
"""What a patch target is matched on: an object's kind (None: not text), name and ``app.kubernetes.io/name`` label."""


class _Targets:
    """The objects being patched, by kind, by kind and name and by kind and app label, in order, kept up to date as
    patches change them (``refile``): a patch looks only at the objects its target can match, not at every object
    (N patches each naming one of N Deployments looked at every object for each: 4,000 of them 33 s, issue 30)."""

    def __init__(self, items: list[Patched]) -> None:
        self.items = items
        self.keys: list[Key] = []
        self.by_kind: dict[str | None, list[int]] = {}
        self.by_name: dict[tuple[str | None, str | None], list[int]] = {}
        self.by_app: dict[tuple[str | None, str], list[int]] = {}
        for position, item in enumerate(items):
            self.keys.append(self._key(item.obj))
            for index, key in self._filed(self.keys[-1]):
                index.setdefault(key, []).append(position)

    @staticmethod
    def _key(obj: dict[str, Any]) -> Key:
        kind = obj.get("kind")
        return (kind if isinstance(kind, str) else None), _name(obj), _app(obj)

    def _filed(self, key: Key) -> list[tuple[dict[Any, list[int]], Any]]:
        kind, name, app = key
        return [(self.by_kind, kind), (self.by_name, (kind, name)), (self.by_app, (kind, app))]

    def candidates(self, target: PatchTarget, owner: str | None) -> list[int]:
        """The positions, ascending, of every object ``target`` (of ``owner``'s workload, if given) may match."""
        if target.name is not None:
            named = self.by_name.get((target.kind, target.name), []) + self.by_app.get((target.kind, target.name), [])
            return sorted(set(named))
        if owner is not None:
            return self.by_app.get((target.kind, owner), [])
        return self.by_kind.get(target.kind, [])

    def refile(self, position: int) -> None:
        """File the object at ``position`` again, after a patch that may have changed its kind, name or labels."""
        key = self._key(self.items[position].obj)
        if key == self.keys[position]:
            return
        for index, old in self._filed(self.keys[position]):
            index[old].remove(position)
        for index, new in self._filed(key):
            insort(index.setdefault(new, []), position)
        self.keys[position] = key


Written = list[tuple[FieldPath, FieldPath]]
"""(path in the object, spec field of the patch) of each field a patch wrote."""


def _json_patch(obj: dict[str, Any], patch: Patch, at: FieldPath) -> tuple[dict[str, Any], Written, bool]:
    """``obj`` with ``patch``'s operations applied in place, what they wrote and whether ``obj`` changed
    (``kube.json_patch``)."""
    import jsonpatch
    import jsonpointer

    assert patch.json_patch is not None
    operations = [operation.as_operation() for operation in patch.json_patch]
    run = PatchRun(obj, operations)
    written: Written = []
    for index, (operation, spec) in enumerate(zip(operations, patch.json_patch, strict=True)):
        where = (*at, "jsonPatch", index)
        try:
            obj = run.apply(obj, operation)
        except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as error:
            raise PatchError(where, f"{spec.op} {spec.path}: {error}") from None
        if spec.op != "test":
            segments = tuple(int(p) if p.isdigit() else p for p in jsonpointer.JsonPointer(spec.path).parts)
            written.append((segments, (*where, "value" if spec.op in ("add", "replace") else "path")))
    return obj, written, run.changed(obj)


def _shown(obj: dict[str, Any]) -> str:
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    kind = obj.get("kind")
    if not isinstance(kind, str) or not kind:
        return f"{name!r} without a kind" if name is not None else "an object without a kind or a name"
    return f"{kind} {name!r}" if name is not None else f"a {kind} without a name"


def _tree_copy(value: Any) -> Any:
    """``value`` copied map by map and list by list, a map or list met in two places copied twice: render builds some
    objects with one map in two places (every topologySpreadConstraint's labelSelector), and a patch of one place must
    not change the other (an object sent to Kubernetes is a tree), nor tell whether it changed by one write and its
    undoing through the other place."""
    if isinstance(value, dict):
        return {key: _tree_copy(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tree_copy(item) for item in value]
    return value


def apply_patches(
    objects: list[dict[str, Any]],
    patches: list[Patch],
    kubernetes_version: str,
    *,
    at: FieldPath,
    workload: str | None = None,
) -> list[Patched]:
    """``objects`` with every patch applied in order; ``at`` is the spec path of the patch list.

    A Job or PyTorchJob whose name carries the hash of its spec is renamed after the patched spec,
    so a patched pod template still gives a new object instead of an immutable-field error.
    """
    results = [Patched(obj, {}) for obj in objects]
    if not patches:
        return results  # most workloads have none: no spec is hashed again (a JSON dump per object)
    version = schema_version(kubernetes_version)
    hashed = [hash_named(obj) for obj in objects]
    # Patches apply in place, to a copy of each object made the first time a patch matches it (``objects`` are left
    # as they were): a copy and a comparison of the whole object per patch made N patches on one object quadratic.
    copied: set[int] = set()
    keys = MergeKeys()
    targets = _Targets(results)
    last: dict[int, FieldPath] = {}
    """The last patch that changed each object."""
    for index, patch in enumerate(patches):
        here = (*at, index)
        positions = [
            position
            for position in targets.candidates(patch.target, workload or patch.target.workload)
            if _matches(results[position].obj, patch.target, workload, hashed[position])
        ]
        matched = [results[position] for position in positions]
        if not matched:
            shown = f"{patch.target.kind} {patch.target.name!r}" if patch.target.name else patch.target.kind
            scope = f" of workload {workload or patch.target.workload!r}" if (workload or patch.target.workload) else ""
            kinds = ", ".join(
                sorted({str(item.obj.get("kind")) for item in results if workload is None or _app(item.obj) == workload})
            )
            raise PatchError(
                (*here, "target"), f"patch matches nothing: no {shown}{scope} is rendered (there are: {kinds or 'none'})"
            )
        for item in matched:
            if id(item) not in copied:
                item.obj = _tree_copy(item.obj)
                copied.add(id(item))
            if patch.strategic_merge is not None:
                try:
                    result = apply_strategic_merge(item.obj, patch.strategic_merge, version, keys)
                except PatchConflict as error:
                    raise PatchError((*here, "strategicMerge", *error.path), error.message) from None
                obj, modified = result.obj, result.modified
                written = [(path, (*here, "strategicMerge", *source)) for path, source in result.changed]
            else:
                keys.clear()  # a JSON patch may move or replace list items the merge keys know
                obj, written, modified = _json_patch(item.obj, patch, here)
            if not modified:  # so the object is as it was
                raise PatchError(here, f"patch changes nothing in {_shown(obj)}; remove it")
            item.obj = obj
            item.origins.update(dict(written))
        for position in positions:
            targets.refile(position)
            last[position] = here
    for item, named in zip(results, hashed, strict=False):
        if named and item.origins and isinstance(item.obj.get("spec"), dict) and isinstance(item.obj.get("metadata"), dict):
            item.obj["metadata"]["name"] = f"{_app(item.obj)}-{spec_hash(item.obj['spec'])}"
    for position, item in enumerate(results):
        if position in last and (_name(item.obj) is None or not isinstance(item.obj.get("kind"), str) or not item.obj["kind"]):
            raise PatchError(
                last[position], f"the patches leave {_shown(item.obj)}: every object needs its kind and metadata.name"
            )
    return results
